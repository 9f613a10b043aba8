//! `WriteState`: the sans-IO write side. Batching of small frames, the bookkeeping of
//! vectored writes for large ones, and poisoning, driven by a front end that only writes.

use std::io::{self, IoSlice};

use crate::budget::{recharge, Charge, MemoryBudget};
use crate::config::FrameConfig;
use crate::encoder::{FrameEncoder, Trailer};
use crate::error::{is_transient, ConfigError, FrameError};
use crate::retention::Retention;
use crate::stats::FrameStats;

/// The default size up to which a writer gathers small frames before writing.
pub const DEFAULT_WRITE_CAPACITY: usize = 64 * 1024;

/// The header's length in a plain layout ([`FrameEncoder::plain_max`]).
const PLAIN_HEADER: usize = 4;

/// The write side of a framed stream, without I/O: what has been accepted, what is still
/// to be written, and whether the stream can still be trusted.
///
/// A front end ([`FrameWriter`](crate::FrameWriter), `lenframe::tokio::FrameWriter`, or your
/// own) offers each frame to [`accept`](Self::accept), which either buffers it, asks for the
/// buffer to be written out first, or answers that the frame is large: then
/// [`begin_large`](Self::begin_large) gives a [`LargeWrite`] for a frame to be sent with
/// vectored writes straight from the caller's payload. The front end performs the
/// writes and reports each result back ([`record_write`](Self::record_write),
/// [`large_progress`](Self::large_progress)); the state decides what was accepted and when
/// the stream is poisoned.
///
/// # Accepted means whole
///
/// A frame is accepted whole or not at all: once any byte of it may have reached the
/// stream, all of its other bytes are either written or buffered for the next flush. A
/// front end that gives up on a large frame (a dropped future, a `WouldBlock`) calls
/// [`large_stop`](Self::large_stop), which takes the frame back if none of it was written
/// and buffers the rest of it otherwise.
///
/// # Examples
///
/// ```
/// use lenframe::{Accept, FrameConfig, WriteState};
///
/// let mut state = WriteState::new(FrameConfig::default())?;
/// let mut wire = Vec::new();
/// assert!(matches!(state.accept(b"hi")?, Accept::Buffered));
/// while !state.pending().is_empty() {
///     // A writer that takes three bytes at a time.
///     let n = state.pending().len().min(3);
///     wire.extend_from_slice(&state.pending()[..n]);
///     state.record_write(Ok(n))?;
/// }
/// assert_eq!(wire, b"\x00\x00\x00\x02hi");
/// # Ok::<(), lenframe::FrameError>(())
/// ```
#[derive(Debug)]
pub struct WriteState {
    encoder: FrameEncoder,
    /// Accepted bytes in `buf[..end]`, of which `buf[written..end]` have not gone out yet.
    /// The buffer is initialised throughout: bytes past `end` are room for the next frames
    /// (see [`room`](Self::room)), so that a frame is copied in without a capacity check.
    buf: Vec<u8>,
    written: usize,
    end: usize,
    capacity: usize,
    flow: Flow,
    stats: FrameStats,
    /// How much of a buffer grown by the rest of a large frame is kept once it is written.
    retention: Retention,
    charge: Option<Charge>,
    /// Payloads shorter than this may take [`accept`](Self::accept)'s plain path: the layout
    /// is plain ([`FrameEncoder::plain_max`]), the state open, the frame no larger than the
    /// capacity, and the buffer's room within the capacity. 0 when any of that is not so.
    /// Recomputed by `refresh_plain` whenever one of these changes.
    plain_limit: usize,
}

/// Whether the state takes new frames.
#[derive(Debug, Clone, Copy)]
enum Flow {
    Open,
    /// A large frame of `len` payload bytes was begun and has no outcome yet.
    Large {
        len: usize,
    },
    Poisoned,
}

/// What [`WriteState::accept`] did with a frame.
#[derive(Debug)]
#[must_use]
pub enum Accept {
    /// The frame was copied into the buffer: it is accepted.
    Buffered,
    /// The buffer must be written out ([`WriteState::pending`]) before the frame fits; offer
    /// it again after. Nothing of the frame was accepted.
    FlushFirst,
    /// The frame is larger than the buffer: start it with [`WriteState::begin_large`], send
    /// it with vectored writes of [`WriteState::large_slices`] and report each result to
    /// [`WriteState::large_progress`]. It is not accepted until that says so.
    Large,
}

/// A large frame being written with vectored writes: its header sits in the write buffer
/// behind the bytes accepted before it, and its payload is sent from the caller's slice.
#[derive(Debug)]
pub struct LargeWrite {
    /// Where the frame's header starts in the buffer.
    mark: usize,
    /// Payload bytes written so far.
    sent: usize,
    /// What goes after the payload (a checksum, or nothing), and how much of it went out.
    trailer: Trailer,
    trailer_sent: usize,
    /// The frame was accepted or refused: nothing more to do for it.
    done: bool,
}

impl LargeWrite {
    /// The trailer's bytes not yet written.
    fn trailer_rest(&self) -> &[u8] {
        self.trailer
            .as_bytes()
            .get(self.trailer_sent..)
            .unwrap_or_default()
    }
}

impl Default for WriteState {
    /// A write side for [`FrameConfig::default`], with the default capacity.
    ///
    /// ```
    /// let state = lenframe::WriteState::default();
    /// assert_eq!(state.capacity(), lenframe::DEFAULT_WRITE_CAPACITY);
    /// ```
    fn default() -> Self {
        Self::new(FrameConfig::default()).expect("the default configuration is valid")
    }
}

