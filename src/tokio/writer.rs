//! `lenframe::tokio::FrameWriter`: frames to any `AsyncWrite`, an async front end over
//! [`WriteState`].

use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use ::tokio::io::AsyncWrite;

use crate::{Accept, ConfigError, FrameConfig, FrameError, FrameStats, LargeWrite, WriteState};

/// Writes length-prefixed frames to any [`AsyncWrite`].
///
/// The async twin of [`crate::FrameWriter`], driven by the same [`WriteState`]: small
/// frames are gathered and go out together, a frame larger than the buffer goes out with
/// vectored writes of the buffered bytes, its header and its payload (never copied), a
/// payload the layout refuses is refused before anything is written, and after a hard error
/// with accepted bytes unwritten the writer is poisoned ([`FrameError::Poisoned`]).
///
/// Dropping the writer does not flush: call [`flush`](Self::flush) or
/// [`shutdown`](Self::shutdown), whose errors are returned.
///
/// # Examples
///
/// ```
/// use lenframe::tokio::FrameWriter;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), lenframe::FrameError> {
/// let mut writer = FrameWriter::new(Vec::new());
/// writer.write_frame(b"hi").await?;
/// writer.flush().await?;
/// assert_eq!(writer.get_ref(), b"\x00\x00\x00\x02hi");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct FrameWriter<W> {
    inner: W,
    state: WriteState,
}

impl<W: AsyncWrite + Unpin> FrameWriter<W> {
    /// A writer with the default configuration ([`FrameConfig::default`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let writer = lenframe::tokio::FrameWriter::new(tokio::io::sink());
    /// assert_eq!(writer.stats().frames, 0);
    /// ```
    pub fn new(inner: W) -> Self {
        Self::from_state(inner, WriteState::default())
    }

    /// A writer with the given configuration.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when the layout is impossible (see [`FrameConfig::validate`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::{FrameConfig, LengthField};
    ///
    /// let cfg = FrameConfig::default().length_field(LengthField::U16Le);
    /// let writer = lenframe::tokio::FrameWriter::with_config(tokio::io::sink(), cfg)?;
    /// assert_eq!(writer.config().get_length_field(), LengthField::U16Le);
    /// # Ok::<(), lenframe::ConfigError>(())
    /// ```
    pub fn with_config(inner: W, config: FrameConfig) -> Result<Self, ConfigError> {
        WriteState::new(config).map(|state| Self::from_state(inner, state))
    }

    /// A writer that gathers frames of up to `capacity` bytes (header included); larger
    /// frames go out at once with vectored writes.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when the layout is impossible, or `capacity` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::FrameConfig;
    ///
    /// let writer =
    ///     lenframe::tokio::FrameWriter::with_capacity(tokio::io::sink(), FrameConfig::default(), 512)?;
    /// assert_eq!(writer.state().capacity(), 512);
    /// # Ok::<(), lenframe::ConfigError>(())
    /// ```
    pub fn with_capacity(
        inner: W,
        config: FrameConfig,
        capacity: usize,
    ) -> Result<Self, ConfigError> {
        WriteState::with_capacity(config, capacity).map(|state| Self::from_state(inner, state))
    }

    /// A writer over `inner` driving `state`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::{FrameConfig, WriteState};
    ///
    /// let state = WriteState::with_capacity(FrameConfig::default(), 128)?;
    /// let writer = lenframe::tokio::FrameWriter::from_state(tokio::io::sink(), state);
    /// assert_eq!(writer.state().capacity(), 128);
    /// # Ok::<(), lenframe::ConfigError>(())
    /// ```
    pub fn from_state(inner: W, state: WriteState) -> Self {
        FrameWriter { inner, state }
    }

