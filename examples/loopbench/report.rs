//! The tables of the streaming and request/response parts, in Markdown.

use crate::sock::Transport;
use crate::stats::{fmt_rate, fmt_us, label};
use crate::stream::IMPLS;

/// One transport and frame size: frames/s of each implementation, in the order of
/// [`IMPLS`] (NaN where it did not run).
pub struct StreamRow {
    pub transport: Transport,
    pub size: usize,
    pub frames: usize,
    pub rate: [f64; IMPLS.len()],
    /// The CPU time of each implementation's sides, in the order of [`IMPLS`].
    pub cpu: Vec<CpuRow>,
}

/// One implementation's CPU time per frame, reader and writer side (`None` where it did
/// not run or the counters could not be read).
pub struct CpuRow {
    pub reader: Option<Side>,
    pub writer: Option<Side>,
}

/// One side's CPU time: the median over runs of its time on a CPU per frame, and the share
/// of its ticks spent in the kernel, summed over the runs.
pub struct Side {
    pub ns_per_frame: f64,
    pub sys_share: Option<f64>,
}

/// One frame size, `TCP_NODELAY` setting and implementation: round-trip percentiles.
pub struct PingRow {
    pub size: usize,
    pub nodelay: bool,
    pub name: &'static str,
    pub round_trips: usize,
    pub p50_us: f64,
    pub p99_us: f64,
}

pub fn stream_table(rows: &[StreamRow], reps: usize) {
    println!("\n### One-way streaming (reader side, median of {reps} runs)\n");
    println!(
        "Each cell: frames/s and payload MB/s (10^6 B/s). A column a/b divides a's frames/s by\n\
         b's: above 1, a is faster.\n"
    );
    print!("| transport | frame | frames/run |");
    for imp in IMPLS {
        print!(" {} |", imp.title());
    }
    println!(" lenframe/raw | lenframe/raw, 4 B more | lenframe/tokio-util | async/tokio-util | codec/tokio-util | async/lenframe | hand/raw | tokio-util/raw |");
    println!("|---|---|---:|{}", "---:|".repeat(IMPLS.len() + 8));
    for row in rows {
        let [raw, hand, lf, tk, asy, codec, wide] = row.rate;
        print!(
            "| {} | {} | {} |",
            row.transport.name(),
            label(row.size),
            row.frames
        );
        for (imp, r) in IMPLS.iter().zip(row.rate) {
            let bytes = imp.payload(row.size) as f64;
            print!(" {} ({:.0} MB/s) |", fmt_rate(r), r * bytes / 1e6);
        }
        println!(
            " {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            lf / raw,
            lf / wide,
            lf / tk,
            asy / tk,
            codec / tk,
            asy / lf,
            hand / raw,
            tk / raw
        );
    }
}

/// CPU time per frame on each side, where the counters could be read.
pub fn cpu_table(rows: &[StreamRow], reps: usize) {
    println!("\n### CPU time per frame, reader and writer thread (median of {reps} runs)\n");
    println!(
        "Nanoseconds per frame: the run's (from the reader's start to its last frame), and\n\
         each side's time on a CPU, with the share of it spent in the kernel (clock ticks\n\
         summed over the runs). A side that used about the run's time was busy all along and\n\
         set the pace.\n"
    );
    println!(
        "| transport | frame | implementation | run | reader | in kernel | writer | in kernel |"
    );
    println!("|---|---|---|---:|---:|---:|---:|---:|");
    for row in rows {
        for ((imp, cpu), rate) in IMPLS.iter().zip(&row.cpu).zip(row.rate) {
            let (Some(reader), Some(writer)) = (&cpu.reader, &cpu.writer) else {
                continue;
            };
            println!(
                "| {} | {} | {} | {:.1} | {:.1} | {} | {:.1} | {} |",
                row.transport.name(),
                label(row.size),
                imp.title(),
                1e9 / rate,
                reader.ns_per_frame,
                share(reader.sys_share),
                writer.ns_per_frame,
                share(writer.sys_share),
            );
        }
    }
}

fn share(share: Option<f64>) -> String {
    share.map_or_else(|| "-".to_string(), |s| format!("{:.0}%", 100.0 * s))
}

pub fn pingpong_table(rows: &[PingRow], reps: usize) {
    println!(
        "\n### Request/response over TCP (round trip, median over {reps} runs of each run's percentile)\n"
    );
    println!("| frame | TCP_NODELAY | impl | round trips/run | p50 | p99 | p50 vs raw |");
    println!("|---|---|---|---:|---:|---:|---:|");
    let mut raw_p50 = f64::NAN;
    for row in rows {
        if row.name == "raw" {
            raw_p50 = row.p50_us;
        }
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.2} |",
            label(row.size),
            if row.nodelay { "on" } else { "off" },
            row.name,
            row.round_trips,
            fmt_us(row.p50_us),
            fmt_us(row.p99_us),
            row.p50_us / raw_p50
        );
    }
}
