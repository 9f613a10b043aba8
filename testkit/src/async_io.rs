//! The tokio twins of [`crate::sockets`], [`crate::relay`], [`crate::scripted`] and
//! [`crate::events`]: connected tokio stream pairs (TCP on 127.0.0.1, Unix sockets in a
//! temporary directory, in-memory duplex), the re-cutting relay as a task, an `AsyncRead`
//! and `AsyncWrite` whose every poll follows a script (`Pending`, short counts, errors),
//! [`poll_at_most`] to poll a future k times and drop it (cancel safety), and event readers
//! for `lenframe::tokio::FrameReader`.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use lenframe::tokio::FrameReader;
use lenframe::FrameError;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpStream, UnixStream};

use crate::events::{Event, EventLog};
use crate::relay::{piece_len, Cuts, RelayReport, Stop};

/// What one poll of a scripted reader or writer does.
///
/// ```
/// use lenframe_testkit::async_io::AsyncStep;
/// let script = [AsyncStep::Pending, AsyncStep::Bytes(1), AsyncStep::Fail(std::io::ErrorKind::ConnectionReset)];
/// assert_eq!(script.len(), 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsyncStep {
    /// `Poll::Pending`, after waking the waker at once.
    Pending,
    /// `Poll::Pending` without waking: only a timer of the caller's (a `timeout`) ends the
    /// wait, and the next poll takes the next step.
    Stall,
    /// Transfer at most this many bytes (a reader's script never holds 0, which would read
    /// as the end of the stream; a writer's 0 is `Ok(0)`).
    Bytes(usize),
    /// `Poll::Ready(Err(kind))`.
    Fail(io::ErrorKind),
}

/// The steps of a scripted reader or writer, taken one per poll.
///
/// ```
/// use lenframe_testkit::async_io::{AsyncStep, Script};
/// let script = Script::new([AsyncStep::Pending]);
/// assert_eq!((script.left(), script.polls()), (1, 0));
/// ```
#[derive(Debug, Default)]
pub struct Script {
    steps: VecDeque<AsyncStep>,
    polls: usize,
}

impl Script {
    /// A script of `steps`.
    ///
    /// ```
    /// let script = lenframe_testkit::async_io::Script::new([]);
    /// assert_eq!(script.left(), 0);
    /// ```
    pub fn new(steps: impl IntoIterator<Item = AsyncStep>) -> Self {
        Script {
            steps: steps.into_iter().collect(),
            polls: 0,
        }
    }

    /// Steps not yet taken.
    ///
    /// ```
    /// use lenframe_testkit::async_io::{AsyncStep, Script};
    /// assert_eq!(Script::new([AsyncStep::Bytes(1); 3]).left(), 3);
    /// ```
    pub fn left(&self) -> usize {
        self.steps.len()
    }

    /// Polls answered so far.
    ///
    /// ```
    /// assert_eq!(lenframe_testkit::async_io::Script::default().polls(), 0);
    /// ```
    pub fn polls(&self) -> usize {
        self.polls
    }

    /// Takes the next step: `Pending` (the waker woken), an error, or how many bytes may
    /// move (all of them once the script is spent).
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        self.polls += 1;
        match self.steps.pop_front() {
            Some(AsyncStep::Pending) => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Some(AsyncStep::Stall) => Poll::Pending,
            Some(AsyncStep::Fail(kind)) => Poll::Ready(Err(kind.into())),
            Some(AsyncStep::Bytes(n)) => Poll::Ready(Ok(n)),
            None => Poll::Ready(Ok(usize::MAX)),
        }
    }
}

/// An `AsyncRead` over fixed bytes whose polls follow a script; once it is spent, each poll
/// fills as much as asked. The end of the data is the end of the stream.
///
/// ```
/// use lenframe::tokio::FrameReader;
/// use lenframe_testkit::async_io::{poll_at_most, AsyncStep, ScriptedAsyncReader};
///
/// let script = [AsyncStep::Bytes(2), AsyncStep::Pending];
/// let mut reader = FrameReader::new(ScriptedAsyncReader::new(b"\0\0\0\x01x".to_vec(), script));
/// // The first call takes 2 bytes, meets `Pending` and is dropped...
/// assert!(poll_at_most(std::pin::pin!(reader.read_frame()), 1).is_none());
/// // ...and the next one resumes at the third byte.
/// let frame = poll_at_most(std::pin::pin!(reader.read_frame()), 5).unwrap();
/// assert_eq!(frame.unwrap(), Some(&b"x"[..]));
/// ```
#[derive(Debug)]
pub struct ScriptedAsyncReader {
    data: Vec<u8>,
    pos: usize,
    /// The script, with what is left of it.
    pub script: Script,
}