impl WriteState {
    /// A write side for `config` that gathers up to [`DEFAULT_WRITE_CAPACITY`] bytes.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when the layout is impossible (see [`FrameConfig::validate`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let state = lenframe::WriteState::new(lenframe::FrameConfig::default())?;
    /// assert_eq!(state.capacity(), lenframe::DEFAULT_WRITE_CAPACITY);
    /// # Ok::<(), lenframe::ConfigError>(())
    /// ```
    pub fn new(config: FrameConfig) -> Result<Self, ConfigError> {
        Self::with_capacity(config, DEFAULT_WRITE_CAPACITY)
    }

    /// A write side that gathers frames of up to `capacity` bytes (header included) in its
    /// buffer; larger frames go out with vectored writes.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when the layout is impossible, or `capacity` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::{ConfigError, FrameConfig, WriteState};
    ///
    /// assert!(matches!(
    ///     WriteState::with_capacity(FrameConfig::default(), 0),
    ///     Err(ConfigError::ZeroBufferSize)
    /// ));
    /// ```
    pub fn with_capacity(config: FrameConfig, capacity: usize) -> Result<Self, ConfigError> {
        if capacity == 0 {
            return Err(ConfigError::ZeroBufferSize);
        }
        let mut state = WriteState {
            encoder: FrameEncoder::new(config)?,
            buf: Vec::new(),
            written: 0,
            end: 0,
            capacity,
            flow: Flow::Open,
            stats: FrameStats::default(),
            retention: Retention::new(Some(capacity.saturating_mul(2))),
            charge: None,
            plain_limit: 0,
        };
        state.set_flow(Flow::Open);
        Ok(state)
    }

    /// Sets whether the state takes new frames, and with it `plain_limit` (see
    /// `refresh_plain`, which may also give up room past the capacity).
    fn set_flow(&mut self, flow: Flow) {
        self.flow = flow;
        match flow {
            Flow::Open => self.refresh_plain(),
            Flow::Large { .. } | Flow::Poisoned => self.plain_limit = 0,
        }
    }

    /// Recomputes `plain_limit`. Room past the capacity (left by the rest of a large frame)
    /// is given up, but not freed, once the bytes fit within the capacity again: the plain
    /// path's one bounds check, against the buffer's length, then also keeps to the
    /// capacity.
    fn refresh_plain(&mut self) {
        if self.buf.len() > self.capacity && self.end <= self.capacity {
            self.buf.truncate(self.capacity);
        }
        self.plain_limit = match (self.flow, self.encoder.plain_max()) {
            (Flow::Open, Some(max)) if self.buf.len() <= self.capacity => {
                max.min(self.capacity.saturating_sub(PLAIN_HEADER)) + 1
            }
            _ => 0,
        };
    }

    /// Makes room in the buffer up to `end`.
    #[inline]
    fn room(&mut self, end: usize) {
        if end > self.buf.len() {
            self.grow(end);
        }
    }

    /// Grows the buffer to hold `end` bytes: while frames are batched, by doubling up to the
    /// capacity; past it (only ever a large frame's header or rest), exactly.
    #[inline(never)]
    fn grow(&mut self, end: usize) {
        let len = self.buf.len();
        let new_len = if end <= self.capacity {
            end.max(2 * len).min(self.capacity)
        } else {
            end
        };
        self.buf.reserve_exact(new_len - len);
        self.buf.resize(new_len, 0);
    }

    /// Copies `bytes` in after the accepted ones.
    fn append(&mut self, bytes: &[u8]) {
        let end = self.end + bytes.len();
        self.room(end);
        self.buf[self.end..end].copy_from_slice(bytes);
        self.end = end;
    }

    /// Offers a frame: buffers it, asks for the buffer to be written first, or hands back a
    /// [`LargeWrite`] for a frame larger than the buffer.
    ///
    /// # Errors
    ///
    /// [`FrameError::TooLarge`] / [`FrameError::TooShort`] for a payload the layout refuses,
    /// [`FrameError::Poisoned`] after a hard failure, [`FrameError::WriteUnfinished`] while
    /// a large frame begun earlier has no outcome. Nothing is accepted then.
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::{Accept, FrameConfig, WriteState};
    ///
    /// let mut state = WriteState::with_capacity(FrameConfig::default(), 10)?;
    /// assert!(matches!(state.accept(b"abc")?, Accept::Buffered)); // 7 bytes
    /// assert!(matches!(state.accept(b"def")?, Accept::FlushFirst)); // 7 more do not fit
    /// assert!(matches!(state.accept(&[0; 100])?, Accept::Large));
    /// # Ok::<(), lenframe::FrameError>(())
    /// ```
    // Inlined into each front end's write loop: the small-frame path is a few instructions,
    // and a call would cost as much again in moves of the result.
    #[inline(always)]
    pub fn accept(&mut self, payload: &[u8]) -> Result<Accept, FrameError> {
        let len = payload.len();
        // The plain path: one comparison stands for the state, the layout and the limit, and
        // the slice's bounds check for the room left within the capacity.
        if len < self.plain_limit {
            if let Some(frame) = self.buf.get_mut(self.end..self.end + PLAIN_HEADER + len) {
                let (header, body) = frame.split_at_mut(PLAIN_HEADER);
                header.copy_from_slice(&(len as u32).to_be_bytes());
                body.copy_from_slice(payload);
                self.end += PLAIN_HEADER + len;
                self.count(len);
                return Ok(Accept::Buffered);
            }
        }
        self.check_usable()?;
        let field = self.encoder.field_value(len)?;
        let trailer_len = self.encoder.trailer_len();
        let header_len = self.encoder.header_len(field);
        let frame_len = header_len + len + trailer_len;
        if frame_len > self.capacity {
            return Ok(Accept::Large);
        }
        if self.end + frame_len > self.capacity {
            if self.end - self.written + frame_len > self.capacity {
                // Bytes are pending: a frame no larger than the capacity fits in an empty
                // buffer.
                return Ok(Accept::FlushFirst);
            }
            // Only written bytes stand in the way (a flush stopped short): drop them rather
            // than grow, or a peer that keeps the buffer just short of empty grows it forever.
            self.buf.copy_within(self.written..self.end, 0);
            self.end -= self.written;
            self.written = 0;
            self.refresh_plain();
        }
        let mark = self.end;
        self.room(mark + frame_len);
        let (header, rest) = self.buf[mark..].split_at_mut(header_len);
        self.encoder.write_header(field, header);
        rest[..len].copy_from_slice(payload);
        self.end = mark + header_len + len;
        if trailer_len != 0 {
            self.append_trailer(mark);
        }
        self.count(len);
        Ok(Accept::Buffered)
    }

