//! `FrameReader`: frames from any `std::io::Read`, a blocking front end over [`ReadState`].

use std::io::{self, Read};
use std::ops::Range;
use std::time::{Duration, Instant};

use crate::error::is_transient;
use crate::{
    ConfigError, FrameConfig, FrameDeadline, FrameError, FrameStats, MemoryBudget, ReadState,
    DEFAULT_READ_CAPACITY,
};

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

/// The socket's own read timeout, to put back between frames, and the hook that sets it
/// (captured where `R: ReadTimeout` is known).
struct SocketTimeout<R> {
    own: Option<Duration>,
    set: fn(&R, Option<Duration>) -> io::Result<()>,
    /// Whether the socket's timeout currently differs from `own`.
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
///   allocated on the first read) and grows only when it is full of bytes of one frame:
///   geometrically, but never past twice the bytes received plus one step. A peer that
///   declares 8 MiB and sends 10 bytes costs one step, not 8 MiB.
/// - After a large frame the buffer gives memory back, down to two steps by default
///   ([`set_shrink_to`](Self::set_shrink_to)); with a [`MemoryBudget`]
///   ([`set_budget`](Self::set_budget)), all readers sharing it stay under one limit.
/// - Work is linear in the bytes received: the decoder looks at each header once, and bytes
///   are moved at most once to the front of the buffer.
/// - On sockets, [`set_frame_timeout`](Self::set_frame_timeout) and
///   [`set_frame_deadline`](Self::set_frame_deadline) bound the time from a frame's first
///   byte to its last.
///
/// The buffering, decoding, deadline and memory logic is [`ReadState`]'s; this type only
/// reads and sets socket timeouts.
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
    state: ReadState,
    socket: Option<SocketTimeout<R>>,
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
        Ok(FrameReader {
            inner,
            state: ReadState::with_capacity(config, capacity)?,
            socket: None,
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
        let range = match self.state.decode()? {
            Some(range) => range,
            None => match self.read_more()? {
                Some(range) => range,
                None => return Ok(None),
            },
        };
        Ok(Some(self.state.frame(range)))
    }

    /// Reads until a frame is whole or the stream ends. The frame's clock runs only in
    /// here, and the socket leaves with its own read timeout.
    #[inline(never)]
    fn read_more(&mut self) -> Result<Option<Range<usize>>, FrameError> {
        self.state.resume_clock(Instant::now);
        let result = self.read_until_frame();
        if result.is_err() {
            self.state.pause_clock(Instant::now);
        }
        self.restore_socket_timeout();
        result
    }

    fn read_until_frame(&mut self) -> Result<Option<Range<usize>>, FrameError> {
        loop {
            if self.fill()? == 0 {
                return self.state.end_of_stream();
            }
            if let Some(range) = self.state.decode()? {
                return Ok(Some(range));
            }
        }
    }

    /// Reads once into the buffer; retries `Interrupted`. Returns the bytes read, 0 at the
    /// end of the stream.
    fn fill(&mut self) -> Result<usize, FrameError> {
        loop {
            let armed = self.arm_socket_timeout()?;
            match self.inner.read(self.state.read_buf()?) {
                Ok(n) => {
                    self.state.filled(n, Instant::now);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if is_transient(e.kind()) => {
                    // Only a read that found nothing can tell that the peer is late.
                    let now = Instant::now();
                    self.state.check_deadline(now)?;
                    // The kernel rounds the socket's timeout to its tick and may wake a tick
                    // before the deadline: wait out the rest rather than report `WouldBlock`.
                    // A non-blocking stream answers at once and is not waited for.
                    if armed.is_some_and(|(at, wait)| now.duration_since(at) >= wait / 2) {
                        continue;
                    }
                    return Err(FrameError::Io(e));
                }
                Err(e) => return Err(FrameError::Io(e)),
            }
        }
    }

    /// Before a read inside a frame: sets the socket's timeout to the time left of the
    /// frame's deadline (at least a microsecond, so that bytes already there are still read
    /// after it passed). Returns when and for how long, if the deadline (not the socket's
    /// own, shorter timeout) bounds the read.
    fn arm_socket_timeout(&mut self) -> Result<Option<(Instant, Duration)>, FrameError> {
        let (Some(socket), Some(deadline)) = (&mut self.socket, self.state.deadline()) else {
            return Ok(None);
        };
        let now = Instant::now();
        let left = deadline
            .saturating_duration_since(now)
            .max(Duration::from_micros(1));
        let own_first = socket.own.is_some_and(|own| own < left);
        let wanted = if own_first { socket.own } else { Some(left) };
        (socket.set)(&self.inner, wanted)?;
        socket.changed = wanted != socket.own;
        Ok((!own_first).then_some((now, left)))
    }

    /// Puts the socket's own read timeout back, if a frame's deadline changed it.
    fn restore_socket_timeout(&mut self) {
        if let Some(socket) = self.socket.as_mut().filter(|s| s.changed) {
            // Best effort: on failure it is tried again after the next frame.
            socket.changed = (socket.set)(&self.inner, socket.own).is_err();
        }
    }

    /// Charges every byte the buffer grows beyond its first step to `budget`, shared with
    /// any number of other readers; see [`MemoryBudget`]. `None` stops charging.
    ///
    /// # Errors
    ///
    /// [`FrameError::OverBudget`] when the budget cannot cover what the buffer already
    /// holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::{FrameError, FrameReader, MemoryBudget};
    ///
    /// // 100 KiB in one frame: the first 64 KiB step is the reader's own, the rest is not
    /// // covered by a budget of 1 KiB.
    /// let mut wire = vec![0, 1, 0x90, 0];
    /// wire.resize(4 + 100 * 1024, 7);
    /// let budget = MemoryBudget::new(1024);
    /// let mut reader = FrameReader::new(&wire[..]);
    /// reader.set_budget(Some(budget.clone()))?;
    /// assert!(matches!(
    ///     reader.read_frame(),
    ///     Err(FrameError::OverBudget { requested: 65536, in_use: 0, limit: 1024 })
    /// ));
    /// # Ok::<(), FrameError>(())
    /// ```
    pub fn set_budget(&mut self, budget: Option<MemoryBudget>) -> Result<(), FrameError> {
        self.state.set_budget(budget)
    }

    /// Sets the capacity the buffer gives memory back down to after a frame larger than
    /// it; `None` keeps whatever it grew to. See [`ReadState::set_shrink_to`].
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::FrameReader;
    ///
    /// let mut wire = vec![0, 4, 0, 0]; // one frame of 256 KiB, then one of 1 byte
    /// wire.resize(4 + 256 * 1024, 0);
    /// wire.extend_from_slice(b"\x00\x00\x00\x01!");
    /// let mut reader = FrameReader::new(&wire[..]);
    /// assert_eq!(reader.read_frame()?.map(<[u8]>::len), Some(256 * 1024));
    /// assert!(reader.capacity() > 256 * 1024);
    /// assert_eq!(reader.read_frame()?, Some(&b"!"[..])); // already buffered
    /// assert_eq!(reader.read_frame()?, None); // the next read gives memory back first
    /// assert_eq!(reader.capacity(), 128 * 1024); // two steps
    /// # Ok::<(), lenframe::FrameError>(())
    /// ```
    pub fn set_shrink_to(&mut self, capacity: Option<usize>) {
        self.state.set_shrink_to(capacity);
    }

    /// The configuration in use.
    pub fn config(&self) -> &FrameConfig {
        self.state.config()
    }

    /// Frames and bytes delivered and skipped so far.
    pub fn stats(&self) -> FrameStats {
        self.state.stats()
    }

    /// The bytes received and not yet returned as frames (the start of the next frame).
    pub fn read_buffer(&self) -> &[u8] {
        self.state.read_buffer()
    }

    /// The buffer's current capacity in bytes: the memory the reader holds for frames.
    pub fn capacity(&self) -> usize {
        self.state.capacity()
    }

    /// The buffer's first size and smallest growth step (see
    /// [`with_capacity`](Self::with_capacity)).
    pub fn capacity_step(&self) -> usize {
        self.state.capacity_step()
    }

    /// The per-frame deadline, if one is set.
    pub fn frame_deadline(&self) -> Option<FrameDeadline> {
        self.state.frame_deadline()
    }

    /// The per-frame deadline's initial time, if one is set: the timeout given to
    /// [`set_frame_timeout`](Self::set_frame_timeout).
    pub fn frame_timeout(&self) -> Option<Duration> {
        self.state.frame_deadline().map(|d| d.initial())
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

    /// The underlying reader, with the read timeout it had when lent. Bytes buffered and not
    /// yet returned as frames are dropped: [`into_parts`](Self::into_parts) keeps them.
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::FrameReader;
    ///
    /// let mut reader = FrameReader::new(&b"\x00\x00\x00\x01a"[..]);
    /// assert_eq!(reader.read_frame()?, Some(&b"a"[..]));
    /// assert!(reader.into_inner().is_empty());
    /// # Ok::<(), lenframe::FrameError>(())
    /// ```
    pub fn into_inner(mut self) -> R {
        self.restore_socket_timeout();
        self.inner
    }

    /// Takes the reader apart without losing a byte: the underlying reader (with the read
    /// timeout it had when lent) and the bytes read from it but not yet returned as frames:
    /// the start of the next frame, or whatever follows the framed part of a protocol (the
    /// first bytes of a TLS handshake after a STARTTLS-style upgrade). Read those before
    /// reading the stream again.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Read;
    /// use lenframe::FrameReader;
    ///
    /// // A framed handshake, then the raw protocol, arriving in one read.
    /// let mut reader = FrameReader::new(&b"\x00\x00\x00\x05hello RAW BYTES"[..]);
    /// assert_eq!(reader.read_frame()?, Some(&b"hello"[..]));
    /// let (mut stream, buffered) = reader.into_parts();
    /// let mut raw = buffered;
    /// stream.read_to_end(&mut raw)?;
    /// assert_eq!(raw, b" RAW BYTES");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_parts(mut self) -> (R, Vec<u8>) {
        self.restore_socket_timeout();
        let buffered = self.state.read_buffer().to_vec();
        (self.inner, buffered)
    }

    /// Whether a whole frame is buffered: the next [`read_frame`](Self::read_frame) returns
    /// it without reading from the stream. See [`next_buffered`](Self::next_buffered).
    ///
    /// # Examples
    ///
    /// ```
    /// let wire: &[u8] = b"\x00\x00\x00\x01a\x00\x00\x00\x01b";
    /// let mut reader = lenframe::FrameReader::new(wire);
    /// assert!(!reader.has_frame()); // nothing read yet
    /// assert_eq!(reader.read_frame()?, Some(&b"a"[..]));
    /// assert!(reader.has_frame()); // "b" came in the same read
    /// # Ok::<(), lenframe::FrameError>(())
    /// ```
    pub fn has_frame(&self) -> bool {
        self.state.has_frame()
    }

    /// The next frame if it is already buffered, without reading from the stream:
    /// `Ok(None)` when no whole frame is. For a graceful shutdown: stop reading, then
    /// handle every request already received.
    ///
    /// # Errors
    ///
    /// The decoding errors of [`read_frame`](Self::read_frame): [`FrameError::TooLarge`],
    /// [`FrameError::InvalidHeader`], [`FrameError::ChecksumMismatch`].
    ///
    /// # Examples
    ///
    /// ```
    /// let wire: &[u8] = b"\x00\x00\x00\x01a\x00\x00\x00\x01b\x00\x00";
    /// let mut reader = lenframe::FrameReader::new(wire);
    /// assert_eq!(reader.read_frame()?, Some(&b"a"[..]));
    /// // Shutting down: drain what was received, read nothing more.
    /// let mut drained = Vec::new();
    /// while let Some(frame) = reader.next_buffered()? {
    ///     drained.push(frame.to_vec());
    /// }
    /// assert_eq!(drained, [b"b".to_vec()]);
    /// assert_eq!(reader.read_buffer(), b"\x00\x00"); // half a header: not a request
    /// # Ok::<(), lenframe::FrameError>(())
    /// ```
    pub fn next_buffered(&mut self) -> Result<Option<&[u8]>, FrameError> {
        Ok(self.state.decode()?.map(|range| self.state.frame(range)))
    }

    /// The read side's state: buffer, capacity, deadline and memory settings
    /// ([`ReadState::read_buffer`], [`ReadState::capacity`], ...).
    ///
    /// # Examples
    ///
    /// ```
    /// let reader = lenframe::FrameReader::new(&b""[..]);
    /// assert_eq!(reader.state().capacity(), 0); // nothing allocated before the first read
    /// ```
    pub fn state(&self) -> &ReadState {
        &self.state
    }
}

impl<R: Read + ReadTimeout> FrameReader<R> {
    /// Bounds the time a frame may take; `None` removes the bound. The same as
    /// [`set_frame_deadline`](Self::set_frame_deadline) with [`FrameDeadline::fixed`].
    ///
    /// A frame's time is the time [`read_frame`](Self::read_frame) spends waiting for its
    /// bytes, from the first of them (or from the first wait for the rest of a frame whose
    /// first bytes came with the previous one). A peer that trickles a frame slower than
    /// this is cut off with [`FrameError::TimedOut`], which says how many bytes came; the
    /// socket's own read timeout cannot do that, since it restarts on every read. Time
    /// between frames is not counted, so a quiet connection is never cut off, and neither
    /// is time the application spends between calls, so a slow handler never makes a
    /// pipelining peer late. The deadline is only ever found passed by a read that found
    /// nothing: bytes already there are read first. The bytes received are kept: the next
    /// call resumes the same frame with a fresh deadline. A zero duration cuts off every
    /// frame whose bytes are not already there when they are read.
    pub fn set_frame_timeout(&mut self, timeout: Option<Duration>) {
        self.set_frame_deadline(timeout.map(FrameDeadline::fixed));
    }

    /// Bounds the time a frame may take, fixed or earned by progress at a minimum rate
    /// ([`FrameDeadline::with_rate`]); `None` removes the bound. Time is counted as for
    /// [`set_frame_timeout`](Self::set_frame_timeout); a frame already in progress starts
    /// afresh.
    ///
    /// The reader sets the socket's read timeout to the time left before each read inside a
    /// frame, and puts the socket's own timeout (read now) back before `read_frame` returns,
    /// so between calls (and after [`into_inner`](Self::into_inner),
    /// [`into_parts`](Self::into_parts) or drop) the socket is as it was lent; a timeout set
    /// on the socket later through [`get_mut`](Self::get_mut) is not seen.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::{TcpListener, TcpStream};
    /// use std::time::Duration;
    /// use lenframe::{FrameDeadline, FrameReader};
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0")?;
    /// let _peer = TcpStream::connect(listener.local_addr()?)?;
    /// let mut reader = FrameReader::new(listener.accept()?.0);
    /// // 1 s to start a frame, 1 s more per MB received, 30 s at most.
    /// let rate = FrameDeadline::with_rate(Duration::from_secs(1), 1_000_000, Duration::from_secs(30));
    /// reader.set_frame_deadline(Some(rate));
    /// assert_eq!(reader.frame_deadline(), Some(rate));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_frame_deadline(&mut self, deadline: Option<FrameDeadline>) {
        fn set<R: ReadTimeout>(r: &R, t: Option<Duration>) -> io::Result<()> {
            r.set_read_timeout(t)
        }
        self.state.set_frame_deadline(deadline);
        if deadline.is_none() {
            self.restore_socket_timeout();
            self.socket = None;
        } else if self.socket.is_none() {
            self.socket = Some(SocketTimeout {
                own: self.inner.read_timeout().unwrap_or(None),
                set: set::<R>,
                changed: false,
            });
        }
    }
}

impl<R> std::fmt::Debug for FrameReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameReader")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}
