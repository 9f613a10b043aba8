//! Properties of the sans-IO core, checked against a reference encoding written plainly in
//! `lenframe_testkit::reference` (std's `to_be_bytes`/`to_le_bytes` and a hand-written LEB128),
//! so that encoder, decoder and reference cannot share a bug:
//! - the encoder writes exactly the reference bytes, and refuses what it must;
//! - split invariance: the same bytes fed in any split give the same frames and the same
//!   error as fed at once, valid or corrupted;
//! - truncation at any offset: the whole frames before it, then a clean end or `Truncated`
//!   with the exact counts;
//! - any header value: a frame, "need more", `TooLarge` or `InvalidHeader`, exactly as
//!   the layout says;
//! - varint headers of any bytes agree with a plain reading of LEB128.

use lenframe::{
    Decoded, FrameConfig, FrameDecoder, FrameEncoder, FrameError, HeaderError, LengthField,
    Oversize,
};
use proptest::prelude::*;
use proptest::sample::Index;

use lenframe_testkit::events::Event;
use lenframe_testkit::reference::{
    min_payload, reference_delivered, reference_field, reference_frame, reference_header,
    reference_stream, trailer_len,
};
use lenframe_testkit::strategies::{
    any_config, any_field, capacity_step, cuts, expected_events, frames, frames_with_oversize,
    proptest_config,
};

/// Feeds `pieces` one after the other to a decoder, as a reader would (a buffer that starts
/// at the current frame), then reports the end of the stream. Returns what a reader would
/// report call after call (see `lenframe_testkit::events::read_events`), checking on the way every
/// answer's own contract.
fn drive(cfg: FrameConfig, pieces: &[&[u8]]) -> Vec<Event> {
    let mut dec = FrameDecoder::new(cfg).unwrap();
    let skip = cfg.get_oversize() == Oversize::Skip;
    let mut buf: Vec<u8> = Vec::new();
    let mut events = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        loop {
            match dec.decode(&buf) {
                Ok(Decoded::Frame { frame, consumed }) => {
                    assert!(consumed <= buf.len() && frame.end + trailer_len(&cfg) == consumed);
                    assert!(dec.is_at_boundary());
                    events.push(Event::Frame(buf[frame].to_vec()));
                    buf.drain(..consumed);
                }
                Ok(Decoded::Skipped { consumed }) => {
                    assert!(consumed > 0 && consumed <= buf.len(), "skipped {consumed}");
                    buf.drain(..consumed);
                }
                Ok(Decoded::Incomplete { needed }) => {
                    assert!(needed > 0);
                    break;
                }
                Err(e) => {
                    if fatal(&mut dec, &buf, e, skip, &mut events) {
                        return events;
                    }
                }
            }
        }
    }
    for _ in 0..=buf.len() + 1 {
        match dec.decode_eof(&buf) {
            Ok(None) => {
                events.push(Event::End);
                return events;
            }
            Ok(Some(Decoded::Frame { frame, consumed })) => {
                events.push(Event::Frame(buf[frame].to_vec()));
                buf.drain(..consumed);
            }
            Ok(Some(Decoded::Skipped { consumed })) => {
                buf.drain(..consumed);
            }
            Ok(Some(other)) => panic!("decode_eof answered {other:?}"),
            Err(e) => {
                let truncated = matches!(e, FrameError::Truncated { .. });
                if fatal(&mut dec, &buf, e, skip, &mut events) || truncated {
                    return events;
                }
            }
        }
    }
    panic!("decode_eof made no progress");
}

