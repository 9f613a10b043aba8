//! What callers do between calls, on the tokio pair over 127.0.0.1: a handler that takes
//! time while the peer pipelines, frames served from the buffer after a large one, a large
//! write dropped by a timeout and then flushed.

use std::time::Duration;

use lenframe::tokio::{FrameReader, FrameWriter};
use lenframe::{FrameConfig, DEFAULT_READ_CAPACITY};
use lenframe_testkit::async_io::tokio_tcp_pair;
use tokio::io::AsyncWriteExt;

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut wire = (payload.len() as u32).to_be_bytes().to_vec();
    wire.extend_from_slice(payload);
    wire
}

#[tokio::test]
async fn a_slow_handler_does_not_time_out_a_frame_the_peer_pipelined() {
    let (mut client, server) = tokio_tcp_pair().await;
    let b: Vec<u8> = (0..4u32 << 20).map(|i| (i % 251) as u8).collect();
    let mut wire = frame(b"A");
    wire.extend(frame(&b));
    // The peer sends both frames as fast as the reader takes them.
    let peer = tokio::spawn(async move { client.write_all(&wire).await.map(|()| client) });
    let mut reader = FrameReader::new(server);
    reader.set_frame_timeout(Some(Duration::from_millis(150)));
    assert_eq!(reader.read_frame().await.unwrap(), Some(&b"A"[..]));
    // The handler for A takes 400 ms: the application's time, not the peer's.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(reader.read_frame().await.unwrap(), Some(&b[..]));
    drop(peer.await.unwrap().unwrap());
    assert_eq!(reader.read_frame().await.unwrap(), None);
}

#[tokio::test]
async fn memory_is_given_back_once_frames_are_served_from_the_buffer() {
    let (mut client, server) = tokio_tcp_pair().await;
    let mut wire = frame(&vec![7u8; 8 << 20]);
    for i in 0..100u8 {
        wire.extend(frame(&[i; 10]));
    }
    let peer = tokio::spawn(async move { client.write_all(&wire).await });
    let mut reader = FrameReader::new(server);
    let large = reader.read_frame().await.unwrap().map(<[u8]>::len);
    assert_eq!(large, Some(8 << 20));
    assert!(reader.capacity() >= 8 << 20);
    for i in 0..100u8 {
        assert_eq!(reader.read_frame().await.unwrap(), Some(&[i; 10][..]));
        assert!(reader.capacity() <= 2 * DEFAULT_READ_CAPACITY, "frame {i}");
    }
    peer.await.unwrap().unwrap();
    assert_eq!(reader.read_frame().await.unwrap(), None);
    assert_eq!(reader.capacity(), 2 * DEFAULT_READ_CAPACITY);
}

#[tokio::test]
async fn a_large_write_dropped_part_way_is_sent_once_and_its_memory_given_back() {
    let (client, server) = tokio_tcp_pair().await;
    let cfg = FrameConfig::default().max_frame_len(64 << 20);
    let mut writer = FrameWriter::with_config(client, cfg).unwrap();
    // More than the kernel's buffers on both ends can take while nobody reads.
    let large: Vec<u8> = (0..32u32 << 20).map(|i| (i % 253) as u8).collect();
    let write = tokio::time::timeout(Duration::from_millis(100), writer.write_frame(&large));
    assert!(write.await.is_err(), "the timeout fired part-way");
    // Part of the frame went out, so the dropped future left it accepted, the rest buffered.
    assert_eq!(writer.stats().frames, 1);
    let rest = writer.state().pending().len();
    assert!(rest > 0 && rest < large.len(), "{rest} bytes left");
    let peer = tokio::spawn(async move {
        let mut reader = FrameReader::with_config(server, cfg).unwrap();
        let mut frames = Vec::new();
        while let Some(frame) = reader.read_frame().await.unwrap() {
            frames.push(frame.to_vec());
        }
        frames
    });
    writer.flush().await.unwrap();
    assert!(writer.state().buffer_capacity() <= 2 * writer.state().capacity());
    writer.shutdown().await.unwrap();
    drop(writer);
    let frames = peer.await.unwrap();
    assert_eq!(frames.len(), 1, "sent exactly once");
    assert!(frames[0] == large);
}
