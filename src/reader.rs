//! `FrameReader`: frames from any `std::io::Read`, through a buffer of its own.

use std::io::{self, Read};
use std::time::{Duration, Instant};

use crate::config::FrameConfig;
use crate::decoder::{Decoded, FrameDecoder};
use crate::error::{is_transient, ConfigError, FrameError};
use crate::stats::FrameStats;

/// The default size of a [`FrameReader`]'s first buffer and of each step it grows by.
pub const DEFAULT_READ_CAPACITY: usize = 64 * 1024;

/// Streams whose reads can be given a timeout, so that a [`FrameReader`] can enforce a
/// per-frame deadline ([`FrameReader::set_frame_timeout`]).
///
/// Implemented for [`TcpStream`](std::net::TcpStream) and, on Unix,
/// [`UnixStream`](std::os::unix::net::UnixStream); implement it for a wrapper of your own
/// by forwarding to the socket inside.
pub trait ReadTimeout {
    /// The stream's current read timeout (`SO_RCVTIMEO`).
    ///
    /// # Errors
    ///
    /// As the underlying socket call.
    fn read_timeout(&self) -> io::Result<Option<Duration>>;

    /// Sets the stream's read timeout. `Some(Duration::ZERO)` is never passed.
    ///
    /// # Errors
    ///
    /// As the underlying socket call.
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;
}

impl ReadTimeout for std::net::TcpStream {
    fn read_timeout(&self) -> io::Result<Option<Duration>> {
        std::net::TcpStream::read_timeout(self)
    }
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        std::net::TcpStream::set_read_timeout(self, timeout)
    }
}

#[cfg(unix)]
impl ReadTimeout for std::os::unix::net::UnixStream {
    fn read_timeout(&self) -> io::Result<Option<Duration>> {
        std::os::unix::net::UnixStream::read_timeout(self)
    }
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        std::os::unix::net::UnixStream::set_read_timeout(self, timeout)
    }
}

impl<T: ReadTimeout + ?Sized> ReadTimeout for &T {
    fn read_timeout(&self) -> io::Result<Option<Duration>> {
        (**self).read_timeout()
    }
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        (**self).set_read_timeout(timeout)
    }
}

/// The per-frame deadline: its length, the socket's own timeout to put back between frames,
/// and the hook that sets the socket's timeout (captured where `R: ReadTimeout` is known).
struct Deadline<R> {
    limit: Duration,
    socket_timeout: Option<Duration>,
    set: fn(&R, Option<Duration>) -> io::Result<()>,
    /// Whether the socket's timeout currently differs from `socket_timeout`.
    changed: bool,
}

/// Reads length-prefixed frames from any [`Read`]: a `TcpStream`, a `UnixStream`, a pipe, a
/// file or a `&[u8]`.
///
/// The reader owns a buffer, so one `read` call can deliver many small frames and a frame
/// split over many reads is put back together. Frames are returned as `&[u8]` borrowed from
/// that buffer: in steady state no frame allocates.
///
/// # Bounds
///
/// - A declared payload over [`FrameConfig::max_frame_len`] is refused as soon as its header
///   is read ([`FrameError::TooLarge`]), before any payload byte is read.
/// - The buffer starts at [`capacity`](Self::with_capacity) bytes (64 KiB by default,
///   allocated on the first read) and grows only when it is full of bytes of one frame, by
///   at most that step, and never past the frame's length. Its capacity thus never exceeds
///   the bytes received (capped at the largest frame) plus one step: a peer that declares
///   8 MiB and sends 10 bytes costs one step, not 8 MiB.
/// - Work is linear in the bytes received: the decoder looks at each header once, and bytes
///   are moved at most once to the front of the buffer.
/// - On sockets, [`set_frame_timeout`](Self::set_frame_timeout) bounds the time from a
///   frame's first byte to its last.
///
/// # Errors and resumption
///
/// - `Interrupted` reads are retried.
/// - `WouldBlock` and `TimedOut` reads are returned as [`FrameError::Io`], with every byte
///   read so far kept: the next call resumes the same frame (usable on nonblocking sockets).
/// - [`FrameError::TooLarge`] under [`Oversize::Error`](crate::Oversize::Error) and
///   [`FrameError::InvalidHeader`] are fatal: every later call returns the same error and no
///   frame is ever returned from the desynchronised stream. Under
///   [`Oversize::Skip`](crate::Oversize::Skip), `TooLarge` is reported once and the next call
///   goes on after the discarded frame.
/// - The end of the stream at a frame boundary is `Ok(None)`; inside a frame it is
///   [`FrameError::Truncated`].
///
/// # Examples
///
/// ```
/// use lenframe::FrameReader;
///
/// let wire: &[u8] = b"\x00\x00\x00\x02hi\x00\x00\x00\x00\x00\x00\x00\x03bye";
/// let mut reader = FrameReader::new(wire);
/// assert_eq!(reader.read_frame()?, Some(&b"hi"[..]));
/// assert_eq!(reader.read_frame()?, Some(&b""[..]));
/// assert_eq!(reader.read_frame()?, Some(&b"bye"[..]));
/// assert_eq!(reader.read_frame()?, None);
/// # Ok::<(), lenframe::FrameError>(())
/// ```
pub struct FrameReader<R> {
    inner: R,
    decoder: FrameDecoder,
    /// Fully initialised; `buf[start..end]` holds the bytes received and not consumed, which
    /// always begin at the current frame (or, while discarding, inside it).
    buf: Vec<u8>,
    start: usize,
    end: usize,
    step: usize,
    deadline: Option<Deadline<R>>,
    /// When the current frame's first byte arrived; only kept while a deadline is set.
    frame_started: Option<Instant>,
}

