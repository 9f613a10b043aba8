//! Instruction counts per frame (callgrind through gungraun), in memory, for every front end
//! against its peer over the same stream: reads from a `&[u8]` holding the wire bytes, writes
//! into [`Sink`], which takes every byte (and every vectored slice) at once, as a socket with
//! room would. Nothing here reads a clock, so the figures do not move with the machine's load.
//!
//! ```sh
//! bash scripts/instructions.sh          # runs this bench, prints the per-frame table
//! ```
//!
//! Each implementation runs twice per frame size, over `n` and `2n` frames ([`runs`]); the
//! script divides the difference of the two counts by `n`, which leaves out everything that
//! happens once (buffers allocated, first fill) and keeps everything that happens per frame,
//! including the refills of a 64 KiB buffer (`n` frames span several).
//!
//! Groups: `read` (blocking `FrameReader` and `BufReader::read_exact` of the unframed
//! payloads, the tokio `FrameReader`, tokio-util's `FramedRead` with `LengthDelimitedCodec`
//! and with `FrameCodec`), `write` (the same for writers, against `BufWriter::write_all`),
//! `parse` (`Frames` against hand-written slice parsing), `codec` (`FrameCodec` and
//! `LengthDelimitedCodec`, encode into and decode from a `BytesMut`) and `checksum` (the
//! CRC-32C layout through `Frames`, `FrameReader` and `FrameWriter`).

// gungraun's macros generate a module per benchmark and group, without docs.
#![allow(missing_docs)]

