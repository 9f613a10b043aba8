//! Per-frame deadlines and nonblocking resumption over real TCP and Unix sockets.
//!
//! The peers here pause on purpose: a pause is the fault under test (a trickling or idle
//! peer), never a way to wait for the other side, which is always done with a channel.

use std::io::{Read, Write};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use lenframe::{FrameError, FrameReader, ReadTimeout, TimeLimit};
use lenframe_testkit::sockets::tcp_pair;
#[cfg(unix)]
use lenframe_testkit::sockets::unix_pair;

const DEADLINE: Duration = Duration::from_millis(150);

/// A peer that declares 100 bytes and then sends one byte every 20 ms, until told to stop
/// (or after 100 bytes, which would take 2 s): far slower than the deadline allows, while
/// every single read returns well within any plausible socket read timeout.
fn trickling_peer_is_cut_off<S>(mut client: S, server: S)
where
    S: Read + Write + ReadTimeout + Send + 'static,
{
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let peer = thread::spawn(move || {
        client.write_all(&100u32.to_be_bytes()).unwrap();
        for _ in 0..100 {
            if stop_rx.recv_timeout(Duration::from_millis(20)).is_ok() {
                break;
            }
            if client.write_all(b"x").is_err() {
                break;
            }
        }
    });
    server
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let mut reader = FrameReader::new(server);
    reader.set_frame_timeout(Some(DEADLINE));
    let result = reader.read_frame().map(|f| f.map(<[u8]>::len));
    stop_tx.send(()).unwrap();
    peer.join().unwrap();
    match result {
        Err(FrameError::TimedOut {
            expected,
            received,
            elapsed,
            limit,
        }) => {
            assert_eq!(limit, TimeLimit::Fixed(DEADLINE));
            assert_eq!(expected, 104);
            assert!((4..104).contains(&received), "received {received}");
            assert!(elapsed >= DEADLINE, "elapsed {elapsed:?}");
            // The bytes are kept: exactly what was received is still buffered.
            assert_eq!(reader.read_buffer().len() as u64, received);
        }
        other => panic!("expected TimedOut, got {other:?}"),
    }
}

#[test]
fn read_trickling_peer_is_cut_off_tcp() {
    let (client, server) = tcp_pair();
    trickling_peer_is_cut_off(client, server);
}

#[cfg(unix)]
#[test]
fn read_trickling_peer_is_cut_off_unix() {
    let (client, server) = unix_pair();
    trickling_peer_is_cut_off(client, server);
}

/// Idle time between frames is not counted: a quiet connection is never cut off, and the
/// socket's own timeout is in force again between frames.
fn idle_between_frames_is_not_counted<S>(mut client: S, server: S)
where
    S: Read + Write + ReadTimeout + Send + 'static,
{
    let (got_tx, got_rx) = mpsc::channel::<()>();
    let peer = thread::spawn(move || {
        client
            .write_all(&lenframe_testkit::reference::reference_encode(&[b"first"]))
            .unwrap();
        got_rx.recv().unwrap();
        // Quiet for twice the frame deadline: the scenario under test.
        thread::sleep(DEADLINE * 2);
        client
            .write_all(&lenframe_testkit::reference::reference_encode(&[b"second"]))
            .unwrap();
    });
    let mut reader = FrameReader::new(server);
    reader.set_frame_timeout(Some(DEADLINE));
    assert_eq!(reader.read_frame().unwrap(), Some(&b"first"[..]));
    got_tx.send(()).unwrap();
    assert_eq!(reader.read_frame().unwrap(), Some(&b"second"[..]));
    peer.join().unwrap();
    assert_eq!(reader.read_frame().unwrap(), None);
    assert_eq!(
        reader.get_ref().read_timeout().unwrap(),
        None,
        "the socket's own timeout is back"
    );
}

#[test]
fn read_idle_between_frames_is_not_counted_tcp() {
    let (client, server) = tcp_pair();
    idle_between_frames_is_not_counted(client, server);
}

#[cfg(unix)]
#[test]
fn read_idle_between_frames_is_not_counted_unix() {
    let (client, server) = unix_pair();
    idle_between_frames_is_not_counted(client, server);
}

