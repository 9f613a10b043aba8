//! `lenframe::tokio::FrameWriter`: frames to any `AsyncWrite`, an async front end over
//! [`WriteState`].

use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use ::tokio::io::AsyncWrite;
use bytes::Bytes;
use futures_sink::Sink;

use crate::{
    Accept, ConfigError, FrameConfig, FrameEncoder, FrameError, FrameStats, LargeWrite, WriteState,
};

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
    /// A frame given to [`start_send`](Self::start_send) that did not fit the buffer: it is
    /// written (or buffered) before anything else.
    queued: Option<Queued>,
}

/// An owned frame waiting for room, or going out with vectored writes.
#[derive(Debug)]
struct Queued {
    frame: Bytes,
    large: Option<LargeWrite>,
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
        FrameWriter {
            inner,
            state,
            queued: None,
        }
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
    /// [`frames_accepted`](Self::frames_accepted) tells which: it counts the frame exactly
    /// when it is accepted. A retry under a timeout writes each frame once:
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use lenframe::{tokio::FrameWriter, FrameError};
    /// # use tokio::time::timeout;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), FrameError> {
    /// # let (ours, mut peer) = tokio::io::duplex(1 << 20);
    /// # let mut w = FrameWriter::new(ours);
    /// # let big = vec![7u8; 100_000];
    /// # let d = Duration::from_secs(5);
    /// let before = w.frames_accepted();
    /// loop {
    ///     match timeout(d, w.write_frame(&big)).await {
    ///         Ok(result) => break result?,
    ///         // Accepted: the next flush sends the rest of it.
    ///         Err(_) if w.frames_accepted() > before => break,
    ///         // Nothing of it went out: write it again.
    ///         Err(_) => {}
    ///     }
    /// }
    /// w.flush().await?;
    /// # let mut got = vec![0; 100_004];
    /// # tokio::io::AsyncReadExt::read_exact(&mut peer, &mut got).await?;
    /// # assert_eq!(&got[4..], &big[..]);
    /// # Ok(())
    /// # }
    /// ```
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
            phase: Phase::Start,
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