impl<R: Read> FrameReader<R> {
    /// A reader with the default configuration ([`FrameConfig::default`]).
    pub fn new(inner: R) -> Self {
        Self::with_capacity(inner, FrameConfig::default(), DEFAULT_READ_CAPACITY)
            .expect("the default configuration is valid")
    }

    /// A reader with the given configuration.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when the layout is impossible (see [`FrameConfig::validate`]).
    pub fn with_config(inner: R, config: FrameConfig) -> Result<Self, ConfigError> {
        Self::with_capacity(inner, config, DEFAULT_READ_CAPACITY)
    }

    /// A reader whose buffer starts at `capacity` bytes and grows by at most `capacity` at a
    /// time: the most one `read` call asks for.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when the layout is impossible, or `capacity` is zero.
    pub fn with_capacity(
        inner: R,
        config: FrameConfig,
        capacity: usize,
    ) -> Result<Self, ConfigError> {
        if capacity == 0 {
            return Err(ConfigError::ZeroBufferSize);
        }
        Ok(FrameReader {
            inner,
            decoder: FrameDecoder::new(config)?,
            buf: Vec::new(),
            start: 0,
            end: 0,
            step: capacity,
            deadline: None,
            frame_started: None,
        })
    }

    /// Reads the next frame.
    ///
    /// Returns `Ok(Some(frame))` with the frame borrowed from the reader's buffer, or
    /// `Ok(None)` when the stream ended cleanly at a frame boundary. A zero-length frame is
    /// `Ok(Some(&[]))`, never taken for the end.
    ///
    /// # Errors
    ///
    /// See the [type-level documentation](Self#errors-and-resumption).
    #[inline]
    pub fn read_frame(&mut self) -> Result<Option<&[u8]>, FrameError> {
        let range = loop {
            match self.decoder.decode(&self.buf[self.start..self.end])? {
                Decoded::Frame { frame, consumed } => {
                    let base = self.start;
                    self.consume(consumed);
                    break base + frame.start..base + frame.end;
                }
                Decoded::Skipped { consumed } => self.consume(consumed),
                Decoded::Incomplete { needed } => {
                    if self.fill(needed)? == 0 {
                        // decode() just answered Incomplete for these bytes, so at the end
                        // they are either nothing (Ok(None)) or a truncated frame.
                        if self
                            .decoder
                            .decode_eof(&self.buf[self.start..self.end])?
                            .is_none()
                        {
                            return Ok(None);
                        }
                    }
                }
            }
        };
        Ok(Some(&self.buf[range]))
    }

