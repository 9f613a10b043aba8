//! raw, the floor: unframed fixed-size messages through a 64 KiB `BufWriter` and
//! `BufReader`, no header and nothing to parse.

use std::io::{self, BufReader, BufWriter, Read, Write};
use std::net::TcpStream;
use std::sync::Barrier;
use std::time::Instant;

use crate::pingpong::{until_eof, RoundTrip};
use crate::sock::Sock;
use crate::BUF;

pub fn stream_write(tx: Sock, start: &Barrier, payload: &[u8], frames: usize) -> io::Result<()> {
    start.wait();
    let mut w = BufWriter::with_capacity(BUF, tx);
    for _ in 0..frames {
        w.write_all(payload)?;
    }
    w.flush()
}

/// Reads `frames` messages of `size` bytes; returns when it began.
pub fn stream_read(rx: Sock, start: &Barrier, size: usize, frames: usize) -> io::Result<Instant> {
    let mut r = BufReader::with_capacity(BUF, rx);
    let mut buf = vec![0u8; size];
    start.wait();
    let began = Instant::now();
    for _ in 0..frames {
        r.read_exact(&mut buf)?;
    }
    Ok(began)
}

/// Echoes `size`-byte messages until the client closes.
pub fn echo(server: TcpStream, size: usize) -> io::Result<()> {
    let mut r = BufReader::with_capacity(BUF, server.try_clone()?);
    let mut w = BufWriter::with_capacity(BUF, server);
    let mut buf = vec![0u8; size];
    while until_eof(r.read_exact(&mut buf))? {
        w.write_all(&buf)?;
        w.flush()?;
    }
    Ok(())
}

pub struct Client {
    r: BufReader<TcpStream>,
    w: BufWriter<TcpStream>,
    buf: Vec<u8>,
}

impl Client {
    pub fn new(client: &TcpStream, size: usize) -> io::Result<Client> {
        Ok(Client {
            r: BufReader::with_capacity(BUF, client.try_clone()?),
            w: BufWriter::with_capacity(BUF, client.try_clone()?),
            buf: vec![0u8; size],
        })
    }
}

impl RoundTrip for Client {
    fn round_trip(&mut self, payload: &[u8]) -> io::Result<()> {
        self.w.write_all(payload)?;
        self.w.flush()?;
        self.r.read_exact(&mut self.buf)
    }
}