    /// Makes room for a frame given to [`start_send`](Self::start_send): `Ready(Ok(()))`
    /// once the frame given before, if any, is accepted (buffered, or written). The
    /// [`Sink`] implementation's `poll_ready`.
    ///
    /// # Errors
    ///
    /// [`FrameError::Io`] when the stream fails, [`FrameError::Poisoned`] after an earlier
    /// hard failure.
    ///
    /// # Cancel safety
    ///
    /// The frame given to `start_send` is the writer's: polling can stop and go on at any
    /// point.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use bytes::Bytes;
    /// use lenframe::tokio::FrameWriter;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), lenframe::FrameError> {
    /// let mut writer = FrameWriter::new(Vec::new());
    /// poll_fn(|cx| writer.poll_ready(cx)).await?;
    /// writer.start_send(Bytes::from_static(b"hi"))?;
    /// poll_fn(|cx| writer.poll_flush(cx)).await?;
    /// assert_eq!(writer.get_ref(), b"\x00\x00\x00\x02hi");
    /// # Ok(())
    /// # }
    /// ```
    pub fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), FrameError>> {
        while let Some(queued) = &mut self.queued {
            if let Some(large) = &mut queued.large {
                let slices = self.state.large_slices(large, &queued.frame);
                let result = ready!(Pin::new(&mut self.inner).poll_write_vectored(cx, &slices));
                if let Some(done) = self.state.large_progress(large, &queued.frame, result) {
                    self.queued = None;
                    done?;
                }
                continue;
            }
            match self.state.accept(&queued.frame)? {
                Accept::Buffered => self.queued = None,
                Accept::FlushFirst => ready!(self.poll_flush_buf(cx))?,
                Accept::Large => queued.large = Some(self.state.begin_large(&queued.frame)?),
            }
        }
        Poll::Ready(self.state.check_usable())
    }

    /// Gives the writer one frame, after [`poll_ready`](Self::poll_ready) answered
    /// `Ready(Ok(()))`: a frame that fits the buffer is buffered (copied) at once; a larger
    /// one is kept, not copied, and written from the next `poll_ready`, `poll_flush` or
    /// `poll_shutdown`. The [`Sink`] implementation's `start_send`.
    ///
    /// # Errors
    ///
    /// [`FrameError::TooLarge`] / [`FrameError::TooShort`] for a payload the layout refuses
    /// (nothing is kept), [`FrameError::Poisoned`] after an earlier hard failure.
    ///
    /// # Panics
    ///
    /// When the frame given before is still waiting: `poll_ready` did not answer
    /// `Ready(Ok(()))` since.
    ///
    /// # Examples
    ///
    /// See [`poll_ready`](Self::poll_ready).
    pub fn start_send(&mut self, frame: Bytes) -> Result<(), FrameError> {
        assert!(
            self.queued.is_none(),
            "`start_send` called without `poll_ready` answering `Ready(Ok(()))`"
        );
        if let Accept::FlushFirst | Accept::Large = self.state.accept(&frame)? {
            self.queued = Some(Queued { frame, large: None });
        }
        Ok(())
    }

    /// Writes every frame given, buffered or waiting, and flushes the underlying writer: the
    /// poll behind [`flush`](Self::flush), and the [`Sink`] implementation's `poll_flush`.
    ///
    /// # Errors
    ///
    /// As [`flush`](Self::flush).
    ///
    /// # Cancel safety
    ///
    /// As [`flush`](Self::flush).
    ///
    /// # Examples
    ///
    /// See [`poll_ready`](Self::poll_ready).
    pub fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), FrameError>> {
        ready!(self.poll_ready(cx))?;
        ready!(self.poll_flush_buf(cx))?;
        loop {
            match ready!(Pin::new(&mut self.inner).poll_flush(cx)) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => return Poll::Ready(result.map_err(FrameError::Io)),
            }
        }
    }

    /// Flushes, then shuts the underlying writer down: the poll behind
    /// [`shutdown`](Self::shutdown), and the [`Sink`] implementation's `poll_close`.
    ///
    /// # Errors
    ///
    /// As [`shutdown`](Self::shutdown).
    ///
    /// # Cancel safety
    ///
    /// As [`flush`](Self::flush).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use lenframe::tokio::FrameWriter;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), lenframe::FrameError> {
    /// let mut writer = FrameWriter::new(Vec::new());
    /// writer.write_frame(b"bye").await?;
    /// poll_fn(|cx| writer.poll_shutdown(cx)).await?;
    /// assert_eq!(writer.get_ref(), b"\x00\x00\x00\x03bye");
    /// # Ok(())
    /// # }
    /// ```
    pub fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), FrameError>> {
        if self.state.is_poisoned() {
            // The stream cannot be completed, but it can still be closed.
            let _closed = ready!(Pin::new(&mut self.inner).poll_shutdown(cx));
            return Poll::Ready(Err(FrameError::Poisoned));
        }
        ready!(self.poll_flush(cx))?;
        Pin::new(&mut self.inner)
            .poll_shutdown(cx)
            .map_err(FrameError::Io)
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
    /// As [`flush`](Self::flush), and the shutdown's own error. A poisoned writer still
    /// shuts the underlying writer down (closing the connection), then returns
    /// [`FrameError::Poisoned`].
    ///
    /// # Cancel safety
    ///
    /// As [`flush`](Self::flush): calling it again goes on where the dropped call stopped.
    ///
    /// # Examples
    ///
    /// See the [module documentation](crate::tokio).
    pub async fn shutdown(&mut self) -> Result<(), FrameError> {
        poll_fn(|cx| self.poll_shutdown(cx)).await
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

    /// Frames accepted so far: written, or buffered to go out with the next flush. A frame
    /// is counted exactly when it is accepted, so after a dropped
    /// [`write_frame`](Self::write_frame) future this tells whether to write it again (see
    /// its *Cancel safety* section). A frame given to [`start_send`](Self::start_send) is
    /// counted once it is buffered or written.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), lenframe::FrameError> {
    /// let mut writer = lenframe::tokio::FrameWriter::new(Vec::new());
    /// writer.write_frame(b"a").await?;
    /// assert_eq!(writer.frames_accepted(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn frames_accepted(&self) -> u64 {
        self.state.stats().frames
    }

    /// The underlying writer, when no accepted byte is left unsent; otherwise the writer
    /// itself, given back: [`flush`](Self::flush) first, or take the bytes with
    /// [`into_parts`](Self::into_parts).
    ///
    /// # Errors
    ///
    /// The writer, unchanged, while frames are buffered or waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), lenframe::FrameError> {
    /// let mut writer = lenframe::tokio::FrameWriter::new(Vec::<u8>::new());
    /// writer.write_frame(b"a").await?;
    /// let mut writer = writer.into_inner().unwrap_err(); // "a" is not sent yet
    /// writer.flush().await?;
    /// assert_eq!(writer.into_inner().unwrap(), b"\x00\x00\x00\x01a");
    /// # Ok(())
    /// # }
    /// ```
    // The writer is given back whole and by value, to be flushed: boxing it would cost an
    // allocation on a path taken once per connection, for nothing.
    #[allow(clippy::result_large_err)]
    pub fn into_inner(self) -> Result<W, Self> {
        if self.state.pending().is_empty() && self.queued.is_none() {
            Ok(self.inner)
        } else {
            Err(self)
        }
    }

    /// The underlying writer and the bytes of frames accepted but not yet written to it,
    /// framed: writing those bytes first, then anything else, keeps the stream whole. A
    /// frame given to [`start_send`](Self::start_send) and still waiting is included.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), lenframe::FrameError> {
    /// let mut writer = lenframe::tokio::FrameWriter::new(Vec::<u8>::new());
    /// writer.write_frame(b"a").await?;
    /// let (inner, pending) = writer.into_parts();
    /// assert!(inner.is_empty());
    /// assert_eq!(pending, b"\x00\x00\x00\x01a");
    /// # Ok(())
    /// # }
    /// ```
    pub fn into_parts(mut self) -> (W, Vec<u8>) {
        let Some(mut queued) = self.queued.take() else {
            let pending = self.state.pending().to_vec();
            return (self.inner, pending);
        };
        // If part of it went out, the rest is buffered behind what was pending; if none did,
        // its header is taken back.
        let accepted = match &mut queued.large {
            Some(large) => self.state.large_stop(large, &queued.frame),
            None => false,
        };
        let mut pending = self.state.pending().to_vec();
        if !accepted {
            FrameEncoder::new(*self.state.config())
                .map_err(FrameError::from)
                .and_then(|encoder| encoder.encode(&queued.frame, &mut pending))
                .expect("the configuration and the frame were checked when it was given");
        }
        (self.inner, pending)
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

    /// The write side's state, to change it directly: a front end's own writes must keep
    /// to its contract (see [`WriteState`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut writer = lenframe::tokio::FrameWriter::new(tokio::io::sink());
    /// let _ = writer.state_mut().accept(b"x")?; // as write_frame would
    /// assert_eq!(writer.state().pending(), b"\x00\x00\x00\x01x");
    /// # Ok::<(), lenframe::FrameError>(())
    /// ```
    pub fn state_mut(&mut self) -> &mut WriteState {
        &mut self.state
    }
}

impl<W: AsyncWrite + Unpin> Sink<Bytes> for FrameWriter<W> {
    type Error = FrameError;

    /// [`FrameWriter::poll_ready`].
    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), FrameError>> {
        self.get_mut().poll_ready(cx)
    }

    /// [`FrameWriter::start_send`]: frames gather in the buffer and go out when it is full,
    /// on `poll_flush` and on `poll_close`.
    fn start_send(self: Pin<&mut Self>, frame: Bytes) -> Result<(), FrameError> {
        self.get_mut().start_send(frame)
    }

    /// [`FrameWriter::poll_flush`].
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), FrameError>> {
        self.get_mut().poll_flush(cx)
    }

    /// [`FrameWriter::poll_shutdown`].
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), FrameError>> {
        self.get_mut().poll_shutdown(cx)
    }
}