    /// Appends the checksum of the frame that starts at `mark` in the buffer. Out of line:
    /// it runs for every frame of a checksummed layout and never for the others, whose
    /// small-frame path stays short.
    #[inline(never)]
    fn append_trailer(&mut self, mark: usize) {
        let trailer = self.encoder.trailer(&self.buf[mark..self.end], &[]);
        self.append(trailer.as_bytes());
    }

    /// Starts a frame [`accept`](Self::accept) answered [`Accept::Large`] for: puts its
    /// header behind the buffered bytes and computes its trailer (a checksum, if the layout
    /// has one). Nothing is accepted yet.
    ///
    /// # Errors
    ///
    /// As [`accept`](Self::accept).
    ///
    /// # Examples
    ///
    /// See [`large_slices`](Self::large_slices).
    #[inline(never)]
    pub fn begin_large(&mut self, payload: &[u8]) -> Result<LargeWrite, FrameError> {
        self.check_usable()?;
        let field = self.encoder.field_value(payload.len())?;
        let mark = self.end;
        let end = mark + self.encoder.header_len(field);
        // Room for the header alone past the capacity (`room`): doubling a buffer that
        // holds the rest of an earlier large frame would hold twice that rest.
        self.room(end);
        self.encoder.write_header(field, &mut self.buf[mark..end]);
        self.end = end;
        self.set_flow(Flow::Large { len: payload.len() });
        Ok(LargeWrite {
            mark,
            sent: 0,
            trailer: self.encoder.trailer(&self.buf[mark..self.end], payload),
            trailer_sent: 0,
            done: false,
        })
    }

