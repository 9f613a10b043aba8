//! Cancel safety of `lenframe::tokio::FrameReader::read_frame` and of
//! `lenframe::tokio::FrameWriter::{write_frame, flush}`, tested by polling their futures by hand
//! (no-op waker) over a scripted `AsyncRead` / `AsyncWrite` whose every poll is `Pending`, a
//! short count, `Interrupted`, `WouldBlock`, `ConnectionReset` or data, and dropping the future
//! after a drawn number of polls (or, in the exhaustive tests, after k polls for every k),
//! then calling again:
//! - reader: the frames and errors delivered are exactly the reference events of the stream
//!   (none lost, none duplicated, in order); every `WouldBlock` and `ConnectionReset` taken
//!   from the script is returned once as `FrameError::Io` and the next call resumes;
//!   `Interrupted` is never returned; the memory bound holds after every call, dropped or
//!   not;
//! - writer: after every call, finished or dropped, the bytes that reached the peer followed
//!   by the bytes still buffered are exactly the encoding of the accepted frames (a frame is
//!   accepted when `write_frame` returned `Ok`, or when its future was dropped after part of
//!   it went out: then the rest is buffered); a frame not accepted left nothing behind; a
//!   final flush gives exactly the reference bytes. After a hard error the writer is poisoned
//!   exactly when bytes of the stream are left unwritten, and then every call is `Poisoned`
//!   and writes nothing.
//!
//! 64 cases per property (override with `PROPTEST_CASES`).

use std::io;
use std::pin::pin;

use lenframe::tokio::{FrameReader, FrameWriter};
use lenframe::{FrameConfig, FrameError, Oversize};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;

use lenframe_testkit::async_io::{
    poll_at_most, polls_for, read_events_polled, AsyncStep, ScriptedAsyncReader,
    ScriptedAsyncWriter,
};
use lenframe_testkit::events::Event;
use lenframe_testkit::reference::reference_stream;
use lenframe_testkit::strategies::{
    any_config, config_and_payloads, expected_events, frames_with_oversize, proptest_config,
    writer_capacity,
};

/// Polls per call before the future is dropped, cycled; `None` polls until it is ready.
type Schedule = Vec<Option<usize>>;

fn schedule() -> impl Strategy<Value = Schedule> {
    proptest::collection::vec(
        prop_oneof![2 => Just(None), 3 => (1usize..=4).prop_map(Some)],
        1..=8,
    )
}

/// A script of polls: `Pending`, short counts from 1 byte, and the given errors.
fn script(errors: Vec<io::ErrorKind>) -> impl Strategy<Value = Vec<AsyncStep>> {
    let error = proptest::sample::select(errors).prop_map(AsyncStep::Fail);
    proptest::collection::vec(
        prop_oneof![
            3 => Just(AsyncStep::Pending),
            2 => Just(AsyncStep::Bytes(1)),
            3 => (2usize..=24).prop_map(AsyncStep::Bytes),
            1 => (25usize..=4000).prop_map(AsyncStep::Bytes),
            2 => error,
        ],
        0..=100,
    )
}

/// Reads `wire` with an async reader of step `step` over a scripted reader, each call
/// polled as `schedule` says and dropped if not ready, until the end or a fatal error.
/// Returns the events, having checked that every `WouldBlock` and `ConnectionReset` taken
/// from the script was returned once, in order, and `Interrupted` never.
fn read_with_cancels(
    cfg: FrameConfig,
    step: usize,
    wire: Vec<u8>,
    script: Vec<AsyncStep>,
    schedule: &[Option<usize>],
    max_events: usize,
) -> Result<Vec<Event>, TestCaseError> {
    let steps = script.clone();
    let mut reader =
        FrameReader::with_capacity(ScriptedAsyncReader::new(wire, script), cfg, step).unwrap();
    let polled = read_events_polled(&mut reader, schedule, steps.len() + max_events + 8);
    prop_assert!(polled.finished, "reader not done: {:?}", polled.events);
    let taken = steps.len() - reader.get_ref().script.left();
    let scripted: Vec<io::ErrorKind> = steps[..taken]
        .iter()
        .filter_map(|s| match s {
            AsyncStep::Fail(kind) if *kind != io::ErrorKind::Interrupted => Some(*kind),
            _ => None,
        })
        .collect();
    prop_assert_eq!(polled.io_errors, scripted, "I/O errors returned");
    Ok(polled.events)
}

/// The bytes that reached the peer, then the bytes still buffered.
fn written_and_pending(w: &FrameWriter<ScriptedAsyncWriter>) -> Vec<u8> {
    let mut all = w.get_ref().data.clone();
    all.extend_from_slice(w.state().pending());
    all
}

