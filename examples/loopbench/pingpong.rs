//! Request/response over TCP: the client sends a frame, the server echoes it, and the client
//! reads the echo; with and without `TCP_NODELAY`.

use std::io;
use std::thread;
use std::time::{Duration, Instant};

use crate::report::PingRow;
use crate::sock::tcp_pair;
use crate::stats::{median, percentile};
use crate::{hand, lenframe_blocking, raw, Opts, KIB};

/// One round trip: send `payload`, read its echo.
pub trait RoundTrip {
    fn round_trip(&mut self, payload: &[u8]) -> io::Result<()>;
}

/// `Ok(true)` for a complete read, `Ok(false)` at the end of the stream.
pub fn until_eof(read: io::Result<()>) -> io::Result<bool> {
    match read {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ping {
    Raw,
    Lenframe,
    Naive,
}

const PINGS: [Ping; 3] = [Ping::Raw, Ping::Lenframe, Ping::Naive];

impl Ping {
    fn name(self) -> &'static str {
        match self {
            Ping::Raw => "raw",
            Ping::Lenframe => "lenframe",
            Ping::Naive => "naive two-write",
        }
    }
}

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
    let echo = thread::spawn(move || match imp {
        Ping::Raw => raw::echo(server, size),
        Ping::Lenframe => lenframe_blocking::echo(server),
        Ping::Naive => hand::naive_echo(server),
    });
    let payload = vec![0x5au8; size];
    let mut rtts = Vec::with_capacity(iters);
    let began = Instant::now();
    {
        let mut c: Box<dyn RoundTrip> = match imp {
            Ping::Raw => Box::new(raw::Client::new(&client, size)?),
            Ping::Lenframe => Box::new(lenframe_blocking::Client::new(&client)?),
            Ping::Naive => Box::new(hand::NaiveClient::new(&client, size)?),
        };
        for i in 0..WARMUP + iters {
            let t0 = Instant::now();
            c.round_trip(&payload)?;
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

pub fn pingpong_part(opts: &Opts) -> io::Result<Vec<PingRow>> {
    let iters = if opts.quick { 400 } else { 2000 };
    // A stall costs ~40-200 ms per round trip: the naive variant without TCP_NODELAY gets
    // few round trips, and every run stops after its time budget.
    let stalled_iters = 20;
    let budget = Duration::from_secs(if opts.quick { 2 } else { 4 });
    let mut rows = Vec::new();
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
            for (i, (p50, p99)) in p50s.into_iter().zip(p99s).enumerate() {
                rows.push(PingRow {
                    size,
                    nodelay,
                    name: PINGS[i].name(),
                    round_trips: counts[i],
                    p50_us: median(p50),
                    p99_us: median(p99),
                });
            }
        }
    }
    Ok(rows)
}