impl ScriptedAsyncReader {
    /// A reader of `data` following `script`.
    ///
    /// ```
    /// let r = lenframe_testkit::async_io::ScriptedAsyncReader::new(vec![1], []);
    /// assert_eq!(r.position(), 0);
    /// ```
    pub fn new(data: Vec<u8>, script: impl IntoIterator<Item = AsyncStep>) -> Self {
        ScriptedAsyncReader {
            data,
            pos: 0,
            script: Script::new(script),
        }
    }

    /// Bytes handed out so far.
    ///
    /// ```
    /// use tokio::io::AsyncReadExt;
    /// use lenframe_testkit::async_io::{poll_at_most, ScriptedAsyncReader};
    /// let mut r = ScriptedAsyncReader::new(vec![1, 2], []);
    /// let mut buf = [0; 4];
    /// assert_eq!(poll_at_most(std::pin::pin!(r.read(&mut buf)), 1).unwrap()?, 2);
    /// assert_eq!(r.position(), 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn position(&self) -> usize {
        self.pos
    }
}

impl AsyncRead for ScriptedAsyncReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // Filling nothing would read as the end of the stream.
        assert!(buf.remaining() > 0, "poll_read with no room");
        let limit = match this.script.poll_next(cx) {
            Poll::Ready(Ok(n)) => n,
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        };
        assert!(limit > 0, "a reader's script holds no Bytes(0)");
        let n = limit.min(buf.remaining()).min(this.data.len() - this.pos);
        buf.put_slice(&this.data[this.pos..this.pos + n]);
        this.pos += n;
        Poll::Ready(Ok(()))
    }
}

/// An `AsyncWrite` into a `Vec` whose write polls follow a script (vectored writes count as
/// one poll); once it is spent, each poll takes everything. Flush and shutdown always
/// succeed.
///
/// ```
/// use lenframe::tokio::FrameWriter;
/// use lenframe_testkit::async_io::{poll_at_most, AsyncStep, ScriptedAsyncWriter};
///
/// let script = [AsyncStep::Bytes(3), AsyncStep::Pending];
/// let mut writer = FrameWriter::new(ScriptedAsyncWriter::new(script));
/// let done = poll_at_most(std::pin::pin!(async {
///     writer.write_frame(b"hi").await?;
///     writer.flush().await
/// }), 10);
/// done.unwrap()?;
/// assert_eq!(writer.get_ref().data, b"\0\0\0\x02hi");
/// # Ok::<(), lenframe::FrameError>(())
/// ```
#[derive(Debug, Default)]
pub struct ScriptedAsyncWriter {
    /// Every byte accepted, in order.
    pub data: Vec<u8>,
    /// The script, with what is left of it.
    pub script: Script,
    /// Flush polls answered so far.
    pub flushes: usize,
}

impl ScriptedAsyncWriter {
    /// A writer following `script`.
    ///
    /// ```
    /// let w = lenframe_testkit::async_io::ScriptedAsyncWriter::new([]);
    /// assert!(w.data.is_empty());
    /// ```
    pub fn new(script: impl IntoIterator<Item = AsyncStep>) -> Self {
        ScriptedAsyncWriter {
            script: Script::new(script),
            ..Default::default()
        }
    }
}

impl AsyncWrite for ScriptedAsyncWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[io::IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let mut left = match this.script.poll_next(cx) {
            Poll::Ready(Ok(n)) => n,
            other => return other,
        };
        let mut total = 0;
        for buf in bufs {
            let n = left.min(buf.len());
            this.data.extend_from_slice(&buf[..n]);
            left -= n;
            total += n;
        }
        Poll::Ready(Ok(total))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().flushes += 1;
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Polls `fut` at most `polls` times with a no-op waker: its output, or `None` if it was
/// still pending (the caller then drops it, cancelling it at that point).
///
/// With it, a test drops a handler's future after every number of polls in turn and checks
/// that what the handler leaves behind is still right: its cancel safety.
///
/// ```
/// use std::pin::pin;
/// use lenframe_testkit::async_io::poll_at_most;
///
/// let mut polled = 0;
/// let fut = pin!(std::future::poll_fn(|_| {
///     polled += 1;
///     if polled < 3 { std::task::Poll::Pending } else { std::task::Poll::Ready(polled) }
/// }));
/// assert_eq!(poll_at_most(fut, 5), Some(3));
/// assert_eq!(poll_at_most(pin!(std::future::pending::<()>()), 5), None);
/// ```
pub fn poll_at_most<F: Future>(mut fut: Pin<&mut F>, polls: usize) -> Option<F::Output> {
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..polls {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return Some(out);
        }
    }
    None
}

