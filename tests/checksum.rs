//! Checksummed layouts: the wire bytes against a plainly written bitwise CRC-32C, and every
//! single-bit flip and every swap of two bytes in a checksummed stream detected, with no
//! wrong frame ever delivered. Needs no std feature of lenframe.

use lenframe::{Checksum, Decoded, FrameConfig, FrameDecoder, FrameError, Frames, LengthField};
use lenframe_testkit::reference::{encode_frame, reference_crc32c};
use proptest::prelude::*;

/// A frame written by hand: the header bytes, the payload, the reference CRC of both, LE.
fn reference_frame(header: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut frame = [header, payload].concat();
    let crc = reference_crc32c(&frame);
    frame.extend_from_slice(&crc.to_le_bytes());
    frame
}

fn crc(cfg: FrameConfig) -> FrameConfig {
    cfg.checksum(Checksum::Crc32c)
}

/// The encoder's bytes for `payloads`, through the sans-IO `header` and `trailer`.
fn encode(cfg: FrameConfig, payloads: &[&[u8]]) -> Vec<u8> {
    let enc = lenframe::FrameEncoder::new(cfg).unwrap();
    let mut wire = Vec::new();
    for p in payloads {
        encode_frame(&enc, p, &mut wire);
    }
    wire
}

/// Everything the decoder delivers from `wire`, and how it ended.
fn decode_all(cfg: FrameConfig, wire: &[u8]) -> (Vec<Vec<u8>>, Result<(), FrameError>) {
    let mut frames = Vec::new();
    let mut it = Frames::new(wire, cfg).unwrap();
    for f in it.by_ref() {
        match f {
            Ok(f) => frames.push(f.to_vec()),
            Err(e) => return (frames, Err(e)),
        }
    }
    (frames, Ok(()))
}

#[test]
fn crc_reference_check_value() {
    assert_eq!(reference_crc32c(b"123456789"), 0xe306_9283);
}

#[test]
fn write_vectors_match_the_reference() {
    // (layout, payload, expected wire bytes written out in full)
    let cases: &[(FrameConfig, &[u8], &[u8])] = &[
        (
            crc(FrameConfig::default()),
            b"hi",
            b"\x00\x00\x00\x02hi\x97\x80\xb9\x1c",
        ),
        (
            crc(FrameConfig::default()),
            b"",
            b"\x00\x00\x00\x00\xc7\x4b\x67\x48",
        ),
        (
            crc(FrameConfig::default().length_field(LengthField::Varint)),
            b"abc",
            b"\x03abc\x33\x5e\x6a\x7c",
        ),
        (
            crc(FrameConfig::default()
                .length_field(LengthField::U16Le)
                .length_field_offset(1)),
            b"xy",
            b"\x00\x02\x00xy\x4a\xcd\x72\xd1",
        ),
    ];
    for (cfg, payload, expected) in cases {
        let header_len = expected.len() - payload.len() - 4;
        assert_eq!(
            &reference_frame(&expected[..header_len], payload)[..],
            *expected,
            "reference for {payload:?}"
        );
        assert_eq!(
            encode(*cfg, &[payload]),
            *expected,
            "trailer() for {payload:?}"
        );
        #[cfg(feature = "alloc")]
        {
            let mut out = Vec::new();
            lenframe::FrameEncoder::new(*cfg)
                .unwrap()
                .encode(payload, &mut out)
                .unwrap();
            assert_eq!(out, *expected, "encode() for {payload:?}");
        }
        let (frames, end) = decode_all(*cfg, expected);
        assert_eq!(frames, [payload.to_vec()]);
        assert!(end.is_ok());
    }
}

#[test]
fn read_frame_excludes_trailer_and_counts_it() {
    let cfg = crc(FrameConfig::default());
    let wire = b"\x00\x00\x00\x02hi\x97\x80\xb9\x1c";
    let mut dec = FrameDecoder::new(cfg).unwrap();
    assert_eq!(
        dec.decode(wire).unwrap(),
        Decoded::Frame {
            frame: 4..6,
            consumed: 10
        }
    );
    // The trailer is part of the frame: a stream cut inside it is truncated.
    let mut dec = FrameDecoder::new(cfg).unwrap();
    assert_eq!(
        dec.decode(&wire[..8]).unwrap(),
        Decoded::Incomplete { needed: 2 }
    );
    assert!(matches!(
        dec.decode_eof(&wire[..8]),
        Err(FrameError::Truncated {
            expected: 10,
            received: 8
        })
    ));
    // num_skip keeps header bytes, never the trailer.
    let mut dec = FrameDecoder::new(cfg.num_skip(2)).unwrap();
    assert_eq!(
        dec.decode(wire).unwrap(),
        Decoded::Frame {
            frame: 2..6,
            consumed: 10
        }
    );
}

