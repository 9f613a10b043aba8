//! Hand-written framing: a 4-byte big-endian length in front of each payload. Streaming
//! puts header and body through a 64 KiB `BufWriter` and reads them with `read_exact` (the
//! body into a reused `Vec`); the request/response "naive two-write" variant writes header
//! and body with two unbuffered `write_all` calls.

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
    let header = (payload.len() as u32).to_be_bytes();
    for _ in 0..frames {
        w.write_all(&header)?;
        w.write_all(payload)?;
    }
    w.flush()
}

/// Reads `frames` frames of `size` bytes; returns when it began.
pub fn stream_read(rx: Sock, start: &Barrier, size: usize, frames: usize) -> io::Result<Instant> {
    let mut r = BufReader::with_capacity(BUF, rx);
    let mut body = Vec::new();
    start.wait();
    let began = Instant::now();
    for _ in 0..frames {
        let mut header = [0u8; 4];
        r.read_exact(&mut header)?;
        let len = u32::from_be_bytes(header) as usize;
        body.clear();
        body.resize(len, 0);
        r.read_exact(&mut body)?;
        assert_eq!(body.len(), size);
    }
    Ok(began)
}

/// Echoes frames, header and body with two unbuffered writes, until the client closes.
pub fn naive_echo(server: TcpStream) -> io::Result<()> {
    let mut s = server;
    let mut body = Vec::new();
    let mut header = [0u8; 4];
    while until_eof(s.read_exact(&mut header))? {
        body.resize(u32::from_be_bytes(header) as usize, 0);
        s.read_exact(&mut body)?;
        s.write_all(&header)?;
        s.write_all(&body)?;
    }
    Ok(())
}

pub struct NaiveClient {
    s: TcpStream,
    buf: Vec<u8>,
}

impl NaiveClient {
    pub fn new(client: &TcpStream, size: usize) -> io::Result<NaiveClient> {
        Ok(NaiveClient {
            s: client.try_clone()?,
            buf: vec![0u8; size],
        })
    }
}

impl RoundTrip for NaiveClient {
    fn round_trip(&mut self, payload: &[u8]) -> io::Result<()> {
        self.s.write_all(&(payload.len() as u32).to_be_bytes())?;
        self.s.write_all(payload)?;
        let mut header = [0u8; 4];
        self.s.read_exact(&mut header)?;
        assert_eq!(u32::from_be_bytes(header) as usize, payload.len());
        self.s.read_exact(&mut self.buf)
    }
}

/// Parses every frame of `wire` by hand (`split_first_chunk` for the header,
/// `split_at_checked` for the payload); returns the frame count and the sum of each frame's
/// length, first and last byte.
pub fn parse_sum(wire: &[u8]) -> (usize, u64) {
    let (mut frames, mut sum) = (0, 0u64);
    let mut rest = wire;
    while let Some((header, tail)) = rest.split_first_chunk::<4>() {
        let len = u32::from_be_bytes(*header) as usize;
        let (frame, tail) = tail.split_at_checked(len).expect("whole frames");
        sum += frame_sum(frame);
        frames += 1;
        rest = tail;
    }
    (frames, sum)
}

/// A frame's length, first and last byte, added: the work done per frame in the decoding
/// part, the same for every parser.
pub fn frame_sum(frame: &[u8]) -> u64 {
    frame.len() as u64
        + u64::from(frame.first().copied().unwrap_or(0))
        + u64::from(frame.last().copied().unwrap_or(0))
}