/// The polls to give call number `call` under `schedule` (cycled): `Some(k)` is k polls,
/// `None` enough to finish when `steps_left` script steps are left, since each poll either
/// takes a step or completes.
///
/// ```
/// use lenframe_testkit::async_io::polls_for;
/// assert_eq!(polls_for(&[Some(1), None], 0, 10), 1);
/// assert_eq!(polls_for(&[Some(1), None], 1, 10), 12);
/// ```
pub fn polls_for(schedule: &[Option<usize>], call: usize, steps_left: usize) -> usize {
    schedule[call % schedule.len()].unwrap_or(steps_left + 2)
}

/// An `AsyncRead` that counts the bytes it hands out.
///
/// ```
/// use tokio::io::AsyncReadExt;
/// use lenframe_testkit::async_io::{poll_at_most, CountingAsync};
/// let mut r = CountingAsync::new(&b"abc"[..]);
/// let mut all = Vec::new();
/// poll_at_most(std::pin::pin!(r.read_to_end(&mut all)), 4).unwrap()?;
/// assert_eq!(r.count, 3);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct CountingAsync<R> {
    inner: R,
    /// Bytes read so far.
    pub count: u64,
}

impl<R> CountingAsync<R> {
    /// Wraps `inner`.
    ///
    /// ```
    /// assert_eq!(lenframe_testkit::async_io::CountingAsync::new(tokio::io::empty()).count, 0);
    /// ```
    pub fn new(inner: R) -> Self {
        CountingAsync { inner, count: 0 }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for CountingAsync<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        this.count += (buf.filled().len() - before) as u64;
        result
    }
}

/// The tokio transports the async properties run over.
///
/// ```
/// use lenframe_testkit::async_io::AsyncTransport;
/// assert_ne!(AsyncTransport::Tcp, AsyncTransport::Duplex(64));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsyncTransport {
    /// A tokio `TcpStream` pair over 127.0.0.1 on an ephemeral port.
    Tcp,
    /// A tokio `UnixStream` pair through a path in a temporary directory.
    Unix,
    /// `tokio::io::duplex` with this buffer size.
    Duplex(usize),
}

/// A boxed writing end.
pub type BoxAsyncWrite = Box<dyn AsyncWrite + Send + Unpin>;
/// A boxed reading end.
pub type BoxAsyncRead = Box<dyn AsyncRead + Send + Unpin>;

/// A connected tokio TCP pair on 127.0.0.1: `(client, server)`.
///
/// ```
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let (mut client, mut server) = lenframe_testkit::async_io::tokio_tcp_pair().await;
/// client.write_all(b"x").await?;
/// assert_eq!(server.read_u8().await?, b'x');
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
///
/// # Panics
///
/// If the loopback interface refuses to bind, connect or accept.
pub async fn tokio_tcp_pair() -> (TcpStream, TcpStream) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().unwrap();
    let (client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
    (client.expect("connect"), accepted.expect("accept").0)
}

/// A connected tokio Unix socket pair through a path in a temporary directory, removed
/// before returning: `(client, server)`.
///
/// ```
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let (mut client, mut server) = lenframe_testkit::async_io::tokio_unix_pair().await;
/// server.write_all(b"y").await?;
/// assert_eq!(client.read_u8().await?, b'y');
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
///
/// # Panics
///
/// If the temporary directory or the socket cannot be made.
pub async fn tokio_unix_pair() -> (UnixStream, UnixStream) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("lenframe.sock");
    let listener = tokio::net::UnixListener::bind(&path).expect("bind unix socket");
    let (client, accepted) = tokio::join!(UnixStream::connect(&path), listener.accept());
    drop(listener);
    dir.close()
        .expect("remove the socket's temporary directory");
    (
        client.expect("connect unix socket"),
        accepted.expect("accept unix socket").0,
    )
}

/// The byte each socket pair leaves unread in its writing end, as in
/// [`crate::sockets::pair`]: closing with it unread resets the connection.
const PRIMER: u8 = 0xa5;

#[derive(Debug)]
enum AsyncInner {
    Tcp(TcpStream),
    Unix(UnixStream),
    Duplex(tokio::io::DuplexStream),
}

