//! Shared helpers for the integration tests: connected stream pairs over every transport,
//! a reference encoding written plainly, and scripted readers and writers that inject faults.
#![allow(dead_code)] // each test binary uses its own subset

pub mod alloc;
#[cfg(feature = "tokio")]
pub mod async_io;
pub mod crc;
pub mod crowd;
pub mod heap;
pub mod model;
pub mod relay;
pub mod strategies;

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
#[cfg(unix)]
use std::os::unix::net::UnixStream;

/// The transports every socket-level property runs over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// TCP over 127.0.0.1 on an ephemeral port.
    Tcp,
    /// A Unix domain socket bound to a path in a temporary directory.
    Unix,
    /// An anonymous OS pipe.
    Pipe,
}

impl Transport {
    /// Every transport available on this platform.
    pub const ALL: &'static [Transport] = &[Transport::Tcp, Transport::Unix, Transport::Pipe];
}

/// A connected TCP pair on 127.0.0.1: `(client, server)`.
pub fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let client = TcpStream::connect(listener.local_addr().unwrap()).expect("connect");
    let (server, _) = listener.accept().expect("accept");
    (client, server)
}

/// A connected Unix socket pair whose listening path lives in a temporary directory that is
/// removed before returning (the connected sockets outlive the path).
#[cfg(unix)]
pub fn unix_pair() -> (UnixStream, UnixStream) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("lenframe.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).expect("bind unix socket");
    let client = UnixStream::connect(&path).expect("connect unix socket");
    let (server, _) = listener.accept().expect("accept unix socket");
    drop(listener);
    dir.close()
        .expect("remove the socket's temporary directory");
    (client, server)
}

/// A boxed writing and reading end of one transport. Dropping the writer ends the stream
/// for the reader.
pub fn pair(transport: Transport) -> (Box<dyn Write + Send>, Box<dyn Read + Send>) {
    match transport {
        Transport::Tcp => {
            let (c, s) = tcp_pair();
            s.shutdown(Shutdown::Write).ok();
            (Box::new(c), Box::new(s))
        }
        #[cfg(unix)]
        Transport::Unix => {
            let (c, s) = unix_pair();
            s.shutdown(Shutdown::Write).ok();
            (Box::new(c), Box::new(s))
        }
        #[cfg(not(unix))]
        Transport::Unix => panic!("no Unix sockets on this platform"),
        Transport::Pipe => {
            let (r, w) = std::io::pipe().expect("pipe");
            (Box::new(w), Box::new(r))
        }
    }
}

/// The default layout written plainly, independently of the crate: a `u32` big-endian
/// length, then the payload.
pub fn reference_encode(frames: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for frame in frames {
        out.extend_from_slice(&u32::try_from(frame.len()).unwrap().to_be_bytes());
        out.extend_from_slice(frame);
    }
    out
}

/// One step of a scripted reader or writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Transfer at most this many bytes in one call.
    Bytes(usize),
    /// Fail one call with this error kind.
    Fail(io::ErrorKind),
}

/// A reader over fixed bytes that follows a script: each call takes the next step (short
/// counts or an error); once the script is spent, it transfers everything asked.
#[derive(Debug)]
pub struct ScriptedReader {
    data: Vec<u8>,
    pos: usize,
    script: VecDeque<Step>,
    /// How many calls were answered with an error.
    pub errors: usize,
}

impl ScriptedReader {
    /// A reader of `data` following `script`.
    pub fn new(data: Vec<u8>, script: impl IntoIterator<Item = Step>) -> Self {
        ScriptedReader {
            data,
            pos: 0,
            script: script.into_iter().collect(),
            errors: 0,
        }
    }

    /// Bytes handed out so far.
    pub fn position(&self) -> usize {
        self.pos
    }
}

impl Read for ScriptedReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let limit = match self.script.pop_front() {
            Some(Step::Fail(kind)) => {
                self.errors += 1;
                return Err(kind.into());
            }
            Some(Step::Bytes(n)) => n,
            None => usize::MAX,
        };
        let n = limit.min(buf.len()).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// A writer into a `Vec` that follows a script: each call takes the next step (a short count,
