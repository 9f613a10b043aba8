//! `FrameWriter`: frames to any `std::io::Write`, a blocking front end over [`WriteState`].

use std::io::{self, Write};

use crate::DEFAULT_WRITE_CAPACITY;
use crate::{Accept, ConfigError, FrameConfig, FrameError, FrameStats, MemoryBudget, WriteState};

/// Writes length-prefixed frames to any [`Write`].
///
/// Header and payload never go out as two small writes (the pattern that stalls ~40 ms on
/// Nagle's algorithm and delayed ACKs):
///
/// - a frame that fits in the buffer is copied into it, and small frames go out together
///   when the buffer fills or on [`flush`](Self::flush);
/// - a larger frame goes out with one vectored write of the buffered bytes, its header and
///   its payload, without copying the payload.
///
/// Call [`flush`](Self::flush) to push buffered frames out.
///
/// # Errors and resumption
///
/// - A payload over the limit, or one the length field cannot express, is refused before a
///   single byte is written or buffered.
/// - Short writes and `Interrupted` are handled; `Ok(0)` is `WriteZero`.
/// - `Ok(())` from [`write_frame`](Self::write_frame) means the whole frame was accepted:
///   written, or buffered for the next flush. An error means the frame was not accepted,
///   with one exception: on `WouldBlock` or `TimedOut` after part of a large frame went out,
///   its rest is buffered and `write_frame` returns `Ok(())`. When an error comes after part
///   of a large frame went out, the writer is poisoned (below): the peer holds a torn frame.
///   [`frames_accepted`](Self::frames_accepted) counts the frames accepted, so a caller can
///   always tell whether a frame will be sent.
/// - On `WouldBlock` or `TimedOut` every accepted byte not yet written stays buffered: the
///   next `flush` (or `write_frame`) resumes with nothing lost or sent twice. To bound how
///   long a write to a peer that stopped reading can block, set the socket's write timeout
///   (`TcpStream::set_write_timeout`): its expiry is such an error.
/// - After any other I/O error while accepted bytes are still unwritten, the peer's view of
///   the stream is unknown: the writer refuses every further call with
///   [`FrameError::Poisoned`].
///
/// # Dropping
///
/// Dropping a `FrameWriter` does **not** flush: frames still buffered are discarded, since a
/// flush in `drop` could neither report its error nor be resumed. Call
/// [`flush`](Self::flush), whose errors are always returned, before dropping it.
///
/// # Examples
///
/// ```
/// use lenframe::FrameWriter;
///
/// let mut writer = FrameWriter::new(Vec::new());
/// writer.write_frame(b"hi")?;
/// writer.write_frame(b"")?;
/// writer.flush()?;
/// assert_eq!(writer.get_ref(), b"\x00\x00\x00\x02hi\x00\x00\x00\x00");
/// # Ok::<(), lenframe::FrameError>(())
/// ```
#[derive(Debug)]
pub struct FrameWriter<W: Write> {
    inner: W,
    state: WriteState,
}
impl<W: Write> FrameWriter<W> {
    /// A writer with the default configuration ([`FrameConfig::default`]).
    pub fn new(inner: W) -> Self {
        Self::with_capacity(inner, FrameConfig::default(), DEFAULT_WRITE_CAPACITY)
            .expect("the default configuration is valid")
    }

    /// A writer with the given configuration.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when the layout is impossible (see [`FrameConfig::validate`]).
    pub fn with_config(inner: W, config: FrameConfig) -> Result<Self, ConfigError> {
        Self::with_capacity(inner, config, DEFAULT_WRITE_CAPACITY)
    }

    /// A writer that gathers frames of up to `capacity` bytes (header included) in its
    /// buffer; larger frames go out at once with a vectored write.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when the layout is impossible, or `capacity` is zero.
    pub fn with_capacity(
        inner: W,
        config: FrameConfig,
        capacity: usize,
    ) -> Result<Self, ConfigError> {
        Ok(FrameWriter {
            inner,
            state: WriteState::with_capacity(config, capacity)?,
        })
    }

    /// Writes one frame, or buffers it to go out with the next ones.
    ///
    /// # Errors
    ///
    /// [`FrameError::TooLarge`] / [`FrameError::TooShort`] for a payload the layout refuses;
    /// [`FrameError::Io`] when the stream fails; [`FrameError::Poisoned`] after an earlier
    /// hard failure. See the [type-level documentation](Self#errors-and-resumption) for what
    /// was accepted in each case.
    #[inline]
    pub fn write_frame(&mut self, payload: &[u8]) -> Result<(), FrameError> {
        loop {
            match self.state.accept(payload)? {
                Accept::Buffered => return Ok(()),
                Accept::FlushFirst => self.flush_buf()?,
                Accept::Large => return self.write_large(payload),
            }
        }
    }

    /// Sends the buffered bytes, the header and the payload with vectored writes.
    #[inline(never)]
    fn write_large(&mut self, payload: &[u8]) -> Result<(), FrameError> {
        let mut large = self.state.begin_large(payload)?;
        loop {
            let result = self
                .inner
                .write_vectored(&self.state.large_slices(&large, payload));
            if let Some(done) = self.state.large_progress(&mut large, payload, result) {
                return done;
            }
        }
    }

    /// Writes every buffered byte and flushes the underlying writer.
    ///
    /// # Errors
    ///
    /// [`FrameError::Io`] when the stream fails: on `WouldBlock` or `TimedOut` the unwritten
    /// bytes stay buffered for the next call; after any other error the writer is poisoned
    /// if bytes remain unwritten. [`FrameError::Poisoned`] after an earlier hard failure.
    pub fn flush(&mut self) -> Result<(), FrameError> {
        self.state.check_usable()?;
        self.flush_buf()?;
        loop {
            match self.inner.flush() {
                Ok(()) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(FrameError::Io(e)),
            }
        }
    }

