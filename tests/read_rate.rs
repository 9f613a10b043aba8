//! Frame read rates: a frame earns time while its bytes arrive, up to a cap.
//!
//! The first tests drive `ReadState` with `Instant`s chosen by hand, so the deadline
//! arithmetic is checked exactly and without sleeping. The socket tests then run the blocking
//! reader over 127.0.0.1 against peers that are slow on purpose: their pauses are the fault
//! under test, never a way to wait for the other side (that is always a channel).

use std::io::Write;
use std::net::TcpStream;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use lenframe::{FrameConfig, FrameDeadline, FrameError, FrameReader, ReadState, TimeLimit};
use lenframe_testkit::reference::payload;
use lenframe_testkit::scripted::feed;
use lenframe_testkit::sockets::tcp_pair;

const SEC: Duration = Duration::from_secs(1);
const MIB: usize = 1024 * 1024;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn header(len: usize) -> Vec<u8> {
    u32::try_from(len).unwrap().to_be_bytes().to_vec()
}

/// A read side under `deadline`.
fn state_with(deadline: FrameDeadline) -> ReadState {
    let mut state = ReadState::new(FrameConfig::default()).unwrap();
    state.set_frame_deadline(Some(deadline));
    state
}

/// The numbers of a `TimedOut`: `(expected, received, elapsed, limit)`.
fn timed_out<T: std::fmt::Debug>(result: Result<T, FrameError>) -> (u64, u64, Duration, TimeLimit) {
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

/// 1 s to start a frame, 1 s more per MB received, 30 s at most.
fn server_rate() -> FrameDeadline {
    FrameDeadline::with_rate(SEC, 1_000_000, Duration::from_secs(30))
}

#[test]
fn read_rate_fixed_deadline_earns_nothing() {
    let t0 = Instant::now();
    let mut state = state_with(FrameDeadline::fixed(SEC));
    let mut wire = header(100);
    wire.extend_from_slice(&[1; 10]);
    feed(&mut state, &wire, t0);
    feed(&mut state, &[2; 10], t0 + ms(500));
    assert_eq!(state.decode().unwrap(), None);
    assert_eq!(state.deadline(), Some(t0 + SEC));
    assert!(state.check_deadline(t0 + ms(999)).is_ok());
    assert_eq!(
        timed_out(state.check_deadline(t0 + SEC)),
        (104, 24, SEC, TimeLimit::Fixed(SEC))
    );
}

#[test]
fn read_rate_bytes_earn_time() {
    let t0 = Instant::now();
    let mut state = state_with(FrameDeadline::with_rate(SEC, 1000, ms(10_000)));
    let mut first = header(10_000);
    first.resize(1000, 7);
    feed(&mut state, &first, t0);
    assert_eq!(
        state.deadline(),
        Some(t0 + ms(2000)),
        "1 s + 1000 B at 1000 B/s"
    );
    feed(&mut state, &[7; 1000], t0 + ms(1500));
    assert_eq!(state.deadline(), Some(t0 + ms(3000)));
    // Past the time the first 1000 bytes earned, within what all 2000 earned.
    assert!(state.check_deadline(t0 + ms(2500)).is_ok());
    assert_eq!(state.decode().unwrap(), None);
    assert_eq!(
        timed_out(state.check_deadline(t0 + ms(3000))),
        (
            10_004,
            2000,
            ms(3000),
            TimeLimit::MinRate {
                bytes_per_sec: 1000
            }
        )
    );
}

#[test]
fn read_rate_cap_bounds_a_fast_frame() {
    let t0 = Instant::now();
    let cap = ms(3000);
    let mut state = state_with(FrameDeadline::with_rate(SEC, 1000, cap));
    let mut wire = header(10_000);
    wire.resize(5000, 7);
    feed(&mut state, &wire, t0);
    assert_eq!(state.decode().unwrap(), None);
    // 5000 bytes earned 5 s on top of the first second; the cap allows 3 s.
    assert_eq!(state.deadline(), Some(t0 + cap));
    assert!(state.check_deadline(t0 + ms(2999)).is_ok());
    assert_eq!(
        timed_out(state.check_deadline(t0 + cap)),
        (10_004, 5000, cap, TimeLimit::Cap(cap))
    );
}

#[test]
fn read_rate_stall_after_a_fast_start_is_cut_when_earned_time_runs_out() {
    let t0 = Instant::now();
    let mut state = state_with(server_rate());
    let mut wire = header(8 * MIB);
    wire.resize(2_000_000, 0x5a);
    // 2 MB in 20 reads over 95 ms (about 20 MB/s), then nothing.
    for (i, piece) in wire.chunks(100_000).enumerate() {
        feed(&mut state, piece, t0 + ms(5 * i as u64));
        assert_eq!(state.decode().unwrap(), None);
    }
    // 1 s to start plus 2 s earned by 2 MB at 1 MB/s, counted from the first byte.
    assert_eq!(state.deadline(), Some(t0 + ms(3000)));
    assert!(state.check_deadline(t0 + ms(2999)).is_ok());
    assert_eq!(
        timed_out(state.check_deadline(t0 + ms(3000))),
        (
            8 * MIB as u64 + 4,
            2_000_000,
            ms(3000),
            TimeLimit::MinRate {
                bytes_per_sec: 1_000_000
            }
        )
    );
}

#[test]
fn read_rate_timeout_inside_the_header_counts_the_fewest_bytes() {
    let t0 = Instant::now();
    let mut state = state_with(server_rate());
    feed(&mut state, &[0, 0], t0);
    assert_eq!(state.decode().unwrap(), None);
    // Two bytes at 1 MB/s earned 2 µs.
    let allowed = SEC + Duration::from_micros(2);
    assert_eq!(state.deadline(), Some(t0 + allowed));
    assert_eq!(
        timed_out(state.check_deadline(t0 + allowed)),
        (
            4,
            2,
            allowed,
            TimeLimit::MinRate {
                bytes_per_sec: 1_000_000
            }
        )
    );
}

#[test]
fn read_rate_idle_time_between_frames_is_not_counted() {
    let t0 = Instant::now();
    let mut state = state_with(FrameDeadline::fixed(SEC));
    let mut wire = lenframe_testkit::reference::reference_encode(&[b"first"]);
    feed(&mut state, &wire, t0);
    let range = state.decode().unwrap().unwrap();
    assert_eq!(state.frame(range), b"first");
    // Between frames: no deadline, and any amount of quiet is fine.
    assert_eq!(state.deadline(), None);
    assert_eq!(state.frame_elapsed(t0 + ms(100_000)), None);
    assert!(state.check_deadline(t0 + ms(100_000)).is_ok());
    // The next frame's clock starts at its first byte.
    let late = t0 + ms(100_000);
    wire = lenframe_testkit::reference::reference_encode(&[b"second"]);
    feed(&mut state, &wire[..2], late);
    assert_eq!(state.decode().unwrap(), None);
    assert_eq!(state.deadline(), Some(late + SEC));
    assert_eq!(state.frame_elapsed(late + ms(300)), Some(ms(300)));
    assert!(state.check_deadline(late + ms(999)).is_ok());
    feed(&mut state, &wire[2..], late + ms(999));
    let range = state.decode().unwrap().unwrap();
    assert_eq!(state.frame(range), b"second");
    assert_eq!(state.deadline(), None);
}

#[test]
fn read_rate_leftover_bytes_start_the_next_frame_at_the_next_wait() {
    let t0 = Instant::now();
    let mut state = state_with(FrameDeadline::fixed(SEC));
    let wire = lenframe_testkit::reference::reference_encode(&[b"one", b"two"]);
    // The whole first frame and half the second header arrive together.
    feed(&mut state, &wire[..9], t0 + ms(10));
    let range = state.decode().unwrap().unwrap();
    assert_eq!(state.frame(range), b"one");
    assert_eq!(state.decode().unwrap(), None);
    // The application handles "one" for 5 s: not the peer's time.
    assert_eq!(state.deadline(), None);
    assert!(state.check_deadline(t0 + ms(5010)).is_ok());
    state.resume_clock(|| t0 + ms(5010));
    assert_eq!(state.deadline(), Some(t0 + ms(6010)));
    assert_eq!(
        timed_out(state.check_deadline(t0 + ms(6010))),
        (4, 2, SEC, TimeLimit::Fixed(SEC))
    );
}

#[test]
fn read_rate_clock_restarts_after_timed_out_and_the_frame_resumes() {
    let t0 = Instant::now();
    let mut state = state_with(FrameDeadline::with_rate(SEC, 1000, ms(10_000)));
    let body = payload(3000, 9);
    let mut wire = header(body.len());
    wire.extend_from_slice(&body);
    feed(&mut state, &wire[..2000], t0);
    assert_eq!(state.decode().unwrap(), None);
    let cut = t0 + ms(3000);
    assert_eq!(
        timed_out(state.check_deadline(cut)),
        (
            3004,
            2000,
            ms(3000),
            TimeLimit::MinRate {
                bytes_per_sec: 1000
            }
        )
    );
    // A fresh clock from the next wait: the bytes already received earn nothing again.
    assert_eq!(state.deadline(), None);
    state.resume_clock(|| cut + ms(100));
    assert_eq!(state.deadline(), Some(cut + ms(100) + SEC));
    assert_eq!(state.frame_elapsed(cut + ms(500)), Some(ms(400)));
    assert!(state.check_deadline(cut + ms(500)).is_ok());
    assert_eq!(state.read_buffer(), &wire[..2000], "nothing was dropped");
    feed(&mut state, &wire[2000..], cut + ms(500));
    let range = state.decode().unwrap().unwrap();
    assert_eq!(state.frame(range), &body[..]);
    assert_eq!(state.deadline(), None);
    assert_eq!(state.stats().frames, 1);
}

/// A blocking reader over the server side of a TCP pair, under [`server_rate`].
fn rate_reader(server: TcpStream) -> FrameReader<TcpStream> {
    let mut reader = FrameReader::new(server);
    reader.set_frame_deadline(Some(server_rate()));
    reader
}

#[test]
fn read_rate_large_frame_on_a_slow_steady_link_passes() {
    const RATE: f64 = 2_000_000.0; // bytes per second
    const CHUNK: usize = 64 * 1024;
    let (mut client, server) = tcp_pair();
    let body = payload(8 * MIB, 3);
    let mut wire = header(body.len());
    wire.extend_from_slice(&body);
    let peer = thread::spawn(move || {
        let start = Instant::now();
        for (i, chunk) in wire.chunks(CHUNK).enumerate() {
            // The slow link under test: chunk i leaves no earlier than its share of time.
            let due = start + Duration::from_secs_f64((i * CHUNK) as f64 / RATE);
            thread::sleep(due.saturating_duration_since(Instant::now()));
            client.write_all(chunk).unwrap();
        }
    });
    let mut reader = rate_reader(server);
    let started = Instant::now();
    let frame = reader.read_frame().unwrap().map(<[u8]>::to_vec);
    let took = started.elapsed();
    peer.join().unwrap();
    assert!(
        frame.as_deref() == Some(&body[..]),
        "the frame arrived intact"
    );
    // Far longer than the initial second: only the time the bytes earned let it through.
    assert!(took >= ms(4000), "took {took:?}");
    assert_eq!(reader.read_frame().unwrap(), None);
}

#[test]
fn read_rate_trickling_peer_is_cut_after_about_the_initial_time() {
    let (mut client, server) = tcp_pair();
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let peer = thread::spawn(move || {
        client.write_all(&header(1000)).unwrap();
        // One byte per 20 ms: at most 100 of them (2 s), or until told to stop.
        for _ in 0..100 {
            if stop_rx.recv_timeout(ms(20)).is_ok() || client.write_all(b"x").is_err() {
                break;
            }
        }
    });
    let mut reader = rate_reader(server);
    let result = reader.read_frame().map(|f| f.map(<[u8]>::len));
    stop_tx.send(()).unwrap();
    peer.join().unwrap();
    let (expected, received, elapsed, limit) = timed_out(result);
    assert_eq!(expected, 1004);
    assert_eq!(
        limit,
        TimeLimit::MinRate {
            bytes_per_sec: 1_000_000
        }
    );
    // About 50 bytes in a second, each earning 1 µs.
    assert!((4..104).contains(&received), "received {received}");
    assert!(
        elapsed >= server_rate().allowed(received),
        "elapsed {elapsed:?}"
    );
    assert!(elapsed <= ms(1500), "elapsed {elapsed:?}");
    assert_eq!(reader.read_buffer().len() as u64, received);
}

#[test]
fn read_rate_fast_start_then_stall_is_cut_when_earned_time_runs_out() {
    const SENT: usize = 2_000_000;
    let (mut client, server) = tcp_pair();
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let peer = thread::spawn(move || {
        let mut wire = header(8 * MIB);
        wire.resize(SENT, 0x5a);
        client.write_all(&wire).unwrap();
        // The stall under test: hold the connection open until the reader gave up.
        stop_rx.recv().unwrap();
    });
    let mut reader = rate_reader(server);
    let result = reader.read_frame().map(|f| f.map(<[u8]>::len));
    stop_tx.send(()).unwrap();
    peer.join().unwrap();
    let (expected, received, elapsed, limit) = timed_out(result);
    assert_eq!((expected, received), (8 * MIB as u64 + 4, SENT as u64));
    assert_eq!(
        limit,
        TimeLimit::MinRate {
            bytes_per_sec: 1_000_000
        }
    );
    let earned = server_rate().allowed(SENT as u64);
    assert_eq!(earned, ms(3000));
    assert!(
        elapsed >= earned && elapsed <= earned + ms(500),
        "elapsed {elapsed:?}, earned {earned:?}"
    );
}
