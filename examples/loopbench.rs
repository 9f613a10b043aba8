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
//! stream|pingpong|memory|growth` to run some parts only, and, for streaming, `--size BYTES`
//! and `--impl raw|hand|lenframe|tokio-util|lenframe-async|lenframe-codec`; each of the last
//! three can be repeated. Needs the `tokio` feature (`--features tokio`).
//!
//! Parts:
//! - stream: one-way streaming of N frames of 16 B .. 1 MiB (about 256 MiB per run, at most
//!   3 million frames), reader-side throughput;
//! - pingpong: request/response round trips over TCP, with and without `TCP_NODELAY`;
//! - memory: live heap per idle connection that sent only a maximum-size header;
//! - growth: one 8 MiB frame delivered one byte per read, and in one go.
//!
//! Heap figures come from a counting global allocator in this example.

use std::io::{self, BufReader, BufWriter, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll};
use std::thread;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures_util::{FutureExt, SinkExt, StreamExt};
use lenframe::{FrameCodec, FrameError, FrameReader, FrameWriter};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_util::codec::{Decoder, Encoder, FramedRead, FramedWrite, LengthDelimitedCodec};

mod counting {
    //! A global allocator that forwards to the system allocator and counts live and peak
    //! bytes, allocations, and reallocations that moved a block.

    use std::alloc::{GlobalAlloc, Layout, System};
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

    /// The counting allocator.
    pub struct Counting;

    static LIVE: AtomicUsize = AtomicUsize::new(0);
    static PEAK: AtomicUsize = AtomicUsize::new(0);
    static ALLOCS: AtomicUsize = AtomicUsize::new(0);
    static REALLOCS: AtomicUsize = AtomicUsize::new(0);
    static MOVED: AtomicUsize = AtomicUsize::new(0);

    fn add(n: usize) {
        let live = LIVE.fetch_add(n, Relaxed) + n;
        PEAK.fetch_max(live, Relaxed);
    }

    // SAFETY: every call is forwarded unchanged to `System`, which upholds the contract;
    // the counters are atomics touched without any other side effect.
    #[allow(unsafe_code)]
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: forwarded with the caller's layout.
            let p = unsafe { System.alloc(layout) };
            if !p.is_null() {
                ALLOCS.fetch_add(1, Relaxed);
                add(layout.size());
            }
            p
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            // SAFETY: forwarded with the caller's layout.
            let p = unsafe { System.alloc_zeroed(layout) };
            if !p.is_null() {
                ALLOCS.fetch_add(1, Relaxed);
                add(layout.size());
            }
            p
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: `ptr` was allocated by `System` with `layout` (every allocation is).
            unsafe { System.dealloc(ptr, layout) };
            LIVE.fetch_sub(layout.size(), Relaxed);
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY: forwarded unchanged; `ptr` and `layout` come from `System`.
            let p = unsafe { System.realloc(ptr, layout, new_size) };
            if !p.is_null() {
                REALLOCS.fetch_add(1, Relaxed);
                if p != ptr {
                    MOVED.fetch_add(layout.size().min(new_size), Relaxed);
                }
                if new_size >= layout.size() {
                    add(new_size - layout.size());
                } else {
                    LIVE.fetch_sub(layout.size() - new_size, Relaxed);
                }
            }
            p
        }
    }

    /// A snapshot of the counters.
    #[derive(Debug, Clone, Copy)]
    pub struct Snapshot {
        pub live: usize,
        pub allocs: usize,
        pub reallocs: usize,
        pub moved: usize,
    }

    /// The counters now, with the peak reset to the live bytes.
    pub fn reset() -> Snapshot {
        let live = LIVE.load(Relaxed);
        PEAK.store(live, Relaxed);
        now()
    }

    /// The counters now.
    pub fn now() -> Snapshot {
        Snapshot {
            live: LIVE.load(Relaxed),
            allocs: ALLOCS.load(Relaxed),
            reallocs: REALLOCS.load(Relaxed),
            moved: MOVED.load(Relaxed),
        }
    }

    /// The peak of live bytes since the last [`reset`].
    pub fn peak() -> usize {
        PEAK.load(Relaxed)
    }
}