/// The writing end of an [`async_pair`]: shutting it down (or dropping it) ends the stream
/// for the reader after every byte written; [`AsyncWriteEnd::reset`] cuts it with a
/// connection reset instead (an in-memory duplex has no reset: it ends the stream).
///
/// ```
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// use lenframe_testkit::async_io::{async_pair, AsyncTransport};
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let (mut w, mut r) = async_pair(AsyncTransport::Unix).await;
/// w.write_all(b"ab").await?;
/// w.reset();
/// assert_eq!(r.read_u16().await?, u16::from_be_bytes(*b"ab"));
/// assert_eq!(r.read_u8().await.unwrap_err().kind(), std::io::ErrorKind::ConnectionReset);
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct AsyncWriteEnd {
    inner: Option<AsyncInner>,
}

impl AsyncWriteEnd {
    /// Closes the stream with a reset: the peer reads what was sent, then
    /// `ConnectionReset`. See the [type's example](AsyncWriteEnd).
    pub fn reset(mut self) {
        // Dropped with the primer unread: the kernel resets the connection.
        drop(self.inner.take());
    }

    fn pinned(&mut self) -> Pin<&mut (dyn AsyncWrite + Unpin)> {
        match self.inner.as_mut().expect("an open end") {
            AsyncInner::Tcp(s) => Pin::new(s),
            AsyncInner::Unix(s) => Pin::new(s),
            AsyncInner::Duplex(s) => Pin::new(s),
        }
    }
}

impl AsyncWrite for AsyncWriteEnd {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().pinned().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().pinned().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().pinned().poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().pinned().poll_shutdown(cx)
    }
}

impl Drop for AsyncWriteEnd {
    fn drop(&mut self) {
        // An orderly end: take the primer first (queued before the pair was handed out).
        // Read through the std socket: tokio's `try_read` does not even try before the
        // reactor has seen the socket readable.
        let mut byte = [0u8; 1];
        match self.inner.take() {
            Some(AsyncInner::Tcp(s)) => {
                if let Ok(mut s) = s.into_std() {
                    drop(std::io::Read::read(&mut s, &mut byte));
                }
            }
            Some(AsyncInner::Unix(s)) => {
                if let Ok(mut s) = s.into_std() {
                    drop(std::io::Read::read(&mut s, &mut byte));
                }
            }
            Some(AsyncInner::Duplex(_)) | None => {}
        }
    }
}

/// A writing and a reading end of `transport`; shutting the writer down or dropping it ends
/// the stream for the reader, [`AsyncWriteEnd::reset`] resets it. Call inside a runtime with
/// I/O enabled.
///
/// ```
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// use lenframe_testkit::async_io::{async_pair, AsyncTransport};
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// for transport in [AsyncTransport::Tcp, AsyncTransport::Unix, AsyncTransport::Duplex(8)] {
///     let (mut w, mut r) = async_pair(transport).await;
///     w.write_all(b"ping").await?;
///     w.shutdown().await?;
///     let mut got = Vec::new();
///     r.read_to_end(&mut got).await?;
///     assert_eq!(got, b"ping");
/// }
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
///
/// # Panics
///
/// If the transport cannot be set up.
pub async fn async_pair(transport: AsyncTransport) -> (AsyncWriteEnd, BoxAsyncRead) {
    let (inner, reader): (_, BoxAsyncRead) = match transport {
        AsyncTransport::Tcp => {
            let (client, mut server) = tokio_tcp_pair().await;
            server.write_all(&[PRIMER]).await.expect("send the primer");
            server.shutdown().await.ok();
            // Waits until the primer is queued, so a reset is a reset from the first byte.
            client
                .peek(&mut [0u8; 1])
                .await
                .expect("the primer arrives");
            (AsyncInner::Tcp(client), Box::new(server))
        }
        AsyncTransport::Unix => {
            let (client, mut server) = tokio_unix_pair().await;
            // A Unix socket queues what is sent before the call returns.
            server.write_all(&[PRIMER]).await.expect("send the primer");
            server.shutdown().await.ok();
            (AsyncInner::Unix(client), Box::new(server))
        }
        AsyncTransport::Duplex(size) => {
            let (a, b) = tokio::io::duplex(size);
            (AsyncInner::Duplex(a), Box::new(b))
        }
    };
    let writer = AsyncWriteEnd { inner: Some(inner) };
    (writer, reader)
}

