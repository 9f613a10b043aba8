//! Memory per idle connection: live heap per connection whose peer sent only a header
//! declaring the maximum size (8 MiB), for lenframe and tokio-util.

use std::io::{self, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use bytes::BytesMut;
use futures_util::{FutureExt, StreamExt};
use lenframe::{FrameError, FrameReader};
use tokio_util::codec::{Decoder, FramedRead, LengthDelimitedCodec};

use crate::{alloc as counting, Opts, KIB};

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

pub fn memory_part(opts: &Opts) -> io::Result<()> {
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