    /// Writes every buffered byte, retrying `Interrupted`.
    #[inline(never)]
    fn flush_buf(&mut self) -> Result<(), FrameError> {
        while !self.state.pending().is_empty() {
            let result = self.inner.write(self.state.pending());
            self.state.record_write(result)?;
        }
        Ok(())
    }

    /// The configuration in use.
    pub fn config(&self) -> &FrameConfig {
        self.state.config()
    }

    /// Frames and payload bytes accepted so far.
    pub fn stats(&self) -> FrameStats {
        self.state.stats()
    }

    /// The accepted bytes not yet written to the underlying writer.
    pub fn buffer(&self) -> &[u8] {
        self.state.pending()
    }

    /// Whether an earlier hard failure made the writer refuse further calls.
    pub fn is_poisoned(&self) -> bool {
        self.state.is_poisoned()
    }

    /// A reference to the underlying writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// A mutable reference to the underlying writer. Writing to it directly, with frames
    /// buffered, interleaves bytes into the middle of the stream.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// The underlying writer, if every accepted byte has been written: otherwise the writer
    /// itself comes back, so that accepted frames are never dropped silently. Call
    /// [`flush`](Self::flush) first, or [`into_parts`](Self::into_parts) to take the
    /// unwritten bytes along.
    ///
    /// # Errors
    ///
    /// `Err(self)` while [`buffer`](Self::buffer) is not empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::FrameWriter;
    ///
    /// let mut writer = FrameWriter::new(Vec::new());
    /// writer.write_frame(b"hi")?;
    /// let mut writer = writer.into_inner().unwrap_err(); // "hi" is still buffered
    /// writer.flush()?;
    /// assert_eq!(writer.into_inner().unwrap(), b"\x00\x00\x00\x02hi");
    /// # Ok::<(), lenframe::FrameError>(())
    /// ```
    // The error is the writer itself, moved back as `Rc::try_unwrap` does: boxing it would
    // allocate to report that nothing happened.
    #[allow(clippy::result_large_err)]
    pub fn into_inner(self) -> Result<W, Self> {
        if self.state.pending().is_empty() {
            Ok(self.inner)
        } else {
            Err(self)
        }
    }

    /// Takes the writer apart without losing a byte: the underlying writer and the accepted
    /// bytes not yet written to it, which must be written before anything else.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    /// use lenframe::FrameWriter;
    ///
    /// let mut writer = FrameWriter::new(Vec::new());
    /// writer.write_frame(b"hello")?;
    /// let (mut stream, unwritten) = writer.into_parts();
    /// stream.write_all(&unwritten)?;
    /// stream.write_all(b" and raw bytes after the framed part")?;
    /// assert!(stream.starts_with(b"\x00\x00\x00\x05hello and raw"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_parts(self) -> (W, Vec<u8>) {
        (self.inner, self.state.into_pending())
    }

    /// How many frames the writer has accepted: each will reach the stream whole with the
    /// next flush (unless the stream fails hard). A frame offered to
    /// [`write_frame`](Self::write_frame) was accepted exactly when this count went up,
    /// whatever the call returned, so a caller whose call failed part-way knows whether to
    /// offer the frame again: never count bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::FrameWriter;
    ///
    /// let mut writer = FrameWriter::new(Vec::new());
    /// let before = writer.frames_accepted();
    /// writer.write_frame(b"hi")?;
    /// assert_eq!(writer.frames_accepted(), before + 1);
    /// # Ok::<(), lenframe::FrameError>(())
    /// ```
    pub fn frames_accepted(&self) -> u64 {
        self.state.stats().frames
    }

    /// Charges the buffer's memory beyond its capacity (only ever the rest of a large frame
    /// whose write stopped part-way) to `budget`, shared with readers and other writers;
    /// see [`WriteState::set_budget`].
    ///
    /// # Errors
    ///
    /// [`FrameError::OverBudget`] when `budget` cannot cover what the buffer already holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::{FrameWriter, MemoryBudget};
    ///
    /// let budget = MemoryBudget::new(64 << 20);
    /// let mut writer = FrameWriter::new(Vec::new());
    /// writer.set_budget(Some(budget.clone()))?;
    /// assert_eq!(budget.in_use(), 0);
    /// # Ok::<(), lenframe::FrameError>(())
    /// ```
    pub fn set_budget(&mut self, budget: Option<MemoryBudget>) -> Result<(), FrameError> {
        self.state.set_budget(budget)
    }

    /// Sets the size the buffer shrinks back to after holding the rest of a large frame;
    /// see [`WriteState::set_shrink_to`].
    ///
    /// # Examples
    ///
    /// ```
    /// let mut writer = lenframe::FrameWriter::new(Vec::new());
    /// writer.set_shrink_to(None); // keep whatever the buffer grew to
    /// assert_eq!(writer.state().shrink_to(), None);
    /// ```
    pub fn set_shrink_to(&mut self, capacity: Option<usize>) {
        self.state.set_shrink_to(capacity);
    }

    /// The sans-IO write side this writer drives.
    ///
    /// # Examples
    ///
    /// ```
    /// let writer = lenframe::FrameWriter::new(Vec::new());
    /// assert_eq!(writer.state().buffer_capacity(), 0); // nothing allocated yet
    /// ```
    pub fn state(&self) -> &WriteState {
        &self.state
    }
}
