//! lenframe's blocking `FrameWriter` and `FrameReader` with their defaults, and its
//! `Frames` iterator over a byte slice.

use std::io;
use std::net::TcpStream;
use std::sync::Barrier;
use std::time::Instant;

use lenframe::{FrameConfig, FrameReader, FrameWriter, Frames};

use crate::hand::frame_sum;
use crate::pingpong::RoundTrip;
use crate::sock::Sock;

pub fn stream_write(tx: Sock, start: &Barrier, payload: &[u8], frames: usize) -> io::Result<()> {
    start.wait();
    let mut w = FrameWriter::new(tx);
    for _ in 0..frames {
        w.write_frame(payload)?;
    }
    Ok(w.flush()?)
}

/// Reads `frames` frames of `size` bytes; returns when it began.
pub fn stream_read(rx: Sock, start: &Barrier, size: usize, frames: usize) -> io::Result<Instant> {
    let mut r = FrameReader::new(rx);
    start.wait();
    let began = Instant::now();
    for _ in 0..frames {
        let frame = r.read_frame()?.expect("the writer sends every frame");
        assert_eq!(frame.len(), size);
    }
    Ok(began)
}

/// Echoes frames until the client closes.
pub fn echo(server: TcpStream) -> io::Result<()> {
    let mut r = FrameReader::new(server.try_clone()?);
    let mut w = FrameWriter::new(server);
    while let Some(frame) = r.read_frame()? {
        w.write_frame(frame)?;
        w.flush()?;
    }
    Ok(())
}

pub struct Client {
    r: FrameReader<TcpStream>,
    w: FrameWriter<TcpStream>,
}

impl Client {
    pub fn new(client: &TcpStream) -> io::Result<Client> {
        Ok(Client {
            r: FrameReader::new(client.try_clone()?),
            w: FrameWriter::new(client.try_clone()?),
        })
    }
}

impl RoundTrip for Client {
    fn round_trip(&mut self, payload: &[u8]) -> io::Result<()> {
        self.w.write_frame(payload)?;
        self.w.flush()?;
        let frame = self.r.read_frame()?.expect("the echo answers");
        assert_eq!(frame.len(), payload.len());
        Ok(())
    }
}

/// [`crate::hand::parse_sum`] through `Frames`.
pub fn parse_sum(wire: &[u8]) -> (usize, u64) {
    let (mut frames, mut sum) = (0, 0u64);
    for frame in Frames::new(wire, FrameConfig::default()).expect("the default layout") {
        sum += frame_sum(frame.expect("whole frames"));
        frames += 1;
    }
    (frames, sum)
}
