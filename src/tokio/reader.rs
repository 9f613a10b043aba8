//! `lenframe::tokio::FrameReader`: frames from any `AsyncRead`, an async front end over
//! [`ReadState`].

use std::future::{poll_fn, Future};
use std::io;
use std::ops::Range;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use ::tokio::io::{AsyncRead, ReadBuf};
use ::tokio::time::{Instant, Sleep};
use bytes::Bytes;
use futures_core::{FusedStream, Stream};

use crate::{
    Charge, ConfigError, FrameConfig, FrameDeadline, FrameError, FrameStats, MemoryBudget,
    ReadState,
};

/// Reads length-prefixed frames from any [`AsyncRead`]: a tokio `TcpStream` or `UnixStream`
/// (or one half of it), a pipe, `tokio::io::duplex`, a file.
///
/// The async twin of [`crate::FrameReader`], driven by the same [`ReadState`]: frames are
/// borrowed from the reader's buffer (no allocation per frame in steady state), memory
/// follows the bytes that arrived and is given back after large frames, a declared length
/// over the limit is refused at the header, both [`Oversize`](crate::Oversize) policies
/// apply, and the end of the stream is `Ok(None)` at a frame boundary or
/// [`FrameError::Truncated`] inside a frame.
///
/// Frame deadlines ([`set_frame_timeout`](Self::set_frame_timeout),
/// [`set_frame_deadline`](Self::set_frame_deadline)) run on tokio's timers, on any
/// `AsyncRead`.
///
/// # Examples
///
/// ```
/// use lenframe::tokio::FrameReader;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), lenframe::FrameError> {
/// let wire: &[u8] = b"\x00\x00\x00\x02hi\x00\x00\x00\x00";
/// let mut reader = FrameReader::new(wire);
/// assert_eq!(reader.read_frame().await?, Some(&b"hi"[..]));
/// assert_eq!(reader.read_frame().await?, Some(&b""[..]));
/// assert_eq!(reader.read_frame().await?, None);
/// # Ok(())
/// # }
/// ```
pub struct FrameReader<R> {
    inner: R,
    state: ReadState,
    /// The timer for the current frame's deadline, created on first use and reset after.
    sleep: Option<Pin<Box<Sleep>>>,
    /// The [`Stream`] returned its last item: the end, or an error after which no frame can
    /// come.
    ended: bool,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// A reader with the default configuration ([`FrameConfig::default`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let reader = lenframe::tokio::FrameReader::new(tokio::io::empty());
    /// assert_eq!(reader.state().capacity(), 0); // nothing allocated before the first read
    /// ```
    pub fn new(inner: R) -> Self {
        Self::from_state(inner, ReadState::default())
    }

    /// A reader with the given configuration.
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
    /// let cfg = FrameConfig::default().length_field(LengthField::Varint);
    /// let reader = lenframe::tokio::FrameReader::with_config(tokio::io::empty(), cfg)?;
    /// assert_eq!(reader.config().get_length_field(), LengthField::Varint);
    /// # Ok::<(), lenframe::ConfigError>(())
    /// ```
    pub fn with_config(inner: R, config: FrameConfig) -> Result<Self, ConfigError> {
        ReadState::new(config).map(|state| Self::from_state(inner, state))
    }

    /// A reader whose buffer starts at `capacity` bytes and grows by at least that much at
    /// a time.
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
    /// let reader =
    ///     lenframe::tokio::FrameReader::with_capacity(tokio::io::empty(), FrameConfig::default(), 4096)?;
    /// assert_eq!(reader.state().capacity_step(), 4096);
    /// # Ok::<(), lenframe::ConfigError>(())
    /// ```
    pub fn with_capacity(
        inner: R,
        config: FrameConfig,
        capacity: usize,
    ) -> Result<Self, ConfigError> {
        ReadState::with_capacity(config, capacity).map(|state| Self::from_state(inner, state))
    }