/// Once poisoned: every call is `Poisoned` and nothing more reaches the peer.
fn check_poisoned(w: &mut FrameWriter<ScriptedAsyncWriter>) -> Result<(), TestCaseError> {
    let data = w.get_ref().data.clone();
    let write = poll_at_most(pin!(w.write_frame(b"after")), 8);
    prop_assert!(
        matches!(write, Some(Err(FrameError::Poisoned))),
        "{:?}",
        write
    );
    let flush = poll_at_most(pin!(w.flush()), 8);
    prop_assert!(
        matches!(flush, Some(Err(FrameError::Poisoned))),
        "{:?}",
        flush
    );
    prop_assert_eq!(&w.get_ref().data, &data);
    Ok(())
}

/// Checks one call's outcome against the accepted frames `accepted` and the frame `offered`
/// (none for a flush). Returns whether the offered frame is now accepted, or `None` when the
/// writer is poisoned (checked, and nothing more can be written).
fn check_call(
    w: &mut FrameWriter<ScriptedAsyncWriter>,
    cfg: &FrameConfig,
    accepted: &[&[u8]],
    offered: Option<&[u8]>,
    outcome: Option<Result<(), FrameError>>,
) -> Result<Option<bool>, TestCaseError> {
    let before = reference_stream(cfg, accepted);
    let mut with_offered = accepted.to_vec();
    with_offered.extend(offered);
    let with = reference_stream(cfg, &with_offered);
    let data = &w.get_ref().data;
    if let Some(Err(FrameError::Io(e))) = &outcome {
        if !matches!(e.kind(), io::ErrorKind::WouldBlock) {
            // A hard error: poisoned exactly when bytes of the stream are left unwritten.
            prop_assert!(with.starts_with(data), "{} bytes out", data.len());
            prop_assert_eq!(w.state().is_poisoned(), *data != before, "after {:?}", e);
            if w.state().is_poisoned() {
                check_poisoned(w)?;
                return Ok(None);
            }
        }
    }
    prop_assert!(!w.state().is_poisoned(), "poisoned after {:?}", outcome);
    let seen = written_and_pending(w);
    let took = offered.is_some() && seen == with;
    prop_assert!(
        took || seen == before,
        "{} bytes out and {} buffered after {:?}, {} accepted before",
        w.get_ref().data.len(),
        w.state().pending().len(),
        outcome,
        before.len()
    );
    match outcome {
        Some(Ok(())) => prop_assert!(took || offered.is_none()),
        Some(Err(FrameError::Io(_))) => prop_assert!(!took, "an error, yet accepted"),
        Some(Err(e)) => prop_assert!(false, "unexpected {:?}", e),
        None => {}
    }
    prop_assert_eq!(
        w.stats().frames,
        (accepted.len() + usize::from(took)) as u64
    );
    Ok(Some(took))
}

/// Writes `payloads` over a scripted writer, each `write_frame` and `flush` polled as
/// `schedule` says and dropped if not ready, retried until accepted; checks every call
/// (see [`check_call`]) and that a final flush gives the reference bytes.
fn write_with_cancels(
    cfg: FrameConfig,
    capacity: usize,
    payloads: &[Vec<u8>],
    script: Vec<AsyncStep>,
    schedule: &[Option<usize>],
    flush_after: &[bool],
) -> Result<(), TestCaseError> {
    let tries = script.len() + 2;
    let mut w =
        FrameWriter::with_capacity(ScriptedAsyncWriter::new(script), cfg, capacity).unwrap();
    let mut accepted: Vec<&[u8]> = Vec::new();
    let mut call = 0;
    for (i, p) in payloads.iter().enumerate() {
        let mut took = false;
        for _ in 0..tries {
            let polls = polls_for(schedule, call, w.get_ref().script.left());
            call += 1;
            let outcome = poll_at_most(pin!(w.write_frame(p)), polls);
            match check_call(&mut w, &cfg, &accepted, Some(p), outcome)? {
                None => return Ok(()),
                Some(false) => {}
                Some(true) => {
                    took = true;
                    break;
                }
            }
        }
        prop_assert!(took, "frame {} never accepted", i);
        accepted.push(p);
        if flush_after[i % flush_after.len()] {
            let polls = polls_for(schedule, call, w.get_ref().script.left());
            call += 1;
            let outcome = poll_at_most(pin!(w.flush()), polls);
            if check_call(&mut w, &cfg, &accepted, None, outcome)?.is_none() {
                return Ok(());
            }
        }
    }
    for _ in 0..tries {
        let polls = polls_for(schedule, call, w.get_ref().script.left());
        call += 1;
        let outcome = poll_at_most(pin!(w.flush()), polls);
        let flushed = matches!(outcome, Some(Ok(())));
        if check_call(&mut w, &cfg, &accepted, None, outcome)?.is_none() {
            return Ok(());
        }
        if flushed {
            prop_assert!(w.state().pending().is_empty());
            prop_assert_eq!(&w.get_ref().data, &reference_stream(&cfg, payloads));
            return Ok(());
        }
    }
    prop_assert!(false, "never flushed");
    Ok(())
}

