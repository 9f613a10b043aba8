//! The retry idiom of `lenframe::tokio::FrameWriter::write_frame`'s cancel contract, written
//! as users write it:
//!
//! ```text
//! let before = w.frames_accepted();
//! loop {
//!     match timeout(d, w.write_frame(&frame)).await {
//!         Ok(r) => break r?,
//!         Err(_) if w.frames_accepted() > before => break, // accepted: flush sends the rest
//!         Err(_) => {}                                     // nothing went out: write again
//!     }
//! }
//! ```
//!
//! with `tokio::time::timeout` and with `select!` against a sleep, on paused time, over a
//! scripted `AsyncWrite` whose polls proptest chooses (stalls that only a timeout ends,
//! `Pending`, short writes), over a `duplex` whose reader is slower than the timeout, and
//! over TCP on 127.0.0.1: every frame reaches the peer exactly once, in order.
//!
//! 64 cases per property (override with `PROPTEST_CASES`).

use std::time::Duration;

use lenframe::tokio::{FrameReader, FrameWriter};
use lenframe::{FrameConfig, FrameError};
use proptest::prelude::*;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};

use lenframe_testkit::async_io::{tokio_tcp_pair, AsyncStep, ScriptedAsyncWriter};
use lenframe_testkit::reference::{payload, reference_stream};
use lenframe_testkit::strategies::proptest_config;

/// How the caller bounds each attempt.
#[derive(Debug, Clone, Copy)]
enum Bound {
    Timeout,
    Select,
}

/// What happened to one frame's attempts.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Attempts {
    /// Attempts cut before anything of the frame went out (written again).
    retried: u32,
    /// Frames accepted by a cut attempt (the flush sends the rest).
    accepted_when_cut: u32,
}

/// Writes `frame` with the retry idiom: each attempt bounded by `d`, retried only while
/// the frame was not accepted. `max_attempts` bounds the loop.
async fn write_with_retry<W: AsyncWrite + Unpin>(
    w: &mut FrameWriter<W>,
    frame: &[u8],
    d: Duration,
    bound: Bound,
    max_attempts: usize,
    attempts: &mut Attempts,
) -> Result<(), FrameError> {
    let before = w.frames_accepted();
    for _ in 0..max_attempts {
        let attempt = match bound {
            Bound::Timeout => tokio::time::timeout(d, w.write_frame(frame)).await.ok(),
            Bound::Select => tokio::select! {
                result = w.write_frame(frame) => Some(result),
                _ = tokio::time::sleep(d) => None,
            },
        };
        match attempt {
            Some(result) => return result,
            None if w.frames_accepted() > before => {
                attempts.accepted_when_cut += 1;
                return Ok(());
            }
            None => attempts.retried += 1,
        }
    }
    panic!("frame not accepted after {max_attempts} attempts");
}

/// Flushes with each attempt bounded by `d` (flush is cancel safe: it goes on).
async fn flush_with_retry<W: AsyncWrite + Unpin>(
    w: &mut FrameWriter<W>,
    d: Duration,
    max_attempts: usize,
) {
    for _ in 0..max_attempts {
        if let Ok(result) = tokio::time::timeout(d, w.flush()).await {
            return result.unwrap();
        }
    }
    panic!("not flushed after {max_attempts} attempts");
}

fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}

/// Writes `frames` over `steps` with the retry idiom; returns the bytes that reached the
/// writer and what the attempts did.
fn run_scripted(
    frames: &[Vec<u8>],
    steps: Vec<AsyncStep>,
    capacity: usize,
    bound: Bound,
) -> (Vec<u8>, Attempts) {
    let max_attempts = steps.len() + 2;
    paused_runtime().block_on(async {
        let inner = ScriptedAsyncWriter::new(steps);
        let mut w = FrameWriter::with_capacity(inner, FrameConfig::default(), capacity).unwrap();
        let d = Duration::from_millis(10);
        let mut attempts = Attempts::default();
        for frame in frames {
            write_with_retry(&mut w, frame, d, bound, max_attempts, &mut attempts)
                .await
                .unwrap();
        }
        flush_with_retry(&mut w, d, max_attempts).await;
        (w.into_inner().unwrap().data, attempts)
    })
}

fn step() -> impl Strategy<Value = AsyncStep> {
    prop_oneof![
        2 => Just(AsyncStep::Stall),
        1 => Just(AsyncStep::Pending),
        3 => (1usize..40).prop_map(AsyncStep::Bytes),
    ]
}

proptest! {
    #![proptest_config(proptest_config(64, "proptest-regressions/async_retry.txt"))]

    /// Frames small and large against a 32-byte buffer, each written with the retry idiom
    /// under a timeout or a `select!`, over every schedule of stalls and short writes.
    #[test]
    fn write_retry_sends_every_frame_once(
        lens in prop::collection::vec(0usize..200, 1..8),
        steps in prop::collection::vec(step(), 0..60),
        select in any::<bool>(),
    ) {
        let frames: Vec<Vec<u8>> =
            lens.iter().enumerate().map(|(i, &len)| payload(len, i as u8)).collect();
        let bound = if select { Bound::Select } else { Bound::Timeout };
        let (wire, _) = run_scripted(&frames, steps, 32, bound);
        prop_assert_eq!(wire, reference_stream(&FrameConfig::default(), &frames));
    }
}