    /// A reader over `inner` driving `state`, with whatever settings it has (a deadline, a
    /// budget, a shrink size).
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::{FrameConfig, ReadState};
    ///
    /// let mut state = ReadState::new(FrameConfig::default())?;
    /// state.set_shrink_to(None);
    /// let reader = lenframe::tokio::FrameReader::from_state(tokio::io::empty(), state);
    /// assert_eq!(reader.state().shrink_to(), None);
    /// # Ok::<(), lenframe::ConfigError>(())
    /// ```
    pub fn from_state(inner: R, state: ReadState) -> Self {
        FrameReader {
            inner,
            state,
            sleep: None,
            ended: false,
        }
    }

    /// Reads the next frame: `Ok(Some(frame))` borrowed from the reader's buffer, or
    /// `Ok(None)` when the stream ended cleanly at a frame boundary.
    ///
    /// The future is a [`ReadFrame`]; [`poll_read_frame`](Self::poll_read_frame) is the same
    /// for code that polls, and [`read_frame_owned`](Self::read_frame_owned) hands out the
    /// frame as owned [`Bytes`] (to give it to another task).
    ///
    /// # Errors
    ///
    /// As [`crate::FrameReader::read_frame`]: [`FrameError::TooLarge`] and
    /// [`FrameError::InvalidHeader`] (fatal, but for `TooLarge` under `Oversize::Skip`),
    /// [`FrameError::Truncated`], [`FrameError::TimedOut`] (the frame's bytes are kept and
    /// the next call resumes it), [`FrameError::OverBudget`], [`FrameError::Io`].
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe. Every byte read is recorded in the reader before the
    /// future yields, so dropping it (in a `tokio::select!` branch that lost, or under
    /// `tokio::time::timeout`) loses nothing: the next call resumes the same frame. A frame
    /// deadline counts only the time a `read_frame` future waits for the frame's bytes:
    /// dropping the future stops the frame's clock until the next call waits again.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio::io::AsyncWriteExt;
    /// use lenframe::tokio::FrameReader;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (mut peer, ours) = tokio::io::duplex(64);
    /// let mut reader = FrameReader::new(ours);
    /// peer.write_all(b"\x00\x00\x00\x05he").await?;
    /// // Half a frame: a timed-out wait loses none of it.
    /// let waited = tokio::time::timeout(Duration::from_millis(10), reader.read_frame()).await;
    /// assert!(waited.is_err());
    /// peer.write_all(b"llo").await?;
    /// assert_eq!(reader.read_frame().await?, Some(&b"hello"[..]));
    /// # Ok(())
    /// # }
    /// ```
    pub fn read_frame(&mut self) -> ReadFrame<'_, R> {
        ReadFrame { reader: Some(self) }
    }

    /// Polls for the next frame: [`read_frame`](Self::read_frame) for code that implements
    /// a future or a stream by hand. `Poll::Pending` means the waker will be woken when
    /// bytes arrive or the frame's deadline passes.
    ///
    /// # Errors
    ///
    /// As [`read_frame`](Self::read_frame).
    ///
    /// # Cancel safety
    ///
    /// Every byte read is kept in the reader: after `Pending`, polling again (or calling
    /// [`read_frame`](Self::read_frame)) resumes the same frame. The time from a `Pending`
    /// to the next poll counts as waiting for the peer against a frame deadline; code that
    /// stops polling for a while calls [`ReadState::pause_clock`] through
    /// [`state_mut`](Self::state_mut), as a dropped [`ReadFrame`] does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use lenframe::tokio::FrameReader;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), lenframe::FrameError> {
    /// let mut reader = FrameReader::new(&b"\x00\x00\x00\x02hi"[..]);
    /// let len = poll_fn(|cx| reader.poll_read_frame(cx).map_ok(|f| f.map(<[u8]>::len))).await?;
    /// assert_eq!(len, Some(2));
    /// # Ok(())
    /// # }
    /// ```
    #[inline]
    pub fn poll_read_frame(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<&[u8]>, FrameError>> {
        match self.poll_frame(cx) {
            Poll::Ready(Ok(Some(range))) => Poll::Ready(Ok(Some(self.state.frame(range)))),
            Poll::Ready(Ok(None)) => Poll::Ready(Ok(None)),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Reads the next frame as owned [`Bytes`], to hand to another task or keep past the
    /// next read; `Ok(None)` at a clean end.
    ///
    /// A frame larger than one read step ([`ReadState::capacity_step`], 64 KiB by default)
    /// is not copied: the reader hands over the buffer holding it
    /// ([`ReadState::take_buffer`]) and starts a fresh one of one step, so the frame's
    /// memory is the buffer's. With a [`MemoryBudget`] the buffer stays charged to it
    /// until the last `Bytes` of the frame is dropped: frames held by workers count
    /// against the same limit as the readers. A smaller frame is copied once, into a
    /// `Bytes` of its own length.
    ///
    /// # Errors
    ///
    /// As [`read_frame`](Self::read_frame).
    ///
    /// # Cancel safety
    ///
    /// As [`read_frame`](Self::read_frame): cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::tokio::FrameReader;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut wire = vec![0, 2, 0, 0]; // a frame of 128 KiB, then one of 2 bytes
    /// wire.resize(4 + 128 * 1024, 7);
    /// wire.extend_from_slice(b"\x00\x00\x00\x02hi");
    /// let mut reader = FrameReader::new(&wire[..]);
    /// let large = reader.read_frame_owned().await?.unwrap();
    /// let small = reader.read_frame_owned().await?.unwrap();
    /// // Both are the reader's no longer: a worker task can own them.
    /// let lens = tokio::spawn(async move { (large.len(), small) }).await?;
    /// assert_eq!(lens, (128 * 1024, bytes::Bytes::from_static(b"hi")));
    /// assert_eq!(reader.read_frame_owned().await?, None);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn read_frame_owned(&mut self) -> Result<Option<Bytes>, FrameError> {
        let mut read = ReadFrame { reader: Some(self) };
        poll_fn(|cx| read.poll_owned(cx)).await
    }

    /// Polls for the next frame as owned [`Bytes`]: [`read_frame_owned`](Self::read_frame_owned)
    /// for code that polls.
    ///
    /// # Errors
    ///
    /// As [`read_frame`](Self::read_frame).
    ///
    /// # Cancel safety
    ///
    /// As [`poll_read_frame`](Self::poll_read_frame).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use lenframe::tokio::FrameReader;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), lenframe::FrameError> {
    /// let mut reader = FrameReader::new(&b"\x00\x00\x00\x02hi"[..]);
    /// let frame = poll_fn(|cx| reader.poll_read_frame_owned(cx)).await?;
    /// assert_eq!(frame.as_deref(), Some(&b"hi"[..]));
    /// # Ok(())
    /// # }
    /// ```
    pub fn poll_read_frame_owned(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<Bytes>, FrameError>> {
        let range = ready!(self.poll_frame(cx))?;
        Poll::Ready(Ok(range.map(|range| self.owned(range))))
    }

    /// The frame at `range` as owned bytes: its buffer handed over when large, a copy when
    /// small.
    fn owned(&mut self, range: Range<usize>) -> Bytes {
        // The size check first, inline: most frames are small.
        if range.len() > self.state.capacity_step() {
            if let Some((buffer, charge)) = self.state.take_buffer(&range) {
                return Bytes::from_owner(OwnedFrame {
                    buffer,
                    range,
                    _charge: charge,
                });
            }
        }
        Bytes::copy_from_slice(self.state.frame(range))
    }

    /// Whether a whole frame is buffered: the next [`read_frame`](Self::read_frame) returns
    /// it without reading from the stream. See [`next_buffered`](Self::next_buffered).
    ///
    /// # Examples
    ///
    /// ```
    /// use tokio::io::AsyncWriteExt;
    /// use lenframe::tokio::FrameReader;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (mut peer, ours) = tokio::io::duplex(64);
    /// peer.write_all(b"\x00\x00\x00\x01a\x00\x00\x00\x01b").await?;
    /// let mut reader = FrameReader::new(ours);
    /// assert!(!reader.has_frame()); // nothing read yet
    /// assert_eq!(reader.read_frame().await?, Some(&b"a"[..]));
    /// assert!(reader.has_frame()); // "b" came in the same read
    /// # Ok(())
    /// # }
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
    /// use tokio::io::AsyncWriteExt;
    /// use lenframe::tokio::FrameReader;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (mut peer, ours) = tokio::io::duplex(64);
    /// peer.write_all(b"\x00\x00\x00\x01a\x00\x00\x00\x01b\x00\x00").await?;
    /// let mut reader = FrameReader::new(ours);
    /// assert_eq!(reader.read_frame().await?, Some(&b"a"[..]));
    /// // Shutting down: drain what was received, read nothing more.
    /// let mut drained = Vec::new();
    /// while let Some(frame) = reader.next_buffered()? {
    ///     drained.push(frame.to_vec());
    /// }
    /// assert_eq!(drained, [b"b".to_vec()]);
    /// assert_eq!(reader.read_buffer(), b"\x00\x00"); // half a header: not a request
    /// # Ok(())
    /// # }
    /// ```
    pub fn next_buffered(&mut self) -> Result<Option<&[u8]>, FrameError> {
        Ok(self.state.decode()?.map(|range| self.state.frame(range)))
    }

    /// [`next_buffered`](Self::next_buffered) as owned [`Bytes`], without a copy when the
    /// frame is large (see [`read_frame_owned`](Self::read_frame_owned)): for a drain that
    /// hands the last requests to a worker.
    ///
    /// # Errors
    ///
    /// As [`next_buffered`](Self::next_buffered).
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::tokio::FrameReader;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), lenframe::FrameError> {
    /// let mut reader = FrameReader::new(&b"\x00\x00\x00\x01a\x00\x00\x00\x01b"[..]);
    /// assert_eq!(reader.read_frame().await?, Some(&b"a"[..]));
    /// assert_eq!(reader.next_buffered_owned()?.as_deref(), Some(&b"b"[..]));
    /// assert_eq!(reader.next_buffered_owned()?, None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn next_buffered_owned(&mut self) -> Result<Option<Bytes>, FrameError> {
        Ok(self.state.decode()?.map(|range| self.owned(range)))
    }

    /// Polls for the next frame, whose bytes [`ReadState::frame`] gives.
    ///
    /// A frame already buffered is decoded here, inlined into the caller's poll; reading
    /// and waiting are out of line.
    #[inline]
    fn poll_frame(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<Range<usize>>, FrameError>> {
        if let Some(range) = self.state.decode()? {
            return Poll::Ready(Ok(Some(range)));
        }
        self.poll_fill(cx)
    }

    /// Reads until a frame is buffered, the stream ends, or the read is pending.
    #[inline(never)]
    fn poll_fill(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<Range<usize>>, FrameError>> {
        self.state.resume_clock(|| Instant::now().into_std());
        loop {
            let mut buf = ReadBuf::new(self.state.read_buf()?);
            match Pin::new(&mut self.inner).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) => {
                    let n = buf.filled().len();
                    if n == 0 {
                        return Poll::Ready(self.state.end_of_stream());
                    }
                    self.state.filled(n, || Instant::now().into_std());
                    if let Some(range) = self.state.decode()? {
                        return Poll::Ready(Ok(Some(range)));
                    }
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => {
                    // The caller has control until it reads again (after `WouldBlock`, say):
                    // that time is not the peer's.
                    self.state.pause_clock(|| Instant::now().into_std());
                    return Poll::Ready(Err(FrameError::Io(e)));
                }
                Poll::Pending => return self.poll_deadline(cx),
            }
        }
    }

    /// While the read is pending: waits for the frame's deadline, if there is one, and
    /// reports it once passed.
    fn poll_deadline<T>(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, FrameError>> {
        let Some(at) = self.state.deadline() else {
            return Poll::Pending;
        };
        let at = Instant::from_std(at);
        let sleep = match &mut self.sleep {
            Some(sleep) => {
                if sleep.deadline() != at {
                    sleep.as_mut().reset(at);
                }
                sleep
            }
            None => self.sleep.insert(Box::pin(::tokio::time::sleep_until(at))),
        };
        ready!(sleep.as_mut().poll(cx));
        // The timer fired, so the deadline has passed on tokio's clock.
        let now = Instant::now().max(at).into_std();
        match self.state.check_deadline(now) {
            Err(e) => Poll::Ready(Err(e)),
            Ok(()) => unreachable_deadline(cx),
        }
    }

    /// Bounds the time from a frame's first byte to its last; `None` removes the bound. The
    /// same as [`set_frame_deadline`](Self::set_frame_deadline) with
    /// [`FrameDeadline::fixed`]; see [`crate::FrameReader::set_frame_timeout`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio::io::AsyncWriteExt;
    /// use lenframe::{tokio::FrameReader, FrameError};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (mut peer, ours) = tokio::io::duplex(64);
    /// let mut reader = FrameReader::new(ours);
    /// reader.set_frame_timeout(Some(Duration::from_millis(500)));
    /// peer.write_all(b"\x00\x00\x00\x05he").await?; // and then nothing
    /// assert!(matches!(
    ///     reader.read_frame().await,
    ///     Err(FrameError::TimedOut { expected: 9, received: 6, .. })
    /// ));
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_frame_timeout(&mut self, timeout: Option<Duration>) {
        self.set_frame_deadline(timeout.map(FrameDeadline::fixed));
    }

    /// Bounds the time from a frame's first byte to its last, fixed or earned by progress
    /// ([`FrameDeadline::with_rate`]); `None` removes the bound. Time between frames is not
    /// counted.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use lenframe::FrameDeadline;
    ///
    /// let mut reader = lenframe::tokio::FrameReader::new(tokio::io::empty());
    /// let rate = FrameDeadline::with_rate(Duration::from_secs(1), 1 << 20, Duration::from_secs(30));
    /// reader.set_frame_deadline(Some(rate));
    /// assert_eq!(reader.state().frame_deadline(), Some(rate));
    /// ```
    pub fn set_frame_deadline(&mut self, deadline: Option<FrameDeadline>) {
        self.state.set_frame_deadline(deadline);
    }

    /// Charges the buffer's growth beyond its first step to a [`MemoryBudget`] shared with
    /// other readers; see [`ReadState::set_budget`].
    ///
    /// # Errors
    ///
    /// [`FrameError::OverBudget`] when the budget cannot cover what the buffer holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::MemoryBudget;
    ///
    /// let mut reader = lenframe::tokio::FrameReader::new(tokio::io::empty());
    /// reader.set_budget(Some(MemoryBudget::new(1 << 20)))?;
    /// # Ok::<(), lenframe::FrameError>(())
    /// ```
    pub fn set_budget(&mut self, budget: Option<MemoryBudget>) -> Result<(), FrameError> {
        self.state.set_budget(budget)
    }

    /// A reference to the underlying reader.
    ///
    /// # Examples
    ///
    /// ```
    /// let reader = lenframe::tokio::FrameReader::new(&b""[..]);
    /// assert!(reader.get_ref().is_empty());
    /// ```
    pub fn get_ref(&self) -> &R {
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

    /// A mutable reference to the underlying reader. Reading from it directly desynchronises
    /// the frames.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut reader = lenframe::tokio::FrameReader::new(&b""[..]);
    /// let _inner: &mut &[u8] = reader.get_mut();
    /// ```
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// Frames and bytes delivered and skipped so far.
    ///
    /// # Examples
    ///
    /// ```
    /// let reader = lenframe::tokio::FrameReader::new(tokio::io::empty());
    /// assert_eq!(reader.stats().frames, 0);
    /// ```
    pub fn stats(&self) -> FrameStats {
        self.state.stats()
    }

    /// The underlying reader. Bytes buffered and not yet returned as frames are dropped:
    /// [`into_parts`](Self::into_parts) gives them back.
    ///
    /// # Examples
    ///
    /// ```
    /// let reader = lenframe::tokio::FrameReader::new(&b"abc"[..]);
    /// assert_eq!(reader.into_inner(), b"abc");
    /// ```
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// The underlying reader and the bytes read from it but not returned as frames (the
    /// start of the next frame, or bytes that follow a framed handshake): to go on with the
    /// stream unframed, read those bytes first.
    ///
    /// # Examples
    ///
    /// ```
    /// use tokio::io::AsyncReadExt;
    /// use lenframe::tokio::FrameReader;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // A framed greeting, then raw bytes.
    /// let wire = b"\x00\x00\x00\x05helloRAW BYTES";
    /// let mut reader = FrameReader::new(&wire[..]);
    /// assert_eq!(reader.read_frame().await?, Some(&b"hello"[..]));
    /// let (mut rest, buffered) = reader.into_parts();
    /// let mut raw = buffered;
    /// rest.read_to_end(&mut raw).await?;
    /// assert_eq!(raw, b"RAW BYTES");
    /// # Ok(())
    /// # }
    /// ```
    pub fn into_parts(self) -> (R, Vec<u8>) {
        let buffered = self.state.read_buffer().to_vec();
        (self.inner, buffered)
    }

    /// The bytes received and not yet returned as frames (the start of the next frame).
    ///
    /// # Examples
    ///
    /// See [`next_buffered`](Self::next_buffered).
    pub fn read_buffer(&self) -> &[u8] {
        self.state.read_buffer()
    }

    /// The read side's state: buffer, capacity, deadline and memory settings
    /// ([`ReadState::read_buffer`], [`ReadState::capacity`], ...).
    ///
    /// # Examples
    ///
    /// ```
    /// let reader = lenframe::tokio::FrameReader::new(tokio::io::empty());
    /// assert!(reader.state().read_buffer().is_empty());
    /// ```
    pub fn state(&self) -> &ReadState {
        &self.state
    }

    /// The buffer's capacity in bytes: the memory the reader holds for frames.
    ///
    /// # Examples
    ///
    /// ```
    /// let reader = lenframe::tokio::FrameReader::new(tokio::io::empty());
    /// assert_eq!(reader.capacity(), 0); // nothing allocated before the first read
    /// ```
    pub fn capacity(&self) -> usize {
        self.state.capacity()
    }

    /// The read side's state, to change its settings ([`ReadState::set_shrink_to`], ...).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut reader = lenframe::tokio::FrameReader::new(tokio::io::empty());
    /// reader.state_mut().set_shrink_to(None);
    /// assert_eq!(reader.state().shrink_to(), None);
    /// ```
    pub fn state_mut(&mut self) -> &mut ReadState {
        &mut self.state
    }
}

/// The future of [`FrameReader::read_frame`]: decodes a frame already buffered in its first
/// poll, and reads only when none is.
///
/// Dropping it before it completes loses nothing: see the method's *Cancel safety* section.
///
/// # Examples
///
/// ```
/// use lenframe::tokio::{FrameReader, ReadFrame};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), lenframe::FrameError> {
/// let mut reader = FrameReader::new(&b"\x00\x00\x00\x02hi"[..]);
/// let read: ReadFrame<'_, &[u8]> = reader.read_frame();
/// assert_eq!(read.await?, Some(&b"hi"[..]));
/// # Ok(())
/// # }
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct ReadFrame<'a, R> {
    /// `None` once the future completed.
    reader: Option<&'a mut FrameReader<R>>,
}

impl<'a, R: AsyncRead + Unpin> Future for ReadFrame<'a, R> {
    type Output = Result<Option<&'a [u8]>, FrameError>;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let reader = self
            .reader
            .take()
            .expect("`read_frame` future polled after completion");
        match reader.poll_frame(cx) {
            Poll::Ready(result) => {
                let reader: &'a FrameReader<R> = reader;
                Poll::Ready(result.map(|range| range.map(|range| reader.state.frame(range))))
            }
            Poll::Pending => {
                self.reader = Some(reader);
                Poll::Pending
            }
        }
    }
}

impl<R> Drop for ReadFrame<'_, R> {
    /// A future dropped while it waited (a `select!` branch that lost, a `timeout`): the
    /// frame's clock stops until the next read waits, so the application's time until then
    /// is not counted against the peer.
    fn drop(&mut self) {
        if let Some(reader) = &mut self.reader {
            reader.state.pause_clock(|| Instant::now().into_std());
        }
    }
}

impl<R: AsyncRead + Unpin> ReadFrame<'_, R> {
    /// The poll of [`FrameReader::read_frame_owned`].
    fn poll_owned(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Bytes>, FrameError>> {
        let reader = self
            .reader
            .as_mut()
            .expect("`read_frame_owned` future polled after completion");
        let frame = ready!(reader.poll_read_frame_owned(cx));
        self.reader = None;
        Poll::Ready(frame)
    }
}

impl<R> std::fmt::Debug for ReadFrame<'_, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadFrame")
            .field("done", &self.reader.is_none())
            .finish_non_exhaustive()
    }
}

