//! Frame deadlines of `lenframe::tokio::FrameReader` on tokio's timers: on the paused test
//! clock over `tokio::io::duplex` (exact times and counts), and on real time over a tokio
//! `TcpStream` on 127.0.0.1.
//!
//! The peers pause on purpose: a pause is the fault under test (a trickling, stalling or
//! idle peer), never a way to wait for the other side, which is always done with a channel
//! or by joining the peer's task.

use std::time::Duration;

use lenframe::tokio::FrameReader;
use lenframe::{FrameDeadline, FrameError, TimeLimit};
use tokio::io::{AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio::sync::oneshot;
use tokio::time::{sleep, Instant};

use lenframe_testkit::async_io::tokio_tcp_pair;
use lenframe_testkit::reference::payload;

const TIMEOUT: Duration = Duration::from_millis(100);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The default layout's header for `len` payload bytes.
fn header(len: u32) -> [u8; 4] {
    len.to_be_bytes()
}

/// Sends `first` at once, then `rest` in pieces of `piece` bytes, one every `every`, until
/// they run out or `stop` fires; returns the peer and how many bytes of `rest` it sent.
async fn trickle<W: AsyncWrite + Unpin>(
    mut peer: W,
    first: Vec<u8>,
    rest: Vec<u8>,
    (piece, every): (usize, Duration),
    mut stop: oneshot::Receiver<()>,
) -> (W, usize) {
    peer.write_all(&first).await.unwrap();
    let mut sent = 0;
    for chunk in rest.chunks(piece) {
        tokio::select! {
            _ = &mut stop => break,
            () = sleep(every) => {}
        }
        peer.write_all(chunk).await.unwrap();
        sent += chunk.len();
    }
    if sent == rest.len() {
        // Everything is sent: hold the stream open until told to stop.
        let _ = stop.await;
    }
    (peer, sent)
}

/// The header and the first `n` bytes of `body`, and the rest of `body`.
fn split_frame(body: &[u8], n: usize) -> (Vec<u8>, Vec<u8>) {
    let mut first = header(body.len() as u32).to_vec();
    first.extend_from_slice(&body[..n]);
    (first, body[n..].to_vec())
}

/// The `TimedOut` fields of `result`, or a panic naming what came instead.
fn timed_out(result: Result<Option<&[u8]>, FrameError>) -> (u64, u64, Duration, TimeLimit) {
    match result {
        Err(FrameError::TimedOut {
            expected,
            received,
            elapsed,
            limit,
        }) => (expected, received, elapsed, limit),
        other => panic!("expected TimedOut, got {other:?}"),
    }
}

/// Starts a peer trickling `body` into a duplex stream (its header and the first `n` bytes
/// at once, then `piece` bytes every `every`): our end, the stop sender and the peer's task.
fn trickling_peer(
    body: &[u8],
    n: usize,
    pace: (usize, Duration),
) -> (
    DuplexStream,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<(DuplexStream, usize)>,
) {
    let (peer, ours) = tokio::io::duplex(64 * 1024);
    let (stop, stopped) = oneshot::channel();
    let (first, rest) = split_frame(body, n);
    let task = tokio::spawn(trickle(peer, first, rest, pace, stopped));
    (ours, stop, task)
}

/// A trickling peer on the paused clock: the reader, with a fixed deadline, is cut at
/// exactly the deadline with the exact counts; the bytes are kept, and once the peer sends
/// the rest at once the next call delivers the whole frame.
#[tokio::test(start_paused = true)]
async fn trickled_frame_is_cut_at_the_deadline_and_resumed_intact() {
    let body = payload(10, 1);
    // The header at 0 ms, then a byte every 30 ms: 3 bytes by the 100 ms deadline.
    let (ours, stop, peer) = trickling_peer(&body, 0, (1, ms(30)));
    let mut reader = FrameReader::new(ours);
    reader.set_frame_timeout(Some(TIMEOUT));
    let t0 = Instant::now();
    let (expected, received, elapsed, limit) = timed_out(reader.read_frame().await);
    assert_eq!(
        (expected, received, elapsed, limit),
        (14, 7, TIMEOUT, TimeLimit::Fixed(TIMEOUT))
    );
    assert_eq!(t0.elapsed(), TIMEOUT);
    assert_eq!(reader.state().read_buffer(), &split_frame(&body, 3).0[..]);
    stop.send(()).unwrap();
    let (mut peer, sent) = peer.await.unwrap();
    assert_eq!(sent, 3);
    peer.write_all(&body[sent..]).await.unwrap();
    assert_eq!(reader.read_frame().await.unwrap(), Some(&body[..]));
    assert_eq!(reader.stats().frames, 1);
}

/// Time between frames is not counted: after a frame, the peer is silent for ten times the
/// timeout, then sends a frame in two pieces 60 ms apart, which passes; the next frame's
/// deadline starts at its own first byte again, and a stalled one is cut at exactly 100 ms.
#[tokio::test(start_paused = true)]
async fn idle_time_between_frames_is_not_counted() {
    let (mut peer, ours) = tokio::io::duplex(4096);
    let mut reader = FrameReader::new(ours);
    reader.set_frame_timeout(Some(TIMEOUT));
    peer.write_all(&split_frame(b"first", 5).0).await.unwrap();
    assert_eq!(reader.read_frame().await.unwrap(), Some(&b"first"[..]));

    let (go, ready) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        ready.await.unwrap();
        sleep(10 * TIMEOUT).await; // idle: not counted
        let (first, rest) = split_frame(b"second", 2);
        peer.write_all(&first).await.unwrap();
        sleep(ms(60)).await; // inside the frame: counted, within the timeout
        peer.write_all(&rest).await.unwrap();
        peer
    });
    let t0 = Instant::now();
    go.send(()).unwrap();
    assert_eq!(reader.read_frame().await.unwrap(), Some(&b"second"[..]));
    assert_eq!(t0.elapsed(), 10 * TIMEOUT + ms(60));
    let mut peer = task.await.unwrap();

    // A stalled frame after the idle gap is still cut 100 ms after its first byte.
    peer.write_all(&header(3)).await.unwrap();
    let t1 = Instant::now();
    let (expected, received, elapsed, limit) = timed_out(reader.read_frame().await);
    assert_eq!(
        (expected, received, elapsed, limit),
        (7, 4, TIMEOUT, TimeLimit::Fixed(TIMEOUT))
    );
    assert_eq!(t1.elapsed(), TIMEOUT);
}

