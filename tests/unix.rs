//! Frames over Unix domain sockets.
#![cfg(unix)]

use std::io::Write;
use std::thread;

use lenframe::{FrameConfig, FrameError, FrameReader, FrameWriter, LengthField};
use lenframe_testkit::reference::reference_encode;
use lenframe_testkit::sockets::unix_pair;

#[test]
fn read_frames_written_by_frame_writer_over_unix_socket() {
    let (client, server) = unix_pair();
    let cfg = FrameConfig::default()
        .length_field(LengthField::Varint)
        .max_frame_len(1 << 20);
    let frames: Vec<Vec<u8>> = [0usize, 1, 127, 128, 16_384, 1 << 20]
        .iter()
        .map(|&n| vec![0x5a; n])
        .collect();
    let sent = frames.clone();
    let writer = thread::spawn(move || {
        let mut w = FrameWriter::with_config(client, cfg).unwrap();
        for f in &sent {
            w.write_frame(f).unwrap();
        }
        w.flush().unwrap();
    });
    let mut reader = FrameReader::with_config(server, cfg).unwrap();
    for f in &frames {
        assert_eq!(reader.read_frame().unwrap().map(<[u8]>::len), Some(f.len()));
    }
    assert_eq!(reader.read_frame().unwrap(), None);
    writer.join().unwrap();
    assert_eq!(reader.stats().frames, 6);
}

#[test]
fn read_peer_closing_inside_header_is_truncated() {
    let (mut client, server) = unix_pair();
    let mut wire = reference_encode(&[b"whole"]);
    wire.extend_from_slice(&[0, 0]);
    client.write_all(&wire).unwrap();
    drop(client);
    let mut reader = FrameReader::new(server);
    assert_eq!(reader.read_frame().unwrap(), Some(&b"whole"[..]));
    assert!(matches!(
        reader.read_frame(),
        Err(FrameError::Truncated {
            expected: 4,
            received: 2
        })
    ));
}
