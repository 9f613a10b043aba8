//! Decoding in memory: every frame of one 8 MiB `&[u8]`, by lenframe's `Frames` and by
//! hand-written slice parsing, each adding up the frame's length, first and last byte.

use std::hint::black_box;
use std::time::Instant;

use crate::stats::{label, median};
use crate::{hand, lenframe_blocking, Opts, MIB};

/// Frames of `size` bytes, 4-byte big-endian headers, about 8 MiB in all.
fn wire(size: usize) -> Vec<u8> {
    let frames = 8 * MIB / (size + 4);
    let mut wire = Vec::with_capacity(frames * (size + 4));
    for i in 0..frames {
        wire.extend_from_slice(&(size as u32).to_be_bytes());
        wire.extend((0..size).map(|j| (i + j) as u8));
    }
    wire
}

pub fn decode_part(opts: &Opts) {
    let passes = if opts.quick { 10 } else { 40 };
    println!(
        "\n### Decoding one 8 MiB `&[u8]` ({passes} passes per run, median of {} runs)\n",
        opts.reps
    );
    println!("| frame | frames | hand-written | lenframe Frames | Frames time / hand time |");
    println!("|---|---:|---:|---:|---:|");
    type Parse = fn(&[u8]) -> (usize, u64);
    let parsers: [Parse; 2] = [hand::parse_sum, lenframe_blocking::parse_sum];
    for size in [16, 64, 1024] {
        let wire = wire(size);
        let expected = hand::parse_sum(&wire);
        let mut secs = [Vec::new(), Vec::new()];
        for rep in 0..opts.reps {
            for k in 0..parsers.len() {
                let i = (k + rep) % parsers.len();
                let t0 = Instant::now();
                for _ in 0..passes {
                    assert_eq!(parsers[i](black_box(&wire)), expected);
                }
                secs[i].push(t0.elapsed().as_secs_f64() / passes as f64);
            }
        }
        let [hand, frames] = secs.map(median);
        let per_frame = |s: f64| format!("{:.2} ns/frame", s * 1e9 / expected.0 as f64);
        println!(
            "| {} | {} | {} | {} | {:.2} |",
            label(size),
            expected.0,
            per_frame(hand),
            per_frame(frames),
            frames / hand
        );
    }
}