/// The future of [`FrameWriter::write_frame`].
///
/// Dropping it before it completes leaves the frame wholly accepted or not at all: see
/// the method's *Cancel safety* section. Polled again after it completed with `Ok(())`, it
/// answers `Ok(())` again and writes nothing.
///
/// # Examples
///
/// ```
/// use std::future::Future;
/// use std::pin::pin;
/// use std::task::{Context, Poll, Waker};
/// use lenframe::tokio::FrameWriter;
///
/// let mut writer = FrameWriter::new(Vec::new());
/// {
///     let mut write = pin!(writer.write_frame(b"once"));
///     let mut cx = Context::from_waker(Waker::noop());
///     assert!(matches!(write.as_mut().poll(&mut cx), Poll::Ready(Ok(()))));
///     assert!(matches!(write.as_mut().poll(&mut cx), Poll::Ready(Ok(()))));
/// }
/// assert_eq!(writer.frames_accepted(), 1);
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct WriteFrame<'a, W> {
    writer: &'a mut FrameWriter<W>,
    payload: &'a [u8],
    phase: Phase,
}

/// How far a [`WriteFrame`] got.
#[derive(Debug)]
enum Phase {
    /// Not accepted yet.
    Start,
    /// A large frame under way.
    Large(LargeWrite),
    /// Accepted: nothing more to do.
    Done,
}

impl<W: AsyncWrite + Unpin> Future for WriteFrame<'_, W> {
    type Output = Result<(), FrameError>;

    /// A frame that fits the buffer is accepted here, inlined into the caller's poll;
    /// flushing and large frames are out of line.
    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let (Phase::Start, None) = (&this.phase, &this.writer.queued) {
            if let Ok(Accept::Buffered) = this.writer.state.accept(this.payload) {
                this.phase = Phase::Done;
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
        if let Phase::Done = this.phase {
            return Poll::Ready(Ok(()));
        }
        // A frame given to `start_send` goes first.
        if writer.queued.is_some() {
            ready!(writer.poll_ready(cx))?;
        }
        loop {
            if let Phase::Large(large) = &mut this.phase {
                let slices = writer.state.large_slices(large, this.payload);
                let result = ready!(Pin::new(&mut writer.inner).poll_write_vectored(cx, &slices));
                if let Some(done) = writer.state.large_progress(large, this.payload, result) {
                    this.phase = match done {
                        Ok(()) => Phase::Done,
                        Err(_) => Phase::Start,
                    };
                    return Poll::Ready(done);
                }
                continue;
            }
            match writer.state.accept(this.payload)? {
                Accept::Buffered => {
                    this.phase = Phase::Done;
                    return Poll::Ready(Ok(()));
                }
                Accept::FlushFirst => ready!(writer.poll_flush_buf(cx))?,
                Accept::Large => this.phase = Phase::Large(writer.state.begin_large(this.payload)?),
            }
        }
    }
}

impl<W> Drop for WriteFrame<'_, W> {
    fn drop(&mut self) {
        if let Phase::Large(large) = &mut self.phase {
            // Part of the frame may be on the wire: keep the rest, or take it all back.
            self.writer.state.large_stop(large, self.payload);
        }
    }
}