use std::hint::black_box;
use std::io::{self, BufReader, BufWriter, IoSlice, Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_util::{FutureExt, SinkExt, StreamExt};
use gungraun::prelude::*;
use lenframe::{Checksum, FrameCodec, FrameConfig, FrameEncoder, FrameReader, FrameWriter, Frames};
use tokio::io::AsyncWrite;
use tokio_util::codec::{Decoder, Encoder, FramedRead, FramedWrite, LengthDelimitedCodec};

/// The payload sizes measured.
const SIZES: [usize; 4] = [16, 64, 1024, 1024 * 1024];

/// The buffer size of the `BufReader`/`BufWriter` baselines (lenframe's default step).
const BUF: usize = 64 * 1024;

/// One run: `frames` frames of `size` bytes.
#[derive(Clone, Copy, Debug)]
struct Run {
    size: usize,
    frames: usize,
}

/// The runs of every implementation, in this order: per size, `n` frames then `2n`, where
/// `n` frames carry about 512 KiB of payload (at least 2 frames). `scripts/instructions.sh`
/// reads the ids `per_frame_0` .. `per_frame_7` in this order.
fn runs() -> impl Iterator<Item = Run> {
    SIZES.into_iter().flat_map(|size| {
        let n = (512 * 1024 / size).max(2);
        [
            Run { size, frames: n },
            Run {
                size,
                frames: 2 * n,
            },
        ]
    })
}

fn payload(size: usize) -> Vec<u8> {
    (0..size).map(|i| i as u8).collect()
}

/// `run.frames` frames of `run.size` bytes in the layout `config`.
fn wire(run: Run, config: FrameConfig) -> Vec<u8> {
    let enc = FrameEncoder::new(config).expect("valid layout");
    let payload = payload(run.size);
    let mut wire = Vec::new();
    for _ in 0..run.frames {
        enc.encode(&payload, &mut wire).expect("fits the limit");
    }
    wire
}

/// The default layout (4-byte big-endian length, 8 MiB limit), with or without a checksum.
fn config(checksum: Checksum) -> FrameConfig {
    FrameConfig::default().checksum(checksum)
}

/// A stream that takes every byte at once and keeps only their count, for the blocking and
/// the tokio writers alike.
#[derive(Debug, Default)]
struct Sink(usize);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let n = bufs.iter().map(|b| b.len()).sum();
        self.0 += n;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsyncWrite for Sink {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(self.get_mut().write(buf))
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(self.get_mut().write_vectored(bufs))
    }
    fn is_write_vectored(&self) -> bool {
        true
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Polls `fut` once: every stream here is always ready, so it completes.
fn ready<T>(fut: impl std::future::Future<Output = T>) -> T {
    fut.now_or_never().expect("in-memory streams never wait")
}

/// What a reading run needs: the wire bytes and the run.
fn read_setup(run: Run) -> (Vec<u8>, Run) {
    (wire(run, config(Checksum::None)), run)
}

fn crc_read_setup(run: Run) -> (Vec<u8>, Run) {
    (wire(run, config(Checksum::Crc32c)), run)
}

/// What a writing run needs: the payload and the run.
fn write_setup(run: Run) -> (Vec<u8>, Run) {
    (payload(run.size), run)
}

/// The unframed payloads back to back, for the raw `BufReader`.
fn raw_setup(run: Run) -> (Vec<u8>, Run) {
    (payload(run.size).repeat(run.frames), run)
}

/// The wire bytes in a `BytesMut`, for decoding.
fn bytes_setup(run: Run) -> (BytesMut, Run) {
    (BytesMut::from(&read_setup(run).0[..]), run)
}

/// The payload as `Bytes`, for encoding.
fn encode_setup(run: Run) -> (Bytes, Run) {
    (Bytes::from(payload(run.size)), run)
}

fn read_frames(wire: &[u8], run: Run, config: FrameConfig) -> usize {
    let mut r = FrameReader::with_config(wire, config).expect("valid layout");
    let mut n = 0;
    while let Some(frame) = r.read_frame().expect("well-formed") {
        black_box(frame);
        n += 1;
    }
    assert_eq!(n, run.frames);
    n
}

fn write_frames(payload: &[u8], run: Run, config: FrameConfig) -> usize {
    let mut w = FrameWriter::with_config(Sink::default(), config).expect("valid layout");
    for _ in 0..run.frames {
        w.write_frame(black_box(payload))
            .expect("a sink takes it all");
    }
    w.flush().expect("a sink takes it all");
    w.get_ref().0
}

fn parse_frames(wire: &[u8], run: Run, config: FrameConfig) -> usize {
    let mut n = 0;
    for frame in Frames::new(wire, config).expect("valid layout") {
        black_box(frame.expect("well-formed"));
        n += 1;
    }
    assert_eq!(n, run.frames);
    n
}

/// tokio-util's `FramedRead` with `codec` over the wire bytes.
fn framed_read<C>(wire: &[u8], run: Run, codec: C) -> usize
where
    C: Decoder<Item = BytesMut>,
    C::Error: std::fmt::Debug,
{
    let mut r = FramedRead::new(wire, codec);
    let n = ready(async {
        let mut n = 0;
        while let Some(frame) = r.next().await {
            black_box(frame.expect("well-formed"));
            n += 1;
        }
        n
    });
    assert_eq!(n, run.frames);
    n
}

/// tokio-util's `FramedWrite` with `codec`: `feed` every frame, then flush.
fn framed_write<C>(payload: Vec<u8>, run: Run, codec: C) -> usize
where
    C: Encoder<Bytes>,
    C::Error: std::fmt::Debug,
{
    let payload = Bytes::from(payload);
    let mut w = FramedWrite::new(Sink::default(), codec);
    ready(async {
        for _ in 0..run.frames {
            w.feed(black_box(payload.clone()))
                .await
                .expect("a sink takes it all");
        }
        SinkExt::<Bytes>::flush(&mut w)
            .await
            .expect("a sink takes it all");
    });
    w.get_ref().0
}

fn encode_frames<C>(payload: Bytes, run: Run, mut codec: C) -> usize
where
    C: Encoder<Bytes>,
    C::Error: std::fmt::Debug,
{
    let mut dst = BytesMut::new();
    for _ in 0..run.frames {
        codec
            .encode(black_box(payload.clone()), &mut dst)
            .expect("fits the limit");
    }
    dst.len()
}

fn decode_frames<C>(mut src: BytesMut, run: Run, mut codec: C) -> usize
where
    C: Decoder<Item = BytesMut>,
    C::Error: std::fmt::Debug,
{
    let mut n = 0;
    while let Some(frame) = codec.decode(&mut src).expect("well-formed") {
        black_box(frame);
        n += 1;
    }
    assert_eq!(n, run.frames);
    n
}

// ---------------------------------------------------------------------------------------
// read

#[library_benchmark]
#[benches::per_frame(iter = runs(), setup = raw_setup)]
fn raw_bufreader((payloads, run): (Vec<u8>, Run)) -> usize {
    let mut r = BufReader::with_capacity(BUF, &payloads[..]);
    let mut buf = vec![0u8; run.size];
    for _ in 0..run.frames {
        r.read_exact(&mut buf).expect("all there");
        black_box(&buf);
    }
    run.frames
}

#[library_benchmark]
#[benches::per_frame(iter = runs(), setup = read_setup)]
fn lenframe_reader((wire, run): (Vec<u8>, Run)) -> usize {
    read_frames(&wire, run, config(Checksum::None))
}

#[library_benchmark]
#[benches::per_frame(iter = runs(), setup = read_setup)]
fn lenframe_async_reader((wire, run): (Vec<u8>, Run)) -> usize {
    let mut r = lenframe::tokio::FrameReader::with_config(&wire[..], config(Checksum::None))
        .expect("valid layout");
    let n = ready(async {
        let mut n = 0;
        while let Some(frame) = r.read_frame().await.expect("well-formed") {
            black_box(frame);
            n += 1;
        }
        n
    });
    assert_eq!(n, run.frames);
    n
}

#[library_benchmark]
#[benches::per_frame(iter = runs(), setup = read_setup)]
fn tokio_util_framed_read((wire, run): (Vec<u8>, Run)) -> usize {
    framed_read(&wire, run, LengthDelimitedCodec::new())
}

#[library_benchmark]
#[benches::per_frame(iter = runs(), setup = read_setup)]
fn lenframe_codec_framed_read((wire, run): (Vec<u8>, Run)) -> usize {
    framed_read(&wire, run, FrameCodec::new())
}

library_benchmark_group!(
    name = read,
    benchmarks = [
        raw_bufreader,
        lenframe_reader,
        lenframe_async_reader,
        tokio_util_framed_read,
        lenframe_codec_framed_read
    ]
);

// ---------------------------------------------------------------------------------------
// write

#[library_benchmark]
#[benches::per_frame(iter = runs(), setup = write_setup)]
fn raw_bufwriter((payload, run): (Vec<u8>, Run)) -> usize {
    let mut w = BufWriter::with_capacity(BUF, Sink::default());
    for _ in 0..run.frames {
        w.write_all(black_box(&payload))
            .expect("a sink takes it all");
    }
    w.flush().expect("a sink takes it all");
    w.get_ref().0
}

#[library_benchmark]
#[benches::per_frame(iter = runs(), setup = write_setup)]
fn lenframe_writer((payload, run): (Vec<u8>, Run)) -> usize {
    write_frames(&payload, run, config(Checksum::None))
}

#[library_benchmark]
#[benches::per_frame(iter = runs(), setup = write_setup)]
fn lenframe_async_writer((payload, run): (Vec<u8>, Run)) -> usize {
    let mut w = lenframe::tokio::FrameWriter::with_config(Sink::default(), config(Checksum::None))
        .expect("valid layout");
    ready(async {
        for _ in 0..run.frames {
            w.write_frame(black_box(&payload))
                .await
                .expect("a sink takes it all");
        }
        w.flush().await.expect("a sink takes it all");
    });
    w.get_ref().0
}

#[library_benchmark]
#[benches::per_frame(iter = runs(), setup = write_setup)]
fn tokio_util_framed_write((payload, run): (Vec<u8>, Run)) -> usize {
    framed_write(payload, run, LengthDelimitedCodec::new())
}

#[library_benchmark]
#[benches::per_frame(iter = runs(), setup = write_setup)]
fn lenframe_codec_framed_write((payload, run): (Vec<u8>, Run)) -> usize {
    framed_write(payload, run, FrameCodec::new())
}

library_benchmark_group!(
    name = write,
    benchmarks = [
        raw_bufwriter,
        lenframe_writer,
        lenframe_async_writer,
        tokio_util_framed_write,
        lenframe_codec_framed_write
    ]
);

// ---------------------------------------------------------------------------------------
// parse

// The floor for a length-prefixed parser: `split_first_chunk` for the header and
// `split_at_checked` for the payload.
#[library_benchmark]
#[benches::per_frame(iter = runs(), setup = read_setup)]
fn slice_parse((wire, run): (Vec<u8>, Run)) -> usize {
    let mut rest = &wire[..];
    let mut n = 0;
    while let Some((header, tail)) = rest.split_first_chunk::<4>() {
        let len = u32::from_be_bytes(*header) as usize;
        let (frame, tail) = tail.split_at_checked(len).expect("well-formed");
        black_box(frame);
        rest = tail;
        n += 1;
    }
    assert_eq!(n, run.frames);
    n
}

#[library_benchmark]
#[benches::per_frame(iter = runs(), setup = read_setup)]
fn lenframe_frames((wire, run): (Vec<u8>, Run)) -> usize {
    parse_frames(&wire, run, config(Checksum::None))
}

library_benchmark_group!(name = parse, benchmarks = [slice_parse, lenframe_frames]);

// ---------------------------------------------------------------------------------------
// codec

#[library_benchmark]
#[benches::per_frame(iter = runs(), setup = encode_setup)]
fn tokio_util_encode((payload, run): (Bytes, Run)) -> usize {
    encode_frames(payload, run, LengthDelimitedCodec::new())
}

#[library_benchmark]
#[benches::per_frame(iter = runs(), setup = encode_setup)]
fn lenframe_codec_encode((payload, run): (Bytes, Run)) -> usize {
    encode_frames(payload, run, FrameCodec::new())
}

#[library_benchmark]
#[benches::per_frame(iter = runs(), setup = bytes_setup)]
fn tokio_util_decode((src, run): (BytesMut, Run)) -> usize {
    decode_frames(src, run, LengthDelimitedCodec::new())
}

#[library_benchmark]
#[benches::per_frame(iter = runs(), setup = bytes_setup)]
fn lenframe_codec_decode((src, run): (BytesMut, Run)) -> usize {
    decode_frames(src, run, FrameCodec::new())
}

library_benchmark_group!(
    name = codec,
    benchmarks = [
        tokio_util_encode,
        lenframe_codec_encode,
        tokio_util_decode,
        lenframe_codec_decode
    ]
);

// ---------------------------------------------------------------------------------------
// checksum

#[library_benchmark]
#[benches::per_frame(iter = runs(), setup = crc_read_setup)]
fn crc32c_frames((wire, run): (Vec<u8>, Run)) -> usize {
    parse_frames(&wire, run, config(Checksum::Crc32c))
}

#[library_benchmark]
#[benches::per_frame(iter = runs(), setup = crc_read_setup)]
fn crc32c_reader((wire, run): (Vec<u8>, Run)) -> usize {
    read_frames(&wire, run, config(Checksum::Crc32c))
}

#[library_benchmark]
#[benches::per_frame(iter = runs(), setup = write_setup)]
fn crc32c_writer((payload, run): (Vec<u8>, Run)) -> usize {
    write_frames(&payload, run, config(Checksum::Crc32c))
}

library_benchmark_group!(
    name = checksum,
    benchmarks = [crc32c_frames, crc32c_reader, crc32c_writer]
);

main!(
    config = LibraryBenchmarkConfig::default()
        .tool(gungraun::Callgrind::with_args(["--cache-sim=yes"]));
    library_benchmark_groups = read, write, parse, codec, checksum
);
