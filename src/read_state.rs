//! `ReadState`: the sans-IO read side. Buffer, decode loop, frame deadline and memory
//! accounting, driven by a front end that only performs reads and waits.

use std::ops::Range;
use std::time::{Duration, Instant};

use crate::budget::{recharge, Charge, MemoryBudget};
use crate::config::FrameConfig;
use crate::deadline::FrameDeadline;
#[cfg(test)]
use crate::deadline::TimeLimit;
use crate::decoder::{Decoded, FrameDecoder};
use crate::error::{ConfigError, FrameError};
use crate::retention::Retention;
use crate::stats::FrameStats;

/// The default size of a reader's first buffer and of its smallest growth step.
pub const DEFAULT_READ_CAPACITY: usize = 64 * 1024;

/// The read side of a framed stream, without I/O: the buffer that bytes are read into, the
/// decode loop over it, the per-frame deadline and the memory the buffer holds.
///
/// A front end ([`FrameReader`](crate::FrameReader), `lenframe::tokio::FrameReader`, or your
/// own over another event loop) drives it with three calls and only performs the reads:
///
/// 1. [`decode`](Self::decode): the next frame if its bytes are buffered;
/// 2. otherwise [`read_buf`](Self::read_buf): the room to read into, then
///    [`filled`](Self::filled) with the bytes the read returned and the time it returned, or
///    [`end_of_stream`](Self::end_of_stream) when it returned none;
/// 3. while waiting, [`deadline`](Self::deadline) says until when, and
///    [`check_deadline`](Self::check_deadline) turns an expired wait into
///    [`FrameError::TimedOut`].
///
/// Time enters only as the `Instant` values passed in, so the deadline logic is tested
/// without sleeping.
///
/// # Bounds
///
/// - A declared payload over [`FrameConfig::max_frame_len`] is refused as soon as its header
///   is decoded ([`FrameError::TooLarge`]), before room is made for its payload.
/// - The buffer starts at one step ([`with_capacity`](Self::with_capacity), 64 KiB by
///   default) and grows only when it is full of one frame's bytes: by at least one step, by
///   at most what it holds and never by more than the frame still needs, unless that is
///   under a step. Its capacity thus stays within twice the bytes received of the largest
///   frame, plus one step: a peer that declares 8 MiB and sends 10 bytes costs one step, and
///   an 8 MiB frame costs O(log n) reallocations.
/// - Once a frame larger than the retained size ([`set_shrink_to`](Self::set_shrink_to), two
///   steps by default) has been delivered and the bytes still buffered fit in one step, the
///   buffer shrinks back as soon as it is next asked for a frame ([`decode`](Self::decode)
///   or [`read_buf`](Self::read_buf)), whether the next frame is already buffered or must
///   be read. If large frames keep returning soon after a
///   shrink, the next shrink waits for up to 64 small frames, so a stream that alternates
///   large and small frames does not reallocate on every frame.
/// - With a [`MemoryBudget`], every byte of growth beyond the first step is charged to it
///   first, and given back on shrink and drop.
///
/// # Examples
///
/// ```
/// use std::io::Read;
/// use std::time::Instant;
/// use lenframe::{FrameConfig, ReadState};
///
/// let mut wire: &[u8] = b"\x00\x00\x00\x02hi\x00\x00\x00\x01!";
/// let mut state = ReadState::new(FrameConfig::default())?;
/// let mut frames = Vec::new();
/// loop {
///     if let Some(range) = state.decode()? {
///         frames.push(state.frame(range).to_vec());
///         continue;
///     }
///     let n = wire.read(state.read_buf()?)?;
///     if n == 0 {
///         assert!(state.end_of_stream()?.is_none()); // a clean end
///         break;
///     }
///     state.filled(n, Instant::now);
/// }
/// assert_eq!(frames, [b"hi".to_vec(), b"!".to_vec()]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ReadState {
    decoder: FrameDecoder,
    /// Fully initialised; `buf[start..end]` holds the bytes received and not consumed, which
    /// always begin at the current frame (or, while discarding, inside it).
    buf: Vec<u8>,
    start: usize,
    end: usize,
    step: usize,
    /// The decoder's last `Incomplete` answer.
    needed: usize,
    /// The capacity the buffer shrinks back to, counted in frames delivered or skipped.
    retention: Retention,
    frame_deadline: Option<FrameDeadline>,
    /// The current frame's clock; only kept while a deadline is set.
    clock: Option<Clock>,
    charge: Option<Charge>,
    /// Payloads shorter than this are taken by `decode`'s first lines: the decoder's
    /// [`plain_limit`](FrameDecoder::plain_limit) while no frame deadline is set and the
    /// buffer is within its retained size; 0 otherwise. `refresh_plain` recomputes it after
    /// every change to one of these.
    plain_limit: usize,
}

/// The time a front end has waited for the current frame's bytes, and how many came.
#[derive(Debug, Clone, Copy)]
struct Clock {
    wait: Wait,
    received: u64,
}

/// Whether a front end is waiting for the current frame's bytes.
#[derive(Debug, Clone, Copy)]
enum Wait {
    /// Waiting: `now - since` is the frame's waiting time (pauses shift `since` forward).
    Since(Instant),
    /// Not waiting (the application has control): the waiting time so far.
    Paused(Duration),
}

impl Clock {
    /// A clock for bytes that arrived while nobody waited for them.
    fn paused(received: u64) -> Self {
        Clock {
            wait: Wait::Paused(Duration::ZERO),
            received,
        }
    }

    fn elapsed(&self, now: Instant) -> Duration {
        match self.wait {
            Wait::Since(since) => now.saturating_duration_since(since),
            Wait::Paused(elapsed) => elapsed,
        }
    }

    fn resume(&mut self, now: impl FnOnce() -> Instant) {
        if let Wait::Paused(elapsed) = self.wait {
            let now = now();
            self.wait = Wait::Since(now.checked_sub(elapsed).unwrap_or(now));
        }
    }
}

