//! In-memory decoding of a buffer pre-filled with frames of one size: lenframe's sans-IO
//! `FrameDecoder`, its zero-copy `Frames` iterator and its `FrameReader` over `&[u8]`, against tokio-util's
//! `LengthDelimitedCodec::decode`, hand-written slice parsing (the floor for parsing) and a
//! plain copy of the buffer (the floor for anything that moves the bytes). For reference, the
//! loopback benchmark's baselines run in memory too: unframed payloads through a `BufReader`,
//! and hand-written framing (`read_exact` of header and payload) over a `BufReader`.
//! Group `checksum`: encoding and decoding with and without the CRC-32C trailer.

use std::hint::black_box;
use std::io::{self, Read};

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use lenframe::{Checksum, Decoded, FrameConfig, FrameDecoder, FrameEncoder, FrameReader, Frames};
use tokio_util::codec::{Decoder, LengthDelimitedCodec};

/// Frame payload sizes measured.
const SIZES: [usize; 5] = [16, 64, 1024, 64 * 1024, 1024 * 1024];

/// About this many payload bytes per buffer, and at least four frames.
const TARGET_BYTES: usize = 1024 * 1024;

fn wire(size: usize) -> (Vec<u8>, usize) {
    let count = (TARGET_BYTES / size).max(4);
    let mut wire = Vec::with_capacity(count * (size + 4));
    for i in 0..count {
        wire.extend_from_slice(&(size as u32).to_be_bytes());
        wire.extend((0..size).map(|j| (i + j) as u8));
    }
    (wire, count)
}

fn label(size: usize) -> String {
    match size {
        s if s >= 1024 * 1024 => format!("{}MiB", s / (1024 * 1024)),
        s if s >= 1024 => format!("{}KiB", s / 1024),
        s => format!("{s}B"),
    }
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    for size in SIZES {
        let (wire, count) = wire(size);
        group.throughput(Throughput::ElementsAndBytes {
            elements: count as u64,
            bytes: wire.len() as u64,
        });
        let id = |name: &str| BenchmarkId::new(name, label(size));

        group.bench_function(id("memcpy"), |b| {
            let mut dst = vec![0u8; wire.len()];
            b.iter(|| {
                dst.copy_from_slice(black_box(&wire));
                black_box(&dst);
            });
        });

        group.bench_function(id("slice_parse"), |b| {
            b.iter(|| {
                let buf = black_box(&wire[..]);
                let mut pos = 0;
                let mut frames = 0;
                while let Some(header) = buf.get(pos..pos + 4) {
                    let len = u32::from_be_bytes(header.try_into().unwrap()) as usize;
                    let frame = &buf[pos + 4..pos + 4 + len];
                    black_box(frame);
                    pos += 4 + len;
                    frames += 1;
                }
                assert_eq!(frames, count);
            });
        });

        // The loopback benchmark's raw floor, in memory: the payloads alone, unframed,
        // through a 64 KiB BufReader with read_exact.
        group.bench_function(id("raw_bufreader"), |b| {
            let payloads = vec![0xa5u8; count * size];
            let mut out = vec![0u8; size];
            b.iter(|| {
                let mut r = io::BufReader::with_capacity(64 * 1024, black_box(&payloads[..]));
                for _ in 0..count {
                    r.read_exact(&mut out).unwrap();
                    black_box(&out);
                }
            });
        });

        // Hand-written framing over a 64 KiB BufReader: read_exact of the header, then of
        // the payload into a reused Vec.
        group.bench_function(id("hand_bufreader"), |b| {
            let mut body = Vec::new();
            b.iter(|| {
                let mut r = io::BufReader::with_capacity(64 * 1024, black_box(&wire[..]));
                for _ in 0..count {
                    let mut header = [0u8; 4];
                    r.read_exact(&mut header).unwrap();
                    body.clear();
                    body.resize(u32::from_be_bytes(header) as usize, 0);
                    r.read_exact(&mut body).unwrap();
                    black_box(&body);
                }
            });
        });

        group.bench_function(id("lenframe_decoder"), |b| {
            let mut dec = FrameDecoder::new(FrameConfig::default()).unwrap();
            b.iter(|| {
                let mut buf = black_box(&wire[..]);
                let mut frames = 0;
                loop {
                    match dec.decode(buf).unwrap() {
                        Decoded::Frame { frame, consumed } => {
                            black_box(&buf[frame]);
                            buf = &buf[consumed..];
                            frames += 1;
                        }
                        Decoded::Incomplete { .. } => break,
                        Decoded::Skipped { .. } => unreachable!(),
                    }
                }
                assert_eq!(frames, count);
            });
        });

        group.bench_function(id("lenframe_frames"), |b| {
            b.iter(|| {
                let mut frames = 0;
                for frame in Frames::new(black_box(&wire[..]), FrameConfig::default()).unwrap() {
                    black_box(frame.unwrap());
                    frames += 1;
                }
                assert_eq!(frames, count);
            });
        });

        group.bench_function(id("lenframe_reader"), |b| {
            // One reader for all iterations: its buffer is allocated once, as in a long-lived
            // connection; each iteration hands it the whole buffer again.
            let mut reader = FrameReader::new(&wire[..0]);
            b.iter(|| {
                *reader.get_mut() = black_box(&wire[..]);
                let mut frames = 0;
                while let Some(frame) = reader.read_frame().unwrap() {
                    black_box(frame);
                    frames += 1;
                }
                assert_eq!(frames, count);
            });
        });

        group.bench_function(id("tokio_util_decode"), |b| {
            let mut codec = LengthDelimitedCodec::new();
            // The bytes are put in a BytesMut outside the timed part: only decode is timed.
            b.iter_batched(
                || BytesMut::from(&wire[..]),
                |mut buf| {
                    let mut frames = 0;
                    while let Some(frame) = codec.decode(&mut buf).unwrap() {
                        black_box(&frame);
                        frames += 1;
                    }
                    assert_eq!(frames, count);
                    buf
                },
                BatchSize::LargeInput,
            );
        });
    }
    group.finish();
}