    /// Writes one frame, or buffers it to go out with the next ones.
    ///
    /// `Ok(())` means the whole frame was accepted: written, or buffered for the next
    /// [`flush`](Self::flush).
    ///
    /// # Errors
    ///
    /// [`FrameError::TooLarge`] / [`FrameError::TooShort`] for a payload the layout refuses
    /// (nothing written), [`FrameError::Io`] when the stream fails, [`FrameError::Poisoned`]
    /// after an earlier hard failure. An error means the frame was not accepted, except
    /// where the stream failed for good after part of it went out (then the writer is
    /// poisoned).
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe in the sense that matters for a stream: dropping the
    /// future leaves the whole frame accepted or none of it, never half a frame on the wire
    /// followed by another frame. If any byte of a large frame was written, dropping the
    /// future buffers the rest of it (a copy) for the next `flush`; otherwise the frame is
    /// not accepted and the call can be made again.
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::{tokio::FrameWriter, FrameConfig, FrameError};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), FrameError> {
    /// let cfg = FrameConfig::default().max_frame_len(4);
    /// let mut writer = FrameWriter::with_config(Vec::new(), cfg)?;
    /// assert!(matches!(
    ///     writer.write_frame(b"12345").await,
    ///     Err(FrameError::TooLarge { len: 5, max: 4 })
    /// ));
    /// assert!(writer.state().pending().is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn write_frame<'a>(&'a mut self, payload: &'a [u8]) -> WriteFrame<'a, W> {
        WriteFrame {
            writer: self,
            payload,
            large: None,
        }
    }

    /// Writes every buffered byte, retrying `Interrupted`.
    fn poll_flush_buf(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), FrameError>> {
        while !self.state.pending().is_empty() {
            let result = ready!(Pin::new(&mut self.inner).poll_write(cx, self.state.pending()));
            self.state.record_write(result)?;
        }
        Poll::Ready(Ok(()))
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), FrameError>> {
        self.state.check_usable()?;
        ready!(self.poll_flush_buf(cx))?;
        loop {
            match ready!(Pin::new(&mut self.inner).poll_flush(cx)) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => return Poll::Ready(result.map_err(FrameError::Io)),
            }
        }
    }

    /// Writes every buffered byte and flushes the underlying writer.
    ///
    /// # Errors
    ///
    /// [`FrameError::Io`] when the stream fails (after an error that is not `WouldBlock` or
    /// `TimedOut`, the writer is poisoned if bytes remain unwritten);
    /// [`FrameError::Poisoned`] after an earlier hard failure.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: bytes not yet written stay buffered, and calling it again
    /// goes on from the first of them.
    ///
    /// # Examples
    ///
    /// See [`FrameWriter`].
    pub async fn flush(&mut self) -> Result<(), FrameError> {
        poll_fn(|cx| self.poll_flush(cx)).await
    }

    /// Flushes, then shuts the underlying writer down (for a socket, the peer's reader sees
    /// the end of the stream).
    ///
    /// # Errors
    ///
    /// As [`flush`](Self::flush), and the shutdown's own error.
    ///
    /// # Cancel safety
    ///
    /// As [`flush`](Self::flush): calling it again goes on where the dropped call stopped.
    ///
    /// # Examples
    ///
    /// See the [module documentation](crate::tokio).
    pub async fn shutdown(&mut self) -> Result<(), FrameError> {
        poll_fn(|cx| {
            ready!(self.poll_flush(cx))?;
            Pin::new(&mut self.inner)
                .poll_shutdown(cx)
                .map_err(FrameError::Io)
        })
        .await
    }

    /// A reference to the underlying writer.
    ///
    /// # Examples
    ///
    /// See [`FrameWriter`].
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The configuration in use.
    ///
    /// # Examples
    ///
    /// See [`with_config`](Self::with_config).
    pub fn config(&self) -> &FrameConfig {
        self.state.config()
    }

    /// A mutable reference to the underlying writer. Writing to it directly, with frames
    /// buffered, interleaves bytes into the middle of the stream.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut writer = lenframe::tokio::FrameWriter::new(Vec::new());
    /// writer.get_mut().clear();
    /// ```
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// Frames and payload bytes accepted so far.
    ///
    /// # Examples
    ///
    /// See [`new`](Self::new).
    pub fn stats(&self) -> FrameStats {
        self.state.stats()
    }

    /// The underlying writer. Frames not yet flushed are discarded: call
    /// [`flush`](Self::flush) first.
    ///
    /// # Examples
    ///
    /// ```
    /// let writer = lenframe::tokio::FrameWriter::new(Vec::<u8>::new());
    /// assert!(writer.into_inner().is_empty());
    /// ```
    pub fn into_inner(self) -> W {
        self.inner
    }

    /// The write side's state: what is buffered, capacity, poisoning
    /// ([`WriteState::pending`], [`WriteState::is_poisoned`], ...).
    ///
    /// # Examples
    ///
    /// See [`write_frame`](Self::write_frame).
    pub fn state(&self) -> &WriteState {
        &self.state
    }
}

/// The future of [`FrameWriter::write_frame`].
///
/// Dropping it before it completes leaves the frame wholly accepted or not at all: see
/// the method's *Cancel safety* section.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct WriteFrame<'a, W> {
    writer: &'a mut FrameWriter<W>,
    payload: &'a [u8],
    /// A large frame under way.
    large: Option<LargeWrite>,
}

impl<W: AsyncWrite + Unpin> Future for WriteFrame<'_, W> {
    type Output = Result<(), FrameError>;

    /// A frame that fits the buffer is accepted here, inlined into the caller's poll;
    /// flushing and large frames are out of line.
    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if this.large.is_none() {
            if let Ok(Accept::Buffered) = this.writer.state.accept(this.payload) {
                return Poll::Ready(Ok(()));
            }
        }
        this.poll_slow(cx)
    }
}

impl<W: AsyncWrite + Unpin> WriteFrame<'_, W> {
    /// Flushes to make room, or writes a large frame.
    #[inline(never)]
    fn poll_slow(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), FrameError>> {
        let this = self;
        let writer = &mut *this.writer;
        loop {
            if let Some(large) = &mut this.large {
                let slices = writer.state.large_slices(large, this.payload);
                let result = ready!(Pin::new(&mut writer.inner).poll_write_vectored(cx, &slices));
                if let Some(done) = writer.state.large_progress(large, this.payload, result) {
                    this.large = None;
                    return Poll::Ready(done);
                }
                continue;
            }
            match writer.state.accept(this.payload)? {
                Accept::Buffered => return Poll::Ready(Ok(())),
                Accept::FlushFirst => ready!(writer.poll_flush_buf(cx))?,
                Accept::Large => this.large = Some(writer.state.begin_large(this.payload)?),
            }
        }
    }
}

impl<W> Drop for WriteFrame<'_, W> {
    fn drop(&mut self) {
        if let Some(large) = &mut self.large {
            // Part of the frame may be on the wire: keep the rest, or take it all back.
            self.writer.state.large_stop(large, self.payload);
        }
    }
}
