//! Properties over real transports (TCP on 127.0.0.1, a Unix socket, an OS pipe), with a
//! relay that re-cuts the byte stream between writer and reader: one byte at a time, cuts
//! through every header and payload, many frames in one write, short pauses.
//!
//! Each case runs over every transport. Checked for any header layout, frame sizes at the
//! edges (empty, 1 byte, exactly the limit, around the reader's capacity step), any writer
//! capacity and flush pattern:
//! - round trip: the frames written are read back identical, in order, then `Ok(None)`;
//! - truncation: a stream ended at any byte gives the whole frames before the end, then
//!   `Ok(None)` on a frame boundary or `Truncated` with the exact counts;
//! - oversize: `TooLarge` with the exact numbers, repeated under `Oversize::Error`; under
//!   `Oversize::Skip` every other frame intact and in order, and exact skip counts;
//! - bounded memory: after every call the reader's capacity is at most
//!   `min(2 × bytes received, max_header_len + max_frame_len) + capacity_step`.

use std::io::Write;

use lenframe::{FrameConfig, FrameReader, FrameWriter, Oversize};
use proptest::prelude::*;
use proptest::sample::Index;

use lenframe_testkit::events::{read_events, Event};
use lenframe_testkit::reference::{reference_delivered, reference_frame, reference_stream};
use lenframe_testkit::relay::{through_relay, Counting, Cuts, RelayReport, Stop};
use lenframe_testkit::sockets::Transport;
use lenframe_testkit::strategies::{
    any_config, capacity_step, config_and_frames, cuts, expected_events, frames_with_oversize,
    proptest_config, write_plan, WritePlan,
};

/// Writes `payloads` with a `FrameWriter` following `plan`, flushes, and closes the stream.
fn write_frames(
    out: Box<dyn Write + Send>,
    cfg: FrameConfig,
    payloads: Vec<Vec<u8>>,
    plan: WritePlan,
) -> Result<(), String> {
    let mut w = FrameWriter::with_capacity(out, cfg, plan.capacity).map_err(|e| e.to_string())?;
    for (i, p) in payloads.iter().enumerate() {
        w.write_frame(p)
            .map_err(|e| format!("write_frame {i}: {e}"))?;
        if plan.flush_after[i % plan.flush_after.len()] {
            w.flush().map_err(|e| format!("flush after {i}: {e}"))?;
        }
    }
    w.flush().map_err(|e| format!("final flush: {e}"))?;
    Ok(())
}

/// Writes raw bytes and closes the stream. A reader that stops early (after a fatal error)
/// closes its side, so a failed write is not an error here.
fn write_raw(mut out: Box<dyn Write + Send>, bytes: Vec<u8>) -> Result<(), String> {
    let _ = out.write_all(&bytes);
    Ok(())
}

/// Reads with a `FrameReader` of capacity step `step` until the end or a fatal error.
fn read_with(
    cfg: FrameConfig,
    step: usize,
    max_calls: usize,
) -> impl FnOnce(Box<dyn std::io::Read + Send>) -> (Vec<Event>, u64, lenframe::FrameStats) {
    move |input| {
        let mut r = FrameReader::with_capacity(Counting::new(input), cfg, step).unwrap();
        let events = read_events(&mut r, max_calls);
        (events, r.get_ref().count, r.stats())
    }
}

fn check_relay(report: std::io::Result<RelayReport>, sent: usize, forwarded: usize) {
    let report = report.expect("relay failed");
    assert_eq!(report.received, sent as u64, "bytes the relay received");
    assert_eq!(
        report.forwarded, forwarded as u64,
        "bytes the relay forwarded"
    );
}

