//! `FrameWriter`: frames to any `std::io::Write`, batched when small, vectored when large.

use std::io::{self, IoSlice, Write};

use crate::config::FrameConfig;
use crate::encoder::FrameEncoder;
use crate::error::{is_transient, ConfigError, FrameError};
use crate::stats::FrameStats;

/// The default size up to which a [`FrameWriter`] gathers small frames before writing.
pub const DEFAULT_WRITE_CAPACITY: usize = 64 * 1024;

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
///   written, or buffered for the next flush. An error means nothing of it was accepted.
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
    encoder: FrameEncoder,
    /// Accepted bytes; `buf[written..]` have not gone out yet.
    buf: Vec<u8>,
    written: usize,
    capacity: usize,
    poisoned: bool,
    stats: FrameStats,
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
        if capacity == 0 {
            return Err(ConfigError::ZeroBufferSize);
        }
        Ok(FrameWriter {
            inner,
            encoder: FrameEncoder::new(config)?,
            buf: Vec::new(),
            written: 0,
            capacity,
            poisoned: false,
            stats: FrameStats::default(),
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
        if self.poisoned {
            return Err(FrameError::Poisoned);
        }
        let field = self.encoder.field_value(payload.len())?;
        let frame_len = self.encoder.header_len(field) + payload.len();
        if frame_len > self.capacity {
            let header = self.encoder.header(payload.len())?;
            return self.write_large(&header, payload);
        }
        if self.buf.len() - self.written + frame_len > self.capacity {
            self.flush_buf()?;
        }
        self.encoder.append_header(field, &mut self.buf);
        self.buf.extend_from_slice(payload);
        self.count(payload.len());
        Ok(())
    }

    /// Sends the buffered bytes, the header and the payload with vectored writes.
    #[inline(never)]
    fn write_large(
        &mut self,
        header: &crate::encoder::Header,
        payload: &[u8],
    ) -> Result<(), FrameError> {
        let mark = self.buf.len();
        header.write_into(&mut self.buf);
        let mut sent = 0;
        while self.written < self.buf.len() || sent < payload.len() {
            let bufs = [
                IoSlice::new(&self.buf[self.written..]),
                IoSlice::new(&payload[sent..]),
            ];
            let result = match self.inner.write_vectored(&bufs) {
                Ok(0) => Err(io::Error::from(io::ErrorKind::WriteZero)),
                other => other,
            };
            match result {
                Ok(n) => {
                    let from_buf = n.min(self.buf.len() - self.written);
                    self.written += from_buf;
                    // A writer that claims more than it was given is broken; never slice
                    // past the payload for it.
                    sent = (sent + n - from_buf).min(payload.len());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if self.written <= mark => {
                    // Nothing of this frame went out: take it back, and report the error
                    // for the bytes accepted earlier.
                    self.buf.truncate(mark);
                    return Err(self.fail(e));
                }
                Err(e) if is_transient(e.kind()) => {
                    // Part of the frame is out: keep the rest, so that flush resumes it.
                    self.buf.extend_from_slice(&payload[sent..]);
                    self.count(payload.len());
                    return Ok(());
                }
                Err(e) => {
                    // Part of the frame is out and the rest never will be.
                    self.poisoned = true;
                    return Err(FrameError::Io(e));
                }
            }
        }
        self.buf.clear();
        self.written = 0;
        self.count(payload.len());
        Ok(())
    }

    /// Writes every buffered byte and flushes the underlying writer.
    ///
    /// # Errors
    ///
    /// [`FrameError::Io`] when the stream fails: on `WouldBlock` or `TimedOut` the unwritten
    /// bytes stay buffered for the next call; after any other error the writer is poisoned
    /// if bytes remain unwritten. [`FrameError::Poisoned`] after an earlier hard failure.
    pub fn flush(&mut self) -> Result<(), FrameError> {
        if self.poisoned {
            return Err(FrameError::Poisoned);
        }
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
        while self.written < self.buf.len() {
            match self.inner.write(&self.buf[self.written..]) {
                Ok(0) => return Err(self.fail(io::ErrorKind::WriteZero.into())),
                Ok(n) => self.written = (self.written + n).min(self.buf.len()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.fail(e)),
            }
        }
        self.buf.clear();
        self.written = 0;
        Ok(())
    }

    /// Turns an I/O error into the error to return, poisoning the writer when it is not
    /// transient and accepted bytes are left unwritten.
    fn fail(&mut self, e: io::Error) -> FrameError {
        if !is_transient(e.kind()) && self.written < self.buf.len() {
            self.poisoned = true;
        }
        FrameError::Io(e)
    }

    fn count(&mut self, payload_len: usize) {
        self.stats.frames += 1;
        self.stats.bytes += payload_len as u64;
    }

    /// The configuration in use.
    pub fn config(&self) -> &FrameConfig {
        self.encoder.config()
    }

    /// Frames and payload bytes accepted so far.
    pub fn stats(&self) -> FrameStats {
        self.stats
    }

    /// The accepted bytes not yet written to the underlying writer.
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.written..]
    }

    /// Whether an earlier hard failure made the writer refuse further calls.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
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

    /// The underlying writer. Frames not yet flushed are discarded: call
    /// [`flush`](Self::flush) first, or look at [`buffer`](Self::buffer).
    pub fn into_inner(self) -> W {
        self.inner
    }
}
