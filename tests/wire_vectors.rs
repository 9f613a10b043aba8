//! Every implementation against the committed wire-format vectors, `tests/data/wire_vectors.txt`.
//!
//! Each case gives a layout, the payloads, the exact bytes on the wire and the frames a decoder
//! delivers. Checked here: lenframe's `FrameEncoder`, `FrameWriter`, `FrameDecoder`,
//! `FrameReader` and `FrameCodec`; tokio-util's `LengthDelimitedCodec` for every fixed-width
//! case (its decoder delivers the same frames; its encoder writes the same bytes only without
//! offset and with the whole header skipped, see `tokio_util_encoder_matches_or_differs_as_documented`);
//! prost's length delimiter for the plain varint cases; and the Python peer
//! (`tests/data/echo_peer.py`) for the default layout.

#[path = "support/python.rs"]
mod python;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};

use bytes::BytesMut;
use lenframe::{
    Decoded, FrameCodec, FrameConfig, FrameDecoder, FrameEncoder, FrameReader, FrameWriter,
    LengthField,
};
use python::PythonPeer;
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};

const VECTORS: &str = include_str!("data/wire_vectors.txt");

#[derive(Debug)]
struct Case {
    name: String,
    field: LengthField,
    offset: usize,
    adjustment: isize,
    skip: Option<usize>,
    payloads: Vec<Vec<u8>>,
    wire: Vec<u8>,
    deliver: Vec<Vec<u8>>,
}

impl Case {
    fn config(&self) -> FrameConfig {
        let cfg = FrameConfig::default()
            .length_field(self.field)
            .length_field_offset(self.offset)
            .length_adjustment(self.adjustment);
        match self.skip {
            Some(skip) => cfg.num_skip(skip),
            None => cfg,
        }
    }

    /// Whether the layout is the default one: a 4-byte big-endian payload length.
    fn is_default_layout(&self) -> bool {
        self.config() == FrameConfig::default()
    }

    /// Whether this is protobuf's delimited format: a bare varint length.
    fn is_protobuf(&self) -> bool {
        self.config() == FrameConfig::default().length_field(LengthField::Varint)
    }
}

fn parse_field(s: &str) -> LengthField {
    *LengthField::ALL
        .iter()
        .find(|f| format!("{f:?}") == s)
        .unwrap_or_else(|| panic!("unknown field {s:?}"))
}

fn parse_bytes(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for token in s.split_whitespace() {
        if token == "-" {
            continue;
        }
        if let Some((byte, count)) = token.split_once('*') {
            let byte = u8::from_str_radix(byte, 16).expect("repeated byte");
            out.resize(
                out.len() + count.parse::<usize>().expect("repeat count"),
                byte,
            );
            continue;
        }
        assert!(token.len() % 2 == 0, "odd hex token {token:?}");
        for i in (0..token.len()).step_by(2) {
            out.push(u8::from_str_radix(&token[i..i + 2], 16).expect("hex"));
        }
    }
    out
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let mut current: Option<Case> = None;
    let mut deliver_given = false;
    for (n, line) in VECTORS.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line.split_once(' ').unwrap_or((line, ""));
        if key == "case" {
            assert!(current.is_none(), "line {}: case inside a case", n + 1);
            current = Some(Case {
                name: value.to_string(),
                field: LengthField::U32Be,
                offset: 0,
                adjustment: 0,
                skip: None,
                payloads: Vec::new(),
                wire: Vec::new(),
                deliver: Vec::new(),
            });
            deliver_given = false;
            continue;
        }
        let case = current
            .as_mut()
            .unwrap_or_else(|| panic!("line {}: outside a case", n + 1));
        match key {
            "field" => case.field = parse_field(value),
            "offset" => case.offset = value.parse().unwrap(),
            "adjustment" => case.adjustment = value.parse().unwrap(),
            "skip" => case.skip = Some(value.parse().unwrap()),
            "payload" => case.payloads.push(parse_bytes(value)),
            "wire" => case.wire = parse_bytes(value),
            "deliver" => {
                deliver_given = true;
                case.deliver.push(parse_bytes(value));
            }
            "end" => {
                let mut case = current.take().unwrap();
                if !deliver_given {
                    case.deliver = case.payloads.clone();
                }
                assert_eq!(case.deliver.len(), case.payloads.len(), "{}", case.name);
                cases.push(case);
            }
            other => panic!("line {}: unknown key {other:?}", n + 1),
        }
    }
    assert!(current.is_none(), "unterminated case");
    cases
}