proptest! {
    #![proptest_config(proptest_config(64, "proptest-regressions/prop_roundtrip.txt"))]

    /// Whatever the layout, sizes, writer capacity, flushes and cuts, the reader gets the
    /// frames written, identical and in order, then `Ok(None)`, with its memory bounded.
    #[test]
    fn roundtrip_over_every_transport(
        (cfg, step, payloads) in config_and_frames(Oversize::Error, 12),
        plan in write_plan(),
        cuts in cuts(),
    ) {
        let wire_len = reference_stream(&cfg, &payloads).len();
        for &transport in Transport::ALL {
            let sent = payloads.clone();
            let plan = plan.clone();
            let (wrote, relay, (events, received, stats)) = through_relay(
                transport,
                &cuts,
                None,
                move |out| write_frames(out, cfg, sent, plan),
                read_with(cfg, step, payloads.len() + 2),
            );
            prop_assert_eq!(wrote, Ok(()));
            check_relay(relay, wire_len, wire_len);
            let mut want: Vec<Event> = payloads
                .iter()
                .map(|p| Event::Frame(reference_delivered(&cfg, p)))
                .collect();
            want.push(Event::End);
            prop_assert_eq!(&events, &want, "{:?}", transport);
            prop_assert_eq!(received, wire_len as u64);
            prop_assert_eq!(stats.frames, payloads.len() as u64);
            let delivered: usize = payloads.iter().map(|p| reference_delivered(&cfg, p).len()).sum();
            prop_assert_eq!(stats.bytes, delivered as u64);
            prop_assert_eq!((stats.skipped_frames, stats.skipped_bytes), (0, 0));
        }
    }

    /// A stream that ends after any number of bytes gives exactly the whole frames before
    /// that point, then `Ok(None)` on a boundary or `Truncated` with the exact counts.
    #[test]
    fn truncated_stream_over_every_transport(
        (cfg, step, payloads) in config_and_frames(Oversize::Error, 12),
        at in any::<Index>(),
        cuts in cuts(),
    ) {
        let wire = reference_stream(&cfg, &payloads);
        let cut = at.index(wire.len() + 1);
        let want = expected_events(&cfg, &payloads, Some(cut));
        for &transport in Transport::ALL {
            let bytes = wire.clone();
            let (_, relay, (events, received, _)) = through_relay(
                transport,
                &cuts,
                Some(Stop::End(cut as u64)),
                move |out| write_raw(out, bytes),
                read_with(cfg, step, payloads.len() + 2),
            );
            check_relay(relay, wire.len(), cut);
            prop_assert_eq!(&events, &want, "{:?} cut at {} of {}", transport, cut, wire.len());
            prop_assert_eq!(received, cut as u64);
        }
    }

    /// Frames over the limit: `TooLarge { len, max }` with the exact numbers. Under
    /// `Oversize::Error` it is returned on every later call; under `Oversize::Skip` every
    /// other frame arrives intact and in order and `stats()` counts the skipped frames
    /// and bytes (headers included) exactly.
    #[test]
    fn oversize_over_every_transport(
        (cfg, step, payloads) in (
            prop_oneof![any_config(Oversize::Error), any_config(Oversize::Skip)],
            capacity_step(),
        ).prop_flat_map(|(cfg, step)| {
            (Just(cfg), Just(step), frames_with_oversize(&cfg, step, 10, 3))
        }),
        cuts in cuts(),
    ) {
        let wire = reference_stream(&cfg, &payloads);
        let want = expected_events(&cfg, &payloads, None);
        let max = cfg.get_max_frame_len();
        for &transport in Transport::ALL {
            let bytes = wire.clone();
            let (_, relay, (events, _, stats)) = through_relay(
                transport,
                &cuts,
                None,
                move |out| write_raw(out, bytes),
                read_with(cfg, step, payloads.len() + 4),
            );
            prop_assert_eq!(&events, &want, "{:?}", transport);
            if cfg.get_oversize() == Oversize::Skip {
                check_relay(relay, wire.len(), wire.len());
                let skipped: Vec<&Vec<u8>> = payloads.iter().filter(|p| p.len() > max).collect();
                let skipped_bytes: usize = skipped.iter().map(|p| reference_frame(&cfg, p).len()).sum();
                prop_assert_eq!(stats.skipped_frames, skipped.len() as u64);
                prop_assert_eq!(stats.skipped_bytes, skipped_bytes as u64);
                prop_assert_eq!(stats.frames, (payloads.len() - skipped.len()) as u64);
            } else {
                // The relay may have been cut off by the reader closing its side early.
                drop(relay);
            }
        }
    }

    /// Under any input, including garbage after valid frames and a header that declares the
    /// limit with only part of the payload sent, the reader's capacity stays within
    /// `min(2 × bytes received, max_header_len + max_frame_len) + capacity_step` after every
    /// call.
    #[test]
    fn memory_bounded_over_every_transport(
        (cfg, step, payloads) in (
            prop_oneof![any_config(Oversize::Error), any_config(Oversize::Skip)],
            1usize..=32,
        ).prop_flat_map(|(cfg, step)| {
            (Just(cfg), Just(step), frames_with_oversize(&cfg, step, 6, 2))
        }),
        tail in prop_oneof![
            Just(Vec::new()),
            proptest::collection::vec(any::<u8>(), 1..=200),
        ],
        partial in any::<Index>(),
        cuts in cuts(),
    ) {
        let mut wire = reference_stream(&cfg, &payloads);
        // The largest frame, cut short: its header promises more than arrives.
        let largest = reference_frame(&cfg, &vec![7u8; cfg.get_max_frame_len()]);
        wire.extend_from_slice(&largest[..partial.index(largest.len())]);
        wire.extend_from_slice(&tail);
        for &transport in Transport::ALL {
            let bytes = wire.clone();
            let (_, _relay, (events, received, _)) = through_relay(
                transport,
                &cuts,
                None,
                move |out| write_raw(out, bytes),
                read_with(cfg, step, wire.len() + 8),
            );
            prop_assert!(received <= wire.len() as u64);
            for e in &events {
                if let Event::Other(msg) = e {
                    prop_assert!(!msg.starts_with("capacity"), "{:?}: {}", transport, msg);
                }
            }
        }
    }
}

/// Every cut of one stream of every edge size is covered once, deterministically, over
/// TCP: a fixed complement to the sampled cuts above.
#[test]
fn truncated_at_every_offset_over_tcp() {
    let cfg = FrameConfig::default().max_frame_len(5);
    let payloads: Vec<Vec<u8>> = vec![vec![], vec![1], vec![2; 5], vec![3; 4]];
    let wire = reference_stream(&cfg, &payloads);
    let whole = Cuts {
        sizes: vec![usize::MAX],
        pauses: vec![],
    };
    for cut in 0..=wire.len() {
        let bytes = wire.clone();
        let (_, relay, (events, _, _)) = through_relay(
            Transport::Tcp,
            &whole,
            Some(Stop::End(cut as u64)),
            move |out| write_raw(out, bytes),
            read_with(cfg, 3, 8),
        );
        check_relay(relay, wire.len(), cut);
        assert_eq!(
            events,
            expected_events(&cfg, &payloads, Some(cut)),
            "cut at {cut}"
        );
    }
}