impl ReadState {
    /// A read side for `config`, with the default step ([`DEFAULT_READ_CAPACITY`]).
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when the layout is impossible (see [`FrameConfig::validate`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let state = lenframe::ReadState::new(lenframe::FrameConfig::default())?;
    /// assert_eq!(state.capacity(), 0); // nothing is allocated before the first read
    /// # Ok::<(), lenframe::ConfigError>(())
    /// ```
    pub fn new(config: FrameConfig) -> Result<Self, ConfigError> {
        Self::with_capacity(config, DEFAULT_READ_CAPACITY)
    }

    /// A read side whose buffer starts at `step` bytes and grows by at least `step` at a
    /// time.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when the layout is impossible, or `step` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::{ConfigError, FrameConfig, ReadState};
    ///
    /// let mut state = ReadState::with_capacity(FrameConfig::default(), 4096)?;
    /// assert_eq!(state.read_buf()?.len(), 4096);
    /// assert!(matches!(
    ///     ReadState::with_capacity(FrameConfig::default(), 0),
    ///     Err(ConfigError::ZeroBufferSize)
    /// ));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_capacity(config: FrameConfig, step: usize) -> Result<Self, ConfigError> {
        if step == 0 {
            return Err(ConfigError::ZeroBufferSize);
        }
        let mut state = ReadState {
            decoder: FrameDecoder::new(config)?,
            buf: Vec::new(),
            start: 0,
            end: 0,
            step,
            needed: 1,
            retention: Retention::new(Some(step.saturating_mul(2))),
            frame_deadline: None,
            clock: None,
            charge: None,
            plain_limit: 0,
        };
        state.refresh_plain();
        Ok(state)
    }

    /// Recomputes `plain_limit`.
    #[inline]
    fn refresh_plain(&mut self) {
        let limit = self.decoder.plain_limit();
        self.plain_limit = if limit != 0
            && self.frame_deadline.is_none()
            && self.buf.len() <= self.retention.limit()
        {
            limit
        } else {
            0
        };
    }

    /// Decodes the next frame from the buffered bytes.
    ///
    /// Returns where the frame lies (pass it to [`frame`](Self::frame), which borrows it
    /// until the next call that takes `&mut self`), or `Ok(None)` when more bytes must be
    /// read first. Bytes of an oversized frame being discarded under
    /// [`Oversize::Skip`](crate::Oversize::Skip) are dropped on the way.
    ///
    /// # Errors
    ///
    /// [`FrameError::TooLarge`] and [`FrameError::InvalidHeader`], as
    /// [`FrameDecoder::decode`]: fatal, and returned again on every call, except `TooLarge`
    /// under `Oversize::Skip`, which is returned once.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Instant;
    /// use lenframe::{FrameConfig, ReadState};
    ///
    /// let mut state = ReadState::new(FrameConfig::default())?;
    /// let wire = b"\x00\x00\x00\x02hi\x00\x00";
    /// state.read_buf()?[..wire.len()].copy_from_slice(wire);
    /// state.filled(wire.len(), Instant::now);
    /// let range = state.decode()?.unwrap();
    /// assert_eq!(state.frame(range), b"hi");
    /// assert_eq!(state.decode()?, None); // half of the next header
    /// assert_eq!(state.read_buffer(), b"\x00\x00");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    // Inlined into each front end's read loop, where most calls find a whole frame.
    #[inline(always)]
    pub fn decode(&mut self) -> Result<Option<Range<usize>>, FrameError> {
        // A whole plain frame, with nothing else to do (see `plain_limit`): its length and
        // its bytes are all there is to check.
        if let Some((header, rest)) = self.buf[self.start..self.end].split_first_chunk::<4>() {
            let len = u32::from_be_bytes(*header) as usize;
            if len < self.plain_limit && len <= rest.len() {
                let at = self.start + 4;
                self.start = at + len;
                self.decoder.count_plain(len);
                return Ok(Some(at..at + len));
            }
        }
        let result = self.decode_general();
        self.refresh_plain();
        result
    }

    /// [`decode`](Self::decode) for everything but a whole plain frame.
    #[inline(always)]
    fn decode_general(&mut self) -> Result<Option<Range<usize>>, FrameError> {
        // As in `read_buf`: only a buffer that grew and holds no more than a step may shrink.
        if self.buf.len() > self.retention.limit() && self.end - self.start <= self.step {
            self.shrink_if_due();
        }
        // A whole frame of the default layout at a boundary: one step, as `Frames` takes it.
        if let Some((frame, consumed)) = self.decoder.take_whole(&self.buf[self.start..self.end]) {
            let base = self.start;
            self.consume(consumed);
            return Ok(Some(base + frame.start..base + frame.end));
        }
        loop {
            match self.decoder.decode(&self.buf[self.start..self.end])? {
                Decoded::Frame { frame, consumed } => {
                    let base = self.start;
                    self.consume(consumed);
                    return Ok(Some(base + frame.start..base + frame.end));
                }
                Decoded::Skipped { consumed } => self.consume(consumed),
                Decoded::Incomplete { needed } => {
                    self.needed = needed;
                    return Ok(None);
                }
            }
        }
    }

    /// The bytes of a frame [`decode`](Self::decode) or
    /// [`end_of_stream`](Self::end_of_stream) returned.
    ///
    /// Pass the range of the last of those calls, before any other call that takes
    /// `&mut self`: a range kept from earlier gives whatever bytes now lie there, not the
    /// frame.
    ///
    /// # Panics
    ///
    /// When `range` lies outside the buffer (a range kept from before the buffer shrank or
    /// was taken).
    ///
    /// # Examples
    ///
    /// See [`decode`](Self::decode).
    #[inline]
    pub fn frame(&self, range: Range<usize>) -> &[u8] {
        &self.buf[range]
    }

    /// Drops `n` consumed bytes from the front of the buffer.
    #[inline]
    fn consume(&mut self, n: usize) {
        // An emptied buffer starts again at its front at the next read (`read_buf`).
        self.start += n;
        if self.frame_deadline.is_some() && self.decoder.is_at_boundary() {
            // Bytes left over belong to the next frame, whose clock runs only once a front
            // end waits for the rest of it: the application's time with this frame is its own.
            self.clock =
                (self.start < self.end).then(|| Clock::paused((self.end - self.start) as u64));
        }
    }

    /// The room to read into: the buffer's spare bytes, never empty.
    ///
    /// Makes room first when the buffer is full: moves the current frame's bytes to the
    /// front, or grows the buffer (see [Bounds](Self#bounds)); gives memory back when a
    /// large frame was delivered. After reading `n` bytes into the front of the returned
    /// slice, call [`filled`](Self::filled).
    ///
    /// # Errors
    ///
    /// [`FrameError::OverBudget`] when a growth cannot be covered by the
    /// [`MemoryBudget`]; nothing is lost, and a later call may succeed once other readers
    /// gave memory back.
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::{FrameConfig, ReadState};
    ///
    /// let mut state = ReadState::with_capacity(FrameConfig::default(), 16)?;
    /// assert_eq!(state.read_buf()?.len(), 16);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn read_buf(&mut self) -> Result<&mut [u8], FrameError> {
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        }
        if self.end == self.buf.len()
            || (self.start > 0 && self.needed > self.buf.len() - self.end)
            || (self.buf.len() > self.retention.limit() && self.end - self.start <= self.step)
        {
            self.make_room()?;
        }
        Ok(&mut self.buf[self.end..])
    }

    /// Records that `n` bytes were read into the front of [`read_buf`](Self::read_buf)'s
    /// slice. Zero means nothing (the end of the stream is
    /// [`end_of_stream`](Self::end_of_stream)); a count past the room given is cut to it.
    ///
    /// `now` tells when the read returned; it is called only while a frame deadline is set,
    /// so a reader without one never reads the clock (a peer sending one byte per read costs
    /// no clock read per byte).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Instant;
    /// use lenframe::{FrameConfig, ReadState};
    ///
    /// let mut state = ReadState::new(FrameConfig::default())?;
    /// state.read_buf()?[..3].copy_from_slice(b"\x00\x00\x00");
    /// state.filled(3, Instant::now);
    /// assert_eq!(state.read_buffer(), b"\x00\x00\x00");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn filled(&mut self, n: usize, now: impl FnOnce() -> Instant) {
        // A reader that claims more than the room it was given is broken; never index past
        // the buffer for it.
        let n = n.min(self.buf.len() - self.end);
        self.end += n;
        if self.frame_deadline.is_some() && n > 0 {
            let clock = self.clock.get_or_insert(Clock::paused(0));
            // Bytes came from a read, so a front end was waiting (whether or not it said so
            // with `resume_clock`).
            clock.resume(now);
            clock.received = clock.received.saturating_add(n as u64);
        }
    }

    /// The stream ended: returns a frame still buffered, `Ok(None)` at a frame boundary, or
    /// the error for a frame cut short. Calling it again answers the same.
    ///
    /// # Errors
    ///
    /// [`FrameError::Truncated`] with the frame's expected and received byte counts when the
    /// stream ended inside a header, a payload or a frame being discarded; the bytes stay
    /// buffered. The decoder's fatal error if it has one.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Instant;
    /// use lenframe::{FrameConfig, FrameError, ReadState};
    ///
    /// let mut state = ReadState::new(FrameConfig::default())?;
    /// state.read_buf()?[..6].copy_from_slice(b"\x00\x00\x00\x05he");
    /// state.filled(6, Instant::now);
    /// assert!(matches!(
    ///     state.end_of_stream(),
    ///     Err(FrameError::Truncated { expected: 9, received: 6 })
    /// ));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn end_of_stream(&mut self) -> Result<Option<Range<usize>>, FrameError> {
        if let Some(range) = self.decode()? {
            return Ok(Some(range));
        }
        // decode() just answered Incomplete for these bytes, so at the end they are either
        // nothing (a clean end) or a frame cut short.
        if self.start == self.end && self.decoder.is_at_boundary() {
            return Ok(None);
        }
        let (expected, received) = self.decoder.progress(self.end - self.start, self.needed);
        Err(FrameError::Truncated { expected, received })
    }

    /// Makes the buffer's spare room non-empty and fit for the frame: gives memory back
    /// after a large frame, moves the current frame's bytes to the front, or grows.
    #[inline(never)]
    fn make_room(&mut self) -> Result<(), FrameError> {
        self.shrink_if_due();
        if self.start > 0 && (self.end == self.buf.len() || self.needed > self.buf.len() - self.end)
        {
            self.compact();
        }
        if self.end < self.buf.len() {
            return Ok(());
        }
        // The buffer is full of one frame's bytes (or not yet allocated): grow by at least
        // one step and at most what it holds, never by what a header declares but has not
        // arrived: capacity stays within twice the bytes received plus one step.
        let len = self.buf.len();
        let grow = len.min(self.needed).max(self.step);
        let new_len = len.saturating_add(grow);
        self.charge_for(new_len)?;
        self.retention.grow(len, new_len, self.frames_seen());
        self.buf.reserve_exact(grow);
        self.buf.resize(new_len, 0);
        self.refresh_plain();
        Ok(())
    }

    /// Moves the buffered bytes to the front. Each byte moves at most once: after this the
    /// frame starts at 0 until consumed.
    fn compact(&mut self) {
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
    }

    /// Gives memory back when the buffer grew past the retained size, what it holds fits in
    /// one step, and enough frames passed since it last grew. Runs before each decode and
    /// each read, so a reader that delivered a large frame holds the retained size again as
    /// soon as it is next asked for a frame, whether or not it then reads.
    #[inline(never)]
    fn shrink_if_due(&mut self) {
        let frames = self.frames_seen();
        if self.end - self.start > self.step || !self.retention.due(self.buf.len(), frames) {
            return;
        }
        self.compact();
        // What is buffered fits in one step, which is at most the retained size.
        self.buf.truncate(self.retention.limit());
        self.buf.shrink_to_fit();
        // A smaller charge is always granted.
        let _ = self.charge_for(self.buf.len());
        self.retention.shrunk(frames);
    }

    /// Charges the budget, if any, for a buffer of `len` bytes (its first step is free).
    fn charge_for(&mut self, len: usize) -> Result<(), FrameError> {
        match &mut self.charge {
            Some(charge) => charge.resize(len.saturating_sub(self.step)),
            None => Ok(()),
        }
    }

    fn frames_seen(&self) -> u64 {
        let stats = self.decoder.stats();
        stats.frames + stats.skipped_frames
    }

    /// When the current frame times out: `None` between frames, without a deadline, or while
    /// the frame's clock is paused (nobody waits for its bytes).
    ///
    /// A front end waits for bytes no later than this, then calls
    /// [`check_deadline`](Self::check_deadline). The instant moves later as bytes arrive
    /// when the deadline earns time by rate ([`FrameDeadline::with_rate`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use lenframe::{FrameConfig, FrameDeadline, ReadState};
    ///
    /// let mut state = ReadState::new(FrameConfig::default())?;
    /// let t0 = Instant::now();
    /// state.set_frame_deadline(Some(FrameDeadline::fixed(Duration::from_secs(1))));
    /// assert_eq!(state.deadline(), None); // idle: no frame in progress
    /// state.read_buf()?[0] = 0;
    /// state.filled(1, || t0);
    /// assert_eq!(state.deadline(), Some(t0 + Duration::from_secs(1)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn deadline(&self) -> Option<Instant> {
        let (deadline, clock) = (self.frame_deadline?, self.clock?);
        match clock.wait {
            Wait::Since(since) => Some(deadline.deadline(since, clock.received)),
            Wait::Paused(_) => None,
        }
    }

    /// Says whether the current frame's deadline has passed at `now`.
    ///
    /// # Errors
    ///
    /// [`FrameError::TimedOut`] once it has, with the frame's byte counts, the time spent
    /// waiting for them and the bound it hit. Never while the clock is paused. `expected`
    /// comes from the last [`decode`](Self::decode): call it after each
    /// [`filled`](Self::filled), as the front ends do, or the count may predate the header.
    /// The frame's bytes are kept and its clock restarts, paused: the next wait resumes the
    /// same frame with a fresh deadline.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use lenframe::{FrameConfig, FrameDeadline, FrameError, ReadState, TimeLimit};
    ///
    /// let mut state = ReadState::new(FrameConfig::default())?;
    /// let t0 = Instant::now();
    /// state.set_frame_deadline(Some(FrameDeadline::fixed(Duration::from_secs(1))));
    /// state.read_buf()?[..5].copy_from_slice(b"\x00\x00\x00\x09a");
    /// state.filled(5, || t0);
    /// assert_eq!(state.decode()?, None);
    /// assert!(state.check_deadline(t0 + Duration::from_millis(999)).is_ok());
    /// assert!(matches!(
    ///     state.check_deadline(t0 + Duration::from_secs(1)),
    ///     Err(FrameError::TimedOut {
    ///         expected: 13,
    ///         received: 5,
    ///         limit: TimeLimit::Fixed(_),
    ///         ..
    ///     })
    /// ));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check_deadline(&mut self, now: Instant) -> Result<(), FrameError> {
        let (Some(deadline), Some(clock)) = (self.frame_deadline, self.clock) else {
            return Ok(());
        };
        let Wait::Since(since) = clock.wait else {
            return Ok(()); // nobody is waiting: the application's time is not the peer's
        };
        if now < deadline.deadline(since, clock.received) {
            return Ok(());
        }
        self.clock = Some(Clock::paused(0));
        let (expected, received) = self.decoder.progress(self.end - self.start, self.needed);
        Err(FrameError::TimedOut {
            expected,
            received,
            elapsed: clock.elapsed(now),
            limit: deadline.limit_hit(clock.received),
        })
    }

    /// Sets how long a frame may take from its first byte to its last, counted in waiting
    /// time (see [`resume_clock`](Self::resume_clock)); `None` removes the bound. A frame
    /// already in progress starts afresh: its time counts from the next wait for its bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use lenframe::{FrameConfig, FrameDeadline, ReadState};
    ///
    /// let mut state = ReadState::new(FrameConfig::default())?;
    /// let rate = FrameDeadline::with_rate(Duration::from_secs(1), 1 << 20, Duration::from_secs(30));
    /// state.set_frame_deadline(Some(rate));
    /// assert_eq!(state.frame_deadline(), Some(rate));
    /// # Ok::<(), lenframe::ConfigError>(())
    /// ```
    pub fn set_frame_deadline(&mut self, deadline: Option<FrameDeadline>) {
        self.frame_deadline = deadline;
        self.refresh_plain();
        // A frame in progress starts afresh: its time is counted from the next wait.
        self.clock = (deadline.is_some() && self.in_frame())
            .then(|| Clock::paused((self.end - self.start) as u64));
    }

    /// Starts the current frame's clock again: a front end is about to wait for its bytes.
    ///
    /// A frame's time is the time front ends spend waiting for its bytes, never the time
    /// the application spends between calls: bytes that arrived with the previous frame
    /// start the next frame's clock paused, and [`pause_clock`](Self::pause_clock) stops it
    /// when a front end returns (or a future is dropped) without the frame. Call this before
    /// each wait for bytes; [`filled`](Self::filled) resumes the clock too, so a front end
    /// that forgets is cut no later than it would be by bytes arriving. `now` is called only
    /// when a paused clock starts.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use lenframe::{FrameConfig, FrameDeadline, ReadState};
    ///
    /// let second = Duration::from_secs(1);
    /// let mut state = ReadState::new(FrameConfig::default())?;
    /// state.set_frame_deadline(Some(FrameDeadline::fixed(second)));
    /// // One read brings a whole frame and the first byte of the next.
    /// let wire = b"\x00\x00\x00\x01a\x00";
    /// state.read_buf()?[..6].copy_from_slice(wire);
    /// let t0 = Instant::now();
    /// state.filled(6, || t0);
    /// assert!(state.decode()?.is_some());
    /// assert_eq!(state.decode()?, None);
    /// // The application handles "a" for an hour; the next frame's clock does not run...
    /// assert_eq!(state.deadline(), None);
    /// // ...until a front end waits for the rest of it.
    /// let t1 = t0 + 3600 * second;
    /// state.resume_clock(|| t1);
    /// assert_eq!(state.deadline(), Some(t1 + second));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn resume_clock(&mut self, now: impl FnOnce() -> Instant) {
        if let Some(clock) = &mut self.clock {
            clock.resume(now);
        }
    }

    /// Stops the current frame's clock: the front end returns without the frame (a
    /// transient error such as `WouldBlock`, or a dropped future), and the time until the
    /// next [`resume_clock`](Self::resume_clock) is the application's, not the peer's. `now`
    /// is called only when a running clock stops.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use lenframe::{FrameConfig, FrameDeadline, ReadState};
    ///
    /// let ms = Duration::from_millis;
    /// let mut state = ReadState::new(FrameConfig::default())?;
    /// state.set_frame_deadline(Some(FrameDeadline::fixed(ms(100))));
    /// let t0 = Instant::now();
    /// state.read_buf()?[0] = 0;
    /// state.filled(1, || t0);
    /// state.pause_clock(|| t0 + ms(30)); // waited 30 ms, then gave up for now
    /// assert_eq!(state.frame_elapsed(t0 + ms(500)), Some(ms(30)));
    /// state.resume_clock(|| t0 + ms(500));
    /// assert_eq!(state.deadline(), Some(t0 + ms(570))); // 70 ms left
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn pause_clock(&mut self, now: impl FnOnce() -> Instant) {
        if let Some(clock) = &mut self.clock {
            if let Wait::Since(since) = clock.wait {
                clock.wait = Wait::Paused(now().saturating_duration_since(since));
            }
        }
    }

    /// The per-frame deadline, if one is set.
    ///
    /// # Examples
    ///
    /// ```
    /// let state = lenframe::ReadState::new(lenframe::FrameConfig::default())?;
    /// assert_eq!(state.frame_deadline(), None);
    /// # Ok::<(), lenframe::ConfigError>(())
    /// ```
    pub fn frame_deadline(&self) -> Option<FrameDeadline> {
        self.frame_deadline
    }

    /// Whether part of a frame has been received (or an oversized one is being discarded).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Instant;
    /// use lenframe::{FrameConfig, ReadState};
    ///
    /// let mut state = ReadState::new(FrameConfig::default())?;
    /// assert!(!state.in_frame());
    /// state.read_buf()?[0] = 0;
    /// state.filled(1, Instant::now);
    /// assert!(state.in_frame());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn in_frame(&self) -> bool {
        self.start < self.end || !self.decoder.is_at_boundary()
    }

    /// Sets the capacity the buffer gives memory back down to after a large frame; `None`
    /// keeps whatever it grew to. Values under one step are raised to one step. The default
    /// is two steps.
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::{FrameConfig, ReadState};
    ///
    /// let mut state = ReadState::with_capacity(FrameConfig::default(), 1024)?;
    /// assert_eq!(state.shrink_to(), Some(2048));
    /// state.set_shrink_to(Some(10));
    /// assert_eq!(state.shrink_to(), Some(1024));
    /// state.set_shrink_to(None);
    /// assert_eq!(state.shrink_to(), None);
    /// # Ok::<(), lenframe::ConfigError>(())
    /// ```
    pub fn set_shrink_to(&mut self, capacity: Option<usize>) {
        self.retention.set_keep(capacity.map(|c| c.max(self.step)));
        self.refresh_plain();
    }

    /// The capacity the buffer shrinks back to, if it does.
    ///
    /// # Examples
    ///
    /// See [`set_shrink_to`](Self::set_shrink_to).
    pub fn shrink_to(&self) -> Option<usize> {
        self.retention.keep()
    }

    /// Charges every byte the buffer grows beyond its first step to `budget`; `None` stops
    /// charging. What is charged now moves to the new budget.
    ///
    /// # Errors
    ///
    /// [`FrameError::OverBudget`] when the new budget cannot cover what the buffer already
    /// holds; the old setting is then kept.
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::{FrameConfig, MemoryBudget, ReadState};
    ///
    /// let budget = MemoryBudget::new(1 << 20);
    /// let mut state = ReadState::new(FrameConfig::default())?;
    /// state.set_budget(Some(budget.clone()))?;
    /// assert_eq!(budget.in_use(), 0); // the first step is the reader's own
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_budget(&mut self, budget: Option<MemoryBudget>) -> Result<(), FrameError> {
        let held = self.buf.len().saturating_sub(self.step);
        recharge(&mut self.charge, budget, held)
    }

    /// The configuration in use.
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::{FrameConfig, ReadState};
    ///
    /// let state = ReadState::new(FrameConfig::default().max_frame_len(10))?;
    /// assert_eq!(state.config().get_max_frame_len(), 10);
    /// # Ok::<(), lenframe::ConfigError>(())
    /// ```
    pub fn config(&self) -> &FrameConfig {
        self.decoder.config()
    }

    /// Frames and bytes delivered and skipped so far.
    ///
    /// # Examples
    ///
    /// ```
    /// let state = lenframe::ReadState::new(lenframe::FrameConfig::default())?;
    /// assert_eq!(state.stats().frames, 0);
    /// # Ok::<(), lenframe::ConfigError>(())
    /// ```
    pub fn stats(&self) -> FrameStats {
        self.decoder.stats()
    }

    /// The bytes received and not yet returned as frames (the start of the next frame).
    ///
    /// # Examples
    ///
    /// See [`decode`](Self::decode).
    pub fn read_buffer(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// The buffer's current capacity in bytes: the memory held for frames.
    ///
    /// # Examples
    ///
    /// ```
    /// let state = lenframe::ReadState::new(lenframe::FrameConfig::default())?;
    /// assert_eq!(state.capacity(), 0);
    /// # Ok::<(), lenframe::ConfigError>(())
    /// ```
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// The buffer's first size and smallest growth step.
    ///
    /// # Examples
    ///
    /// ```
    /// let state = lenframe::ReadState::new(lenframe::FrameConfig::default())?;
    /// assert_eq!(state.capacity_step(), lenframe::DEFAULT_READ_CAPACITY);
    /// # Ok::<(), lenframe::ConfigError>(())
    /// ```
    pub fn capacity_step(&self) -> usize {
        self.step
    }

    /// The time spent waiting for the current frame's bytes, if a deadline is set and a frame
    /// is in progress: from its first byte (or the first wait for the rest of it), not
    /// counting the time between [`pause_clock`](Self::pause_clock) and
    /// [`resume_clock`](Self::resume_clock).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use lenframe::{FrameConfig, FrameDeadline, ReadState};
    ///
    /// let mut state = ReadState::new(FrameConfig::default())?;
    /// let t0 = Instant::now();
    /// state.set_frame_deadline(Some(FrameDeadline::fixed(Duration::from_secs(1))));
    /// state.read_buf()?[0] = 0;
    /// state.filled(1, || t0);
    /// assert_eq!(state.frame_elapsed(t0 + Duration::from_millis(5)), Some(Duration::from_millis(5)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn frame_elapsed(&self, now: Instant) -> Option<Duration> {
        self.clock.map(|clock| clock.elapsed(now))
    }

    /// Whether a whole frame is buffered: the next [`decode`](Self::decode) returns it
    /// without another read. `false` when more bytes are needed, and when `decode` would
    /// return an error.
    ///
    /// A front end shutting down drains with it: frames already received are handled,
    /// nothing more is read.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Instant;
    /// use lenframe::{FrameConfig, ReadState};
    ///
    /// let mut state = ReadState::new(FrameConfig::default())?;
    /// let wire = b"\x00\x00\x00\x01a\x00\x00\x00\x02b";
    /// state.read_buf()?[..wire.len()].copy_from_slice(wire);
    /// state.filled(wire.len(), Instant::now);
    /// assert!(state.has_frame());
    /// let range = state.decode()?.unwrap();
    /// assert_eq!(state.frame(range), b"a");
    /// assert!(!state.has_frame()); // the second frame lacks a byte
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn has_frame(&self) -> bool {
        self.decoder.has_frame(&self.buf[self.start..self.end])
    }

    /// Gives away the buffer holding the frame [`decode`](Self::decode) just returned at
    /// `range`, without copying it, together with the [`Charge`] for the buffer's memory when
    /// a [`MemoryBudget`] is set: the buffer's bytes stay charged (all of them beyond the
    /// first step, as while the state held them) until the charge is dropped. The frame is
    /// `buffer[range]`. The state goes on with a fresh buffer of one step, into which the
    /// bytes received after the frame are copied.
    ///
    /// `None`, with nothing changed, when the frame is not larger than one step
    /// ([`capacity_step`](Self::capacity_step)), or more than one step of bytes follows it
    /// in the buffer: copying the frame out of [`frame`](Self::frame) then costs less than a
    /// fresh buffer, or keeps the bytes that follow it from moving.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Instant;
    /// use lenframe::{FrameConfig, MemoryBudget, ReadState};
    ///
    /// let budget = MemoryBudget::new(1 << 20);
    /// let mut state = ReadState::with_capacity(FrameConfig::default(), 16)?;
    /// state.set_budget(Some(budget.clone()))?;
    /// let mut wire = vec![0, 0, 0, 100];
    /// wire.resize(104, 7);
    /// wire.extend_from_slice(b"\x00\x00\x00\x01!"); // a small frame follows
    /// let mut at = 0;
    /// let range = loop {
    ///     if let Some(range) = state.decode()? {
    ///         break range;
    ///     }
    ///     let room = state.read_buf()?;
    ///     let n = room.len().min(wire.len() - at);
    ///     room[..n].copy_from_slice(&wire[at..at + n]);
    ///     state.filled(n, Instant::now);
    ///     at += n;
    /// };
    /// let (buffer, charge) = state.take_buffer(&range).expect("100 bytes is over one step");
    /// assert_eq!(buffer[range], [7; 100]);
    /// let charged = charge.as_ref().map_or(0, |c| c.bytes());
    /// assert_eq!(budget.in_use(), charged); // the fresh buffer's first step is free
    /// assert!(charged > 0);
    /// drop((buffer, charge));
    /// assert_eq!(budget.in_use(), 0);
    /// // The state goes on with what followed the frame.
    /// let rest = &wire[at..];
    /// state.read_buf()?[..rest.len()].copy_from_slice(rest);
    /// state.filled(rest.len(), Instant::now);
    /// let range = state.decode()?.unwrap();
    /// assert_eq!(state.frame(range.clone()), b"!");
    /// assert!(state.take_buffer(&range).is_none()); // small: copy it
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn take_buffer(&mut self, range: &Range<usize>) -> Option<(Vec<u8>, Option<Charge>)> {
        let rest = self.end - self.start;
        if range.len() <= self.step || rest > self.step || range.end > self.buf.len() {
            return None;
        }
        let mut fresh = Vec::new();
        if rest > 0 {
            fresh.resize(self.step, 0);
            fresh[..rest].copy_from_slice(&self.buf[self.start..self.end]);
        }
        (self.start, self.end) = (0, rest);
        let buffer = std::mem::replace(&mut self.buf, fresh);
        self.refresh_plain();
        // The fresh buffer is within the first step, which is free.
        let charge = self.charge.as_mut().map(Charge::take);
        Some((buffer, charge))
    }
}

