//! Owned against borrowed reading on `lenframe::tokio::FrameReader`: frames of one size read
//! from memory (so the figures are the reader's own cost), each handed to the same handler,
//! which reads one byte per 4 KiB page of it.
//!
//! - `borrowed`: `read_frame`, the frame borrowed from the reader's buffer;
//! - `to_vec`: `read_frame` then `frame.to_vec()`, what a caller that must keep a frame past
//!   the next read (or give it to another task) does without owned frames;
//! - `owned`: `read_frame_owned`, a `Bytes` that owns the frame: copied once when it is not
//!   larger than one read step (64 KiB), the reader's buffer handed over when it is.
//!
//! The table gives the time per frame and the allocator calls per frame (a counting global
//! allocator). Time depends on the machine and its load; for a load-independent figure run
//! one cell under callgrind: `owned_frames <mode> <frame len> <frames>` reads without
//! printing, and the difference between two frame counts is the cost of the frames between
//! (less that of mode `wire`, which only builds the bytes).
//!
//! ```text
//! cargo run --release --example owned_frames --features tokio
//! valgrind --tool=callgrind target/release/examples/owned_frames owned 1048576 64
//! ```

#[path = "../tests/support/alloc.rs"]
#[allow(dead_code)] // the example uses part of it
mod alloc;

use std::hint::black_box;
use std::time::{Duration, Instant};

use lenframe::tokio::FrameReader;

#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

/// Every byte the frames take on the wire, per cell.
const BYTES_PER_CELL: usize = 64 << 20;

#[derive(Debug, Clone, Copy)]
enum Mode {
    Borrowed,
    ToVec,
    Owned,
}

impl Mode {
    const ALL: [Mode; 3] = [Mode::Borrowed, Mode::ToVec, Mode::Owned];

    fn name(self) -> &'static str {
        match self {
            Mode::Borrowed => "borrowed",
            Mode::ToVec => "to_vec",
            Mode::Owned => "owned",
        }
    }
}

/// `frames` frames of `len` bytes, encoded.
fn wire(len: usize, frames: usize) -> Vec<u8> {
    let mut wire = Vec::with_capacity((len + 4) * frames);
    for i in 0..frames {
        wire.extend_from_slice(&(len as u32).to_be_bytes());
        wire.extend((0..len).map(|j| (i + j) as u8));
    }
    wire
}

/// What every mode does with a frame: reads a byte of each page.
fn handle(frame: &[u8]) -> u64 {
    frame.iter().step_by(4096).map(|&b| u64::from(b)).sum()
}

/// Reads every frame of `wire` in `mode`; returns the handler's sum.
async fn read_all(wire: &[u8], mode: Mode) -> u64 {
    let mut reader = FrameReader::new(wire);
    let mut sum = 0;
    match mode {
        Mode::Borrowed => {
            while let Some(frame) = reader.read_frame().await.unwrap() {
                sum += handle(black_box(frame));
            }
        }
        Mode::ToVec => {
            while let Some(frame) = reader.read_frame().await.unwrap() {
                sum += handle(&black_box(frame.to_vec()));
            }
        }
        Mode::Owned => {
            while let Some(frame) = reader.read_frame_owned().await.unwrap() {
                sum += handle(&black_box(frame));
            }
        }
    }
    sum
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [mode, len, frames] = &args[..] {
        // One cell, for callgrind; `wire` only builds the bytes, whose cost the other modes
        // include.
        let wire = black_box(wire(len.parse().unwrap(), frames.parse().unwrap()));
        if let Some(&mode) = Mode::ALL.iter().find(|m| m.name() == mode) {
            black_box(runtime.block_on(read_all(&wire, mode)));
        } else {
            assert_eq!(mode, "wire", "mode: borrowed, to_vec, owned or wire");
        }
        return;
    }
    println!("| frame | mode | ns/frame | GB/s | allocator calls/frame |");
    println!("|---:|---|---:|---:|---:|");
    for len in [64, 4096, 65_536, 262_144, 1 << 20, 4 << 20] {
        let frames = BYTES_PER_CELL / (len + 4);
        let wire = wire(len, frames);
        for mode in Mode::ALL {
            // The best of three runs, each on the same bytes.
            let mut best = Duration::MAX;
            let mut calls = 0;
            for _ in 0..3 {
                let start = Instant::now();
                let ((), usage) = alloc::measure(|| {
                    black_box(runtime.block_on(read_all(&wire, mode)));
                });
                best = best.min(start.elapsed());
                calls = usage.calls;
            }
            println!(
                "| {len} | {} | {:.0} | {:.2} | {:.2} |",
                mode.name(),
                best.as_nanos() as f64 / frames as f64,
                (frames * len) as f64 / best.as_secs_f64() / 1e9,
                calls as f64 / frames as f64,
            );
        }
    }
}