/// Forwards `input` to `output` in the pieces `cuts` prescribes (pauses are not taken),
/// each piece one `write_all`, until `input` ends; then shuts `output` down. A piece is held
/// until it is whole or `input` ends; with `quiet`, also until `input` has been quiet that
/// long (for a request/response protocol, whose peer waits for an answer before it writes
/// more). With `stop`, only the first [`Stop::at`] bytes are forwarded, then `output` is
/// ended or reset there and the rest of `input` is read and dropped. The async twin of
/// [`crate::relay::relay`].
///
/// ```
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// use lenframe_testkit::async_io::{async_pair, relay_async, AsyncTransport};
/// use lenframe_testkit::relay::{Cuts, Stop};
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let (mut w, r) = async_pair(AsyncTransport::Tcp).await;
/// let (w2, mut r2) = async_pair(AsyncTransport::Tcp).await;
/// let relay = tokio::spawn(relay_async(r, w2, Cuts::new(vec![1]), Some(Stop::End(3)), None));
/// w.write_all(b"abcdef").await?;
/// w.shutdown().await?;
/// let mut got = Vec::new();
/// r2.read_to_end(&mut got).await?;
/// assert_eq!(got, b"abc");
/// let report = relay.await.unwrap()?;
/// assert_eq!((report.received, report.forwarded, report.pieces), (6, 3, 3));
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
///
/// # Errors
///
/// The first error reading `input` or writing `output`.
pub async fn relay_async(
    mut input: impl AsyncRead + Unpin,
    output: AsyncWriteEnd,
    cuts: Cuts,
    stop: Option<Stop>,
    quiet: Option<Duration>,
) -> io::Result<RelayReport> {
    let limit = stop.map_or(u64::MAX, Stop::at);
    let mut output = Some(output);
    let mut report = RelayReport::default();
    let mut pending = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        // `read` is cancel safe: a timeout loses nothing.
        let read = match quiet {
            Some(quiet) => tokio::time::timeout(quiet, input.read(&mut buf)).await.ok(),
            None => Some(input.read(&mut buf).await),
        };
        let was_quiet = read.is_none();
        let n = match read {
            Some(n) => n?,
            None => 0, // quiet: what is held goes out below
        };
        let ended = !was_quiet && n == 0;
        report.received += n as u64;
        if let Some(out) = output.as_mut() {
            let room = limit - report.forwarded - pending.len() as u64;
            let take = (n as u64).min(room) as usize;
            pending.extend_from_slice(&buf[..take]);
            let at_limit = report.forwarded + pending.len() as u64 == limit;
            let all = was_quiet || ended || at_limit;
            let mut start = 0;
            while let Some(len) = piece_len(&cuts, report.pieces, pending.len() - start, all) {
                out.write_all(&pending[start..start + len]).await?;
                start += len;
                report.pieces += 1;
                report.forwarded += len as u64;
            }
            pending.drain(..start);
            if at_limit && matches!(stop, Some(Stop::Reset(_))) {
                output.take().expect("open").reset();
            } else if ended || at_limit {
                out.shutdown().await?;
                output = None;
            }
        }
        if ended {
            return Ok(report);
        }
    }
}

/// The relay task of a [`relayed_async`] link.
pub type AsyncRelayHandle = tokio::task::JoinHandle<io::Result<RelayReport>>;

/// One direction of a connection through the async relay: the end to write into, the end to
/// read from, and the relay task (spawned on the current runtime) re-cutting what passes
/// between two connections of `transport`. With `quiet`, held bytes go out once the writer
/// has been quiet that long: two such links make a duplex link for a request/response
/// protocol.
///
/// ```
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// use lenframe_testkit::async_io::{relayed_async, AsyncTransport};
/// use lenframe_testkit::relay::{Cuts, Stop};
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let (mut w, mut r, relay) = relayed_async(AsyncTransport::Unix, Cuts::new(vec![2]), Some(Stop::Reset(3)), None).await;
/// w.write_all(b"abcdef").await?;
/// w.shutdown().await?;
/// let mut got = [0; 3];
/// r.read_exact(&mut got).await?;
/// assert_eq!(&got, b"abc");
/// assert_eq!(r.read_u8().await.unwrap_err().kind(), std::io::ErrorKind::ConnectionReset);
/// assert_eq!(relay.await.unwrap()?.forwarded, 3);
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
pub async fn relayed_async(
    transport: AsyncTransport,
    cuts: Cuts,
    stop: Option<Stop>,
    quiet: Option<Duration>,
) -> (AsyncWriteEnd, BoxAsyncRead, AsyncRelayHandle) {
    let (w1, r1) = async_pair(transport).await;
    let (w2, r2) = async_pair(transport).await;
    let relay = tokio::spawn(relay_async(r1, w2, cuts, stop, quiet));
    (w1, r2, relay)
}