/// possibly 0, or an error); once the script is spent, it accepts everything. Records every
/// call's size so tests can see how many writes a frame took.
#[derive(Debug, Default)]
pub struct ScriptedWriter {
    /// Every byte accepted, in order.
    pub data: Vec<u8>,
    script: VecDeque<Step>,
    /// The byte count of every successful write call (vectored calls count as one).
    pub writes: Vec<usize>,
    /// How many flush calls reached the writer.
    pub flushes: usize,
}

impl ScriptedWriter {
    /// A writer following `script`.
    pub fn new(script: impl IntoIterator<Item = Step>) -> Self {
        ScriptedWriter {
            script: script.into_iter().collect(),
            ..Default::default()
        }
    }

    fn limit(&mut self) -> io::Result<usize> {
        match self.script.pop_front() {
            Some(Step::Fail(kind)) => Err(kind.into()),
            Some(Step::Bytes(n)) => Ok(n),
            None => Ok(usize::MAX),
        }
    }
}

impl Write for ScriptedWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.limit()?.min(buf.len());
        self.data.extend_from_slice(&buf[..n]);
        self.writes.push(n);
        Ok(n)
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let mut left = self.limit()?;
        let mut total = 0;
        for buf in bufs {
            let n = left.min(buf.len());
            self.data.extend_from_slice(&buf[..n]);
            left -= n;
            total += n;
        }
        self.writes.push(total);
        Ok(total)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flushes += 1;
        Ok(())
    }
}

/// Hands `bytes` to `state` as reads that all returned at `now`, each as large as the room
/// the state offers (so the buffer grows as it would under a fast peer).
pub fn feed(state: &mut lenframe::ReadState, bytes: &[u8], now: std::time::Instant) {
    let mut rest = bytes;
    // Each round moves at least one byte, so this ends after at most `bytes.len()` rounds.
    while !rest.is_empty() {
        let room = state.read_buf().expect("room to read into");
        let n = room.len().min(rest.len());
        room[..n].copy_from_slice(&rest[..n]);
        state.filled(n, || now);
        rest = &rest[n..];
    }
}

/// A reader over `data` whose reads never cross the given offsets: as if the peer wrote up to
/// each offset (say, one frame) and then waited for the reader to take it.
#[derive(Debug)]
pub struct PacedReader {
    data: Vec<u8>,
    pos: usize,
    /// Ascending offsets into `data`.
    stops: VecDeque<usize>,
}

impl PacedReader {
    /// A reader of `data` that pauses at each of `stops`.
    pub fn new(data: Vec<u8>, stops: impl IntoIterator<Item = usize>) -> Self {
        PacedReader {
            data,
            pos: 0,
            stops: stops.into_iter().collect(),
        }
    }

    /// A reader of the reference encoding of `frames` that pauses after each frame.
    pub fn frames<P: AsRef<[u8]>>(frames: &[P]) -> Self {
        let mut data = Vec::new();
        let mut stops = Vec::with_capacity(frames.len());
        for frame in frames {
            let frame = frame.as_ref();
            data.extend_from_slice(&u32::try_from(frame.len()).unwrap().to_be_bytes());
            data.extend_from_slice(frame);
            stops.push(data.len());
        }
        Self::new(data, stops)
    }
}

impl Read for PacedReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.stops.front().is_some_and(|&stop| stop <= self.pos) {
            self.stops.pop_front();
        }
        let stop = self.stops.front().copied().unwrap_or(self.data.len());
        let n = buf.len().min(stop - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// A source with nothing more to say for now: every read is `WouldBlock` (an idle peer on a
/// nonblocking socket, or one whose socket read timeout passed).
#[derive(Debug, Clone, Copy, Default)]
pub struct Idle;

impl Read for Idle {
    fn read(&mut self, _buf: &mut [u8]) -> io::Result<usize> {
        Err(io::ErrorKind::WouldBlock.into())
    }
}