/// After `TimedOut`, the next call resumes the same frame: nothing read is lost.
fn timed_out_frame_resumes<S>(mut client: S, server: S)
where
    S: Read + Write + ReadTimeout + Send + 'static,
{
    let wire = lenframe_testkit::reference::reference_encode(&[b"0123456789", b"next"]);
    let (resume_tx, resume_rx) = mpsc::channel::<()>();
    let peer = thread::spawn(move || {
        client.write_all(&wire[..7]).unwrap();
        resume_rx.recv().unwrap();
        client.write_all(&wire[7..]).unwrap();
    });
    let mut reader = FrameReader::new(server);
    reader.set_frame_timeout(Some(Duration::from_millis(100)));
    match reader.read_frame() {
        Err(FrameError::TimedOut {
            expected: 14,
            received: 7,
            ..
        }) => {}
        other => panic!("expected TimedOut {{ 14, 7 }}, got {other:?}"),
    }
    resume_tx.send(()).unwrap();
    assert_eq!(reader.read_frame().unwrap(), Some(&b"0123456789"[..]));
    assert_eq!(reader.read_frame().unwrap(), Some(&b"next"[..]));
    peer.join().unwrap();
    assert_eq!(reader.read_frame().unwrap(), None);
}

#[test]
fn read_timed_out_frame_resumes_tcp() {
    let (client, server) = tcp_pair();
    timed_out_frame_resumes(client, server);
}

#[cfg(unix)]
#[test]
fn read_timed_out_frame_resumes_unix() {
    let (client, server) = unix_pair();
    timed_out_frame_resumes(client, server);
}

#[test]
fn read_socket_timeout_is_restored_after_a_split_frame() {
    let (mut client, server) = tcp_pair();
    let own = Duration::from_secs(7);
    server.set_read_timeout(Some(own)).unwrap();
    let wire = lenframe_testkit::reference::reference_encode(&[b"abcdef"]);
    let (tx, rx) = mpsc::channel::<()>();
    let peer = thread::spawn(move || {
        client.write_all(&wire[..3]).unwrap();
        rx.recv().unwrap();
        client.write_all(&wire[3..]).unwrap();
    });
    let mut reader = FrameReader::new(server);
    reader.set_frame_timeout(Some(Duration::from_millis(50)));
    // The first call times out inside the header, with the frame's deadline on the socket.
    assert!(matches!(
        reader.read_frame(),
        Err(FrameError::TimedOut {
            expected: 4,
            received: 3,
            ..
        })
    ));
    // The deadline was on the socket while the reader waited (the socket's own 7 s did not
    // pass); the call returned with the socket's own timeout back, frame in progress or not.
    assert_eq!(reader.get_ref().read_timeout().unwrap(), Some(own));
    tx.send(()).unwrap();
    reader.set_frame_timeout(Some(Duration::from_secs(5)));
    assert_eq!(reader.read_frame().unwrap(), Some(&b"abcdef"[..]));
    peer.join().unwrap();
    // Between frames the next read runs under the socket's own timeout again.
    assert_eq!(reader.read_frame().unwrap(), None);
    assert_eq!(reader.get_ref().read_timeout().unwrap(), Some(own));
    reader.set_frame_timeout(None);
    assert_eq!(reader.frame_timeout(), None);
}

#[test]
fn read_nonblocking_socket_would_block_then_resumes() {
    let (mut client, server) = tcp_pair();
    let wire = lenframe_testkit::reference::reference_encode(&[b"split across the wait"]);
    client.write_all(&wire[..10]).unwrap();
    // Wait (blocking) until those bytes are readable, without consuming them.
    let mut peeked = [0u8; 10];
    let mut seen = 0;
    for _ in 0..1000 {
        seen = server.peek(&mut peeked).unwrap();
        if seen == 10 {
            break;
        }
    }
    assert_eq!(seen, 10);
    server.set_nonblocking(true).unwrap();
    let mut reader = FrameReader::new(server);
    let err = reader.read_frame().unwrap_err();
    assert!(err.is_would_block(), "{err:?}");
    assert_eq!(reader.read_buffer(), &wire[..10]);
    client.write_all(&wire[10..]).unwrap();
    drop(client);
    reader.get_ref().set_nonblocking(false).unwrap();
    assert_eq!(
        reader.read_frame().unwrap(),
        Some(&b"split across the wait"[..])
    );
    assert_eq!(reader.read_frame().unwrap(), None);
}
