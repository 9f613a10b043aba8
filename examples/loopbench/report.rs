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
    println!(" lenframe/raw | lenframe/tokio-util | async/tokio-util | codec/tokio-util | async/lenframe | hand/raw | tokio-util/raw |");
    println!("|---|---|---:|{}", "---:|".repeat(IMPLS.len() + 7));
    for row in rows {
        let [raw, hand, lf, tk, asy, codec] = row.rate;
        print!(
            "| {} | {} | {} |",
            row.transport.name(),
            label(row.size),
            row.frames
        );
        for r in row.rate {
            print!(" {} ({:.0} MB/s) |", fmt_rate(r), r * row.size as f64 / 1e6);
        }
        println!(
            " {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            lf / raw,
            lf / tk,
            asy / tk,
            codec / tk,
            asy / lf,
            hand / raw,
            tk / raw
        );
    }
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