proptest! {
    #![proptest_config(proptest_config(64, "proptest-regressions/async_faults.txt"))]

    /// Any poll script, any cancellation pattern, any layout, frames over the limit under
    /// either policy, a stream cut anywhere: exactly the reference events.
    #[test]
    fn read_frame_dropped_anywhere_loses_and_repeats_nothing(
        (cfg, step, payloads) in (
            prop_oneof![any_config(Oversize::Error), any_config(Oversize::Skip)],
            1usize..=64,
        ).prop_flat_map(|(cfg, step)| {
            (Just(cfg), Just(step), frames_with_oversize(&cfg, step, 10, 2))
        }),
        script in script(vec![
            io::ErrorKind::Interrupted,
            io::ErrorKind::WouldBlock,
            io::ErrorKind::ConnectionReset,
        ]),
        schedule in schedule(),
        at in any::<Index>(),
    ) {
        let wire = reference_stream(&cfg, &payloads);
        let cut = if at.index(4) == 0 { at.index(wire.len() + 1) } else { wire.len() };
        let events = read_with_cancels(
            cfg, step, wire[..cut].to_vec(), script, &schedule, payloads.len() + 4,
        )?;
        prop_assert_eq!(events, expected_events(&cfg, &payloads, Some(cut)));
    }

    /// Any poll script without hard errors, any cancellation pattern: every frame is
    /// accepted whole or not at all at every step, and the peer gets the reference bytes.
    #[test]
    fn write_frame_dropped_anywhere_is_all_or_nothing(
        (cfg, payloads) in config_and_payloads(),
        capacity in writer_capacity(),
        script in script(vec![io::ErrorKind::Interrupted, io::ErrorKind::WouldBlock]),
        schedule in schedule(),
        flush_after in proptest::collection::vec(proptest::bool::weighted(0.25), 1..=6),
    ) {
        write_with_cancels(cfg, capacity, &payloads, script, &schedule, &flush_after)?;
    }

    /// The same with one hard error (`ConnectionReset` or `Ok(0)`) anywhere in the script:
    /// poisoned exactly when bytes are left unwritten, `Poisoned` ever after.
    #[test]
    fn write_hard_error_anywhere_poisons_exactly_when_bytes_are_left(
        (cfg, payloads) in config_and_payloads(),
        capacity in writer_capacity(),
        script in script(vec![io::ErrorKind::Interrupted, io::ErrorKind::WouldBlock]),
        hard in prop_oneof![
            Just(AsyncStep::Fail(io::ErrorKind::ConnectionReset)),
            Just(AsyncStep::Bytes(0)),
        ],
        at in any::<Index>(),
        schedule in schedule(),
        flush_after in proptest::collection::vec(proptest::bool::weighted(0.25), 1..=6),
    ) {
        let mut script = script;
        script.insert(at.index(script.len() + 1), hard);
        write_with_cancels(cfg, capacity, &payloads, script, &schedule, &flush_after)?;
    }
}

/// A fixed script that visits every kind of poll, repeated.
fn every_kind_script(rounds: usize, hard: bool) -> Vec<AsyncStep> {
    let mut script = Vec::new();
    for i in 0..rounds {
        script.extend([
            AsyncStep::Pending,
            AsyncStep::Bytes(3),
            AsyncStep::Fail(io::ErrorKind::WouldBlock),
            AsyncStep::Pending,
            AsyncStep::Bytes(1),
            AsyncStep::Fail(io::ErrorKind::Interrupted),
            AsyncStep::Bytes(20 + i),
        ]);
        if hard {
            script.push(AsyncStep::Fail(io::ErrorKind::ConnectionReset));
        }
    }
    script
}

/// Frames small and large against a 16-byte writer capacity and a 7-byte reader step.
fn edge_frames() -> Vec<Vec<u8>> {
    [0usize, 1, 5, 40, 300, 11, 12, 0, 64]
        .iter()
        .enumerate()
        .map(|(i, &len)| lenframe_testkit::reference::payload(len, i as u8))
        .collect()
}

/// Every cancellation point: each call dropped after k polls, for every k up to the polls
/// the whole stream takes.
#[test]
fn read_frame_dropped_after_every_number_of_polls() {
    let cfg = FrameConfig::default().max_frame_len(300);
    let payloads = edge_frames();
    let wire = reference_stream(&cfg, &payloads);
    let script = every_kind_script(12, true);
    let want = expected_events(&cfg, &payloads, None);
    for k in 1..=script.len() + 2 {
        let events = read_with_cancels(cfg, 7, wire.clone(), script.clone(), &[Some(k)], 16)
            .unwrap_or_else(|e| panic!("dropped after {k} polls: {e}"));
        assert_eq!(events, want, "dropped after {k} polls");
    }
}

