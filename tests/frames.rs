//! `Frames`: the same frames, errors and end as `FrameDecoder` driven by hand and as
//! `FrameReader` on the same bytes, and the tail it reports.

use lenframe::{
    Checksum, Decoded, FrameConfig, FrameDecoder, FrameEncoder, FrameError, FrameStats, Frames,
    LengthField, Oversize,
};
use lenframe_testkit::reference::encode_frame;
use proptest::prelude::*;

/// One result: a frame, or an error's message (io errors never occur here).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Frame(Vec<u8>),
    Error(String),
}

fn frames_events(cfg: FrameConfig, wire: &[u8]) -> (Vec<Event>, usize) {
    let (events, position, _) = frames_events_and_stats(cfg, wire);
    (events, position)
}

/// `frames_events`, and the iterator's stats at the end.
fn frames_events_and_stats(cfg: FrameConfig, wire: &[u8]) -> (Vec<Event>, usize, FrameStats) {
    let mut it = Frames::new(wire, cfg).unwrap();
    let mut events = Vec::new();
    // Bounded: each call delivers, ends, or reports one oversized frame.
    for _ in 0..=2 * wire.len() + 2 {
        match it.next() {
            Some(Ok(f)) => events.push(Event::Frame(f.to_vec())),
            Some(Err(e)) => events.push(Event::Error(e.to_string())),
            None => return (events, it.position(), it.stats()),
        }
    }
    panic!("Frames did not end");
}

/// `FrameDecoder` driven by hand over the whole buffer, as a reader with all the bytes in
/// hand would drive it; returns the events, where the undelivered tail starts and the
/// decoder's stats.
fn decoder_events(cfg: FrameConfig, wire: &[u8]) -> (Vec<Event>, usize, FrameStats) {
    let mut dec = FrameDecoder::new(cfg).unwrap();
    let mut events = Vec::new();
    let (mut pos, mut start) = (0, 0);
    for _ in 0..=2 * wire.len() + 2 {
        match dec.decode(&wire[pos..]) {
            Ok(Decoded::Frame { frame, consumed }) => {
                events.push(Event::Frame(wire[pos..][frame].to_vec()));
                pos += consumed;
                start = pos;
            }
            Ok(Decoded::Skipped { consumed }) => {
                pos += consumed;
                if dec.is_at_boundary() {
                    start = pos;
                }
            }
            Ok(Decoded::Incomplete { .. }) => {
                return match dec.decode_eof(&wire[pos..]) {
                    Ok(_) => (events, wire.len(), dec.stats()),
                    Err(e) => {
                        events.push(Event::Error(e.to_string()));
                        (events, start, dec.stats())
                    }
                };
            }
            Err(e) => {
                let go_on = cfg.get_oversize() == Oversize::Skip
                    && matches!(e, FrameError::TooLarge { .. });
                events.push(Event::Error(e.to_string()));
                if !go_on {
                    return (events, start, dec.stats());
                }
            }
        }
    }
    panic!("decoder did not end");
}

#[cfg(feature = "std")]
fn reader_events(cfg: FrameConfig, wire: &[u8]) -> Vec<Event> {
    let mut reader = lenframe::FrameReader::with_config(wire, cfg).unwrap();
    let mut events = Vec::new();
    for _ in 0..=2 * wire.len() + 2 {
        match reader.read_frame() {
            Ok(Some(f)) => events.push(Event::Frame(f.to_vec())),
            Ok(None) => return events,
            Err(e) => {
                let go_on = cfg.get_oversize() == Oversize::Skip
                    && matches!(e, FrameError::TooLarge { .. });
                events.push(Event::Error(e.to_string()));
                if !go_on {
                    return events;
                }
            }
        }
    }
    panic!("reader did not end");
}

fn frame(s: &str) -> Event {
    Event::Frame(s.as_bytes().to_vec())
}

fn error(s: &str) -> Event {
    Event::Error(s.to_string())
}

#[test]
fn read_clean_end_and_empty_frames() {
    let wire = b"\x00\x00\x00\x02hi\x00\x00\x00\x00\x00\x00\x00\x01!";
    let (events, pos) = frames_events(FrameConfig::default(), wire);
    assert_eq!(events, [frame("hi"), frame(""), frame("!")]);
    assert_eq!(pos, wire.len());
    let (events, pos) = frames_events(FrameConfig::default(), b"");
    assert_eq!((events, pos), (vec![], 0));
}

#[test]
fn read_truncated_tail_is_reported_once_with_counts() {
    let wire = b"\x00\x00\x00\x02hi\x00\x00\x00\x05ab";
    let mut it = Frames::new(wire, FrameConfig::default()).unwrap();
    assert_eq!(it.next().unwrap().unwrap(), b"hi");
    assert!(matches!(
        it.next(),
        Some(Err(FrameError::Truncated {
            expected: 9,
            received: 6
        }))
    ));
    assert!(it.next().is_none());
    assert!(it.next().is_none());
    assert_eq!(it.position(), 6);
    assert_eq!(it.remainder(), b"\x00\x00\x00\x05ab");
    // Inside a header.
    let mut it = Frames::new(b"\x00\x00", FrameConfig::default()).unwrap();
    assert!(matches!(
        it.next(),
        Some(Err(FrameError::Truncated {
            expected: 4,
            received: 2
        }))
    ));
    assert_eq!(it.remainder(), b"\x00\x00");
}

