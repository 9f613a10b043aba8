//! In-memory encoding of frames of one size: lenframe's `FrameWriter` into a `Vec` and into
//! `io::sink()`, against tokio-util's `LengthDelimitedCodec` `Encoder` into a `BytesMut`, and
//! the unframed payloads through a `BufWriter` into `io::sink()` (the floor).

use std::hint::black_box;
use std::io::{self, Write};

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lenframe::FrameWriter;
use tokio_util::codec::{Encoder, LengthDelimitedCodec};

/// Frame payload sizes measured.
const SIZES: [usize; 5] = [16, 64, 1024, 64 * 1024, 1024 * 1024];

/// About this many payload bytes per iteration, and at least four frames.
const TARGET_BYTES: usize = 1024 * 1024;

fn label(size: usize) -> String {
    match size {
        s if s >= 1024 * 1024 => format!("{}MiB", s / (1024 * 1024)),
        s if s >= 1024 => format!("{}KiB", s / 1024),
        s => format!("{s}B"),
    }
}

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    for size in SIZES {
        let count = (TARGET_BYTES / size).max(4);
        let payload: Vec<u8> = (0..size).map(|i| i as u8).collect();
        let wire_len = count * (size + 4);
        group.throughput(Throughput::ElementsAndBytes {
            elements: count as u64,
            bytes: wire_len as u64,
        });
        let id = |name: &str| BenchmarkId::new(name, label(size));

        // The floor: the payloads alone, unframed, through a 64 KiB BufWriter.
        group.bench_function(id("raw_bufwriter_sink"), |b| {
            let mut writer = io::BufWriter::with_capacity(64 * 1024, io::sink());
            b.iter(|| {
                for _ in 0..count {
                    writer.write_all(black_box(&payload)).unwrap();
                }
                writer.flush().unwrap();
            });
        });

        group.bench_function(id("lenframe_writer_vec"), |b| {
            let mut writer = FrameWriter::new(Vec::with_capacity(wire_len));
            b.iter(|| {
                writer.get_mut().clear();
                for _ in 0..count {
                    writer.write_frame(black_box(&payload)).unwrap();
                }
                writer.flush().unwrap();
                assert_eq!(writer.get_ref().len(), wire_len);
            });
        });

        group.bench_function(id("lenframe_writer_sink"), |b| {
            let mut writer = FrameWriter::new(io::sink());
            b.iter(|| {
                for _ in 0..count {
                    writer.write_frame(black_box(&payload)).unwrap();
                }
                writer.flush().unwrap();
            });
        });

        group.bench_function(id("tokio_util_encode"), |b| {
            let mut codec = LengthDelimitedCodec::new();
            let payload = Bytes::from(payload.clone());
            let mut dst = BytesMut::with_capacity(wire_len);
            b.iter(|| {
                dst.clear();
                for _ in 0..count {
                    codec.encode(black_box(payload.clone()), &mut dst).unwrap();
                }
                assert_eq!(dst.len(), wire_len);
            });
        });
    }
    group.finish();
}

criterion_group!(benches, encode);
criterion_main!(benches);