/// Records an error; returns whether decoding stops. `TooLarge` under `Oversize::Error`
/// and `InvalidHeader` must come back on every later call, whatever the buffer holds.
fn fatal(
    dec: &mut FrameDecoder,
    buf: &[u8],
    e: FrameError,
    skip: bool,
    events: &mut Vec<Event>,
) -> bool {
    let event = Event::of(Err(e));
    events.push(event.clone());
    match event {
        Event::TooLarge { .. } if skip => false,
        Event::TooLarge { .. } | Event::Other(_) => {
            let again = Event::of(dec.decode(buf).map(|_| None));
            let at_eof = Event::of(dec.decode_eof(&[]).map(|_| None));
            if matches!(event, Event::TooLarge { .. }) {
                events.extend([again, at_eof]);
            } else {
                assert_eq!(again, event, "a fatal error is reported again");
                assert_eq!(at_eof, event, "a fatal error is reported again at the end");
            }
            true
        }
        _ => true,
    }
}

fn config_and_frames(
    oversize: Oversize,
    oversize_weight: u32,
) -> impl Strategy<Value = (FrameConfig, Vec<Vec<u8>>)> {
    (any_config(oversize), capacity_step()).prop_flat_map(move |(cfg, step)| {
        (
            Just(cfg),
            frames_with_oversize(&cfg, step, 12, oversize_weight),
        )
    })
}

fn any_policy() -> impl Strategy<Value = Oversize> {
    prop_oneof![Just(Oversize::Error), Just(Oversize::Skip)]
}

/// A corruption of a valid stream: a byte overwritten, bytes inserted or removed.
#[derive(Debug, Clone)]
enum Corruption {
    None,
    Overwrite(Index, u8),
    Insert(Index, Vec<u8>),
    Remove(Index, Index),
}

fn corruption() -> impl Strategy<Value = Corruption> {
    prop_oneof![
        2 => Just(Corruption::None),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Corruption::Overwrite(i, b)),
        1 => (any::<Index>(), proptest::collection::vec(any::<u8>(), 1..=12))
            .prop_map(|(i, b)| Corruption::Insert(i, b)),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(i, j)| Corruption::Remove(i, j)),
    ]
}

fn corrupt(mut wire: Vec<u8>, c: &Corruption) -> Vec<u8> {
    match c {
        Corruption::None => {}
        Corruption::Overwrite(i, b) if !wire.is_empty() => {
            let i = i.index(wire.len());
            wire[i] = *b;
        }
        Corruption::Insert(i, bytes) => {
            let i = i.index(wire.len() + 1);
            wire.splice(i..i, bytes.iter().copied());
        }
        Corruption::Remove(i, j) if !wire.is_empty() => {
            let i = i.index(wire.len());
            let j = i + j.index((wire.len() - i).min(16) + 1);
            wire.drain(i..j);
        }
        _ => {}
    }
    wire
}

/// The reference reading of a varint at the front of `bytes`: up to 10 groups of 7 bits,
/// least significant first, the high bit of each byte saying another follows; the last
/// byte non-zero unless it is the only one; nothing past bit 63.
fn reference_varint(bytes: &[u8]) -> Result<Option<(u64, usize)>, HeaderError> {
    let mut value: u128 = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if i == 10 {
            break;
        }
        value += u128::from(b % 128) << (7 * i);
        let more = b >= 128;
        if i == 9 && more {
            return Err(HeaderError::VarintTooLong);
        }
        if i == 9 && value > u128::from(u64::MAX) {
            return Err(HeaderError::VarintOverflow);
        }
        if !more {
            if b == 0 && i > 0 {
                return Err(HeaderError::VarintOverlong { len: i + 1 });
            }
            return Ok(Some((value as u64, i + 1)));
        }
    }
    Ok(None)
}