#[test]
fn vectors_file_covers_every_layout_feature() {
    let cases = cases();
    assert_eq!(cases.len(), 39);
    let mut names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "case names are unique");
    for field in LengthField::ALL {
        assert!(cases.iter().any(|c| c.field == field), "{field:?} covered");
    }
    assert!(cases.iter().any(|c| c.offset > 0));
    assert!(cases.iter().any(|c| c.adjustment < 0));
    assert!(cases.iter().any(|c| c.adjustment > 0));
    assert!(cases.iter().any(|c| c.skip == Some(0)));
    assert!(cases.iter().any(|c| matches!(c.skip, Some(s) if s > 0)));
    assert!(cases.iter().any(|c| c.payloads.iter().any(Vec::is_empty)));
    let varint_lens: Vec<usize> = cases
        .iter()
        .filter(|c| c.is_protobuf())
        .flat_map(|c| c.payloads.iter().map(Vec::len))
        .collect();
    for edge in [0, 127, 128, 16_383, 16_384] {
        assert!(varint_lens.contains(&edge), "varint length {edge} covered");
    }
}

#[test]
fn encoder_writes_the_vectors() {
    for case in cases() {
        let enc = FrameEncoder::new(case.config()).unwrap();
        let mut wire = Vec::new();
        for p in &case.payloads {
            enc.encode(p, &mut wire).unwrap();
        }
        assert_eq!(wire, case.wire, "{}", case.name);
        let lens: usize = case
            .payloads
            .iter()
            .map(|p| enc.encoded_len(p.len()).unwrap())
            .sum();
        assert_eq!(lens, case.wire.len(), "{} encoded_len", case.name);
    }
}

#[test]
fn writer_writes_the_vectors() {
    for case in cases() {
        // A capacity of 3 sends most frames through the vectored path, the default gathers.
        for capacity in [3, lenframe::DEFAULT_WRITE_CAPACITY] {
            let mut w = FrameWriter::with_capacity(Vec::new(), case.config(), capacity).unwrap();
            for p in &case.payloads {
                w.write_frame(p).unwrap();
            }
            w.flush().unwrap();
            assert_eq!(
                w.into_inner().expect("flushed"),
                case.wire,
                "{} capacity {capacity}",
                case.name
            );
        }
    }
}

#[test]
fn decoder_reads_the_vectors_whole_and_byte_by_byte() {
    for case in cases() {
        // Whole: the buffer holds the rest of the wire.
        let mut dec = FrameDecoder::new(case.config()).unwrap();
        let mut rest = &case.wire[..];
        let mut frames = Vec::new();
        while !rest.is_empty() {
            match dec.decode(rest).unwrap() {
                Decoded::Frame { frame, consumed } => {
                    frames.push(rest[frame].to_vec());
                    rest = &rest[consumed..];
                }
                other => panic!("{}: {other:?}", case.name),
            }
        }
        assert_eq!(dec.decode_eof(rest).unwrap(), None, "{}", case.name);
        assert_eq!(frames, case.deliver, "{} whole", case.name);

        // One byte at a time: the buffer grows until a frame is there.
        let mut dec = FrameDecoder::new(case.config()).unwrap();
        let mut frames = Vec::new();
        let mut start = 0;
        for end in 1..=case.wire.len() {
            if let Decoded::Frame { frame, consumed } = dec.decode(&case.wire[start..end]).unwrap()
            {
                frames.push(case.wire[start..end][frame].to_vec());
                start += consumed;
            }
        }
        assert_eq!(start, case.wire.len(), "{}", case.name);
        assert_eq!(frames, case.deliver, "{} byte by byte", case.name);
    }
}

#[test]
fn reader_reads_the_vectors() {
    for case in cases() {
        for capacity in [5, lenframe::DEFAULT_READ_CAPACITY] {
            let mut r =
                FrameReader::with_capacity(&case.wire[..], case.config(), capacity).unwrap();
            let mut frames = Vec::new();
            while let Some(f) = r.read_frame().unwrap() {
                frames.push(f.to_vec());
            }
            assert_eq!(frames, case.deliver, "{} capacity {capacity}", case.name);
        }
    }
}

#[test]
fn codec_encodes_and_decodes_the_vectors() {
    for case in cases() {
        let mut codec = FrameCodec::with_config(case.config()).unwrap();
        let mut wire = BytesMut::new();
        for p in &case.payloads {
            codec.encode(&p[..], &mut wire).unwrap();
        }
        assert_eq!(&wire[..], &case.wire[..], "{}", case.name);

        let mut frames = Vec::new();
        while let Some(f) = codec.decode(&mut wire).unwrap() {
            frames.push(f.to_vec());
        }
        assert!(codec.decode_eof(&mut wire).unwrap().is_none());
        assert_eq!(frames, case.deliver, "{}", case.name);
    }
}