#[test]
fn read_oversize_error_ends_and_skip_goes_on() {
    let wire = b"\x00\x00\x00\x03xyz\x00\x00\x00\x01k";
    let cfg = FrameConfig::default().max_frame_len(2);
    let (events, pos) = frames_events(cfg, wire);
    assert_eq!(
        events,
        [error("frame of 3 bytes exceeds the limit of 2 bytes")]
    );
    assert_eq!(pos, 0);
    let (events, pos) = frames_events(cfg.oversize(Oversize::Skip), wire);
    assert_eq!(
        events,
        [
            error("frame of 3 bytes exceeds the limit of 2 bytes"),
            frame("k")
        ]
    );
    assert_eq!(pos, wire.len());
    // A truncated oversized frame: the tail starts at its header.
    let (events, pos) = frames_events(cfg.oversize(Oversize::Skip), &wire[..5]);
    assert_eq!(
        events,
        [
            error("frame of 3 bytes exceeds the limit of 2 bytes"),
            error("stream ended inside a frame: expected 7 bytes, received 5")
        ]
    );
    assert_eq!(pos, 0);
}

#[test]
fn read_invalid_header_is_fatal_and_fused() {
    let cfg = FrameConfig::default().length_field(LengthField::Varint);
    let wire = b"\x01a\x80\x00\x01b";
    let mut it = Frames::new(wire, cfg).unwrap();
    assert_eq!(it.next().unwrap().unwrap(), b"a");
    assert!(matches!(it.next(), Some(Err(FrameError::InvalidHeader(_)))));
    assert!(it.next().is_none());
    assert_eq!(it.position(), 2);
}

#[test]
fn read_stats_count_frames_and_skips() {
    let wire = b"\x00\x00\x00\x03xyz\x00\x00\x00\x01k";
    let cfg = FrameConfig::default()
        .max_frame_len(2)
        .oversize(Oversize::Skip);
    let mut it = Frames::new(wire, cfg).unwrap();
    it.by_ref().for_each(drop);
    let s = it.stats();
    assert_eq!(
        (s.frames, s.bytes, s.skipped_frames, s.skipped_bytes),
        (1, 1, 1, 7)
    );
}

#[test]
fn read_stats_count_plain_frames_and_what_follows() {
    // Two plain frames, one over the limit (skipped), then one more.
    let wire = b"\x00\x00\x00\x02ab\x00\x00\x00\x00\x00\x00\x00\x03xyz\x00\x00\x00\x01k";
    let cfg = FrameConfig::default()
        .max_frame_len(2)
        .oversize(Oversize::Skip);
    let mut it = Frames::new(wire, cfg).unwrap();
    assert_eq!(it.next().unwrap().unwrap(), b"ab");
    assert_eq!(it.next().unwrap().unwrap(), b"");
    assert_eq!(
        (it.stats().frames, it.stats().bytes, it.position()),
        (2, 2, 10)
    );
    it.by_ref().for_each(drop);
    let s = it.stats();
    assert_eq!(
        (s.frames, s.bytes, s.skipped_frames, s.skipped_bytes),
        (3, 3, 1, 7)
    );
    assert_eq!(it.position(), wire.len());
}

fn any_layout() -> impl Strategy<Value = FrameConfig> {
    (
        0..LengthField::ALL.len(),
        0usize..3,
        prop::option::of(0usize..2),
        prop_oneof![Just(Oversize::Error), Just(Oversize::Skip)],
        prop_oneof![Just(Checksum::None), Just(Checksum::Crc32c)],
        1usize..40,
        prop_oneof![Just(0isize), -6isize..6],
    )
        .prop_map(|(f, offset, skip, oversize, checksum, max, adjustment)| {
            let mut cfg = FrameConfig::default()
                .length_field(LengthField::ALL[f])
                .length_field_offset(offset)
                .length_adjustment(adjustment)
                .oversize(oversize)
                .checksum(checksum)
                .max_frame_len(max);
            if let Some(s) = skip {
                cfg = cfg.num_skip(s);
            }
            cfg
        })
}

/// Frames encoded under a larger limit (so some are oversized), then damaged: bytes
/// overwritten and the end cut.
fn layout_and_wire() -> impl Strategy<Value = (FrameConfig, Vec<u8>)> {
    (
        any_layout(),
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..60), 0..6),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(cfg, payloads, pokes, cut)| {
            let enc = FrameEncoder::new(cfg.max_frame_len(60)).unwrap();
            let mut wire = Vec::new();
            // Payloads shorter than a positive adjustment cannot be written.
            for p in payloads.iter().filter(|p| enc.header(p.len()).is_ok()) {
                encode_frame(&enc, p, &mut wire);
            }
            if !wire.is_empty() {
                for (at, b) in pokes {
                    let i = at.index(wire.len());
                    wire[i] = b;
                }
                wire.truncate(cut.index(wire.len() + 1));
            }
            (cfg, wire)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn read_frames_equal_decoder_and_reader((cfg, wire) in layout_and_wire()) {
        let (frames, frames_pos, frames_stats) = frames_events_and_stats(cfg, &wire);
        let (decoder, decoder_pos, decoder_stats) = decoder_events(cfg, &wire);
        prop_assert_eq!(&frames, &decoder);
        prop_assert_eq!(frames_pos, decoder_pos);
        prop_assert_eq!(frames_stats, decoder_stats);
        #[cfg(feature = "std")]
        prop_assert_eq!(&frames, &reader_events(cfg, &wire));
    }
}
