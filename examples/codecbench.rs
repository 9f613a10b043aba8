//! `FrameCodec` against tokio-util's `LengthDelimitedCodec`, both driven by tokio-util's own
//! `FramedWrite` / `FramedRead`, all in one process run.
//!
//! ```sh
//! cargo run --release --features tokio --example codecbench                 # all parts
//! cargo run --release --features tokio --example codecbench -- --only growth
//! ```
//!
//! Flags: `--reps N` (default 5), `--only stream|growth|inmem` to run some parts only,
//! `--size BYTES` (streaming and in-memory; repeatable), `--codec lenframe|tokio-util`
//! (repeatable; default both) and `--frames N` (frames per run).
//!
//! Parts:
//! - stream: one-way streaming over 127.0.0.1 TCP, the writer and the reader each a task on
//!   its own current-thread runtime and thread; the codecs alternate within each repetition
//!   and the table shows medians of the reader's throughput;
//! - growth: one 8 MiB frame delivered to `FramedRead` in 64 KiB reads, with the allocations
//!   and reallocations of the read buffer and its peak capacity;
//! - inmem: `FramedWrite` into a sink and `FramedRead` from a pre-encoded wire, both in
//!   memory and without I/O, so that the codecs' per-frame paths are all that differ. It is
//!   meant for instruction counts: run it under `valgrind --tool=callgrind` with one
//!   `--codec`, and compare.
//!
//! Heap figures come from a counting global allocator in this example.

use std::io;
use std::net::{TcpListener, TcpStream};
use std::pin::Pin;
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll};
use std::thread;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures_util::{FutureExt, SinkExt, StreamExt};
use lenframe::FrameCodec;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_util::codec::{Decoder, Encoder, FramedRead, FramedWrite, LengthDelimitedCodec};

mod counting {
    //! A global allocator that forwards to the system allocator and counts allocations and
    //! reallocations.

    use std::alloc::{GlobalAlloc, Layout, System};
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

    /// The counting allocator.
    pub struct Counting;

    static ALLOCS: AtomicUsize = AtomicUsize::new(0);
    static REALLOCS: AtomicUsize = AtomicUsize::new(0);
    static MOVED: AtomicUsize = AtomicUsize::new(0);

    // SAFETY: every call is forwarded unchanged to `System`, which upholds the contract;
    // the counters are atomics touched without any other side effect.
    #[allow(unsafe_code)]
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            ALLOCS.fetch_add(1, Relaxed);
            // SAFETY: forwarded with the caller's layout.
            unsafe { System.alloc(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: `ptr` was allocated by `System` with `layout` (every allocation is).
            unsafe { System.dealloc(ptr, layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY: forwarded unchanged; `ptr` and `layout` come from `System`.
            let p = unsafe { System.realloc(ptr, layout, new_size) };
            REALLOCS.fetch_add(1, Relaxed);
            if p != ptr {
                MOVED.fetch_add(layout.size().min(new_size), Relaxed);
            }
            p
        }
    }

    /// Allocations, reallocations and bytes moved by reallocations so far.
    pub fn now() -> (usize, usize, usize) {
        (
            ALLOCS.load(Relaxed),
            REALLOCS.load(Relaxed),
            MOVED.load(Relaxed),
        )
    }
}

#[global_allocator]
static ALLOC: counting::Counting = counting::Counting;

const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Codec {
    Lenframe,
    Tokio,
}

const CODECS: [Codec; 2] = [Codec::Lenframe, Codec::Tokio];

impl Codec {
    fn name(self) -> &'static str {
        match self {
            Codec::Lenframe => "lenframe",
            Codec::Tokio => "tokio-util",
        }
    }
}

struct Opts {
    reps: usize,
    only: Vec<String>,
    sizes: Vec<usize>,
    codecs: Vec<Codec>,
    frames: Option<usize>,
}

impl Opts {
    fn parse() -> Opts {
        let mut opts = Opts {
            reps: 5,
            only: Vec::new(),
            sizes: Vec::new(),
            codecs: Vec::new(),
            frames: None,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let value = args.next();
            let number = value.as_deref().and_then(|n| n.parse::<usize>().ok());
            match (arg.as_str(), value.as_deref()) {
                ("--reps", _) if number.is_some() => opts.reps = number.unwrap_or(1).max(1),
                ("--only", Some(part)) => opts.only.push(part.to_string()),
                ("--size", _) if number.is_some() => opts.sizes.extend(number),
                ("--frames", _) if number.is_some() => opts.frames = number,
                ("--codec", Some(name)) if CODECS.iter().any(|c| c.name() == name) => opts
                    .codecs
                    .extend(CODECS.iter().filter(|c| c.name() == name)),
                _ => {
                    eprintln!(
                        "bad argument {arg:?}; flags: --reps N, --only stream|growth|inmem, \
                         --size BYTES, --codec lenframe|tokio-util, --frames N"
                    );
                    std::process::exit(2);
                }
            }
        }
        if opts.codecs.is_empty() {
            opts.codecs = CODECS.to_vec();
        }
        opts
    }