/// tokio-util's `LengthDelimitedCodec` with the settings that read lenframe's layout: the same
/// offset, field and skip, and an adjustment that counts from the end of the skipped bytes
/// (lenframe's counts from the end of the header). `None` for the varint, which tokio-util
/// cannot read.
fn tokio_codec_for(case: &Case) -> Option<LengthDelimitedCodec> {
    let width = case.field.width()?;
    let header = case.offset + width;
    let skip = case.skip.unwrap_or(header);
    let mut b = LengthDelimitedCodec::builder();
    b.length_field_offset(case.offset)
        .length_field_length(width)
        .length_adjustment(case.adjustment + header as isize - skip as isize)
        .num_skip(skip)
        .max_frame_length(usize::MAX);
    if matches!(
        case.field,
        LengthField::U16Le | LengthField::U24Le | LengthField::U32Le | LengthField::U64Le
    ) {
        b.little_endian();
    }
    Some(b.new_codec())
}

#[test]
fn tokio_util_decoder_reads_every_fixed_width_vector() {
    let mut checked = 0;
    for case in cases() {
        let Some(mut codec) = tokio_codec_for(&case) else {
            assert_eq!(case.field, LengthField::Varint);
            continue;
        };
        let mut wire = BytesMut::from(&case.wire[..]);
        let mut frames = Vec::new();
        while let Some(f) = codec.decode(&mut wire).unwrap() {
            frames.push(f.to_vec());
        }
        assert!(wire.is_empty(), "{}", case.name);
        assert_eq!(frames, case.deliver, "{}", case.name);
        checked += 1;
    }
    assert_eq!(checked, 30);
}

/// tokio-util's encoder writes no offset bytes and takes its own adjustment as is: it writes
/// lenframe's bytes exactly when the layout has no offset and the whole header is skipped. For
/// the others, what it writes is lenframe's encoding with no offset and tokio-util's
/// adjustment, which its own decoder (and lenframe's) does not read back as the same frames.
#[test]
fn tokio_util_encoder_matches_or_differs_as_documented() {
    let (mut same, mut differ) = (0, 0);
    for case in cases() {
        let Some(mut codec) = tokio_codec_for(&case) else {
            continue;
        };
        let header = case.offset + case.field.min_len();
        let skip = case.skip.unwrap_or(header);
        let mut wire = BytesMut::new();
        let mut refused = false;
        for p in &case.payloads {
            refused |= codec.encode(&p[..], &mut wire).is_err();
        }
        if case.offset == 0 && skip == header {
            assert!(!refused, "{}", case.name);
            assert_eq!(&wire[..], &case.wire[..], "{}", case.name);
            same += 1;
            continue;
        }
        let model = FrameConfig::default()
            .length_field(case.field)
            .length_adjustment(case.adjustment + header as isize - skip as isize);
        let enc = FrameEncoder::new(model).unwrap();
        let mut want = Vec::new();
        let model_refused = case
            .payloads
            .iter()
            .any(|p| enc.encode(p, &mut want).is_err());
        assert_eq!(refused, model_refused, "{}", case.name);
        if !refused {
            assert_eq!(&wire[..], &want[..], "{}", case.name);
        }
        assert_ne!(&wire[..], &case.wire[..], "{}", case.name);
        differ += 1;
    }
    assert_eq!((same, differ), (19, 11));
}

#[test]
fn prost_length_delimiter_matches_the_varint_vectors() {
    let mut checked = 0;
    for case in cases().iter().filter(|c| c.is_protobuf()) {
        let mut wire = Vec::new();
        for p in &case.payloads {
            prost::encode_length_delimiter(p.len(), &mut wire).unwrap();
            wire.extend_from_slice(p);
        }
        assert_eq!(wire, case.wire, "{}", case.name);

        let mut rest = &case.wire[..];
        let mut frames = Vec::new();
        while !rest.is_empty() {
            let len = prost::decode_length_delimiter(&mut rest).unwrap();
            frames.push(rest[..len].to_vec());
            rest = &rest[len..];
        }
        assert_eq!(frames, case.payloads, "{}", case.name);
        checked += 1;
    }
    assert_eq!(checked, 7);
}

#[test]
fn python_peer_echoes_the_default_layout_vectors_byte_for_byte() {
    let cases: Vec<Case> = cases()
        .into_iter()
        .filter(Case::is_default_layout)
        .collect();
    assert_eq!(cases.len(), 4);
    let sent: Vec<u8> = cases.iter().flat_map(|c| c.wire.clone()).collect();
    let Some(peer) = PythonPeer::start() else {
        return;
    };
    let stream = TcpStream::connect(("127.0.0.1", peer.port)).unwrap();
    let mut to_peer = stream.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        to_peer.write_all(&sent).unwrap();
        to_peer.shutdown(Shutdown::Write).unwrap();
        sent
    });
    let mut echoed = Vec::new();
    (&stream).read_to_end(&mut echoed).unwrap();
    let sent = writer.join().unwrap();
    // The peer decoded each frame and encoded it again with struct.pack('>I', n).
    assert_eq!(echoed.len(), sent.len());
    assert!(
        echoed == sent,
        "python's re-encoding differs from the vectors"
    );
    let report = peer.finish();
    assert_eq!(report, "echoed 7 frames, 65544 payload bytes");
}