/// The owner of a frame handed out as [`Bytes`] without a copy: the reader's former buffer,
/// where the frame lies, and the buffer's charge to the reader's budget.
struct OwnedFrame {
    buffer: Vec<u8>,
    range: Range<usize>,
    _charge: Option<Charge>,
}

impl AsRef<[u8]> for OwnedFrame {
    fn as_ref(&self) -> &[u8] {
        &self.buffer[self.range.clone()]
    }
}

impl<R: AsyncRead + Unpin> Stream for FrameReader<R> {
    type Item = Result<Bytes, FrameError>;

    /// The next frame as owned [`Bytes`] (see [`FrameReader::read_frame_owned`]). The stream
    /// ends at the clean end of the byte stream, and after an error no frame can follow:
    /// it goes on only after [`FrameError::TimedOut`], [`FrameError::OverBudget`],
    /// `TooLarge` under [`Oversize::Skip`](crate::Oversize::Skip) and a `WouldBlock` or
    /// `TimedOut` I/O error, which all leave the next frame readable.
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.ended {
            return Poll::Ready(None);
        }
        let item = match ready!(this.poll_read_frame_owned(cx)) {
            Ok(Some(frame)) => Some(Ok(frame)),
            Ok(None) => None,
            Err(e) => {
                this.ended = !is_resumable(&e, this.state.config());
                Some(Err(e))
            }
        };
        this.ended |= item.is_none();
        Poll::Ready(item)
    }
}

impl<R: AsyncRead + Unpin> FusedStream for FrameReader<R> {
    fn is_terminated(&self) -> bool {
        self.ended
    }
}

/// Whether reading may go on after `err`: the next frame can still be read.
fn is_resumable(err: &FrameError, config: &FrameConfig) -> bool {
    match err {
        FrameError::TimedOut { .. } | FrameError::OverBudget { .. } => true,
        FrameError::TooLarge { .. } => config.get_oversize() == crate::Oversize::Skip,
        _ => err.is_would_block(),
    }
}

/// A timer that fired before the deadline it was set for: tokio's timers never do that, so
/// this is only a guard. Waking at once makes the caller poll again, without a busy loop
/// inside this poll.
#[cold]
fn unreachable_deadline<T>(cx: &mut Context<'_>) -> Poll<T> {
    cx.waker().wake_by_ref();
    Poll::Pending
}

impl<R> std::fmt::Debug for FrameReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameReader")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}