/// The cost of the CRC-32C trailer: encoding into a reused `Vec` and decoding with `Frames`,
/// each with and without the checksum, for the same payloads.
fn checksum(c: &mut Criterion) {
    let mut group = c.benchmark_group("checksum");
    for size in [64, 1024 * 1024] {
        let count = (TARGET_BYTES / size).max(4);
        let payload: Vec<u8> = (0..size).map(|j| j as u8).collect();
        for (name, sum) in [("none", Checksum::None), ("crc32c", Checksum::Crc32c)] {
            let cfg = FrameConfig::default().max_frame_len(size).checksum(sum);
            let enc = FrameEncoder::new(cfg).unwrap();
            let mut wire = Vec::new();
            for _ in 0..count {
                enc.encode(&payload, &mut wire).unwrap();
            }
            group.throughput(Throughput::ElementsAndBytes {
                elements: count as u64,
                bytes: wire.len() as u64,
            });
            let id = |op: &str| BenchmarkId::new(format!("{op}_{name}"), label(size));
            group.bench_function(id("encode"), |b| {
                let mut out = Vec::with_capacity(wire.len());
                b.iter(|| {
                    out.clear();
                    for _ in 0..count {
                        enc.encode(black_box(&payload), &mut out).unwrap();
                    }
                    black_box(&out);
                });
            });
            group.bench_function(id("decode"), |b| {
                b.iter(|| {
                    let mut frames = 0;
                    for frame in Frames::new(black_box(&wire[..]), cfg).unwrap() {
                        black_box(frame.unwrap());
                        frames += 1;
                    }
                    assert_eq!(frames, count);
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, decode, checksum);
criterion_main!(benches);