/// `FrameDeadline::with_rate`: 100 ms to start, 10 ms more per byte (100 bytes/s), 2 s in
/// all. A 200-byte frame sent 10 bytes every 50 ms earns more time than it uses and passes
/// after 950 ms, nine times the initial time.
#[tokio::test(start_paused = true)]
async fn rate_deadline_lets_a_frame_that_keeps_earning_time_pass() {
    let body = payload(200, 2);
    let (ours, stop, peer) = trickling_peer(&body, 10, (10, ms(50)));
    let mut reader = FrameReader::new(ours);
    reader.set_frame_deadline(Some(FrameDeadline::with_rate(ms(100), 100, ms(2000))));
    let t0 = Instant::now();
    assert_eq!(reader.read_frame().await.unwrap(), Some(&body[..]));
    assert_eq!(t0.elapsed(), ms(950));
    stop.send(()).unwrap();
    assert_eq!(peer.await.unwrap().1, 190);
}

/// The same deadline, and a peer that sends the header and 10 bytes, then stalls: the 14
/// bytes earned 140 ms on top of the 100, so the frame is cut at 240 ms by the minimum rate.
#[tokio::test(start_paused = true)]
async fn rate_deadline_cuts_a_stalled_frame_at_the_minimum_rate() {
    let body = payload(200, 3);
    let (ours, stop, peer) = trickling_peer(&body, 10, (10, Duration::from_secs(3600)));
    let mut reader = FrameReader::new(ours);
    reader.set_frame_deadline(Some(FrameDeadline::with_rate(ms(100), 100, ms(2000))));
    let (expected, received, elapsed, limit) = timed_out(reader.read_frame().await);
    assert_eq!(
        (expected, received, elapsed, limit),
        (204, 14, ms(240), TimeLimit::MinRate { bytes_per_sec: 100 })
    );
    stop.send(()).unwrap();
    assert_eq!(peer.await.unwrap().1, 0);
    assert_eq!(reader.state().read_buffer(), &split_frame(&body, 10).0[..]);
}

/// With a 500 ms cap, a 1000-byte frame sent 10 bytes every 40 ms keeps earning time but
/// reaches the cap: cut at exactly 500 ms, after the pieces of 0..=480 ms (134 bytes).
#[tokio::test(start_paused = true)]
async fn rate_deadline_cuts_a_long_frame_at_the_cap() {
    let body = payload(1000, 4);
    let (ours, stop, peer) = trickling_peer(&body, 10, (10, ms(40)));
    let mut reader = FrameReader::new(ours);
    reader.set_frame_deadline(Some(FrameDeadline::with_rate(ms(100), 100, ms(500))));
    let (expected, received, elapsed, limit) = timed_out(reader.read_frame().await);
    assert_eq!(
        (expected, received, elapsed, limit),
        (1004, 134, ms(500), TimeLimit::Cap(ms(500)))
    );
    stop.send(()).unwrap();
    let (mut peer, sent) = peer.await.unwrap();
    assert_eq!(sent, 120);
    // Kept and resumed: the rest at once completes the frame.
    peer.write_all(&body[10 + sent..]).await.unwrap();
    assert_eq!(reader.read_frame().await.unwrap(), Some(&body[..]));
}

/// Real time over a tokio `TcpStream` on 127.0.0.1: a 1,000-byte frame trickled one byte
/// every 20 ms, with a 200 ms frame timeout, is cut at the deadline with its bytes kept;
/// after the peer sends the rest at once, the next call returns the whole frame intact.
#[tokio::test]
async fn trickled_frame_over_tcp_is_cut_and_resumed() {
    let timeout = ms(200);
    let (client, server) = tokio_tcp_pair().await;
    let body = payload(1000, 5);
    let (first, rest) = split_frame(&body, 0);
    let (stop, stopped) = oneshot::channel();
    let peer = tokio::spawn(trickle(client, first, rest, (1, ms(20)), stopped));
    let mut reader = FrameReader::new(server);
    reader.set_frame_timeout(Some(timeout));
    let (expected, received, elapsed, limit) = timed_out(reader.read_frame().await);
    stop.send(()).unwrap();
    let (mut client, sent) = peer.await.unwrap();
    assert_eq!(expected, 1004);
    assert_eq!(limit, TimeLimit::Fixed(timeout));
    assert!(elapsed >= timeout, "elapsed {elapsed:?}");
    assert!((4..1004).contains(&received), "received {received}");
    assert!(
        received <= 4 + sent as u64,
        "received {received}, sent {sent}"
    );
    assert_eq!(reader.state().read_buffer().len() as u64, received);
    client.write_all(&body[sent..]).await.unwrap();
    assert_eq!(reader.read_frame().await.unwrap(), Some(&body[..]));
    assert!(reader.state().read_buffer().is_empty());
}