    fn wants(&self, part: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o == part)
    }

    fn sizes(&self, default: &[usize]) -> Vec<usize> {
        if self.sizes.is_empty() {
            default.to_vec()
        } else {
            self.sizes.clone()
        }
    }
}

/// Feeds `frames` copies of `payload` into `sink`, then flushes it.
async fn write_all<S, C>(
    mut sink: FramedWrite<S, C>,
    payload: Bytes,
    frames: usize,
) -> io::Result<()>
where
    S: AsyncWrite + Unpin,
    C: Encoder<Bytes>,
    C::Error: Into<io::Error>,
{
    for _ in 0..frames {
        sink.feed(payload.clone()).await.map_err(Into::into)?;
    }
    SinkExt::<Bytes>::flush(&mut sink).await.map_err(Into::into)
}

/// Reads `frames` frames of `size` bytes from `stream`.
async fn read_all<S, C>(mut stream: FramedRead<S, C>, size: usize, frames: usize) -> io::Result<()>
where
    S: AsyncRead + Unpin,
    C: Decoder<Item = BytesMut>,
    C::Error: Into<io::Error>,
{
    for _ in 0..frames {
        let frame = stream
            .next()
            .await
            .expect("the writer sends every frame")
            .map_err(Into::into)?;
        assert_eq!(frame.len(), size);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Streaming over TCP

fn frames_for(size: usize) -> usize {
    (512 * MIB / size).clamp(64, 4_000_000)
}

/// Runs `f` on a current-thread runtime of this thread, over `sock`, after the start signal.
fn on_runtime<F, Fut>(sock: TcpStream, start: &Barrier, f: F) -> io::Result<()>
where
    F: FnOnce(tokio::net::TcpStream) -> Fut,
    Fut: std::future::Future<Output = io::Result<()>>,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    let sock = {
        let _guard = rt.enter();
        sock.set_nonblocking(true)?;
        tokio::net::TcpStream::from_std(sock)?
    };
    start.wait();
    rt.block_on(f(sock))
}

/// Streams `frames` frames of `size` bytes one way; returns the reader's time from the start
/// signal to the last frame.
fn stream_once(codec: Codec, size: usize, frames: usize) -> io::Result<Duration> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let tx = TcpStream::connect(listener.local_addr()?)?;
    let (rx, _) = listener.accept()?;
    let start = Arc::new(Barrier::new(2));
    let writer = {
        let start = Arc::clone(&start);
        thread::spawn(move || {
            let payload = Bytes::from(vec![0xa5u8; size]);
            on_runtime(tx, &start, |s| async move {
                match codec {
                    Codec::Lenframe => {
                        write_all(FramedWrite::new(s, FrameCodec::new()), payload, frames).await
                    }
                    Codec::Tokio => {
                        let c = LengthDelimitedCodec::new();
                        write_all(FramedWrite::new(s, c), payload, frames).await
                    }
                }
            })
        })
    };
    let mut began = None;
    on_runtime(rx, &start, |s| {
        began = Some(Instant::now());
        async move {
            match codec {
                Codec::Lenframe => {
                    read_all(FramedRead::new(s, FrameCodec::new()), size, frames).await
                }
                Codec::Tokio => {
                    read_all(
                        FramedRead::new(s, LengthDelimitedCodec::new()),
                        size,
                        frames,
                    )
                    .await
                }
            }
        }
    })?;
    let elapsed = began.expect("set before reading").elapsed();
    writer.join().expect("writer thread")?;
    Ok(elapsed)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn label(size: usize) -> String {
    match size {
        s if s >= MIB => format!("{} MiB", s / MIB),
        s if s >= KIB => format!("{} KiB", s / KIB),
        s => format!("{s} B"),
    }
}

fn stream_part(opts: &Opts) -> io::Result<()> {
    println!(
        "\n### One-way streaming over TCP (reader side, median of {} interleaved runs)\n",
        opts.reps
    );
    println!("| frame | frames/run | lenframe FrameCodec | tokio-util LengthDelimitedCodec | lenframe/tokio-util |");
    println!("|---|---:|---:|---:|---:|");
    for size in opts.sizes(&[64, MIB]) {
        let frames = opts.frames.unwrap_or_else(|| frames_for(size));
        let mut secs: Vec<Vec<f64>> = vec![Vec::new(); CODECS.len()];
        for rep in 0..opts.reps {
            // Alternate the order so that neither codec always runs first.
            for k in 0..CODECS.len() {
                let i = (k + rep) % CODECS.len();
                if opts.codecs.contains(&CODECS[i]) {
                    secs[i].push(stream_once(CODECS[i], size, frames)?.as_secs_f64());
                }
            }
        }
        let rate: Vec<f64> = secs
            .into_iter()
            .map(|s| {
                if s.is_empty() {
                    f64::NAN
                } else {
                    frames as f64 / median(s)
                }
            })
            .collect();
        let cell = |r: f64| format!("{:.2} M/s ({:.0} MB/s)", r / 1e6, r * size as f64 / 1e6);
        println!(
            "| {} | {} | {} | {} | {:.2} |",
            label(size),
            frames,
            cell(rate[0]),
            cell(rate[1]),
            rate[0] / rate[1]
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Growth of the read buffer for one large frame

/// Hands out its bytes at most `chunk` at a time, always ready.
struct Chunked<'a> {
    data: &'a [u8],
    chunk: usize,
}

impl AsyncRead for Chunked<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = self.chunk.min(buf.remaining()).min(self.data.len());
        let (now, rest) = self.data.split_at(n);
        buf.put_slice(now);
        self.data = rest;
        Poll::Ready(Ok(()))
    }
}

/// Reads one frame through `FramedRead` over `wire` in `chunk`-byte reads; returns the
/// frame's length, the read buffer's largest capacity seen, allocations, reallocations and
/// bytes moved by reallocation.
fn grow_once<C>(codec: C, wire: &[u8], chunk: usize) -> (usize, usize, usize, usize, usize)
where
    C: Decoder<Item = BytesMut>,
    C::Error: std::fmt::Debug,
{
    let (a0, r0, m0) = counting::now();
    let mut r = FramedRead::new(Chunked { data: wire, chunk }, codec);
    let mut largest = r.read_buffer().capacity();
    let waker = futures_util::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    let len = loop {
        // Chunked is always ready: a `Pending` cannot happen, and each poll reads at least
        // one chunk before decoding.
        let polled = r.poll_next_unpin(&mut cx);
        largest = largest.max(r.read_buffer().capacity());
        if let Poll::Ready(frame) = polled {
            break frame.expect("one frame").expect("a valid frame").len();
        }
    };
    let (a1, r1, m1) = counting::now();
    (len, largest, a1 - a0, r1 - r0, m1 - m0)
}

fn growth_part(opts: &Opts) {
    let len = 8 * MIB;
    let chunk = 64 * KIB;
    let mut wire = Vec::with_capacity(len + 4);
    wire.extend_from_slice(&(len as u32).to_be_bytes());
    wire.extend((0..len).map(|i| i as u8));
    println!("\n### One 8 MiB frame through FramedRead in 64 KiB reads\n");
    println!("| codec | allocs | reallocs | bytes moved by realloc | largest read buffer |");
    println!("|---|---:|---:|---:|---:|");
    for codec in &opts.codecs {
        let (n, largest, allocs, reallocs, moved) = match codec {
            Codec::Lenframe => grow_once(FrameCodec::new(), &wire, chunk),
            Codec::Tokio => grow_once(LengthDelimitedCodec::new(), &wire, chunk),
        };
        assert_eq!(n, len);
        println!(
            "| {} | {} | {} | {:.1} MiB | {:.2} MiB |",
            codec.name(),
            allocs,
            reallocs,
            moved as f64 / MIB as f64,
            largest as f64 / MIB as f64
        );
    }
}

// ---------------------------------------------------------------------------------------
// In memory, for instruction counts

/// Hands out `wire` over and over in reads of at most `chunk` bytes, always ready.
struct Repeat<'a> {
    wire: &'a [u8],
    pos: usize,
    chunk: usize,
}

