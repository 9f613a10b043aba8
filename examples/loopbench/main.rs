//! Loopback benchmark: lenframe against raw unframed messages, hand-written framing and
//! tokio-util's `LengthDelimitedCodec`, over real 127.0.0.1 TCP and Unix socket pairs, all in
//! one process run, the implementations interleaved within each repetition.
//!
//! ```sh
//! cargo run --release --features tokio --example loopbench            # the full run
//! cargo run --release --features tokio --example loopbench -- --quick # 3 smaller repetitions
//! ```
//!
//! Flags: `--quick` (or `LOOPBENCH_QUICK=1`), `--reps N` (default 5), `--only
//! stream|pingpong|memory|growth|decode` to run some parts only, `--charts DIR` (default
//! `target/loopbench`) for the SVG charts, and, for streaming, `--transport tcp|unix`,
//! `--size BYTES` and `--impl
//! raw|hand|lenframe|tokio-util|lenframe-async|lenframe-codec|raw+4` (`raw+4`: raw with
//! payloads 4 bytes longer, the wire bytes of a framed payload); each of the last four can
//! be repeated. Needs the `tokio` feature (`--features tokio`).
//!
//! Parts, one module each:
//! - [`stream`]: one-way streaming of N frames of 16 B .. 1 MiB (about 256 MiB per run, at
//!   most 3 million frames), reader-side throughput; chart `stream.svg`;
//! - [`pingpong`]: request/response round trips over TCP, with and without `TCP_NODELAY`;
//!   chart `pingpong.svg`;
//! - [`memory`]: live heap per idle connection that sent only a maximum-size header;
//! - [`growth`]: one 8 MiB frame delivered one byte per read, and in one go;
//! - [`decode`]: every frame of one 8 MiB `&[u8]`, `Frames` against slice parsing.
//!
//! Implementations, one module each: [`raw`], [`hand`], [`lenframe_blocking`], [`lenframe_async`],
//! and [`framed`] (tokio-util's `Framed*` with its codec or with lenframe's `FrameCodec`).
//! Heap figures come from the counting global allocator in [`alloc`].

use std::path::PathBuf;

mod alloc;
mod chart;
mod cpu;
mod decode;
mod framed;
mod growth;
mod hand;
mod lenframe_async;
mod lenframe_blocking;
mod memory;
mod pingpong;
mod raw;
mod report;
mod sock;
mod stats;
mod stream;

#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;
const SIZES: [usize; 5] = [16, 64, KIB, 64 * KIB, MIB];
/// The buffer size of the raw and hand-written baselines' `BufReader`/`BufWriter`.
const BUF: usize = 64 * KIB;

struct Opts {
    quick: bool,
    reps: usize,
    only: Vec<String>,
    transports: Vec<String>,
    sizes: Vec<usize>,
    impls: Vec<String>,
    charts: PathBuf,
}

impl Opts {
    fn parse() -> Opts {
        let mut quick = std::env::var_os("LOOPBENCH_QUICK").is_some_and(|v| v != "0");
        let mut reps = None;
        let mut only = Vec::new();
        let mut transports = Vec::new();
        let mut sizes = Vec::new();
        let mut impls = Vec::new();
        let mut charts = PathBuf::from("target/loopbench");
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--quick" => quick = true,
                "--reps" => reps = args.next().and_then(|n| n.parse().ok()),
                "--only" => only.extend(args.next()),
                "--transport" => transports.extend(args.next()),
                "--size" => sizes.extend(args.next().and_then(|n| n.parse::<usize>().ok())),
                "--impl" => impls.extend(args.next()),
                "--charts" => charts = args.next().map_or(charts, PathBuf::from),
                other => {
                    eprintln!(
                        "unknown argument {other:?}; flags: --quick, --reps N, --only PART, \
                         --charts DIR, --transport tcp|unix, --size BYTES, --impl NAME (streaming)"
                    );
                    std::process::exit(2);
                }
            }
        }
        Opts {
            quick,
            reps: reps.unwrap_or(if quick { 3 } else { 5 }).max(1),
            only,
            transports,
            sizes,
            impls,
            charts,
        }
    }

    fn wants(&self, part: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o == part)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let opts = Opts::parse();
    println!(
        "lenframe loopbench: {} repetitions{}",
        opts.reps,
        if opts.quick { ", quick" } else { "" }
    );
    std::fs::create_dir_all(&opts.charts)?;
    if opts.wants("stream") {
        let rows = stream::stream_part(&opts)?;
        report::stream_table(&rows, opts.reps);
        report::cpu_table(&rows, opts.reps);
        chart::stream(&rows, &opts.charts.join("stream.svg"))?;
    }
    if opts.wants("pingpong") {
        let rows = pingpong::pingpong_part(&opts)?;
        report::pingpong_table(&rows, opts.reps);
        chart::pingpong(&rows, &opts.charts.join("pingpong.svg"))?;
    }
    if opts.wants("memory") {
        memory::memory_part(&opts)?;
    }
    if opts.wants("growth") {
        growth::growth_part(&opts)?;
    }
    if opts.wants("decode") {
        decode::decode_part(&opts);
    }
    println!("\ncharts in {}", opts.charts.display());
    Ok(())
}