    /// Drops `n` consumed bytes from the front of the buffer.
    #[inline]
    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        if self.deadline.is_some() && self.decoder.is_at_boundary() {
            // Bytes left over already belong to the next frame.
            self.frame_started = (self.start < self.end).then(Instant::now);
        }
    }

    /// Reads once into the buffer, making room first; retries `Interrupted`. Returns the
    /// bytes read, 0 at the end of the stream. `needed` is the decoder's last answer.
    #[inline(never)]
    fn fill(&mut self, needed: usize) -> Result<usize, FrameError> {
        // When the current frame cannot end before the end of the buffer, its bytes must move
        // to the front anyway: move them now, while they are fewest, and read into the larger
        // room that leaves.
        if self.end == self.buf.len() || (self.start > 0 && needed > self.buf.len() - self.end) {
            self.make_room();
        }
        loop {
            self.arm_deadline(needed)?;
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(n) => {
                    // A reader that claims more than the room it was given is broken; never
                    // index past the buffer for it.
                    let n = n.min(self.buf.len() - self.end);
                    if n > 0 && self.frame_started.is_none() && self.deadline.is_some() {
                        self.frame_started = Some(Instant::now());
                    }
                    self.end += n;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if is_transient(e.kind()) => {
                    return Err(self
                        .check_deadline(needed)
                        .err()
                        .unwrap_or(FrameError::Io(e)));
                }
                Err(e) => return Err(FrameError::Io(e)),
            }
        }
    }

    /// Makes the buffer's spare room non-empty: moves the current frame's bytes to the
    /// front, or, when they fill the buffer, grows it by at most one step.
    fn make_room(&mut self) {
        if self.start > 0 {
            // Each byte moves at most once: after this the frame starts at 0 until consumed.
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            return;
        }
        // The buffer is full of one frame's bytes (or not yet allocated): grow by one step,
        // never by what a header declares but has not arrived. Capacity thus stays within
        // the bytes received (at most one frame) plus one step.
        self.buf.reserve_exact(self.step);
        self.buf.resize(self.buf.len() + self.step, 0);
    }

    /// Before a read: sets the socket's timeout to the time left of the frame's deadline
    /// while a frame is in progress, and back to the socket's own timeout between frames.
    fn arm_deadline(&mut self, needed: usize) -> Result<(), FrameError> {
        let left = self.check_deadline(needed)?;
        let Some(deadline) = &mut self.deadline else {
            return Ok(());
        };
        let wanted = match left {
            Some(left) => Some(deadline.socket_timeout.map_or(left, |own| own.min(left))),
            None if deadline.changed => deadline.socket_timeout,
            None => return Ok(()),
        };
        (deadline.set)(&self.inner, wanted)?;
        deadline.changed = wanted != deadline.socket_timeout;
        Ok(())
    }

    /// The time left before the current frame's deadline (`None` when no frame is in
    /// progress or no deadline is set), or the `TimedOut` error once it has passed. The
    /// frame's bytes are kept and its clock restarts, so a later call resumes it with a
    /// fresh deadline.
    fn check_deadline(&mut self, needed: usize) -> Result<Option<Duration>, FrameError> {
        let (Some(deadline), Some(started)) = (&self.deadline, self.frame_started) else {
            return Ok(None);
        };
        let elapsed = started.elapsed();
        match deadline.limit.checked_sub(elapsed) {
            Some(left) if !left.is_zero() => Ok(Some(left)),
            _ => {
                self.frame_started = Some(Instant::now());
                let (expected, received) = self.decoder.progress(self.end - self.start, needed);
                Err(FrameError::TimedOut {
                    expected,
                    received,
                    elapsed,
                })
            }
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &FrameConfig {
        self.decoder.config()
    }

    /// Frames and bytes delivered and skipped so far.
    pub fn stats(&self) -> FrameStats {
        self.decoder.stats()
    }

    /// The bytes received and not yet returned as frames (the start of the next frame).
    pub fn read_buffer(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// The buffer's current capacity in bytes: the memory the reader holds for frames.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// The buffer's first size and growth step (see [`with_capacity`](Self::with_capacity)).
    pub fn capacity_step(&self) -> usize {
        self.step
    }

    /// The per-frame deadline, if one is set.
    pub fn frame_timeout(&self) -> Option<Duration> {
        self.deadline.as_ref().map(|d| d.limit)
    }

    /// A reference to the underlying reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// A mutable reference to the underlying reader. Reading from it directly desynchronises
    /// the frames.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The underlying reader. Bytes buffered and not yet returned as frames are dropped; see
    /// [`read_buffer`](Self::read_buffer).
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read + ReadTimeout> FrameReader<R> {
    /// Bounds the time from a frame's first byte to its last; `None` removes the bound.
    ///
    /// A peer that trickles a frame slower than this is cut off with
    /// [`FrameError::TimedOut`], which says how many bytes came; the socket's own read
    /// timeout cannot do that, since it restarts on every read. Time between frames is not
    /// counted, so a quiet connection is never cut off. The bytes received are kept: the
    /// next call resumes the same frame with a fresh deadline.
    ///
    /// The reader sets the socket's read timeout to the time left before each read inside a
    /// frame, and puts the socket's own timeout (read now) back between frames; a timeout
    /// set on the socket later through [`get_mut`](Self::get_mut) is not seen. A zero
    /// duration cuts off every frame that does not arrive whole in one read.
    pub fn set_frame_timeout(&mut self, timeout: Option<Duration>) {
        fn set<R: ReadTimeout>(r: &R, t: Option<Duration>) -> io::Result<()> {
            r.set_read_timeout(t)
        }
        let previous = self.deadline.take();
        let Some(limit) = timeout else {
            if let Some(d) = previous.filter(|d| d.changed) {
                // Best effort: the next read would otherwise run under a frame's deadline.
                let _ = self.inner.set_read_timeout(d.socket_timeout);
            }
            self.frame_started = None;
            return;
        };
        let (socket_timeout, changed) = match previous {
            Some(d) => (d.socket_timeout, d.changed),
            None => (self.inner.read_timeout().unwrap_or(None), false),
        };
        self.deadline = Some(Deadline {
            limit,
            socket_timeout,
            set: set::<R>,
            changed,
        });
        if self.frame_started.is_none() && (self.start < self.end || !self.decoder.is_at_boundary())
        {
            self.frame_started = Some(Instant::now());
        }
    }
}

impl<R> std::fmt::Debug for FrameReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameReader")
            .field("decoder", &self.decoder)
            .field("buffered", &(self.end - self.start))
            .field("capacity", &self.buf.capacity())
            .field("frame_timeout", &self.deadline.as_ref().map(|d| d.limit))
            .finish_non_exhaustive()
    }
}
