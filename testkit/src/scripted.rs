//! Readers and writers that follow a script: short counts, `Interrupted`, `WouldBlock`, any
//! error, and the end of the stream at a chosen byte, for the blocking world (the async twins
//! are in `async_io` (feature `tokio`)). A frame reader or writer over them must give the same frames as
//! over a perfect stream, resume after every retryable error, and report the rest.

use std::collections::VecDeque;
use std::io::{self, Read, Write};

use lenframe::ReadState;

/// One step of a scripted reader or writer.
///
/// ```
/// use std::io::{ErrorKind, Read};
/// use lenframe_testkit::scripted::{ScriptedReader, Step};
/// let mut r = ScriptedReader::new(b"abc".to_vec(), [Step::Bytes(1), Step::Fail(ErrorKind::Interrupted)]);
/// let mut buf = [0; 8];
/// assert_eq!(r.read(&mut buf)?, 1);
/// assert_eq!(r.read(&mut buf).unwrap_err().kind(), ErrorKind::Interrupted);
/// assert_eq!(r.read(&mut buf)?, 2); // the script is spent: everything
/// assert_eq!(r.read(&mut buf)?, 0); // the end
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Transfer at most this many bytes in one call.
    Bytes(usize),
    /// Fail one call with this error kind.
    Fail(io::ErrorKind),
}

/// A reader over fixed bytes that follows a script: each call takes the next step (short
/// counts or an error); once the script is spent, it transfers everything asked. The end of
/// the data is the end of the stream.
///
/// A `WouldBlock` step is a read timeout or an idle nonblocking socket; an error step a
/// failing peer; `Bytes(1)` steps one byte per read, the hardest split for a decoder.
///
/// ```
/// use std::io::ErrorKind;
/// use lenframe::{FrameReader, FrameError};
/// use lenframe_testkit::reference::reference_encode;
/// use lenframe_testkit::scripted::{ScriptedReader, Step};
///
/// // A read timeout inside the header: the reader reports it and resumes from that byte.
/// let wire = reference_encode(&[b"hello"]);
/// let script = [Step::Bytes(2), Step::Fail(ErrorKind::WouldBlock)];
/// let mut reader = FrameReader::new(ScriptedReader::new(wire, script));
/// assert!(reader.read_frame().unwrap_err().is_would_block());
/// assert_eq!(reader.read_frame()?, Some(&b"hello"[..]));
/// assert_eq!(reader.get_ref().errors, 1);
/// # Ok::<(), FrameError>(())
/// ```
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
    ///
    /// ```
    /// use lenframe_testkit::scripted::ScriptedReader;
    /// let r = ScriptedReader::new(vec![1, 2], []);
    /// assert_eq!(r.position(), 0);
    /// ```
    pub fn new(data: Vec<u8>, script: impl IntoIterator<Item = Step>) -> Self {
        ScriptedReader {
            data,
            pos: 0,
            script: script.into_iter().collect(),
            errors: 0,
        }
    }

    /// Bytes handed out so far.
    ///
    /// ```
    /// use std::io::Read;
    /// use lenframe_testkit::scripted::{ScriptedReader, Step};
    /// let mut r = ScriptedReader::new(vec![1, 2, 3], [Step::Bytes(2)]);
    /// r.read(&mut [0; 8])?;
    /// assert_eq!(r.position(), 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
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
///
/// ```
/// use std::io::ErrorKind;
/// use lenframe::FrameWriter;
/// use lenframe_testkit::scripted::{ScriptedWriter, Step};
///
/// // One byte accepted, then a full socket buffer: the frame goes out whole on a retry.
/// let script = [Step::Bytes(1), Step::Fail(ErrorKind::WouldBlock)];
/// let mut writer = FrameWriter::new(ScriptedWriter::new(script));
/// writer.write_frame(b"hi")?;
/// assert!(writer.flush().unwrap_err().is_would_block());
/// writer.flush()?;
/// assert_eq!(writer.get_ref().data, b"\0\0\0\x02hi");
/// # Ok::<(), lenframe::FrameError>(())
/// ```
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
    ///
    /// ```
    /// use std::io::Write;
    /// use lenframe_testkit::scripted::{ScriptedWriter, Step};
    /// let mut w = ScriptedWriter::new([Step::Bytes(0)]);
    /// assert_eq!(w.write(b"ab")?, 0);
    /// assert_eq!(w.write(b"ab")?, 2);
    /// assert_eq!(w.writes, [0, 2]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
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
///
/// ```
/// use std::time::Instant;
/// use lenframe::{FrameConfig, ReadState};
/// use lenframe_testkit::scripted::feed;
/// let mut state = ReadState::new(FrameConfig::default())?;
/// feed(&mut state, b"\0\0\0\x01x", Instant::now());
/// assert_eq!(state.read_buffer(), b"\0\0\0\x01x");
/// # Ok::<(), lenframe::ConfigError>(())
/// ```
///
/// # Panics
///
/// If the state offers no room to read into.
pub fn feed(state: &mut ReadState, bytes: &[u8], now: std::time::Instant) {
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
///
/// ```
/// use std::io::Read;
/// use lenframe_testkit::scripted::PacedReader;
/// let mut r = PacedReader::new(b"abcd".to_vec(), [1, 3]);
/// let mut buf = [0; 8];
/// assert_eq!(r.read(&mut buf)?, 1);
/// assert_eq!(r.read(&mut buf)?, 2);
/// assert_eq!(r.read(&mut buf)?, 1);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct PacedReader {
    data: Vec<u8>,
    pos: usize,
    /// Ascending offsets into `data`.
    stops: VecDeque<usize>,
}

impl PacedReader {
    /// A reader of `data` that pauses at each of `stops`.
    ///
    /// ```
    /// use std::io::Read;
    /// let mut r = lenframe_testkit::scripted::PacedReader::new(vec![7; 4], [2]);
    /// assert_eq!(r.read(&mut [0; 8])?, 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new(data: Vec<u8>, stops: impl IntoIterator<Item = usize>) -> Self {
        PacedReader {
            data,
            pos: 0,
            stops: stops.into_iter().collect(),
        }
    }

    /// A reader of the reference encoding of `frames` that pauses after each frame.
    ///
    /// ```
    /// use std::io::Read;
    /// let mut r = lenframe_testkit::scripted::PacedReader::frames(&[&b"ab"[..], b"c"]);
    /// assert_eq!(r.read(&mut [0; 64])?, 6);
    /// assert_eq!(r.read(&mut [0; 64])?, 5);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Panics
    ///
    /// If a frame is longer than `u32::MAX` bytes.
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
///
/// ```
/// use std::io::{ErrorKind, Read};
/// let err = lenframe_testkit::scripted::Idle.read(&mut [0; 4]).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::WouldBlock);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Idle;

impl Read for Idle {
    fn read(&mut self, _buf: &mut [u8]) -> io::Result<usize> {
        Err(io::ErrorKind::WouldBlock.into())
    }
}