    /// What to pass to one vectored write of a large frame: the bytes buffered before it and
    /// its header, then the rest of its payload, then the rest of its trailer (empty unless
    /// the layout has a checksum).
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::{Accept, FrameConfig, WriteState};
    ///
    /// let mut state = WriteState::with_capacity(FrameConfig::default(), 4)?;
    /// assert!(matches!(state.accept(b"hello")?, Accept::Large));
    /// let large = state.begin_large(b"hello")?;
    /// let slices = state.large_slices(&large, b"hello");
    /// assert_eq!((&*slices[0], &*slices[1]), (&b"\x00\x00\x00\x05"[..], &b"hello"[..]));
    /// assert!(slices[2].is_empty()); // no checksum in this layout
    /// # Ok::<(), lenframe::FrameError>(())
    /// ```
    #[inline]
    pub fn large_slices<'a>(
        &'a self,
        large: &'a LargeWrite,
        payload: &'a [u8],
    ) -> [IoSlice<'a>; 3] {
        [
            IoSlice::new(&self.buf[self.written..self.end]),
            IoSlice::new(payload.get(large.sent..).unwrap_or_default()),
            IoSlice::new(large.trailer_rest()),
        ]
    }

    /// Records the result of one vectored write of [`large_slices`](Self::large_slices).
    /// Returns `None` while bytes are left to write, and the frame's outcome once there is
    /// one: `Ok(())` when it is accepted, an error when it is not or the stream failed.
    ///
    /// `Interrupted` is ignored (write again); `Ok(0)` is `WriteZero`. On `WouldBlock` or
    /// `TimedOut` after part of the frame went out, the rest is buffered and the frame is
    /// accepted (`Ok(())`); before any of it went out, the frame is taken back and the error
    /// returned. Any other error after part of it went out poisons the state.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io;
    /// use lenframe::{FrameConfig, WriteState};
    ///
    /// let mut state = WriteState::with_capacity(FrameConfig::default(), 4)?;
    /// let payload = b"hello";
    /// let mut large = state.begin_large(payload)?;
    /// assert!(state.large_progress(&mut large, payload, Ok(6)).is_none());
    /// // The peer stops reading: the last 3 bytes stay buffered and the frame is accepted.
    /// let would_block = io::Error::from(io::ErrorKind::WouldBlock);
    /// assert!(matches!(state.large_progress(&mut large, payload, Err(would_block)), Some(Ok(()))));
    /// assert_eq!(state.pending(), b"llo");
    /// # Ok::<(), lenframe::FrameError>(())
    /// ```
    pub fn large_progress(
        &mut self,
        large: &mut LargeWrite,
        payload: &[u8],
        result: io::Result<usize>,
    ) -> Option<Result<(), FrameError>> {
        if large.done {
            return Some(Ok(()));
        }
        let err = match result {
            Ok(0) => io::Error::from(io::ErrorKind::WriteZero),
            Ok(n) => {
                // A writer that claims more than it was given is broken; never count past
                // what it was given.
                let from_buf = n.min(self.end - self.written);
                self.written += from_buf;
                let from_payload = (n - from_buf).min(payload.len() - large.sent);
                large.sent += from_payload;
                let from_trailer = (n - from_buf - from_payload).min(large.trailer_rest().len());
                large.trailer_sent += from_trailer;
                if self.written < self.end
                    || large.sent < payload.len()
                    || !large.trailer_rest().is_empty()
                {
                    return None;
                }
                large.done = true;
                self.set_flow(Flow::Open);
                self.count(payload.len());
                self.clear();
                return Some(Ok(()));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return None,
            Err(e) => e,
        };
        Some(match self.large_stop(large, payload) {
            // Part of the frame is out; the rest is buffered for the next flush.
            true if is_transient(err.kind()) => Ok(()),
            true => {
                // Part of the frame is out and the rest never will be.
                self.set_flow(Flow::Poisoned);
                Err(FrameError::Io(err))
            }
            // Nothing of this frame went out: report the error for the bytes accepted
            // earlier.
            false => Err(self.fail(err)),
        })
    }

    /// Gives up writing a large frame now (its future was dropped, or the front end stops
    /// on `WouldBlock`): if none of it was written it is taken back and `false` returned;
    /// otherwise the rest of it is buffered for the next flush and `true` returned (the frame
    /// is accepted). Never half a frame followed by another one.
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::{FrameConfig, WriteState};
    ///
    /// let mut state = WriteState::with_capacity(FrameConfig::default(), 4)?;
    /// let mut large = state.begin_large(b"hello")?;
    /// assert!(!state.large_stop(&mut large, b"hello"));
    /// assert_eq!(state.pending(), b""); // not accepted: nothing left behind
    /// # Ok::<(), lenframe::FrameError>(())
    /// ```
    pub fn large_stop(&mut self, large: &mut LargeWrite, payload: &[u8]) -> bool {
        if large.done {
            return true;
        }
        large.done = true;
        if self.written <= large.mark {
            // Only the bytes before the frame stay, and of those only what a write (a
            // `record_write` called out of turn) has not already taken.
            self.end = large.mark.min(self.end);
            self.set_flow(Flow::Open);
            return false;
        }
        let (rest, trailer) = (
            payload.get(large.sent..).unwrap_or_default(),
            large.trailer_rest(),
        );
        let old = self.buf.capacity();
        self.room(self.end + rest.len() + trailer.len());
        self.append(rest);
        self.append(trailer);
        self.set_flow(Flow::Open);
        self.retention
            .grow(old, self.buf.capacity(), self.stats.frames);
        if let Some(charge) = &mut self.charge {
            // The rest must go out whatever the budget says: it is charged even past it.
            charge.force(self.buf.capacity().saturating_sub(self.capacity));
        }
        self.count(payload.len());
        true
    }

    /// The accepted bytes not yet written.
    ///
    /// # Examples
    ///
    /// See [`WriteState`].
    #[inline]
    pub fn pending(&self) -> &[u8] {
        &self.buf[self.written..self.end]
    }

    /// Records the result of one write of [`pending`](Self::pending).
    ///
    /// # Errors
    ///
    /// `Interrupted` is ignored (write again). `Ok(0)` is `WriteZero`. Other errors are
    /// returned as [`FrameError::Io`]; one that is not `WouldBlock` or `TimedOut` poisons the
    /// state when accepted bytes are left unwritten.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io;
    /// use lenframe::{FrameConfig, FrameError, WriteState};
    ///
    /// let mut state = WriteState::new(FrameConfig::default())?;
    /// let _ = state.accept(b"x")?;
    /// let reset = io::Error::from(io::ErrorKind::ConnectionReset);
    /// assert!(matches!(state.record_write(Err(reset)), Err(FrameError::Io(_))));
    /// assert!(state.is_poisoned());
    /// assert!(matches!(state.accept(b"y"), Err(FrameError::Poisoned)));
    /// # Ok::<(), FrameError>(())
    /// ```
    #[inline]
    pub fn record_write(&mut self, result: io::Result<usize>) -> Result<(), FrameError> {
        match result {
            Ok(0) => Err(self.fail(io::ErrorKind::WriteZero.into())),
            Ok(n) => {
                self.written = (self.written + n).min(self.end);
                if self.written == self.end {
                    self.clear();
                }
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Refuses everything while the state is poisoned or a large frame is unfinished.
    ///
    /// # Errors
    ///
    /// [`FrameError::Poisoned`] after an earlier hard failure;
    /// [`FrameError::WriteUnfinished`] between [`begin_large`](Self::begin_large) and the
    /// frame's outcome (from [`large_progress`](Self::large_progress) or
    /// [`large_stop`](Self::large_stop)).
    ///
    /// # Examples
    ///
    /// ```
    /// let state = lenframe::WriteState::new(lenframe::FrameConfig::default())?;
    /// assert!(state.check_usable().is_ok());
    /// # Ok::<(), lenframe::ConfigError>(())
    /// ```
    #[inline]
    pub fn check_usable(&self) -> Result<(), FrameError> {
        match self.flow {
            Flow::Open => Ok(()),
            Flow::Large { len } => Err(FrameError::WriteUnfinished { len }),
            Flow::Poisoned => Err(FrameError::Poisoned),
        }
    }

    fn clear(&mut self) {
        self.end = 0;
        self.written = 0;
        if self.buf.len() > self.capacity {
            // Room a large frame's header or buffered rest took past the capacity.
            self.refresh_plain();
        }
        if self.buf.capacity() > self.retention.limit() {
            self.shrink_if_due();
        }
    }

    /// Gives memory back once the rest of a large frame, buffered when its write stopped
    /// part-way, has gone out: with the reader's knob ([`set_shrink_to`](Self::set_shrink_to))
    /// and hysteresis, counted in frames accepted.
    #[inline(never)]
    fn shrink_if_due(&mut self) {
        if !self.retention.due(self.buf.capacity(), self.stats.frames) {
            return;
        }
        self.buf.shrink_to(self.retention.limit());
        if let Some(charge) = &mut self.charge {
            charge.force(self.buf.capacity().saturating_sub(self.capacity));
        }
        self.retention.shrunk(self.stats.frames);
    }

    /// Turns an I/O error into the error to return, poisoning the state when it is not
    /// transient and accepted bytes are left unwritten.
    fn fail(&mut self, e: io::Error) -> FrameError {
        if !is_transient(e.kind()) && self.written < self.end {
            self.set_flow(Flow::Poisoned);
        }
        FrameError::Io(e)
    }

    fn count(&mut self, payload_len: usize) {
        self.stats.frames += 1;
        self.stats.bytes += payload_len as u64;
    }

    /// Whether an earlier hard failure made the state refuse further frames.
    ///
    /// # Examples
    ///
    /// See [`record_write`](Self::record_write).
    pub fn is_poisoned(&self) -> bool {
        matches!(self.flow, Flow::Poisoned)
    }

    /// The configuration in use.
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::{FrameConfig, WriteState};
    ///
    /// let state = WriteState::new(FrameConfig::default().max_frame_len(9))?;
    /// assert_eq!(state.config().get_max_frame_len(), 9);
    /// # Ok::<(), lenframe::ConfigError>(())
    /// ```
    pub fn config(&self) -> &FrameConfig {
        self.encoder.config()
    }

    /// Frames and payload bytes accepted so far.
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::{FrameConfig, WriteState};
    ///
    /// let mut state = WriteState::new(FrameConfig::default())?;
    /// let _ = state.accept(b"abc")?;
    /// assert_eq!((state.stats().frames, state.stats().bytes), (1, 3));
    /// # Ok::<(), lenframe::FrameError>(())
    /// ```
    pub fn stats(&self) -> FrameStats {
        self.stats
    }

    /// The most bytes gathered before writing.
    ///
    /// # Examples
    ///
    /// See [`new`](Self::new).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The bytes the buffer holds allocated: up to the [`capacity`](Self::capacity) while
    /// frames are batched, more while the rest of a large frame whose write stopped
    /// part-way waits to go out, and back within [`shrink_to`](Self::shrink_to) once it has.
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::{Accept, FrameConfig, WriteState};
    ///
    /// let mut state = WriteState::with_capacity(FrameConfig::default(), 16)?;
    /// let payload = [7u8; 1000];
    /// assert!(matches!(state.accept(&payload)?, Accept::Large));
    /// let mut large = state.begin_large(&payload)?;
    /// assert!(state.large_progress(&mut large, &payload, Ok(10)).is_none());
    /// // The write stops part-way (a dropped future): the rest is buffered, and accepted.
    /// assert!(state.large_stop(&mut large, &payload));
    /// assert_eq!(state.pending().len(), 994);
    /// assert!(state.buffer_capacity() >= 994);
    /// while !state.pending().is_empty() {
    ///     let n = state.pending().len();
    ///     state.record_write(Ok(n))?;
    /// }
    /// assert!(state.buffer_capacity() <= 32); // given back: two capacities by default
    /// # Ok::<(), lenframe::FrameError>(())
    /// ```
    pub fn buffer_capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Sets the size the buffer shrinks back to once a large frame's buffered rest has gone
    /// out (at least the [`capacity`](Self::capacity); two capacities by default); `None`
    /// never shrinks. As on the read side ([`ReadState::set_shrink_to`]), if such frames
    /// keep coming soon after a shrink, the next one waits for up to 64 frames.
    ///
    /// [`ReadState::set_shrink_to`]: crate::ReadState::set_shrink_to
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::{FrameConfig, WriteState};
    ///
    /// let mut state = WriteState::with_capacity(FrameConfig::default(), 1024)?;
    /// assert_eq!(state.shrink_to(), Some(2048));
    /// state.set_shrink_to(Some(10));
    /// assert_eq!(state.shrink_to(), Some(1024));
    /// state.set_shrink_to(None);
    /// assert_eq!(state.shrink_to(), None);
    /// # Ok::<(), lenframe::ConfigError>(())
    /// ```
    pub fn set_shrink_to(&mut self, capacity: Option<usize>) {
        self.retention
            .set_keep(capacity.map(|c| c.max(self.capacity)));
    }

    /// The size the buffer shrinks back to; see [`set_shrink_to`](Self::set_shrink_to).
    ///
    /// # Examples
    ///
    /// See [`set_shrink_to`](Self::set_shrink_to).
    pub fn shrink_to(&self) -> Option<usize> {
        self.retention.keep()
    }

    /// Charges every byte the buffer holds beyond its [`capacity`](Self::capacity) to
    /// `budget`, shared with readers and other writers; `None` stops charging. Such bytes
    /// are only ever the rest of a large frame whose write stopped part-way: they must go
    /// out whatever the budget says, so they are charged even past its limit (later growth
    /// of readers on the same budget is then refused until they are written), and given
    /// back once written and on drop. Setting the budget already set changes nothing.
    ///
    /// # Errors
    ///
    /// [`FrameError::OverBudget`] when `budget` cannot cover what the buffer already holds
    /// beyond its capacity; the previous budget stays.
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::{FrameConfig, MemoryBudget, WriteState};
    ///
    /// let budget = MemoryBudget::new(1 << 20);
    /// let mut state = WriteState::new(FrameConfig::default())?;
    /// state.set_budget(Some(budget.clone()))?;
    /// state.set_budget(Some(budget.clone()))?; // the same budget again: nothing changes
    /// assert_eq!(budget.in_use(), 0);
    /// # Ok::<(), lenframe::FrameError>(())
    /// ```
    pub fn set_budget(&mut self, budget: Option<MemoryBudget>) -> Result<(), FrameError> {
        let held = self.buf.capacity().saturating_sub(self.capacity);
        recharge(&mut self.charge, budget, held)
    }

    /// The accepted bytes not yet written, taken out of the state without a copy: what a
    /// front end's `into_parts` hands over so that nothing accepted is lost.
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::{Accept, FrameConfig, WriteState};
    ///
    /// let mut state = WriteState::new(FrameConfig::default())?;
    /// assert!(matches!(state.accept(b"hi")?, Accept::Buffered));
    /// state.record_write(Ok(1))?; // one byte went out
    /// assert_eq!(state.into_pending(), b"\x00\x00\x02hi");
    /// # Ok::<(), lenframe::FrameError>(())
    /// ```
    pub fn into_pending(mut self) -> Vec<u8> {
        self.buf.truncate(self.end);
        self.buf.drain(..self.written);
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_empty_frame_is_done_only_when_its_header_is_out() {
        // A 4-byte header alone is larger than a 2-byte buffer: the vectored path.
        let mut state = WriteState::with_capacity(FrameConfig::default(), 2).unwrap();
        assert!(matches!(state.accept(b"").unwrap(), Accept::Large));
        let mut large = state.begin_large(b"").unwrap();
        let mut wire = Vec::new();
        for _ in 0..3 {
            wire.push(state.large_slices(&large, b"")[0][0]);
            assert!(state.large_progress(&mut large, b"", Ok(1)).is_none());
        }
        wire.push(state.large_slices(&large, b"")[0][0]);
        assert!(matches!(
            state.large_progress(&mut large, b"", Ok(1)),
            Some(Ok(()))
        ));
        assert_eq!(wire, [0, 0, 0, 0]);
        assert_eq!((state.pending(), state.stats().frames), (&b""[..], 1));
    }

    #[test]
    fn only_the_plain_layout_takes_the_plain_path() {
        let plain = |config| WriteState::with_capacity(config, 100).unwrap().plain_limit;
        // Payloads up to the capacity less the header, or up to the limit.
        assert_eq!(plain(FrameConfig::default()), 97);
        assert_eq!(plain(FrameConfig::default().max_frame_len(10)), 11);
        for other in [
            FrameConfig::default().checksum(crate::Checksum::Crc32c),
            FrameConfig::default().length_field(crate::LengthField::U32Le),
            FrameConfig::default().length_adjustment(-4),
        ] {
            assert_eq!(plain(other), 0);
        }
    }

    /// Writes every pending byte.
    fn drain(state: &mut WriteState) -> Vec<u8> {
        let out = state.pending().to_vec();
        state.record_write(Ok(out.len())).unwrap();
        out
    }

    #[test]
    fn the_buffer_grows_by_doubling_up_to_the_capacity_and_no_further() {
        let mut state = WriteState::with_capacity(FrameConfig::default(), 100).unwrap();
        let mut sizes = Vec::new();
        for _ in 0..16 {
            assert!(matches!(state.accept(b"ab").unwrap(), Accept::Buffered));
            sizes.push(state.buffer_capacity());
        }
        // 6 bytes a frame: room for one, then doubled, then the capacity and no more.
        assert_eq!(
            sizes,
            [6, 12, 24, 24, 48, 48, 48, 48, 96, 96, 96, 96, 96, 96, 96, 96]
        );
        // An empty frame fills the capacity exactly: the buffer grows to it, not to twice 96.
        assert!(matches!(state.accept(b"").unwrap(), Accept::Buffered));
        assert_eq!((state.pending().len(), state.buffer_capacity()), (100, 100));
        assert!(matches!(state.accept(b"").unwrap(), Accept::FlushFirst));
        // Once written, the same room takes the next frames with nothing left of the old.
        let mut expected = b"\x00\x00\x00\x02ab".repeat(16);
        expected.extend_from_slice(&[0; 4]);
        assert_eq!(drain(&mut state), expected);
        assert!(matches!(state.accept(b"cd").unwrap(), Accept::Buffered));
        assert_eq!(drain(&mut state), b"\x00\x00\x00\x02cd");
        assert_eq!(state.buffer_capacity(), 100);
        // A layout off the plain path grows the same way, and only when a frame does not
        // fit: 10 bytes a frame with a CRC-32C trailer.
        let config = FrameConfig::default().checksum(crate::Checksum::Crc32c);
        let mut state = WriteState::with_capacity(config, 100).unwrap();
        let mut sizes = Vec::new();
        for _ in 0..10 {
            assert!(matches!(state.accept(b"ab").unwrap(), Accept::Buffered));
            sizes.push(state.buffer_capacity());
        }
        assert_eq!(sizes, [10, 20, 40, 40, 80, 80, 80, 80, 100, 100]);
        assert!(matches!(state.accept(b"ab").unwrap(), Accept::FlushFirst));
    }

    #[test]
    fn written_bytes_make_way_for_a_frame_that_fits_exactly() {
        // 6 bytes buffered, 4 of them written: a frame of 8 fits exactly behind the other 2
        // once they move to the front.
        let mut state = WriteState::with_capacity(FrameConfig::default(), 10).unwrap();
        assert!(matches!(state.accept(b"ab").unwrap(), Accept::Buffered));
        state.record_write(Ok(4)).unwrap();
        assert!(matches!(state.accept(b"wxyz").unwrap(), Accept::Buffered));
        assert_eq!(state.pending(), b"ab\x00\x00\x00\x04wxyz");
        // One byte more and the pending bytes must go first.
        assert!(matches!(state.accept(b"").unwrap(), Accept::FlushFirst));
        // A 1-byte frame (an empty payload behind a varint) and then one of exactly the
        // capacity: that one waits for a flush.
        let config = FrameConfig::default().length_field(crate::LengthField::Varint);
        let mut state = WriteState::with_capacity(config, 10).unwrap();
        assert!(matches!(state.accept(b"").unwrap(), Accept::Buffered));
        assert!(matches!(state.accept(&[5; 9]).unwrap(), Accept::FlushFirst));
        assert_eq!(state.pending(), b"\x00");
    }

    #[test]
    fn room_left_by_a_large_frame_never_batches_past_the_capacity() {
        let mut state = WriteState::with_capacity(FrameConfig::default(), 8).unwrap();
        assert!(matches!(state.accept(b"a").unwrap(), Accept::Buffered));
        // A large frame whose header alone goes past the capacity, taken back unwritten:
        // the buffer holds the first frame again, and the room past the capacity is not
        // used for the next one.
        let payload = [9u8; 20];
        assert!(matches!(state.accept(&payload).unwrap(), Accept::Large));
        let mut large = state.begin_large(&payload).unwrap();
        assert!(!state.large_stop(&mut large, &payload));
        assert_eq!(state.pending(), b"\x00\x00\x00\x01a");
        assert!(matches!(state.accept(b"bc").unwrap(), Accept::FlushFirst));
        assert_eq!(drain(&mut state), b"\x00\x00\x00\x01a");
        // A large frame stopped part-way: its rest is buffered past the capacity, and a
        // small frame waits until the rest has gone out.
        let mut large = state.begin_large(&payload).unwrap();
        assert!(state.large_progress(&mut large, &payload, Ok(6)).is_none());
        assert!(state.large_stop(&mut large, &payload));
        assert_eq!(state.pending(), [9u8; 18]);
        assert_eq!(state.plain_limit, 0);
        assert!(matches!(state.accept(b"bc").unwrap(), Accept::FlushFirst));
        // Most of the rest goes out; an empty frame moves the last 3 bytes to the front
        // and fits behind them, a second would not.
        state.record_write(Ok(15)).unwrap();
        assert!(matches!(state.accept(b"").unwrap(), Accept::Buffered));
        // With the rest moved to the front the room is the capacity again.
        assert_eq!(state.plain_limit, 5);
        assert!(matches!(state.accept(b"").unwrap(), Accept::FlushFirst));
        assert_eq!(drain(&mut state), [9, 9, 9, 0, 0, 0, 0]);
        // With everything written the room is the capacity again, and the plain path
        // takes frames up to it.
        assert_eq!(state.plain_limit, 5);
        for _ in 0..2 {
            assert!(matches!(state.accept(b"").unwrap(), Accept::Buffered));
        }
        assert!(matches!(state.accept(b"").unwrap(), Accept::FlushFirst));
        assert_eq!(drain(&mut state), [0u8; 8]);
        assert_eq!(state.stats().frames, 5);
    }

    #[test]
    fn a_stopped_frame_holds_exactly_its_rest_and_trailer() {
        // 4-byte header, 20-byte payload, 4-byte CRC-32C trailer, in an 8-byte capacity.
        let config = FrameConfig::default().checksum(crate::Checksum::Crc32c);
        let mut expected = Vec::new();
        FrameEncoder::new(config)
            .unwrap()
            .encode(&[3; 20], &mut expected)
            .unwrap();
        let mut state = WriteState::with_capacity(config, 8).unwrap();
        let mut large = state.begin_large(&[3; 20]).unwrap();
        assert!(state.large_progress(&mut large, &[3; 20], Ok(6)).is_none());
        assert!(state.large_stop(&mut large, &[3; 20]));
        // The header and 2 payload bytes went out; the room is the other 22 behind the
        // header's 4, not a byte more.
        assert_eq!(state.pending(), &expected[6..]);
        assert_eq!(state.buffer_capacity(), 4 + 18 + 4);
    }

    #[test]
    fn a_frame_taken_back_after_a_write_out_of_turn_leaves_nothing_twice() {
        // `record_write` between `begin_large` and `large_stop`, for everything pending:
        // the bytes before the frame went out with its header, and none comes back.
        let mut state = WriteState::with_capacity(FrameConfig::default(), 8).unwrap();
        assert!(matches!(state.accept(b"a").unwrap(), Accept::Buffered));
        let mut large = state.begin_large(&[9; 20]).unwrap();
        state.record_write(Ok(9)).unwrap();
        assert!(!state.large_stop(&mut large, &[9; 20]));
        assert_eq!(state.pending(), b"");
        // The same after a stopped frame's rest had grown the buffer past the capacity.
        let mut large = state.begin_large(&[9; 20]).unwrap();
        assert!(state.large_progress(&mut large, &[9; 20], Ok(6)).is_none());
        assert!(state.large_stop(&mut large, &[9; 20]));
        let mut large = state.begin_large(&[9; 20]).unwrap();
        state.record_write(Ok(22)).unwrap();
        assert!(!state.large_stop(&mut large, &[9; 20]));
        assert_eq!(state.pending(), b"");
        assert!(matches!(state.accept(b"b").unwrap(), Accept::Buffered));
        assert_eq!(state.pending(), b"\x00\x00\x00\x01b");
    }

    #[test]
    fn old_bytes_in_the_room_never_reach_the_wire() {
        // Layouts whose headers hold zeros (an offset) or vary in length, after the room
        // held other bytes: every frame is exactly what the encoder makes.
        for config in [
            FrameConfig::default().length_field_offset(3),
            FrameConfig::default().length_field(crate::LengthField::Varint),
            FrameConfig::default().checksum(crate::Checksum::Crc32c),
        ] {
            let encoder = FrameEncoder::new(config).unwrap();
            let mut state = WriteState::with_capacity(config, 64).unwrap();
            assert!(matches!(
                state.accept(&[0xff; 50]).unwrap(),
                Accept::Buffered
            ));
            drain(&mut state);
            let mut expected = Vec::new();
            for payload in [&b"x"[..], &[0xee; 300], b""] {
                encoder.encode(payload, &mut expected).unwrap();
                match state.accept(payload).unwrap() {
                    Accept::Buffered => {}
                    Accept::Large => {
                        let mut large = state.begin_large(payload).unwrap();
                        // The bytes buffered before it, its header and payload, in one write.
                        let wire: Vec<u8> = state
                            .large_slices(&large, payload)
                            .iter()
                            .flat_map(|s| s.iter().copied())
                            .collect();
                        let done = state.large_progress(&mut large, payload, Ok(wire.len()));
                        assert!(matches!(done, Some(Ok(()))), "{config:?}");
                        assert_eq!(wire, expected, "{config:?}");
                        expected.clear();
                        continue;
                    }
                    Accept::FlushFirst => unreachable!("{config:?}"),
                }
            }
            assert_eq!(drain(&mut state), expected, "{config:?}");
        }
    }

    #[test]
    fn the_plain_path_keeps_every_bound() {
        let config = FrameConfig::default().max_frame_len(10);
        // A frame of exactly the capacity is buffered; not a byte more fits after it.
        let mut state = WriteState::with_capacity(config, 14).unwrap();
        assert!(matches!(state.accept(&[7; 10]).unwrap(), Accept::Buffered));
        assert_eq!(
            state.pending(),
            b"\x00\x00\x00\x0a\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07"
        );
        assert!(matches!(state.accept(b"").unwrap(), Accept::FlushFirst));
        // One byte over the limit is refused with its numbers, and nothing is buffered.
        let mut state = WriteState::with_capacity(config, 100).unwrap();
        assert!(matches!(
            state.accept(&[7; 11]),
            Err(FrameError::TooLarge { len: 11, max: 10 })
        ));
        assert_eq!((state.pending(), state.stats().frames), (&b""[..], 0));
        // The limit holds where the capacity would have room, and the capacity where the
        // limit would allow.
        assert!(matches!(state.accept(&[7; 10]).unwrap(), Accept::Buffered));
        let mut state = WriteState::with_capacity(config, 13).unwrap();
        assert!(matches!(state.accept(&[7; 10]).unwrap(), Accept::Large));
        let mut state = WriteState::with_capacity(config, 3).unwrap();
        assert!(matches!(state.accept(b"").unwrap(), Accept::Large));
        // A poisoned state refuses even an empty frame.
        let mut state = WriteState::with_capacity(FrameConfig::default(), 100).unwrap();
        assert!(matches!(state.accept(b"ab").unwrap(), Accept::Buffered));
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        assert!(state.record_write(Err(reset)).is_err());
        assert!(matches!(state.accept(b""), Err(FrameError::Poisoned)));
        assert_eq!(state.stats().frames, 1);
    }

    #[test]
    fn a_new_frame_is_refused_while_a_large_one_is_unfinished() {
        let mut state = WriteState::with_capacity(FrameConfig::default(), 8).unwrap();
        let payload = [1u8; 100];
        assert!(matches!(state.accept(&payload).unwrap(), Accept::Large));
        let mut large = state.begin_large(&payload).unwrap();
        assert!(state.large_progress(&mut large, &payload, Ok(6)).is_none());
        // A front end that returned early without an outcome: nothing else may go out.
        for frame in [&b"x"[..], b""] {
            assert!(matches!(
                state.accept(frame),
                Err(FrameError::WriteUnfinished { len: 100 })
            ));
        }
        assert!(matches!(
            state.begin_large(&payload),
            Err(FrameError::WriteUnfinished { len: 100 })
        ));
        assert!(matches!(
            state.check_usable(),
            Err(FrameError::WriteUnfinished { len: 100 })
        ));
        assert!(!state.is_poisoned());
        // Stopping it keeps the rest (part of it is out) and opens the state again.
        assert!(state.large_stop(&mut large, &payload));
        assert!(matches!(state.accept(b"x").unwrap(), Accept::FlushFirst));
        assert_eq!(state.pending().len(), 98);
        let taken_back = {
            let mut state = WriteState::with_capacity(FrameConfig::default(), 8).unwrap();
            let mut large = state.begin_large(&payload).unwrap();
            // Nothing went out: the frame is taken back whole.
            (
                state.large_stop(&mut large, &payload),
                state.pending().len(),
            )
        };
        assert_eq!(taken_back, (false, 0));
    }

    #[test]
    fn the_rest_of_a_stopped_frame_is_charged_past_the_budget_and_given_back() {
        let budget = MemoryBudget::new(100);
        let mut state = WriteState::with_capacity(FrameConfig::default(), 16).unwrap();
        state.set_budget(Some(budget.clone())).unwrap();
        let payload = [2u8; 1000];
        assert!(matches!(state.accept(&payload).unwrap(), Accept::Large));
        let mut large = state.begin_large(&payload).unwrap();
        assert!(state.large_progress(&mut large, &payload, Ok(4)).is_none());
        assert!(state.large_stop(&mut large, &payload));
        assert_eq!(state.buffer_capacity(), 1004);
        assert_eq!(budget.in_use(), 1004 - 16); // past the limit of 100
        assert!(budget.try_charge(1).is_err());
        state.set_budget(Some(budget.clone())).unwrap(); // the same budget: no refusal
        while !state.pending().is_empty() {
            let n = state.pending().len().min(300);
            state.record_write(Ok(n)).unwrap();
        }
        assert!(state.buffer_capacity() <= 32);
        assert_eq!(budget.in_use(), state.buffer_capacity().saturating_sub(16));
        assert_eq!(state.stats().frames, 1);
        drop(state);
        assert_eq!(budget.in_use(), 0);
    }
}
