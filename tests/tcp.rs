//! Frames over real TCP connections on 127.0.0.1.

use std::io::Write;
use std::thread;

use lenframe::{FrameError, FrameReader, FrameWriter};
use lenframe_testkit::reference::reference_encode;
use lenframe_testkit::sockets::tcp_pair;

#[test]
fn read_coalesced_frames_from_one_write() {
    let (mut client, server) = tcp_pair();
    let wire = reference_encode(&[b"first", b"", b"third"]);
    client.write_all(&wire).unwrap();
    drop(client);
    let mut reader = FrameReader::new(server);
    assert_eq!(reader.read_frame().unwrap(), Some(&b"first"[..]));
    assert_eq!(reader.read_frame().unwrap(), Some(&b""[..]));
    assert_eq!(reader.read_frame().unwrap(), Some(&b"third"[..]));
    assert_eq!(reader.read_frame().unwrap(), None);
}

#[test]
fn write_then_read_frames_across_threads() {
    let (client, server) = tcp_pair();
    let frames: Vec<Vec<u8>> = (0..200).map(|i| vec![i as u8; i * 37]).collect();
    let sent = frames.clone();
    let writer = thread::spawn(move || {
        let mut w = FrameWriter::new(client);
        for f in &sent {
            w.write_frame(f).unwrap();
        }
        w.flush().unwrap();
    });
    let mut reader = FrameReader::new(server);
    for f in &frames {
        assert_eq!(reader.read_frame().unwrap(), Some(&f[..]));
    }
    assert_eq!(reader.read_frame().unwrap(), None);
    writer.join().unwrap();
}

#[test]
fn read_truncated_when_peer_closes_mid_payload() {
    let (mut client, server) = tcp_pair();
    client.write_all(b"\x00\x00\x00\x0aabc").unwrap();
    drop(client);
    let mut reader = FrameReader::new(server);
    match reader.read_frame() {
        Err(FrameError::Truncated {
            expected: 14,
            received: 7,
        }) => {}
        other => panic!("expected Truncated {{ 14, 7 }}, got {other:?}"),
    }
}

/// A peer that stops reading makes a write time out (SO_SNDTIMEO); every accepted frame
/// still arrives exactly once after the peer resumes, and a refused frame not at all.
#[test]
fn write_timeout_with_stalled_peer_resumes_without_loss_or_duplication() {
    use std::sync::mpsc;
    use std::time::Duration;

    let (client, server) = tcp_pair();
    client
        .set_write_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let reader = thread::spawn(move || {
        go_rx.recv().unwrap();
        let mut reader =
            FrameReader::with_config(server, lenframe::FrameConfig::default()).unwrap();
        let mut got = Vec::new();
        while let Some(frame) = reader.read_frame().unwrap() {
            got.push((frame.len(), frame[0]));
        }
        got
    });
    let mut w = FrameWriter::new(client);
    let mut accepted = Vec::new();
    let mut refused = 0;
    // Loopback socket buffers hold a few MiB: 256 frames of 1 MiB cannot all fit.
    for i in 0..256u32 {
        let frame = vec![i as u8; 1 << 20];
        match w.write_frame(&frame) {
            Ok(()) => accepted.push((frame.len(), i as u8)),
            Err(e) if e.is_would_block() => {
                refused += 1;
                break;
            }
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    go_tx.send(()).unwrap();
    let mut flushed = false;
    for _ in 0..10_000 {
        match w.flush() {
            Ok(()) => {
                flushed = true;
                break;
            }
            Err(e) if e.is_would_block() => continue,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert!(flushed);
    drop(w);
    let got = reader.join().unwrap();
    assert_eq!(refused, 1, "the stalled peer made a write time out");
    assert!(accepted.len() < 256);
    assert_eq!(got, accepted);
}