impl Default for ReadState {
    /// A read side for [`FrameConfig::default`], with the default step.
    ///
    /// ```
    /// let state = lenframe::ReadState::default();
    /// assert_eq!(state.capacity_step(), lenframe::DEFAULT_READ_CAPACITY);
    /// ```
    fn default() -> Self {
        Self::new(FrameConfig::default()).expect("the default configuration is valid")
    }
}

impl std::fmt::Debug for ReadState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadState")
            .field("decoder", &self.decoder)
            .field("buffered", &(self.end - self.start))
            .field("capacity", &self.buf.capacity())
            .field("frame_deadline", &self.frame_deadline)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Oversize;

    const STEP: usize = 16;

    fn state() -> ReadState {
        ReadState::with_capacity(FrameConfig::default(), STEP).unwrap()
    }

    /// Feeds `bytes` through `read_buf` in reads as large as the room allows, decoding in
    /// between; returns the frames' lengths.
    fn feed(state: &mut ReadState, mut bytes: &[u8]) -> Vec<usize> {
        let mut frames = Vec::new();
        let t = Instant::now();
        for _ in 0..=bytes.len() {
            while let Some(range) = state.decode().unwrap() {
                frames.push(range.len());
            }
            if bytes.is_empty() {
                break;
            }
            let room = state.read_buf().unwrap();
            let n = room.len().min(bytes.len());
            room[..n].copy_from_slice(&bytes[..n]);
            state.filled(n, || t);
            bytes = &bytes[n..];
        }
        frames
    }

    fn frame(len: usize) -> Vec<u8> {
        let mut wire = (len as u32).to_be_bytes().to_vec();
        wire.resize(4 + len, 0xab);
        wire
    }

    /// Copies `bytes` into the state with one read.
    fn put(state: &mut ReadState, bytes: &[u8]) {
        state.read_buf().unwrap()[..bytes.len()].copy_from_slice(bytes);
        state.filled(bytes.len(), Instant::now);
    }

    #[test]
    fn only_the_plain_layout_takes_the_plain_path() {
        let plain = |config| ReadState::with_capacity(config, STEP).unwrap().plain_limit;
        assert_eq!(
            plain(FrameConfig::default()),
            crate::DEFAULT_MAX_FRAME_LEN + 1
        );
        assert_eq!(plain(FrameConfig::default().max_frame_len(10)), 11);
        for other in [
            FrameConfig::default().checksum(crate::Checksum::Crc32c),
            FrameConfig::default().length_field(crate::LengthField::U32Le),
            FrameConfig::default().num_skip(0),
        ] {
            assert_eq!(plain(other), 0);
        }
        let mut s = state();
        s.set_frame_deadline(Some(FrameDeadline::fixed(Duration::from_secs(1))));
        assert_eq!(s.plain_limit, 0);
        s.set_frame_deadline(None);
        assert_eq!(s.plain_limit, crate::DEFAULT_MAX_FRAME_LEN + 1);
    }

    #[test]
    fn the_plain_path_keeps_every_bound() {
        let config = FrameConfig::default().max_frame_len(5);
        let mut state = ReadState::with_capacity(config, 2 * STEP).unwrap();
        // Frames of exactly the limit and of nothing, then one byte short of a whole frame.
        put(
            &mut state,
            &[frame(5), frame(0), frame(3)[..6].to_vec()].concat(),
        );
        assert_eq!(state.decode().unwrap(), Some(4..9));
        assert_eq!(state.decode().unwrap(), Some(13..13));
        assert_eq!(state.decode().unwrap(), None);
        assert_eq!(state.read_buffer(), &frame(3)[..6]);
        put(&mut state, &frame(3)[6..]);
        assert_eq!(state.decode().unwrap(), Some(17..20));
        assert_eq!((state.stats().frames, state.stats().bytes), (3, 8));
        // Every byte taken: the next read has the whole buffer again.
        assert_eq!(state.read_buf().unwrap().len(), 2 * STEP);
        // One byte over the limit goes to the decoder, which refuses it with its numbers.
        put(&mut state, &frame(6));
        assert!(matches!(
            state.decode(),
            Err(FrameError::TooLarge { len: 6, max: 5 })
        ));
        // A layout with more to it than the length is never taken as plain.
        let config = FrameConfig::default().num_skip(0);
        let mut state = ReadState::with_capacity(config, STEP).unwrap();
        put(&mut state, &frame(2));
        assert_eq!(state.decode().unwrap(), Some(0..6));
    }

    #[test]
    fn a_deadline_set_between_buffered_frames_times_the_next_one_alone() {
        let mut s = state();
        let t0 = Instant::now();
        let second = Duration::from_secs(1);
        // Three bytes of the third frame's header.
        put(
            &mut s,
            &[frame(1), frame(1), frame(4)[..3].to_vec()].concat(),
        );
        assert_eq!(s.decode().unwrap(), Some(4..5));
        // A second per frame and one more per byte received: the third frame's 3 bytes
        // earn it 3 more, the second frame's count for nothing.
        let rate = FrameDeadline::with_rate(second, 1, 100 * second);
        s.set_frame_deadline(Some(rate));
        assert_eq!(s.decode().unwrap(), Some(9..10));
        assert_eq!(s.decode().unwrap(), None);
        s.resume_clock(|| t0);
        assert_eq!(s.deadline(), Some(t0 + 4 * second));
        assert!(matches!(
            s.check_deadline(t0 + 4 * second),
            Err(FrameError::TimedOut {
                expected: 4,
                received: 3,
                ..
            })
        ));
    }

    /// Reads `wire` from `at` through `read_buf`, in reads as large as the room allows and
    /// decoding after each, until a frame comes.
    fn read_until_frame(s: &mut ReadState, wire: &[u8], at: &mut usize) -> Range<usize> {
        for _ in 0..=wire.len() {
            if let Some(range) = s.decode().unwrap() {
                return range;
            }
            let room = s.read_buf().unwrap();
            let n = room.len().min(wire.len() - *at);
            room[..n].copy_from_slice(&wire[*at..*at + n]);
            s.filled(n, Instant::now);
            *at += n;
        }
        panic!("no frame in {wire:?}");
    }

    #[test]
    fn a_grown_buffer_is_given_back_while_whole_frames_keep_coming() {
        let mut s = state();
        let wire = [frame(36), frame(2), frame(2)].concat();
        let mut at = 0;
        // Three reads of 16 bytes: the buffer grows past its retained size before the last
        // one, which completes the large frame and brings a small one whole behind it.
        let range = read_until_frame(&mut s, &wire, &mut at);
        assert_eq!((range, at, s.capacity()), (4..40, 48, 48));
        assert_eq!(s.decode().unwrap(), Some(4..6));
        assert_eq!(s.capacity(), 2 * STEP);
        assert_eq!(s.decode().unwrap(), None);
    }

    #[test]
    fn a_buffer_grown_by_reads_alone_is_given_back_between_whole_frames() {
        // A front end that reads three times before it decodes: the buffer grows to 48.
        let mut s = state();
        let wire = frame(2).repeat(8);
        for chunk in wire.chunks(STEP) {
            put(&mut s, chunk);
        }
        assert_eq!(s.capacity(), 3 * STEP);
        for _ in 0..6 {
            assert_eq!(s.decode().unwrap().map(|r| r.len()), Some(2));
        }
        assert_eq!(s.capacity(), 3 * STEP); // the sixth began with 18 bytes: over a step
        assert_eq!(s.decode().unwrap(), Some(4..6));
        assert_eq!(s.capacity(), 2 * STEP);
        assert_eq!(s.decode().unwrap(), Some(10..12));
    }

    #[test]
    fn a_smaller_retained_size_applies_at_the_next_frame() {
        let mut s = state();
        assert_eq!(feed(&mut s, &frame(20)), [20]);
        assert_eq!(s.capacity(), 2 * STEP);
        put(&mut s, &[frame(1), frame(1)].concat());
        s.set_shrink_to(Some(STEP));
        assert_eq!(s.decode().unwrap(), Some(4..5));
        assert_eq!(s.capacity(), STEP);
    }

    #[test]
    fn a_fresh_buffer_after_a_taken_one_takes_whole_frames_at_once() {
        let mut s = state();
        let range = read_until_frame(&mut s, &frame(40), &mut 0);
        assert_eq!(s.plain_limit, 0); // a grown buffer: the next decode may shrink it
        let (buffer, _) = s.take_buffer(&range).unwrap();
        assert_eq!(&buffer[range], &[0xab; 40]);
        assert_eq!(s.plain_limit, crate::DEFAULT_MAX_FRAME_LEN + 1);
        assert_eq!(feed(&mut s, &frame(3)), [3]);
    }

    #[test]
    fn growth_doubles_while_full_and_stops_at_the_frame() {
        let mut s = state();
        s.set_shrink_to(None);
        let frames = feed(&mut s, &frame(200));
        assert_eq!(frames, [200]);
        // 16, 32, 64, 128, then the 76 bytes the 204-byte frame still needed.
        assert_eq!(s.buf.len(), 204);
        assert_eq!(s.capacity(), 204);
    }

    #[test]
    fn a_declared_length_costs_one_step() {
        let mut s = state();
        feed(&mut s, &[0x00, 0x7f, 0xff, 0xff, 1, 2]);
        assert_eq!(s.decode().unwrap(), None);
        assert_eq!(s.capacity(), STEP);
    }

    #[test]
    fn memory_is_given_back_when_the_next_frame_is_asked_for() {
        let mut s = state();
        let range = read_until_frame(&mut s, &frame(1000), &mut 0);
        // Held while the frame may still be borrowed...
        assert_eq!((range.len(), s.capacity()), (1000, 1004));
        // ...and given back as soon as the next frame is asked for, before any read.
        assert_eq!(s.decode().unwrap(), None);
        assert_eq!(s.capacity(), 2 * STEP);
        assert_eq!(feed(&mut s, &frame(3)), [3]);
        assert_eq!(s.capacity(), 2 * STEP);
        // With shrinking off, the buffer keeps what it grew to.
        let mut s = state();
        s.set_shrink_to(None);
        feed(&mut s, &frame(1000));
        s.read_buf().unwrap();
        assert_eq!(s.capacity(), 1004);
    }

    #[test]
    fn shrinking_keeps_the_bytes_of_the_next_frame() {
        let mut s = state();
        let mut wire = frame(100);
        wire.extend(&frame(5)[..6]);
        feed(&mut s, &wire);
        s.read_buf().unwrap();
        assert_eq!(s.capacity(), 2 * STEP);
        assert_eq!(s.read_buffer(), &frame(5)[..6]);
        let frames = feed(&mut s, &frame(5)[6..]);
        assert_eq!(frames, [5]);
    }

    #[test]
    fn alternating_large_and_small_frames_settle_without_reallocating_each_frame() {
        let mut s = state();
        let (mut grows, mut shrinks, mut cap) = (0, 0, 0);
        for i in 0..400 {
            let len = if i % 2 == 0 { 200 } else { 1 };
            feed(&mut s, &frame(len));
            s.read_buf().unwrap();
            match s.capacity() {
                c if c > cap => grows += 1,
                c if c < cap => shrinks += 1,
                _ => {}
            }
            cap = s.capacity();
        }
        // Without hysteresis: 200 shrinks and 200 growths (each of several reallocations).
        // The hold doubles each time large frames return soon after a shrink, up to 64
        // frames: a shrink at most every 64 frames once settled.
        assert!(shrinks <= 12, "{shrinks} shrinks");
        // The first allocation counts as a growth, then one growth after each shrink.
        assert_eq!(grows, shrinks + 2, "{grows} growths");
    }

    #[test]
    fn budget_is_charged_beyond_the_first_step_and_given_back() {
        let budget = MemoryBudget::new(1000);
        let mut s = state();
        s.set_budget(Some(budget.clone())).unwrap();
        let mut wire = frame(100);
        wire.extend(frame(0));
        let frames = feed(&mut s, &wire);
        assert_eq!(frames, [100, 0]);
        assert_eq!(budget.in_use(), s.capacity() - STEP);
        s.read_buf().unwrap(); // shrinks to two steps
        assert_eq!(budget.in_use(), STEP);
        drop(s);
        assert_eq!(budget.in_use(), 0);
    }

    #[test]
    fn over_budget_fails_the_read_and_keeps_the_bytes() {
        let budget = MemoryBudget::new(20);
        let mut s = state();
        s.set_budget(Some(budget.clone())).unwrap();
        let wire = frame(100);
        let t = Instant::now();
        let mut at = 0;
        let err = loop {
            assert_eq!(s.decode().unwrap(), None);
            match s.read_buf() {
                Ok(room) => {
                    let n = room.len().min(wire.len() - at);
                    room[..n].copy_from_slice(&wire[at..at + n]);
                    s.filled(n, || t);
                    at += n;
                }
                Err(e) => break e,
            }
        };
        // 16 + 16 is charged (16 over the free step); doubling to 64 needs 48 of 20.
        assert!(matches!(
            err,
            FrameError::OverBudget {
                requested: 32,
                in_use: 16,
                limit: 20
            }
        ));
        assert_eq!(s.read_buffer(), &wire[..32]);
        // The budget grows (another reader dropped): the same frame goes on intact.
        s.set_budget(None).unwrap();
        let frames = feed(&mut s, &wire[32..]);
        assert_eq!(frames, [100]);
        assert_eq!(budget.in_use(), 0);
    }

    #[test]
    fn deadline_starts_with_the_first_byte_and_not_while_idle() {
        let mut s = state();
        let t0 = Instant::now();
        let second = Duration::from_secs(1);
        s.set_frame_deadline(Some(FrameDeadline::fixed(second)));
        assert_eq!(s.deadline(), None);
        assert!(s.check_deadline(t0 + 100 * second).is_ok()); // idle: never cut
        let wire = frame(3);
        let t1 = t0 + 100 * second;
        s.read_buf().unwrap()[..2].copy_from_slice(&wire[..2]);
        s.filled(2, || t1);
        assert_eq!(s.decode().unwrap(), None);
        assert_eq!(s.deadline(), Some(t1 + second));
        let err = s.check_deadline(t1 + second).unwrap_err();
        assert!(matches!(
            err,
            FrameError::TimedOut { expected: 4, received: 2, elapsed, limit: TimeLimit::Fixed(l) }
                if elapsed == second && l == second
        ));
        // The clock restarted, paused: a fresh second from the next wait.
        assert_eq!(s.deadline(), None);
        assert!(s.check_deadline(t1 + 9 * second).is_ok());
        s.resume_clock(|| t1 + 9 * second);
        assert_eq!(s.deadline(), Some(t1 + 10 * second));
        s.read_buf().unwrap()[..5].copy_from_slice(&wire[2..]);
        s.filled(5, || unreachable!("a running clock needs no time"));
        assert_eq!(s.decode().unwrap().map(|r| r.len()), Some(3));
        assert_eq!(s.deadline(), None);
    }

    #[test]
    fn leftover_bytes_start_the_next_frame_paused_until_a_wait() {
        let mut s = state();
        let t0 = Instant::now();
        let second = Duration::from_secs(1);
        s.set_frame_deadline(Some(FrameDeadline::fixed(second)));
        let mut wire = frame(1);
        wire.extend(&frame(1)[..2]);
        s.read_buf().unwrap()[..wire.len()].copy_from_slice(&wire);
        s.filled(wire.len(), || t0);
        assert!(s.decode().unwrap().is_some());
        assert_eq!(s.decode().unwrap(), None);
        // The application's time with the first frame is not the second frame's.
        assert_eq!(s.deadline(), None);
        assert!(s.check_deadline(t0 + 50 * second).is_ok());
        assert_eq!(s.frame_elapsed(t0 + 50 * second), Some(Duration::ZERO));
        s.resume_clock(|| t0 + 50 * second);
        assert_eq!(s.deadline(), Some(t0 + 51 * second));
    }

    #[test]
    fn waiting_time_adds_up_over_pauses_and_a_pause_never_times_out() {
        let mut s = state();
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        s.set_frame_deadline(Some(FrameDeadline::fixed(ms(100))));
        s.read_buf().unwrap()[..2].copy_from_slice(&frame(3)[..2]);
        s.filled(2, || t0);
        assert_eq!(s.decode().unwrap(), None);
        s.pause_clock(|| t0 + ms(40));
        s.pause_clock(|| unreachable!("a paused clock needs no time"));
        assert!(s.check_deadline(t0 + ms(1000)).is_ok());
        s.resume_clock(|| t0 + ms(1000));
        s.resume_clock(|| unreachable!("a running clock needs no time"));
        assert_eq!(s.frame_elapsed(t0 + ms(1050)), Some(ms(90)));
        assert_eq!(s.deadline(), Some(t0 + ms(1060)));
        assert!(matches!(
            s.check_deadline(t0 + ms(1060)),
            Err(FrameError::TimedOut { expected: 4, received: 2, elapsed, .. }) if elapsed == ms(100)
        ));
    }

    #[test]
    fn a_new_deadline_times_a_frame_in_progress_afresh() {
        let mut s = state();
        let t0 = Instant::now();
        let second = Duration::from_secs(1);
        s.set_frame_deadline(Some(FrameDeadline::fixed(second)));
        s.read_buf().unwrap()[..2].copy_from_slice(&frame(3)[..2]);
        s.filled(2, || t0);
        assert_eq!(s.deadline(), Some(t0 + second));
        s.set_frame_deadline(Some(FrameDeadline::fixed(2 * second)));
        assert_eq!(s.frame_elapsed(t0 + 5 * second), Some(Duration::ZERO));
        s.resume_clock(|| t0 + 5 * second);
        assert_eq!(s.deadline(), Some(t0 + 7 * second));
        s.set_frame_deadline(None);
        assert_eq!((s.deadline(), s.frame_elapsed(t0)), (None, None));
    }

    #[test]
    fn setting_the_same_budget_again_never_fails() {
        let budget = MemoryBudget::new(100);
        let mut s = state();
        s.set_budget(Some(budget.clone())).unwrap();
        feed(&mut s, &frame(100)[..90]); // grows to 128: 112 over the free step
        assert_eq!(budget.in_use(), s.capacity() - STEP);
        let full = budget.try_charge(budget.available()).unwrap();
        s.set_budget(Some(budget.clone())).unwrap();
        assert_eq!(budget.in_use(), budget.limit());
        drop(full);
        // Another budget that cannot cover the buffer is refused, and the old one kept.
        let small = MemoryBudget::new(1);
        assert!(matches!(
            s.set_budget(Some(small.clone())),
            Err(FrameError::OverBudget { limit: 1, .. })
        ));
        assert_eq!((budget.in_use(), small.in_use()), (s.capacity() - STEP, 0));
    }

    #[test]
    fn rate_earns_time_as_bytes_arrive() {
        let rate = |cap| FrameDeadline::with_rate(Duration::from_secs(1), 10, cap);
        let secs = Duration::from_secs;
        let wire = frame(1000);
        // 10 bytes per second: exactly the rate, so the deadline stays a second ahead, until
        // the cap (5 s) or until the bytes stop (the earned 6 s with a 60 s cap).
        for (cap, stop, limit) in [
            (secs(5), secs(5), TimeLimit::Cap(secs(5))),
            (secs(60), secs(6), TimeLimit::MinRate { bytes_per_sec: 10 }),
        ] {
            let mut s = ReadState::with_capacity(FrameConfig::default(), 4096).unwrap();
            let t0 = Instant::now();
            s.set_frame_deadline(Some(rate(cap)));
            for k in 0..5 {
                let now = t0 + secs(k);
                s.check_deadline(now).unwrap();
                let at = 10 * k as usize;
                s.read_buf().unwrap()[..10].copy_from_slice(&wire[at..at + 10]);
                s.filled(10, || now);
                assert_eq!(s.decode().unwrap(), None);
            }
            assert_eq!(s.deadline(), Some(t0 + stop));
            s.check_deadline(t0 + stop - Duration::from_nanos(1))
                .unwrap();
            let err = s.check_deadline(t0 + stop).unwrap_err();
            assert!(
                matches!(
                    err,
                    FrameError::TimedOut { expected: 1004, received: 50, elapsed, limit: l }
                        if elapsed == stop && l == limit
                ),
                "{err:?}"
            );
        }
    }

    #[test]
    fn end_of_stream_tells_clean_end_from_truncation_under_skip() {
        let cfg = FrameConfig::default()
            .max_frame_len(4)
            .oversize(Oversize::Skip);
        let mut s = ReadState::with_capacity(cfg, STEP).unwrap();
        let t = Instant::now();
        s.read_buf().unwrap()[..6].copy_from_slice(b"\x00\x00\x00\x09ab");
        s.filled(6, || t);
        assert!(matches!(
            s.decode(),
            Err(FrameError::TooLarge { len: 9, max: 4 })
        ));
        assert!(matches!(
            s.end_of_stream(),
            Err(FrameError::Truncated {
                expected: 13,
                received: 6
            })
        ));
    }
}
