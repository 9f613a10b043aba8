//! Frames over real TCP connections on 127.0.0.1.

mod support;

use std::io::Write;
use std::thread;

use lenframe::{FrameError, FrameReader, FrameWriter};
use support::{reference_encode, tcp_pair};

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