/// Every cancellation point of `write_frame` and `flush`, with the batching path (frames up
/// to 16 bytes with their header) and the vectored path (larger ones).
#[test]
fn write_frame_dropped_after_every_number_of_polls() {
    let cfg = FrameConfig::default();
    let payloads = edge_frames();
    let script = every_kind_script(12, false);
    for k in 1..=script.len() + 2 {
        for flush_after in [[false], [true]] {
            write_with_cancels(cfg, 16, &payloads, script.clone(), &[Some(k)], &flush_after)
                .unwrap_or_else(|e| panic!("dropped after {k} polls: {e}"));
        }
    }
}

/// A large frame whose future is dropped after part of it went out: the rest is buffered
/// (the frame is accepted) and appears, after the next frame's bytes never do, on flush.
#[test]
fn dropped_large_write_after_part_went_out_is_completed_by_flush() {
    let script = [AsyncStep::Bytes(6), AsyncStep::Pending];
    let mut w =
        FrameWriter::with_capacity(ScriptedAsyncWriter::new(script), FrameConfig::default(), 8)
            .unwrap();
    let payload = b"large frame payload";
    assert!(poll_at_most(pin!(w.write_frame(payload)), 1).is_none());
    assert_eq!(w.get_ref().data, b"\x00\x00\x00\x13la");
    assert_eq!(w.state().pending(), b"rge frame payload");
    assert_eq!(w.stats().frames, 1);
    assert!(matches!(
        poll_at_most(pin!(w.write_frame(b"x")), 1),
        Some(Ok(()))
    ));
    assert!(matches!(poll_at_most(pin!(w.flush()), 1), Some(Ok(()))));
    assert_eq!(
        w.get_ref().data,
        lenframe_testkit::reference::reference_encode(&[payload, b"x"]),
        "the rest of the large frame, then the next"
    );
}

/// A large frame whose future is dropped before any of it went out is not accepted:
/// nothing of it is written or buffered, and offering it again writes it once.
#[test]
fn dropped_large_write_with_nothing_sent_leaves_nothing() {
    let script = [AsyncStep::Pending, AsyncStep::Pending];
    let mut w =
        FrameWriter::with_capacity(ScriptedAsyncWriter::new(script), FrameConfig::default(), 8)
            .unwrap();
    assert!(poll_at_most(pin!(w.write_frame(b"large frame payload")), 1).is_none());
    assert!(w.get_ref().data.is_empty());
    assert!(w.state().pending().is_empty());
    assert_eq!(w.stats().frames, 0);
    // A frame that fits the buffer is accepted at once, without a write.
    assert!(matches!(
        poll_at_most(pin!(w.write_frame(b"tiny")), 1),
        Some(Ok(()))
    ));
    assert!(poll_at_most(pin!(w.flush()), 1).is_none()); // the script's second Pending
    assert!(matches!(poll_at_most(pin!(w.flush()), 1), Some(Ok(()))));
    assert_eq!(
        w.get_ref().data,
        lenframe_testkit::reference::reference_encode(&[b"tiny"])
    );
}

/// A hard error in the middle of a large frame poisons the writer: `Poisoned` after, and
/// not a byte more.
#[test]
fn hard_error_mid_frame_poisons() {
    let script = [
        AsyncStep::Bytes(5),
        AsyncStep::Fail(io::ErrorKind::ConnectionReset),
    ];
    let mut w =
        FrameWriter::with_capacity(ScriptedAsyncWriter::new(script), FrameConfig::default(), 8)
            .unwrap();
    let result = poll_at_most(pin!(w.write_frame(b"large frame payload")), 4);
    assert!(
        matches!(&result, Some(Err(FrameError::Io(e))) if e.kind() == io::ErrorKind::ConnectionReset),
        "{result:?}"
    );
    assert!(w.state().is_poisoned());
    assert_eq!(w.get_ref().data, b"\x00\x00\x00\x13l");
    assert!(matches!(
        poll_at_most(pin!(w.write_frame(b"x")), 1),
        Some(Err(FrameError::Poisoned))
    ));
    assert!(matches!(
        poll_at_most(pin!(w.flush()), 1),
        Some(Err(FrameError::Poisoned))
    ));
    assert!(matches!(
        poll_at_most(pin!(w.shutdown()), 1),
        Some(Err(FrameError::Poisoned))
    ));
    assert_eq!(w.get_ref().data, b"\x00\x00\x00\x13l");
}
