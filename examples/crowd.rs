//! A framed echo server under a hostile crowd, on threads (blocking `FrameReader` and
//! `FrameWriter`, one thread per connection) and on tokio (`lenframe::tokio`, one task per
//! connection): good clients echo frames of 0 B to 150 KB and check every byte, while
//! attackers trickle, declare the maximum and stall, declare over the limit, cut a frame
//! short, send an overlong varint, say nothing, or reset the connection.
//!
//! ```sh
//! cargo run --release --features tokio --example crowd                   # 200 good, 1,000 hostile
//! cargo run --release --features tokio --example crowd -- --good 50 --hostile 300 --frames 48
//! ```
//!
//! Prints, for each server, how many attackers of each kind were cut as their kind must be
//! (the exact error and numbers, within its time bound), the good clients' throughput with
//! and without the attackers, the peak heap of the server's threads (counted by this
//! example's allocator) and the peak of the shared memory budget.

#[path = "../tests/support/heap.rs"]
mod heap;

use lenframe_testkit::crowd::{crowd, run_threaded, run_tokio, table, Runner, Settings};

#[global_allocator]
static ALLOC: heap::Counting = heap::Counting;

fn main() {
    let (mut good, mut hostile, mut frames) = (200, 1000, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().and_then(|v| v.parse::<usize>().ok());
        match arg.as_str() {
            "--good" => good = value().expect("--good N"),
            "--hostile" => hostile = value().expect("--hostile N"),
            "--frames" => frames = Some(value().expect("--frames N")),
            other => panic!("unknown flag {other}; flags: --good N --hostile N --frames N"),
        }
    }
    let mut s = Settings::new(good);
    if let Some(frames) = frames {
        s.frames_per_client = frames;
    }
    println!(
        "{good} good clients x {} frames; {hostile} attackers; frames up to {} B, \
         deadline {:?} + 1 s per MB (cap {:?}), idle {:?}, budget {} MiB\n",
        s.frames_per_client,
        s.max_frame_len,
        s.deadline.initial(),
        s.deadline.cap(),
        s.idle,
        s.budget >> 20
    );
    let servers: [(&str, Runner); 2] = [("threads", run_threaded), ("tokio", run_tokio)];
    let mut failed = 0;
    for (name, run) in servers {
        let mut runs = Vec::new();
        for attackers in [0, hostile] {
            heap::reset_peak();
            let report = run(&s, &crowd(good, attackers), heap::track_this_thread);
            let peak = heap::peak();
            for mismatch in report.mismatches(&s) {
                eprintln!("{name}: {mismatch}");
                failed += 1;
            }
            runs.push((report, peak));
        }
        println!(
            "{}",
            table(name, &s, (&runs[0].0, runs[0].1), (&runs[1].0, runs[1].1))
        );
    }
    if failed > 0 {
        eprintln!("{failed} connections did not end as their kind must");
        std::process::exit(1);
    }
}
