//! Wire compatibility of `lenframe::tokio::FrameReader` and `lenframe::tokio::FrameWriter` with
//! other peers over a real 127.0.0.1 TCP connection, both ways: tokio-util's
//! `LengthDelimitedCodec` (`FramedRead` / `FramedWrite`), lenframe's blocking `FrameReader` and
//! `FrameWriter` (on a thread that is joined), and lenframe's `FrameCodec` in a `Framed`. All
//! with the default layout (a 4-byte big-endian length), frames of 0, 1, 1000, 65,536 and
//! 1 MiB bytes in two orders; every frame is compared byte for byte, then the clean end.

use std::io::Read;
use std::thread;

use bytes::Bytes;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use lenframe::tokio::{FrameReader, FrameWriter};
use lenframe::FrameCodec;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_util::codec::{Framed, FramedRead, FramedWrite, LengthDelimitedCodec};

use lenframe_testkit::async_io::tokio_tcp_pair;
use lenframe_testkit::reference::payload;

const SIZES: [usize; 5] = [0, 1, 1000, 65_536, 1 << 20];

/// Every size in increasing order, then in a mixed one, each frame with its own content.
fn frames() -> Vec<Vec<u8>> {
    SIZES
        .iter()
        .chain(&[1 << 20, 0, 1000, 1, 65_536])
        .enumerate()
        .map(|(i, &len)| payload(len, i as u8))
        .collect()
}

/// Writes `frames` with the async writer, then shuts down (the peer sees the end).
async fn write_async(out: impl AsyncWrite + Unpin, frames: &[Vec<u8>]) {
    let mut writer = FrameWriter::new(out);
    for frame in frames {
        writer.write_frame(frame).await.unwrap();
    }
    writer.shutdown().await.unwrap();
    assert_eq!(writer.stats().frames, frames.len() as u64);
}

/// Reads every frame with the async reader, up to the clean end.
async fn read_async(input: impl AsyncRead + Unpin, count: usize) -> Vec<Vec<u8>> {
    let mut reader = FrameReader::new(input);
    let mut got = Vec::new();
    for _ in 0..count {
        match reader.read_frame().await.unwrap() {
            Some(frame) => got.push(frame.to_vec()),
            None => return got,
        }
    }
    assert_eq!(
        reader.read_frame().await.unwrap(),
        None,
        "more frames than sent"
    );
    got
}

/// A connected pair over 127.0.0.1: a tokio end and a blocking end.
fn mixed_pair() -> (TcpStream, std::net::TcpStream) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let blocking = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (ours, _) = listener.accept().unwrap();
    ours.set_nonblocking(true).unwrap();
    (TcpStream::from_std(ours).unwrap(), blocking)
}

/// Runs the async writer in a task on one end of a 127.0.0.1 connection and collects the
/// frames of the stream `read` makes of the other end, up to its end.
async fn async_writer_to<S, T, E>(
    sent: &[Vec<u8>],
    read: impl FnOnce(TcpStream) -> S,
) -> Vec<Vec<u8>>
where
    S: Stream<Item = Result<T, E>> + Unpin,
    T: AsRef<[u8]>,
    E: std::fmt::Debug,
{
    let (client, server) = tokio_tcp_pair().await;
    let to_write = sent.to_vec();
    let writer = tokio::spawn(async move { write_async(client, &to_write).await });
    let mut frames = read(server);
    let mut got = Vec::new();
    while let Some(frame) = frames.next().await {
        got.push(frame.unwrap().as_ref().to_vec());
    }
    writer.await.unwrap();
    got
}

/// Sends `sent` into the sink `write` makes of one end of a 127.0.0.1 connection, in a
/// task, then closes it; reads the other end with the async reader. Returns the frames read
/// and the sink.
async fn sink_to_async_reader<K, E>(
    sent: &[Vec<u8>],
    write: impl FnOnce(TcpStream) -> K,
) -> (Vec<Vec<u8>>, K)
where
    K: Sink<Bytes, Error = E> + Unpin + Send + 'static,
    E: std::fmt::Debug,
{
    let (client, server) = tokio_tcp_pair().await;
    let mut sink = write(client);
    let to_write = sent.to_vec();
    let writer = tokio::spawn(async move {
        for frame in to_write {
            sink.send(Bytes::from(frame)).await.unwrap();
        }
        sink.close().await.unwrap();
        sink
    });
    let got = read_async(server, sent.len()).await;
    (got, writer.await.unwrap())
}

#[tokio::test]
async fn async_writer_to_tokio_util_framed_read() {
    let sent = frames();
    let got = async_writer_to(&sent, |s| FramedRead::new(s, LengthDelimitedCodec::new())).await;
    assert_eq!(got, sent);
}

#[tokio::test]
async fn tokio_util_framed_write_to_async_reader() {
    let sent = frames();
    let (got, _) =
        sink_to_async_reader(&sent, |s| FramedWrite::new(s, LengthDelimitedCodec::new())).await;
    assert_eq!(got, sent);
}

#[tokio::test]
async fn async_writer_to_frame_codec_framed() {
    let sent = frames();
    let got = async_writer_to(&sent, |s| Framed::new(s, FrameCodec::new())).await;
    assert_eq!(got, sent);
}

#[tokio::test]
async fn frame_codec_framed_to_async_reader() {
    let sent = frames();
    let (got, framed) = sink_to_async_reader(&sent, |s| Framed::new(s, FrameCodec::new())).await;
    assert_eq!(got, sent);
    assert_eq!(framed.codec().encode_stats().frames, sent.len() as u64);
}
#[tokio::test]
async fn async_writer_to_blocking_reader() {
    let sent = frames();
    let (ours, theirs) = mixed_pair();
    let count = sent.len();
    let reader = thread::spawn(move || {
        let mut reader = lenframe::FrameReader::new(theirs);
        let mut got = Vec::new();
        for _ in 0..=count {
            match reader.read_frame().unwrap() {
                Some(frame) => got.push(frame.to_vec()),
                None => break,
            }
        }
        got
    });
    write_async(ours, &sent).await;
    let got = tokio::task::spawn_blocking(move || reader.join())
        .await
        .unwrap()
        .expect("reader thread panicked");
    assert_eq!(got, sent);
}

#[tokio::test]
async fn blocking_writer_to_async_reader() {
    let sent = frames();
    let (ours, theirs) = mixed_pair();
    let to_write = sent.clone();
    let writer = thread::spawn(move || {
        let mut writer = lenframe::FrameWriter::new(theirs);
        for frame in &to_write {
            writer.write_frame(frame).unwrap();
        }
        writer.flush().unwrap();
        writer
            .get_ref()
            .shutdown(std::net::Shutdown::Write)
            .unwrap();
        // Hold the socket until the reader is done, so that closing it cannot reset.
        let mut rest = Vec::new();
        writer
            .into_inner()
            .expect("flushed")
            .read_to_end(&mut rest)
            .unwrap();
        rest
    });
    let got = read_async(ours, sent.len()).await;
    assert_eq!(got, sent);
    drop(got);
    // Our side closes when `read_async` drops its reader: the writer's read ends.
    let rest = tokio::task::spawn_blocking(move || writer.join())
        .await
        .unwrap()
        .expect("writer thread panicked");
    assert!(rest.is_empty());
}