#[test]
fn write_retry_takes_both_branches() {
    // `timeout` polls the write once more when its timer fires, so a cut needs two stalls.
    let frame = payload(100, 1);
    for bound in [Bound::Timeout, Bound::Select] {
        // Nothing of the frame went out before the cut: it is written again.
        let steps = vec![AsyncStep::Stall, AsyncStep::Stall];
        let (wire, attempts) = run_scripted(std::slice::from_ref(&frame), steps, 32, bound);
        assert_eq!(wire, reference_stream(&FrameConfig::default(), &[&frame]));
        assert_eq!(attempts.accepted_when_cut, 0);
        match bound {
            Bound::Timeout => assert_eq!(attempts.retried, 1),
            // `select!` polls its branches in random order: one or two cuts.
            Bound::Select => assert!((1..=2).contains(&attempts.retried), "{attempts:?}"),
        }
        // Ten bytes went out before the cut: the frame is accepted, and not written again.
        let steps = vec![AsyncStep::Bytes(10), AsyncStep::Stall, AsyncStep::Stall];
        let (wire, attempts) = run_scripted(std::slice::from_ref(&frame), steps, 32, bound);
        assert_eq!(wire, reference_stream(&FrameConfig::default(), &[&frame]));
        assert_eq!(
            attempts,
            Attempts {
                retried: 0,
                accepted_when_cut: 1
            }
        );
    }
}

/// Reads `reader` to its end in reads of at most `chunk` bytes, pausing `pause` after each
/// (a slow peer); returns the frames the bytes hold.
async fn read_slowly<R: AsyncRead + Unpin>(
    mut reader: R,
    chunk: usize,
    pause: Duration,
) -> Vec<Vec<u8>> {
    let mut wire = Vec::new();
    let mut buf = vec![0; chunk];
    loop {
        let n = reader.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        wire.extend_from_slice(&buf[..n]);
        tokio::time::sleep(pause).await;
    }
    let mut frames = FrameReader::new(&wire[..]);
    let mut got = Vec::new();
    while let Some(frame) = frames.read_frame().await.unwrap() {
        got.push(frame.to_vec());
    }
    got
}

/// Writes `frames` with the retry idiom (frame i bounded as `bound(i)` says), flushes and
/// shuts the writer down.
async fn send_all<W: AsyncWrite + Unpin>(
    mut w: FrameWriter<W>,
    frames: &[Vec<u8>],
    d: Duration,
    bound: impl Fn(usize) -> Bound,
    max_attempts: usize,
) -> Attempts {
    let mut attempts = Attempts::default();
    for (i, frame) in frames.iter().enumerate() {
        write_with_retry(&mut w, frame, d, bound(i), max_attempts, &mut attempts)
            .await
            .unwrap();
    }
    flush_with_retry(&mut w, d, max_attempts).await;
    w.shutdown().await.unwrap();
    attempts
}

/// A reader that takes 4 KiB every 7 ms on paused time, a writer that cuts each attempt
/// after 5 ms: most large frames are cut part-way.
#[test]
fn write_retry_over_a_slow_duplex_sends_every_frame_once() {
    let frames: Vec<Vec<u8>> = [10, 50_000, 0, 200_000, 3, 70_000]
        .iter()
        .enumerate()
        .map(|(i, &len)| payload(len, i as u8))
        .collect();
    for bound in [Bound::Timeout, Bound::Select] {
        let (attempts, got) = paused_runtime().block_on(async {
            let (ours, theirs) = tokio::io::duplex(4096);
            let slow = tokio::spawn(read_slowly(theirs, 4096, Duration::from_millis(7)));
            let d = Duration::from_millis(5);
            let attempts = send_all(FrameWriter::new(ours), &frames, d, |_| bound, 10_000).await;
            (attempts, slow.await.unwrap())
        });
        assert_eq!(got, frames, "{bound:?}");
        // The schedule is deterministic on paused time: the cut path is taken.
        assert!(attempts.accepted_when_cut > 0, "{attempts:?}");
    }
}

/// Over TCP on 127.0.0.1 with real time: a peer that takes 16 KiB per millisecond, frames
/// of 1 MiB, each attempt cut after 1 ms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_retry_over_tcp_sends_every_frame_once() {
    let frames: Vec<Vec<u8>> = (0..6).map(|i| payload((1 << 20) + i, i as u8)).collect();
    let (client, server) = tokio_tcp_pair().await;
    let reader = tokio::spawn(read_slowly(server, 16 * 1024, Duration::from_millis(1)));
    let bound = |i: usize| {
        if i.is_multiple_of(2) {
            Bound::Timeout
        } else {
            Bound::Select
        }
    };
    let d = Duration::from_millis(1);
    let attempts = send_all(FrameWriter::new(client), &frames, d, bound, 1_000_000).await;
    let got = reader.await.unwrap();
    assert_eq!(got.len(), frames.len());
    assert!(got == frames);
    // How often each branch was taken depends on the machine's speed: shown, not asserted.
    println!("over TCP: {attempts:?}");
}