impl AsyncRead for Repeat<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let start = self.pos;
        let n = self.chunk.min(buf.remaining()).min(self.wire.len() - start);
        buf.put_slice(&self.wire[start..start + n]);
        self.pos = (start + n) % self.wire.len();
        Poll::Ready(Ok(()))
    }
}

/// Accepts every write, always ready.
struct Sink(usize);

impl AsyncWrite for Sink {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.0 += buf.len();
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Writes and then reads `frames` frames of `size` bytes in memory; returns the time taken,
/// allocations, reallocations and bytes moved by reallocation.
fn inmem_once<C>(
    codec: impl Fn() -> C,
    size: usize,
    frames: usize,
) -> (Duration, usize, usize, usize)
where
    C: Decoder<Item = BytesMut> + Encoder<Bytes>,
    <C as Decoder>::Error: Into<io::Error>,
    <C as Encoder<Bytes>>::Error: Into<io::Error>,
{
    // A whole number of frames, so that the wire repeats at a frame boundary.
    let per_wire = (MIB / (size + 4)).max(1);
    let mut wire = Vec::with_capacity(per_wire * (size + 4));
    for _ in 0..per_wire {
        wire.extend_from_slice(&(size as u32).to_be_bytes());
        wire.resize(wire.len() + size, 0x5a);
    }
    let payload = Bytes::from(vec![0xa5u8; size]);
    let (a0, r0, m0) = counting::now();
    let t0 = Instant::now();
    let w = FramedWrite::new(Sink(0), codec());
    write_all(w, payload, frames)
        .now_or_never()
        .expect("always ready")
        .expect("writes");
    let src = Repeat {
        wire: &wire,
        pos: 0,
        chunk: 64 * KIB,
    };
    read_all(FramedRead::new(src, codec()), size, frames)
        .now_or_never()
        .expect("always ready")
        .expect("reads");
    let elapsed = t0.elapsed();
    let (a1, r1, m1) = counting::now();
    (elapsed, a1 - a0, r1 - r0, m1 - m0)
}

fn inmem_part(opts: &Opts) {
    println!("\n### In memory: FramedWrite to a sink, then FramedRead of as many frames\n");
    println!(
        "| codec | frame | frames | time | ns/frame | allocs | reallocs | MiB moved by realloc |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for size in opts.sizes(&[64, MIB]) {
        let frames = opts.frames.unwrap_or_else(|| frames_for(size));
        for codec in &opts.codecs {
            let (d, allocs, reallocs, moved) = match codec {
                Codec::Lenframe => inmem_once(FrameCodec::new, size, frames),
                Codec::Tokio => inmem_once(LengthDelimitedCodec::new, size, frames),
            };
            println!(
                "| {} | {} | {} | {:.1} ms | {:.1} | {} | {} | {:.1} |",
                codec.name(),
                label(size),
                frames,
                d.as_secs_f64() * 1e3,
                d.as_secs_f64() * 1e9 / frames as f64,
                allocs,
                reallocs,
                moved as f64 / MIB as f64
            );
        }
    }
}

fn main() -> io::Result<()> {
    let opts = Opts::parse();
    if opts.wants("stream") {
        stream_part(&opts)?;
    }
    if opts.wants("growth") {
        growth_part(&opts);
    }
    if opts.wants("inmem") {
        inmem_part(&opts);
    }
    Ok(())
}