proptest! {
    #![proptest_config(proptest_config(256, "proptest-regressions/prop_decoder.txt"))]

    /// The encoder writes the reference bytes for every payload the layout accepts, and
    /// the decoder reads them back as the reference delivered frames, then a clean end.
    #[test]
    fn encode_matches_reference_and_decodes_back(
        (cfg, payloads) in config_and_frames(Oversize::Error, 0),
    ) {
        let enc = FrameEncoder::new(cfg).unwrap();
        let mut wire = Vec::new();
        for p in &payloads {
            let header = enc.header(p.len()).unwrap();
            let want = reference_header(&cfg, p.len() as u64);
            prop_assert_eq!(header.offset(), cfg.get_length_field_offset());
            prop_assert_eq!(header.encoded_len(), want.len());
            prop_assert_eq!(header.field(), &want[header.offset()..]);
            prop_assert_eq!(enc.encoded_len(p.len()).unwrap(), want.len() + p.len() + trailer_len(&cfg));
            let before = wire.len();
            enc.encode(p, &mut wire).unwrap();
            prop_assert_eq!(&wire[before..], &reference_frame(&cfg, p)[..]);
        }
        prop_assert_eq!(&wire, &reference_stream(&cfg, &payloads));
        let mut want: Vec<Event> = payloads
            .iter()
            .map(|p| Event::Frame(reference_delivered(&cfg, p)))
            .collect();
        want.push(Event::End);
        prop_assert_eq!(drive(cfg, &[&wire]), want);
    }

    /// Payloads over the limit or shorter than a positive adjustment are refused with the
    /// exact numbers, and nothing is appended.
    #[test]
    fn encode_refuses_what_the_layout_cannot_carry(
        cfg in any_config(Oversize::Error),
        over in 1usize..=300,
        under in any::<Index>(),
    ) {
        let enc = FrameEncoder::new(cfg).unwrap();
        let max = cfg.get_max_frame_len();
        let mut out = vec![0xAA];
        let len = max + over;
        match enc.encode(&vec![1; len], &mut out) {
            Err(FrameError::TooLarge { len: l, max: m }) => {
                prop_assert_eq!((l, m), (len as u64, max));
            }
            other => prop_assert!(false, "{:?}", other),
        }
        let refused = matches!(enc.encoded_len(len), Err(FrameError::TooLarge { .. }));
        prop_assert!(refused, "encoded_len({}) accepted", len);
        let min = min_payload(&cfg);
        if min > 0 {
            let short = under.index(min);
            match enc.encode(&vec![1; short], &mut out) {
                Err(FrameError::TooShort { len, min: m }) => prop_assert_eq!((len, m), (short, min)),
                other => prop_assert!(false, "{:?}", other),
            }
        }
        prop_assert_eq!(out, vec![0xAA]);
    }

    /// The same bytes split anywhere give the same frames and the same error as given at
    /// once; for an uncorrupted stream, exactly the reference frames and counts.
    #[test]
    fn decode_split_invariance(
        (cfg, payloads) in any_policy().prop_flat_map(|p| config_and_frames(p, 2)),
        damage in corruption(),
        cut in prop_oneof![Just(None), any::<Index>().prop_map(Some)],
        cuts in cuts(),
    ) {
        let wire = corrupt(reference_stream(&cfg, &payloads), &damage);
        let end = cut.map(|c| c.index(wire.len() + 1));
        let wire = &wire[..end.unwrap_or(wire.len())];
        let whole = drive(cfg, &[wire]);
        let split = drive(cfg, &cuts.split(wire));
        prop_assert_eq!(&split, &whole);
        let bytes: Vec<&[u8]> = wire.iter().map(std::slice::from_ref).collect();
        prop_assert_eq!(&drive(cfg, &bytes), &whole);
        if matches!(damage, Corruption::None) {
            prop_assert_eq!(whole, expected_events(&cfg, &payloads, end));
        }
    }

    /// A stream cut at any byte: the whole frames before the cut, then `Ok(None)` on a
    /// boundary or `Truncated` with the whole frame's counts (inside a header, the fewest
    /// bytes that could complete it).
    #[test]
    fn decode_truncated_at_any_offset(
        (cfg, payloads) in any_config(Oversize::Error)
            .prop_flat_map(|cfg| (Just(cfg), frames(&cfg, 8, 6))),
        at in any::<Index>(),
    ) {
        let wire = reference_stream(&cfg, &payloads);
        let cut = at.index(wire.len() + 1);
        prop_assert_eq!(
            drive(cfg, &[&wire[..cut]]),
            expected_events(&cfg, &payloads, Some(cut))
        );
    }

    /// A header alone, holding any value: under the limit the decoder asks for exactly the
    /// payload; over it, `TooLarge` with the adjusted length (saturated) and the limit; below
    /// zero after the adjustment, `NegativeLength`. Every prefix of the header asks for more.
    #[test]
    fn decode_any_header_value(
        cfg in any_policy().prop_flat_map(any_config),
        value in any::<u64>(),
        adjustment in prop_oneof![Just(None), (-300isize..=300).prop_map(Some)],
        kind in 0u8..3,
        delta in -2i128..=2,
    ) {
        let field = cfg.get_length_field();
        let mut cfg = cfg;
        if let Some(adj) = adjustment {
            let other = cfg.length_adjustment(adj);
            if other.validate().is_ok() {
                cfg = other;
            }
        }
        let value = match kind {
            0 => value & field.max_value(),
            1 => (value % 700) & field.max_value(),
            // Around the limit: the field value whose adjusted length is max + delta.
            _ => {
                let edge = cfg.get_max_frame_len() as i128 - cfg.get_length_adjustment() as i128;
                (edge + delta).clamp(0, i128::from(field.max_value())) as u64
            }
        };
        let mut header = vec![0xEE; cfg.get_length_field_offset()];
        header.extend(reference_field(field, value));
        let adj = cfg.get_length_adjustment();
        let payload = i128::from(value) + adj as i128;
        let max = cfg.get_max_frame_len();
        let trailer = trailer_len(&cfg);
        let mut dec = FrameDecoder::new(cfg).unwrap();
        for cut in 0..header.len() {
            let got = dec.decode(&header[..cut]).unwrap();
            let needed = match field.width() {
                Some(_) => header.len() - cut,
                None => (cfg.min_header_len().max(cut + 1)) - cut,
            };
            prop_assert_eq!(got, Decoded::Incomplete { needed });
        }
        let got = dec.decode(&header);
        if payload < 0 {
            match got {
                Err(FrameError::InvalidHeader(HeaderError::NegativeLength { field: f, adjustment: a })) => {
                    prop_assert_eq!((f, a), (value, adj));
                }
                other => prop_assert!(false, "{:?}", other),
            }
        } else if payload > max as i128 {
            let len = u64::try_from(payload).unwrap_or(u64::MAX);
            match got {
                Err(FrameError::TooLarge { len: l, max: m }) => prop_assert_eq!((l, m), (len, max)),
                other => prop_assert!(false, "{:?}", other),
            }
            if cfg.get_oversize() == Oversize::Skip {
                prop_assert_eq!(dec.stats().skipped_frames, 1);
                let total = len.saturating_add((header.len() + trailer) as u64);
                prop_assert_eq!(dec.progress(0, 1), (total, 0));
                prop_assert!(!dec.is_at_boundary());
            }
        } else if payload == 0 && trailer == 0 {
            let skip = cfg.get_num_skip().unwrap_or(header.len());
            prop_assert_eq!(got.unwrap(), Decoded::Frame { frame: skip..header.len(), consumed: header.len() });
            prop_assert!(dec.is_at_boundary());
        } else {
            let rest = payload as usize + trailer;
            prop_assert_eq!(got.unwrap(), Decoded::Incomplete { needed: rest });
            prop_assert!(!dec.is_at_boundary());
            prop_assert_eq!(dec.progress(header.len(), rest), ((header.len() + rest) as u64, header.len() as u64));
        }
    }

    /// A varint header of any bytes is read as the plain reading of LEB128 says: a value,
    /// "need one more byte", or the exact invalidity, as soon as it is known.
    #[test]
    fn decode_varint_header_of_any_bytes(
        bytes in proptest::collection::vec(
            prop_oneof![3 => 0x80u8..=0xff, 1 => 0u8..=0x7f, 1 => Just(0u8), 1 => Just(0x80u8)],
            0..=12,
        ),
        offset in 0usize..=2,
    ) {
        let cfg = FrameConfig::default()
            .length_field(LengthField::Varint)
            .length_field_offset(offset)
            .max_frame_len(1 << 20);
        let mut wire = vec![0u8; offset];
        wire.extend_from_slice(&bytes);
        let got = FrameDecoder::new(cfg).unwrap().decode(&wire);
        match reference_varint(&bytes) {
            Err(e) => match got {
                Err(FrameError::InvalidHeader(h)) => prop_assert_eq!(h, e),
                other => prop_assert!(false, "{:?} for {:?}", other, e),
            },
            Ok(None) => prop_assert_eq!(got.unwrap(), Decoded::Incomplete { needed: 1 }),
            Ok(Some((value, len))) => {
                let header = offset + len;
                let body = wire.len() - header;
                match got {
                    Err(FrameError::TooLarge { len, max }) => {
                        prop_assert_eq!((len, max), (value, 1 << 20));
                    }
                    Ok(Decoded::Incomplete { needed }) => {
                        prop_assert!(value > body as u64);
                        prop_assert_eq!(needed as u64, value - body as u64);
                    }
                    Ok(Decoded::Frame { frame, consumed }) => {
                        prop_assert!(value <= body as u64);
                        prop_assert_eq!(frame, header..header + value as usize);
                        prop_assert_eq!(consumed, header + value as usize);
                    }
                    other => prop_assert!(false, "{:?}", other),
                }
            }
        }
    }

    /// The reference encoding of every field, fed to a decoder one header at a time, gives
    /// back the value: the two sides agree on every width, byte order and the varint.
    #[test]
    fn decode_reference_field_of_every_layout(field in any_field(), value in any::<u64>()) {
        let value = value & field.max_value();
        let cfg = FrameConfig::default()
            .length_field(field)
            .max_frame_len(0)
            .length_adjustment(0)
            .oversize(Oversize::Skip);
        let header = reference_field(field, value);
        prop_assert_eq!(header.len(), field.encoded_len(value));
        let mut dec = FrameDecoder::new(cfg).unwrap();
        if value == 0 {
            prop_assert_eq!(dec.decode(&header).unwrap(), Decoded::Frame { frame: header.len()..header.len(), consumed: header.len() });
        } else {
            match dec.decode(&header) {
                Err(FrameError::TooLarge { len, max: 0 }) => prop_assert_eq!(len, value),
                other => prop_assert!(false, "{:?}", other),
            }
        }
    }
}

/// Every way to split a fixed stream of edge sizes in two, and in three around each
/// header: the same as whole.
#[test]
fn decode_every_two_way_split_of_mixed_stream() {
    for cfg in [
        FrameConfig::default().max_frame_len(300),
        FrameConfig::default()
            .length_field(LengthField::Varint)
            .max_frame_len(300),
        FrameConfig::default()
            .length_field(LengthField::U16Le)
            .length_field_offset(1)
            .length_adjustment(-3)
            .num_skip(1)
            .max_frame_len(300),
    ] {
        let payloads: Vec<Vec<u8>> =
            vec![vec![], vec![9], vec![1; 127], vec![2; 128], vec![3; 300]];
        let wire = reference_stream(&cfg, &payloads);
        let whole = drive(cfg, &[&wire]);
        assert_eq!(whole, expected_events(&cfg, &payloads, None));
        for i in 0..=wire.len() {
            assert_eq!(drive(cfg, &[&wire[..i], &wire[i..]]), whole, "split at {i}");
            for j in i..(i + 4).min(wire.len()) {
                assert_eq!(
                    drive(cfg, &[&wire[..i], &wire[i..j], &wire[j..]]),
                    whole,
                    "split at {i}, {j}"
                );
            }
        }
    }
}