#[global_allocator]
static ALLOC: counting::Counting = counting::Counting;

const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;
const SIZES: [usize; 5] = [16, 64, KIB, 64 * KIB, MIB];
/// The buffer size of the raw and hand-written baselines' `BufReader`/`BufWriter`.
const BUF: usize = 64 * KIB;

struct Opts {
    quick: bool,
    reps: usize,
    only: Vec<String>,
    sizes: Vec<usize>,
    impls: Vec<String>,
}

impl Opts {
    fn parse() -> Opts {
        let mut quick = std::env::var_os("LOOPBENCH_QUICK").is_some_and(|v| v != "0");
        let mut reps = None;
        let mut only = Vec::new();
        let mut sizes = Vec::new();
        let mut impls = Vec::new();
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--quick" => quick = true,
                "--reps" => reps = args.next().and_then(|n| n.parse().ok()),
                "--only" => only.extend(args.next()),
                "--size" => sizes.extend(args.next().and_then(|n| n.parse::<usize>().ok())),
                "--impl" => impls.extend(args.next()),
                other => {
                    eprintln!(
                        "unknown argument {other:?}; flags: --quick, --reps N, --only PART, \
                         --size BYTES, --impl raw|hand|lenframe|tokio-util (streaming)"
                    );
                    std::process::exit(2);
                }
            }
        }
        Opts {
            quick,
            reps: reps.unwrap_or(if quick { 3 } else { 5 }).max(1),
            only,
            sizes,
            impls,
        }
    }

    fn wants(&self, part: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o == part)
    }
}

// ---------------------------------------------------------------------------------------
// Sockets

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Transport {
    Tcp,
    Unix,
}

impl Transport {
    fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "TCP",
            Transport::Unix => "Unix",
        }
    }
}

/// One end of a connected socket pair.
#[derive(Debug)]
enum Sock {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Read for Sock {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Sock::Tcp(s) => s.read(buf),
            Sock::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Sock {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sock::Tcp(s) => s.write(buf),
            Sock::Unix(s) => s.write(buf),
        }
    }
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Sock::Tcp(s) => s.write_vectored(bufs),
            Sock::Unix(s) => s.write_vectored(bufs),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn tcp_pair() -> io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let a = TcpStream::connect(listener.local_addr()?)?;
    let (b, _) = listener.accept()?;
    Ok((a, b))
}

fn pair(t: Transport) -> io::Result<(Sock, Sock)> {
    Ok(match t {
        Transport::Tcp => {
            let (a, b) = tcp_pair()?;
            (Sock::Tcp(a), Sock::Tcp(b))
        }
        Transport::Unix => {
            let (a, b) = UnixStream::pair()?;
            (Sock::Unix(a), Sock::Unix(b))
        }
    })
}

// ---------------------------------------------------------------------------------------
// One-way streaming

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Impl {
    Raw,
    Hand,
    Lenframe,
    Tokio,
    /// `lenframe::tokio::FrameReader` / `FrameWriter`.
    Async,
    /// `lenframe::FrameCodec` in tokio-util's `FramedRead` / `FramedWrite`.
    Codec,
}

const IMPLS: [Impl; 6] = [
    Impl::Raw,
    Impl::Hand,
    Impl::Lenframe,
    Impl::Tokio,
    Impl::Async,
    Impl::Codec,
];

impl Impl {
    fn name(self) -> &'static str {
        match self {
            Impl::Raw => "raw",
            Impl::Hand => "hand",
            Impl::Lenframe => "lenframe",
            Impl::Tokio => "tokio-util",
            Impl::Async => "lenframe-async",
            Impl::Codec => "lenframe-codec",
        }
    }
}

fn frames_for(size: usize, quick: bool) -> usize {
    let (bytes, most) = if quick {
        (16 * MIB, 400_000)
    } else {
        (256 * MIB, 3_000_000)
    };
    (bytes / size).clamp(16, most)
}