#[test]
fn read_mismatch_is_fatal_with_both_values() {
    let cfg = crc(FrameConfig::default());
    let mut wire = b"\x00\x00\x00\x02hi\x97\x80\xb9\x1c\x00\x00\x00\x00\xc7\x4b\x67\x48".to_vec();
    wire[4] = b'H';
    let computed = reference_crc32c(b"\x00\x00\x00\x02Hi");
    let mut dec = FrameDecoder::new(cfg).unwrap();
    for _ in 0..3 {
        match dec.decode(&wire) {
            Err(FrameError::ChecksumMismatch {
                expected: 0x1cb9_8097,
                computed: c,
            }) => assert_eq!(c, computed),
            other => panic!("{other:?}"),
        }
    }
    // The good frame after it is never delivered.
    let (frames, end) = decode_all(cfg, &wire);
    assert!(frames.is_empty());
    assert!(matches!(end, Err(FrameError::ChecksumMismatch { .. })));
}

#[test]
fn read_oversized_frame_is_skipped_with_its_trailer() {
    let cfg = crc(FrameConfig::default()
        .max_frame_len(2)
        .oversize(lenframe::Oversize::Skip));
    let wire = encode(crc(FrameConfig::default()), &[b"xyz", b"k"]);
    let mut it = Frames::new(&wire, cfg).unwrap();
    assert!(matches!(
        it.next(),
        Some(Err(FrameError::TooLarge { len: 3, max: 2 }))
    ));
    assert_eq!(it.next().unwrap().unwrap(), b"k");
    assert!(it.next().is_none());
}

/// A layout with a checksum, over every length field, with an offset or not.
fn any_crc_layout() -> impl Strategy<Value = FrameConfig> {
    (0..LengthField::ALL.len(), 0usize..3).prop_map(|(f, offset)| {
        crc(FrameConfig::default()
            .length_field(LengthField::ALL[f])
            .length_field_offset(offset)
            .max_frame_len(200))
    })
}

fn layout_and_frames() -> impl Strategy<Value = (FrameConfig, Vec<Vec<u8>>)> {
    (
        any_crc_layout(),
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..24), 1..5),
    )
}

/// The frames delivered from damaged bytes are a prefix of the frames sent, and the
/// stream does not end cleanly with all frames unless... it cannot: damage is always
/// reported. Returns the number of frames delivered.
fn check_damaged(cfg: FrameConfig, sent: &[Vec<u8>], damaged: &[u8]) -> usize {
    let (got, end) = decode_all(cfg, damaged);
    assert!(got.len() <= sent.len(), "more frames than sent");
    for (i, f) in got.iter().enumerate() {
        assert_eq!(f, &sent[i], "frame {i} delivered wrong");
    }
    // Every frame before the damaged one may come through; the damaged one never does,
    // and the damage is always reported: as a mismatch, an invalid or oversized header, or
    // (a length made longer) a truncated end.
    let err = end.expect_err("damage not detected");
    assert!(
        matches!(
            err,
            FrameError::ChecksumMismatch { .. }
                | FrameError::Truncated { .. }
                | FrameError::InvalidHeader(_)
                | FrameError::TooLarge { .. }
        ),
        "{err:?}"
    );
    got.len()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn read_every_bit_flip_is_detected((cfg, frames) in layout_and_frames()) {
        let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
        let wire = encode(cfg, &refs);
        prop_assert_eq!(decode_all(cfg, &wire).0, frames.clone());
        for bit in 0..wire.len() * 8 {
            let mut damaged = wire.clone();
            damaged[bit / 8] ^= 1 << (bit % 8);
            check_damaged(cfg, &frames, &damaged);
        }
    }

    #[test]
    fn read_every_two_byte_swap_is_detected((cfg, frames) in layout_and_frames()) {
        let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
        let wire = encode(cfg, &refs);
        for i in 0..wire.len() {
            for j in i + 1..wire.len() {
                if wire[i] == wire[j] {
                    continue; // swapping equal bytes changes nothing
                }
                let mut damaged = wire.clone();
                damaged.swap(i, j);
                check_damaged(cfg, &frames, &damaged);
            }
        }
    }
}
