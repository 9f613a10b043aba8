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
    /// Accepted bytes; `buf[written..]` have not gone out yet.
    buf: Vec<u8>,
    written: usize,
    capacity: usize,
    flow: Flow,
    stats: FrameStats,
    /// How much of a buffer grown by the rest of a large frame is kept once it is written.
    retention: Retention,
    charge: Option<Charge>,
    /// Payloads shorter than this may take [`accept`](Self::accept)'s plain path: the layout
    /// is plain ([`FrameEncoder::plain_max`]), the state open, and the frame no larger than
    /// the capacity. 0 when any of that is not so. Kept in step with `flow` by `set_flow`.
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

    /// Sets whether the state takes new frames, and with it `plain_limit`.
    fn set_flow(&mut self, flow: Flow) {
        self.flow = flow;
        self.plain_limit = match (flow, self.encoder.plain_max()) {
            (Flow::Open, Some(max)) => max.min(self.capacity.saturating_sub(PLAIN_HEADER)) + 1,
            _ => 0,
        };
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
        // The plain path: one comparison stands for the state, the layout and the limit.
        if len < self.plain_limit && self.buf.len() + len + PLAIN_HEADER <= self.capacity {
            self.buf.extend_from_slice(&(len as u32).to_be_bytes());
            self.buf.extend_from_slice(payload);
            self.count(len);
            return Ok(Accept::Buffered);
        }
        self.check_usable()?;
        let field = self.encoder.field_value(payload.len())?;
        let trailer_len = self.encoder.trailer_len();
        let frame_len = self.encoder.header_len(field) + payload.len() + trailer_len;
        if frame_len > self.capacity {
            return Ok(Accept::Large);
        }
        if self.buf.len() + frame_len > self.capacity {
            if self.buf.len() - self.written + frame_len > self.capacity {
                // Bytes are pending: a frame no larger than the capacity fits in an empty
                // buffer.
                return Ok(Accept::FlushFirst);
            }
            // Only written bytes stand in the way (a flush stopped short): drop them rather
            // than grow, or a peer that keeps the buffer just short of empty grows it forever.
            self.buf.drain(..self.written);
            self.written = 0;
        }
        let mark = self.buf.len();
        self.encoder.append_header(field, &mut self.buf);
        self.buf.extend_from_slice(payload);
        if trailer_len != 0 {
            self.append_trailer(mark);
        }
        self.count(payload.len());
        Ok(Accept::Buffered)
    }

    /// Appends the checksum of the frame that starts at `mark` in the buffer. Out of line:
    /// it runs for every frame of a checksummed layout and never for the others, whose
    /// small-frame path stays short.
    #[inline(never)]
    fn append_trailer(&mut self, mark: usize) {
        let trailer = self.encoder.trailer(&self.buf[mark..], &[]);
        self.buf.extend_from_slice(trailer.as_bytes());
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
        let header = self.encoder.header(payload.len())?;
        let mark = self.buf.len();
        // Room for the header alone: doubling a buffer that holds the rest of an earlier
        // large frame would hold twice that rest.
        self.buf.reserve_exact(header.encoded_len());
        header.write_into(&mut self.buf);
        self.set_flow(Flow::Large { len: payload.len() });
        Ok(LargeWrite {
            mark,
            sent: 0,
            trailer: self.encoder.trailer(&self.buf[mark..], payload),
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
            IoSlice::new(&self.buf[self.written..]),
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
                let from_buf = n.min(self.buf.len() - self.written);
                self.written += from_buf;
                let from_payload = (n - from_buf).min(payload.len() - large.sent);
                large.sent += from_payload;
                let from_trailer = (n - from_buf - from_payload).min(large.trailer_rest().len());
                large.trailer_sent += from_trailer;
                if self.written < self.buf.len()
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
        self.set_flow(Flow::Open);
        if self.written <= large.mark {
            self.buf.truncate(large.mark);
            return false;
        }
        let (rest, trailer) = (
            payload.get(large.sent..).unwrap_or_default(),
            large.trailer_rest(),
        );
        let old = self.buf.capacity();
        self.buf.reserve_exact(rest.len() + trailer.len());
        self.buf.extend_from_slice(rest);
        self.buf.extend_from_slice(trailer);
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
        &self.buf[self.written..]
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
                self.written = (self.written + n).min(self.buf.len());
                if self.written == self.buf.len() {
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
        self.buf.clear();
        self.written = 0;
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
        if !is_transient(e.kind()) && self.written < self.buf.len() {
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

    /// The bytes the buffer holds allocated: up to about the [`capacity`](Self::capacity)
    /// while frames are batched, more while the rest of a large frame whose write stopped
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