/// Streams `frames` frames of `size` bytes one way; returns the reader's time from the
/// start signal to the last frame.
fn stream_once(t: Transport, imp: Impl, size: usize, frames: usize) -> io::Result<Duration> {
    let (tx, rx) = pair(t)?;
    let start = Arc::new(Barrier::new(2));
    let writer = {
        let start = Arc::clone(&start);
        thread::spawn(move || -> io::Result<()> {
            let payload = vec![0xa5u8; size];
            match imp {
                Impl::Raw => {
                    start.wait();
                    let mut w = BufWriter::with_capacity(BUF, tx);
                    for _ in 0..frames {
                        w.write_all(&payload)?;
                    }
                    w.flush()
                }
                Impl::Hand => {
                    start.wait();
                    let mut w = BufWriter::with_capacity(BUF, tx);
                    let header = (size as u32).to_be_bytes();
                    for _ in 0..frames {
                        w.write_all(&header)?;
                        w.write_all(&payload)?;
                    }
                    w.flush()
                }
                Impl::Lenframe => {
                    start.wait();
                    let mut w = FrameWriter::new(tx);
                    for _ in 0..frames {
                        w.write_frame(&payload)?;
                    }
                    Ok(w.flush()?)
                }
                Impl::Tokio => tokio_side(tx, &start, |s| {
                    tokio_write(s, LengthDelimitedCodec::new(), payload, frames)
                }),
                Impl::Codec => tokio_side(tx, &start, |s| {
                    tokio_write(s, FrameCodec::new(), payload, frames)
                }),
                Impl::Async => tokio_side(tx, &start, |s| async move {
                    let mut w = lenframe::tokio::FrameWriter::new(s);
                    for _ in 0..frames {
                        w.write_frame(&payload).await?;
                    }
                    Ok(w.flush().await?)
                }),
            }
        })
    };
    let reader = thread::spawn(move || -> io::Result<Duration> {
        let began;
        let got = match imp {
            Impl::Raw => {
                let mut r = BufReader::with_capacity(BUF, rx);
                let mut buf = vec![0u8; size];
                start.wait();
                began = Instant::now();
                for _ in 0..frames {
                    r.read_exact(&mut buf)?;
                }
                frames
            }
            Impl::Hand => {
                let mut r = BufReader::with_capacity(BUF, rx);
                let mut body = Vec::new();
                start.wait();
                began = Instant::now();
                for _ in 0..frames {
                    let mut header = [0u8; 4];
                    r.read_exact(&mut header)?;
                    let len = u32::from_be_bytes(header) as usize;
                    body.clear();
                    body.resize(len, 0);
                    r.read_exact(&mut body)?;
                    assert_eq!(body.len(), size);
                }
                frames
            }
            Impl::Lenframe => {
                let mut r = FrameReader::new(rx);
                start.wait();
                began = Instant::now();
                let mut n = 0;
                while n < frames {
                    let frame = r.read_frame()?.expect("the writer sends every frame");
                    assert_eq!(frame.len(), size);
                    n += 1;
                }
                n
            }
            Impl::Tokio | Impl::Codec | Impl::Async => {
                let mut began_at = None;
                let n = tokio_side(rx, &start, |s| {
                    began_at = Some(Instant::now());
                    async move {
                        match imp {
                            Impl::Tokio => {
                                tokio_read(s, LengthDelimitedCodec::new(), size, frames).await
                            }
                            Impl::Codec => tokio_read(s, FrameCodec::new(), size, frames).await,
                            _ => async_read(s, size, frames).await,
                        }
                    }
                })?;
                began = began_at.expect("set before reading");
                n
            }
        };
        let elapsed = began.elapsed();
        assert_eq!(got, frames);
        Ok(elapsed)
    });
    let elapsed = reader.join().expect("reader thread")?;
    writer.join().expect("writer thread")?;
    Ok(elapsed)
}