/// The async twin of [`crate::events::read_events`]: reads until the end, an error other
/// than `TooLarge`, or `max_calls` calls, checking the memory bound after every call.
///
/// ```
/// use lenframe::tokio::FrameReader;
/// use lenframe_testkit::async_io::{read_events_async, CountingAsync};
/// use lenframe_testkit::events::Event;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let wire = b"\0\0\0\x02ok\0\0".to_vec();
/// let mut reader = FrameReader::new(CountingAsync::new(&wire[..]));
/// assert_eq!(
///     read_events_async(&mut reader, 10).await,
///     [Event::Frame(b"ok".to_vec()), Event::Truncated { expected: 4, received: 2 }],
/// );
/// # });
/// ```
pub async fn read_events_async<R: AsyncRead + Unpin>(
    reader: &mut FrameReader<CountingAsync<R>>,
    max_calls: usize,
) -> Vec<Event> {
    let mut log = EventLog::new(reader.config());
    for _ in 0..max_calls {
        let event = Event::of(reader.read_frame().await);
        let (capacity, step) = (reader.capacity(), reader.state().capacity_step());
        if log.record(event, capacity, step, reader.get_ref().count) {
            break;
        }
    }
    log.events
}

/// What [`read_events_polled`] saw.
///
/// See [`read_events_polled`].
#[derive(Debug)]
pub struct Polled {
    /// The events, as [`EventLog`] keeps them (memory bound checked after every call).
    pub events: Vec<Event>,
    /// The kinds of the `FrameError::Io` errors returned, in order (not events: the next
    /// call resumes).
    pub io_errors: Vec<io::ErrorKind>,
    /// Whether reading stopped by itself (the end, a fatal error, a broken bound) within
    /// the calls allowed.
    pub finished: bool,
}

/// Reads with `reader` over a scripted reader without a runtime: each call's future is
/// polled with a no-op waker as `schedule` says (`Some(k)`: at most k polls, then dropped;
/// `None`: until ready, which takes at most the script's steps left plus two polls, as each
/// poll takes a step or completes), cycled, for at most `max_calls` calls.
///
/// A reader that is cancel safe delivers the same events whatever the schedule.
///
/// ```
/// use lenframe::tokio::FrameReader;
/// use lenframe_testkit::async_io::{read_events_polled, AsyncStep, ScriptedAsyncReader};
/// use lenframe_testkit::events::Event;
///
/// let wire = b"\0\0\0\x05hello".to_vec();
/// let script = [AsyncStep::Bytes(1), AsyncStep::Pending, AsyncStep::Bytes(3), AsyncStep::Pending];
/// let mut reader = FrameReader::new(ScriptedAsyncReader::new(wire, script));
/// // Every call's future polled once and dropped, then polled to the end.
/// let seen = read_events_polled(&mut reader, &[Some(1)], 50);
/// assert_eq!(seen.events, [Event::Frame(b"hello".to_vec()), Event::End]);
/// assert!(seen.finished);
/// ```
pub fn read_events_polled(
    reader: &mut FrameReader<ScriptedAsyncReader>,
    schedule: &[Option<usize>],
    max_calls: usize,
) -> Polled {
    let mut log = EventLog::new(reader.config());
    let mut io_errors = Vec::new();
    let step = reader.state().capacity_step();
    for call in 0..max_calls {
        let polls = polls_for(schedule, call, reader.get_ref().script.left());
        let outcome = {
            let fut = pin!(reader.read_frame());
            poll_at_most(fut, polls).map(|result| match result {
                Err(FrameError::Io(e)) => Err(e.kind()),
                other => Ok(Event::of(other)),
            })
        };
        let (capacity, received) = (reader.capacity(), reader.get_ref().position() as u64);
        let stop = match outcome {
            Some(Ok(event)) => log.record(event, capacity, step, received),
            Some(Err(kind)) => {
                io_errors.push(kind);
                log.over_bound(capacity, step, received)
            }
            None => log.over_bound(capacity, step, received),
        };
        if stop {
            return Polled {
                events: log.events,
                io_errors,
                finished: true,
            };
        }
    }
    Polled {
        events: log.events,
        io_errors,
        finished: false,
    }
}