/// Runs `f` on a current-thread runtime of this thread, over the tokio form of `sock`,
/// after the start signal.
fn tokio_side<T, F, Fut>(sock: Sock, start: &Barrier, f: F) -> io::Result<T>
where
    F: FnOnce(TokioSock) -> Fut,
    Fut: std::future::Future<Output = io::Result<T>>,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    let sock = {
        let _guard = rt.enter();
        match sock {
            Sock::Tcp(s) => {
                s.set_nonblocking(true)?;
                TokioSock::Tcp(tokio::net::TcpStream::from_std(s)?)
            }
            Sock::Unix(s) => {
                s.set_nonblocking(true)?;
                TokioSock::Unix(tokio::net::UnixStream::from_std(s)?)
            }
        }
    };
    start.wait();
    rt.block_on(f(sock))
}

/// One end of a socket pair, registered with tokio.
enum TokioSock {
    Tcp(tokio::net::TcpStream),
    Unix(tokio::net::UnixStream),
}

impl AsyncRead for TokioSock {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            TokioSock::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            TokioSock::Unix(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for TokioSock {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            TokioSock::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            TokioSock::Unix(s) => Pin::new(s).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            TokioSock::Tcp(s) => Pin::new(s).poll_flush(cx),
            TokioSock::Unix(s) => Pin::new(s).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            TokioSock::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            TokioSock::Unix(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

/// Writes through tokio-util's `FramedWrite` with `codec` (tokio-util's or lenframe's).
async fn tokio_write<C, E>(
    sock: TokioSock,
    codec: C,
    payload: Vec<u8>,
    frames: usize,
) -> io::Result<()>
where
    C: Encoder<Bytes, Error = E>,
    E: From<io::Error>,
    io::Error: From<E>,
{
    let payload = Bytes::from(payload);
    let mut w = FramedWrite::new(sock, codec);
    for _ in 0..frames {
        w.feed(payload.clone()).await?;
    }
    Ok(SinkExt::<Bytes>::flush(&mut w).await?)
}

/// Reads through tokio-util's `FramedRead` with `codec` (tokio-util's or lenframe's).
async fn tokio_read<C, E>(
    sock: TokioSock,
    codec: C,
    size: usize,
    frames: usize,
) -> io::Result<usize>
where
    C: Decoder<Item = BytesMut, Error = E>,
    E: From<io::Error>,
    io::Error: From<E>,
{
    let mut r = FramedRead::new(sock, codec);
    let mut n = 0;
    while n < frames {
        let frame = r.next().await.expect("the writer sends every frame")?;
        assert_eq!(frame.len(), size);
        n += 1;
    }
    Ok(n)
}

async fn async_read(sock: TokioSock, size: usize, frames: usize) -> io::Result<usize> {
    let mut r = lenframe::tokio::FrameReader::new(sock);
    let mut n = 0;
    while n < frames {
        let frame = r.read_frame().await?.expect("the writer sends every frame");
        assert_eq!(frame.len(), size);
        n += 1;
    }
    Ok(n)
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

fn fmt_rate(frames_per_s: f64) -> String {
    if frames_per_s >= 1e6 {
        format!("{:.2} M", frames_per_s / 1e6)
    } else if frames_per_s >= 1e3 {
        format!("{:.1} k", frames_per_s / 1e3)
    } else {
        format!("{frames_per_s:.0}")
    }
}

fn stream_part(opts: &Opts) -> io::Result<()> {
    println!(
        "\n### One-way streaming (reader side, median of {} runs)\n",
        opts.reps
    );
    println!(
        "Each cell: frames/s and payload MB/s (10^6 B/s). A column a/b divides a's frames/s by\n\
         b's: above 1, a is faster.\n"
    );
    println!("| transport | frame | frames/run | raw | hand-written | lenframe | tokio-util | lenframe async | lenframe codec | lenframe/raw | lenframe/tokio-util | async/tokio-util | codec/tokio-util | async/lenframe | hand/raw | tokio-util/raw |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for t in [Transport::Tcp, Transport::Unix] {
        for size in SIZES {
            if !opts.sizes.is_empty() && !opts.sizes.contains(&size) {
                continue;
            }
            let frames = frames_for(size, opts.quick);
            let mut secs: Vec<Vec<f64>> = vec![Vec::new(); IMPLS.len()];
            for rep in 0..opts.reps {
                // Rotate the order so that no implementation always runs first.
                for k in 0..IMPLS.len() {
                    let i = (k + rep) % IMPLS.len();
                    if !opts.impls.is_empty() && !opts.impls.iter().any(|n| n == IMPLS[i].name()) {
                        continue;
                    }
                    let d = stream_once(t, IMPLS[i], size, frames)?;
                    secs[i].push(d.as_secs_f64());
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
            let cell = |r: f64| format!("{} ({:.0} MB/s)", fmt_rate(r), r * size as f64 / 1e6);
            let (raw, hand, lf, tk, asy, codec) =
                (rate[0], rate[1], rate[2], rate[3], rate[4], rate[5]);
            println!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
                t.name(),
                label(size),
                frames,
                cell(raw),
                cell(hand),
                cell(lf),
                cell(tk),
                cell(asy),
                cell(codec),
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
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Ping-pong

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ping {
    Raw,
    Lenframe,
    Naive,
}

const PINGS: [Ping; 3] = [Ping::Raw, Ping::Lenframe, Ping::Naive];

/// Round trips of `size`-byte requests echoed back; returns each round trip after a short
/// warm-up. Stops after `iters` round trips or `budget`, whichever comes first.
fn pingpong_once(
    imp: Ping,
    size: usize,
    nodelay: bool,
    iters: usize,
    budget: Duration,
) -> io::Result<Vec<Duration>> {
    const WARMUP: usize = 2;
    let (client, server) = tcp_pair()?;
    client.set_nodelay(nodelay)?;
    server.set_nodelay(nodelay)?;
    let echo = thread::spawn(move || -> io::Result<()> {
        let rx = server.try_clone()?;
        match imp {
            Ping::Raw => {
                let mut r = BufReader::with_capacity(BUF, rx);
                let mut w = BufWriter::with_capacity(BUF, server);
                let mut buf = vec![0u8; size];
                loop {
                    match r.read_exact(&mut buf) {
                        Ok(()) => {}
                        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
                        Err(e) => return Err(e),
                    }
                    w.write_all(&buf)?;
                    w.flush()?;
                }
            }
            Ping::Lenframe => {
                let mut r = FrameReader::new(rx);
                let mut w = FrameWriter::new(server);
                while let Some(frame) = r.read_frame()? {
                    w.write_frame(frame)?;
                    w.flush()?;
                }
                Ok(())
            }
            Ping::Naive => {
                let mut s = server;
                let mut body = Vec::new();
                loop {
                    let mut header = [0u8; 4];
                    match s.read_exact(&mut header) {
                        Ok(()) => {}
                        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
                        Err(e) => return Err(e),
                    }
                    body.resize(u32::from_be_bytes(header) as usize, 0);
                    s.read_exact(&mut body)?;
                    s.write_all(&header)?;
                    s.write_all(&body)?;
                }
            }
        }
    });
    let payload = vec![0x5au8; size];
    let mut rtts = Vec::with_capacity(iters);
    let began = Instant::now();
    {
        let rx = client.try_clone()?;
        let mut client = client;
        let mut raw_r = BufReader::with_capacity(BUF, rx.try_clone()?);
        let mut raw_w = BufWriter::with_capacity(BUF, client.try_clone()?);
        let mut lf_r = FrameReader::new(rx.try_clone()?);
        let mut lf_w = FrameWriter::new(client.try_clone()?);
        let mut naive_r = rx;
        let mut buf = vec![0u8; size];
        for i in 0..WARMUP + iters {
            let t0 = Instant::now();
            match imp {
                Ping::Raw => {
                    raw_w.write_all(&payload)?;
                    raw_w.flush()?;
                    raw_r.read_exact(&mut buf)?;
                }
                Ping::Lenframe => {
                    lf_w.write_frame(&payload)?;
                    lf_w.flush()?;
                    let frame = lf_r.read_frame()?.expect("the echo answers");
                    assert_eq!(frame.len(), size);
                }
                Ping::Naive => {
                    client.write_all(&(size as u32).to_be_bytes())?;
                    client.write_all(&payload)?;
                    let mut header = [0u8; 4];
                    naive_r.read_exact(&mut header)?;
                    assert_eq!(u32::from_be_bytes(header) as usize, size);
                    naive_r.read_exact(&mut buf)?;
                }
            }
            if i >= WARMUP {
                rtts.push(t0.elapsed());
            }
            if began.elapsed() > budget {
                break;
            }
        }
        client.shutdown(std::net::Shutdown::Write)?;
    }
    echo.join().expect("echo thread")?;
    Ok(rtts)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn fmt_us(d: f64) -> String {
    if d >= 1000.0 {
        format!("{:.1} ms", d / 1000.0)
    } else {
        format!("{d:.1} µs")
    }
}

fn pingpong_part(opts: &Opts) -> io::Result<()> {
    let iters = if opts.quick { 400 } else { 2000 };
    // A stall costs ~40-200 ms per round trip: the naive variant without TCP_NODELAY gets
    // few round trips, and every run stops after its time budget.
    let stalled_iters = 20;
    let budget = Duration::from_secs(if opts.quick { 2 } else { 4 });
    println!(
        "\n### Request/response over TCP (round trip, median over {} runs of each run's percentile)\n",
        opts.reps
    );
    println!("| frame | TCP_NODELAY | impl | round trips/run | p50 | p99 | p50 vs raw |");
    println!("|---|---|---|---:|---:|---:|---:|");
    for size in [16, 4 * KIB] {
        for nodelay in [true, false] {
            let mut p50s: Vec<Vec<f64>> = vec![Vec::new(); PINGS.len()];
            let mut p99s: Vec<Vec<f64>> = vec![Vec::new(); PINGS.len()];
            let mut counts = vec![0usize; PINGS.len()];
            for rep in 0..opts.reps {
                for k in 0..PINGS.len() {
                    let i = (k + rep) % PINGS.len();
                    let n = if PINGS[i] == Ping::Naive && !nodelay {
                        stalled_iters
                    } else {
                        iters
                    };
                    let mut rtts = pingpong_once(PINGS[i], size, nodelay, n, budget)?;
                    rtts.sort();
                    counts[i] = rtts.len();
                    p50s[i].push(percentile(&rtts, 0.5).as_secs_f64() * 1e6);
                    p99s[i].push(percentile(&rtts, 0.99).as_secs_f64() * 1e6);
                }
            }
            let p50: Vec<f64> = p50s.into_iter().map(median).collect();
            let p99: Vec<f64> = p99s.into_iter().map(median).collect();
            for (i, imp) in PINGS.iter().enumerate() {
                let name = match imp {
                    Ping::Raw => "raw",
                    Ping::Lenframe => "lenframe",
                    Ping::Naive => "naive two-write",
                };
                println!(
                    "| {} | {} | {} | {} | {} | {} | {:.2} |",
                    label(size),
                    if nodelay { "on" } else { "off" },
                    name,
                    counts[i],
                    fmt_us(p50[i]),
                    fmt_us(p99[i]),
                    p50[i] / p50[0]
                );
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Memory per idle connection

/// The header of a frame of `DEFAULT_MAX_FRAME_LEN` (8 MiB) bytes, 4-byte big-endian.
const MAX_HEADER: [u8; 4] = (lenframe::DEFAULT_MAX_FRAME_LEN as u32).to_be_bytes();

/// Connects `n` TCP pairs; each client sends only a maximum-size header. Returns the
/// clients (kept open) and the servers, each with the header received.
fn idle_connections(n: usize) -> io::Result<(Vec<TcpStream>, Vec<TcpStream>)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let mut clients = Vec::with_capacity(n);
    let mut servers = Vec::with_capacity(n);
    for _ in 0..n {
        let mut c = TcpStream::connect(addr)?;
        let (s, _) = listener.accept()?;
        c.write_all(&MAX_HEADER)?;
        // Wait until the header is there to be read, so that every reader sees it.
        let mut peek = [0u8; 4];
        for _ in 0..1000 {
            if s.peek(&mut peek)? == 4 {
                break;
            }
            thread::yield_now();
        }
        s.set_nonblocking(true)?;
        clients.push(c);
        servers.push(s);
    }
    Ok((clients, servers))
}

struct MemRow {
    name: &'static str,
    conns: usize,
    peak: usize,
    live: usize,
}

fn memory_part(opts: &Opts) -> io::Result<()> {
    let wanted = if opts.quick { 200 } else { 1000 };
    // Each connection costs 2 descriptors here (client and server end).
    let limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            l.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(1024usize);
    let conns = wanted.min(limit.saturating_sub(64) / 2).max(1);
    if conns < wanted {
        println!("\n(open-file limit {limit}: measuring {conns} connections, not {wanted})");
    }
    let mut rows = Vec::new();

    // lenframe: one read_frame attempt per connection on a nonblocking socket.
    {
        let (clients, servers) = idle_connections(conns)?;
        let mut readers = Vec::with_capacity(conns);
        let base = counting::reset();
        for s in servers {
            let mut r = FrameReader::new(s);
            match r.read_frame() {
                Err(FrameError::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {}
                other => panic!(
                    "expected WouldBlock, got {:?}",
                    other.map(|f| f.map(<[u8]>::len))
                ),
            }
            readers.push(r);
        }
        let peak = counting::peak() - base.live;
        let live = counting::now().live - base.live;
        assert!(readers.iter().all(|r| r.read_buffer() == MAX_HEADER));
        rows.push(MemRow {
            name: "lenframe FrameReader (std TcpStream)",
            conns,
            peak,
            live,
        });
        drop((readers, clients));
    }

    // tokio-util: FramedRead over tokio's TcpStream, polled once after the runtime's I/O
    // driver has seen the sockets readable.
    {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let _guard = rt.enter();
        let (clients, servers) = idle_connections(conns)?;
        let mut readers = Vec::with_capacity(conns);
        let base = counting::reset();
        for s in servers {
            let s = tokio::net::TcpStream::from_std(s)?;
            readers.push(FramedRead::new(s, LengthDelimitedCodec::new()));
        }
        // Let the driver poll the sockets' readiness, then poll each reader once.
        rt.block_on(tokio::time::sleep(Duration::from_millis(20)));
        for r in &mut readers {
            assert!(r.next().now_or_never().is_none(), "expected Pending");
        }
        // Each has read the header and reserved room for the declared payload.
        assert!(readers
            .iter()
            .all(|r| r.read_buffer().capacity() >= lenframe::DEFAULT_MAX_FRAME_LEN));
        let peak = counting::peak() - base.live;
        let live = counting::now().live - base.live;
        // The codec has consumed the header and waits for the payload.
        assert!(readers.iter().all(|r| r.read_buffer().is_empty()));
        rows.push(MemRow {
            name: "tokio-util FramedRead (tokio TcpStream)",
            conns,
            peak,
            live,
        });
        drop((readers, clients));
    }

    // tokio-util's codec alone: decode on the received header in an 8 KiB BytesMut (the
    // FramedRead buffer's first size), without tokio's socket registration.
    {
        let mut bufs = Vec::with_capacity(conns);
        let base = counting::reset();
        for _ in 0..conns {
            let mut codec = LengthDelimitedCodec::new();
            let mut buf = BytesMut::with_capacity(8 * KIB);
            buf.extend_from_slice(&MAX_HEADER);
            assert!(codec.decode(&mut buf)?.is_none());
            bufs.push((codec, buf));
        }
        let peak = counting::peak() - base.live;
        let live = counting::now().live - base.live;
        rows.push(MemRow {
            name: "tokio-util LengthDelimitedCodec::decode (BytesMut)",
            conns,
            peak,
            live,
        });
    }

    println!("\n### Heap per idle connection that sent only a header declaring 8 MiB\n");
    println!("| reader | connections | peak heap / conn | live heap / conn | vs lenframe |");
    println!("|---|---:|---:|---:|---:|");
    let lf = rows[0].live as f64;
    for r in &rows {
        println!(
            "| {} | {} | {:.1} KiB | {:.1} KiB | {:.1}x |",
            r.name,
            r.conns,
            r.peak as f64 / r.conns as f64 / 1024.0,
            r.live as f64 / r.conns as f64 / 1024.0,
            r.live as f64 / lf
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Growth: one maximum-size frame

/// Hands out one byte per read.
struct OneByte<'a>(&'a [u8]);

impl Read for OneByte<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match (self.0.split_first(), buf.first_mut()) {
            (Some((&b, rest)), Some(slot)) => {
                *slot = b;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

impl AsyncRead for OneByte<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if buf.remaining() > 0 {
            if let Some((&b, rest)) = self.0.split_first() {
                buf.put_slice(&[b]);
                self.0 = rest;
            }
        }
        Poll::Ready(Ok(()))
    }
}

fn growth_part(opts: &Opts) -> io::Result<()> {
    let len = lenframe::DEFAULT_MAX_FRAME_LEN;
    let mut wire = Vec::with_capacity(len + 4);
    wire.extend_from_slice(&(len as u32).to_be_bytes());
    wire.extend((0..len).map(|i| i as u8));
    let reps = opts.reps;
    println!("\n### One 8 MiB frame (median of {reps} runs)\n");
    println!("| delivery | reader | time | allocs | reallocs | bytes moved by realloc | peak heap | reads |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    type Case<'a> = (
        &'static str,
        &'static str,
        Box<dyn Fn() -> (usize, usize) + 'a>,
    );
    let cases: Vec<Case<'_>> = vec![
        (
            "1 byte per read",
            "lenframe FrameReader",
            Box::new(|| {
                let mut r = FrameReader::new(OneByte(&wire));
                let n = r.read_frame().unwrap().expect("one frame").len();
                (n, wire.len())
            }),
        ),
        (
            "1 byte per read",
            "tokio-util FramedRead",
            Box::new(|| {
                let mut r = FramedRead::new(OneByte(&wire), LengthDelimitedCodec::new());
                let frame = r.next().now_or_never().expect("ready").expect("one frame");
                (frame.unwrap().len(), wire.len())
            }),
        ),
        (
            "in one go (&[u8])",
            "lenframe FrameReader",
            Box::new(|| {
                let mut r = FrameReader::new(&wire[..]);
                let n = r.read_frame().unwrap().expect("one frame").len();
                (n, wire.len().div_ceil(lenframe::DEFAULT_READ_CAPACITY))
            }),
        ),
        (
            "in one go (&[u8])",
            "tokio-util FramedRead",
            Box::new(|| {
                let mut r = FramedRead::new(&wire[..], LengthDelimitedCodec::new());
                let frame = r.next().now_or_never().expect("ready").expect("one frame");
                (frame.unwrap().len(), 0)
            }),
        ),
    ];
    for (delivery, name, case) in &cases {
        let mut times = Vec::new();
        let mut last = None;
        for _ in 0..reps {
            let base = counting::reset();
            let t0 = Instant::now();
            let (n, reads) = case();
            let dt = t0.elapsed();
            let after = counting::now();
            assert_eq!(n, len);
            times.push(dt.as_secs_f64());
            last = Some((
                after.allocs - base.allocs,
                after.reallocs - base.reallocs,
                after.moved - base.moved,
                counting::peak() - base.live,
                reads,
            ));
        }
        let (allocs, reallocs, moved, peak, reads) = last.expect("at least one run");
        let reads = if *name == "tokio-util FramedRead" && reads == 0 {
            "-".to_string()
        } else {
            reads.to_string()
        };
        println!(
            "| {} | {} | {:.1} ms | {} | {} | {:.1} MiB | {:.2} MiB | {} |",
            delivery,
            name,
            median(times) * 1e3,
            allocs,
            reallocs,
            moved as f64 / MIB as f64,
            peak as f64 / MIB as f64,
            reads
        );
    }
    Ok(())
}

fn main() -> io::Result<()> {
    let opts = Opts::parse();
    println!(
        "lenframe loopbench: {} repetitions{}",
        opts.reps,
        if opts.quick { ", quick" } else { "" }
    );
    if opts.wants("stream") {
        stream_part(&opts)?;
    }
    if opts.wants("pingpong") {
        pingpong_part(&opts)?;
    }
    if opts.wants("memory") {
        memory_part(&opts)?;
    }
    if opts.wants("growth") {
        growth_part(&opts)?;
    }
    Ok(())
}
