//! Async counterparts of the helpers in `mod.rs` and `relay.rs`: a scripted `AsyncRead` and
//! `AsyncWrite` whose every poll follows a script (`Pending`, short counts, errors), polling a
//! future by hand a bounded number of times with a no-op waker (to drop it at any poll point),
//! connected tokio stream pairs, a re-cutting async relay, and an event reader for
//! `lenframe::tokio::FrameReader`.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use super::relay::{piece_len, Event, EventLog, RelayReport};
use super::strategies::Cuts;

/// What one poll of a scripted reader or writer does.
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
#[derive(Debug, Default)]
pub struct Script {
    steps: VecDeque<AsyncStep>,
    polls: usize,
}

impl Script {
    /// A script of `steps`.
    pub fn new(steps: impl IntoIterator<Item = AsyncStep>) -> Self {
        Script {
            steps: steps.into_iter().collect(),
            polls: 0,
        }
    }

    /// Steps not yet taken.
    pub fn left(&self) -> usize {
        self.steps.len()
    }

    /// Polls answered so far.
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
#[derive(Debug)]
pub struct ScriptedAsyncReader {
    data: Vec<u8>,
    pos: usize,
    /// The script, with what is left of it.
    pub script: Script,
}

impl ScriptedAsyncReader {
    /// A reader of `data` following `script`.
    pub fn new(data: Vec<u8>, script: impl IntoIterator<Item = AsyncStep>) -> Self {
        ScriptedAsyncReader {
            data,
            pos: 0,
            script: Script::new(script),
        }
    }

    /// Bytes handed out so far.
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
pub fn polls_for(schedule: &[Option<usize>], call: usize, steps_left: usize) -> usize {
    schedule[call % schedule.len()].unwrap_or(steps_left + 2)
}

/// An `AsyncRead` that counts the bytes it hands out.
#[derive(Debug)]
pub struct CountingAsync<R> {
    inner: R,
    /// Bytes read so far.
    pub count: u64,
}

impl<R> CountingAsync<R> {
    /// Wraps `inner`.
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
pub async fn tokio_tcp_pair() -> (tokio::net::TcpStream, tokio::net::TcpStream) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().unwrap();
    let (client, accepted) = tokio::join!(tokio::net::TcpStream::connect(addr), listener.accept());
    (client.expect("connect"), accepted.expect("accept").0)
}

/// A writing and a reading end of `transport`; shutting the writer down ends the stream
/// for the reader. Call inside a runtime with I/O enabled.
pub async fn async_pair(transport: AsyncTransport) -> (BoxAsyncWrite, BoxAsyncRead) {
    match transport {
        AsyncTransport::Tcp => {
            let (client, server) = tokio_tcp_pair().await;
            (Box::new(client), Box::new(server))
        }
        AsyncTransport::Unix => {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("lenframe.sock");
            let listener = tokio::net::UnixListener::bind(&path).expect("bind unix socket");
            let (client, accepted) =
                tokio::join!(tokio::net::UnixStream::connect(&path), listener.accept());
            drop(listener);
            dir.close()
                .expect("remove the socket's temporary directory");
            (
                Box::new(client.expect("connect unix socket")),
                Box::new(accepted.expect("accept unix socket").0),
            )
        }
        AsyncTransport::Duplex(size) => {
            let (a, b) = tokio::io::duplex(size);
            (Box::new(a), Box::new(b))
        }
    }
}

/// Forwards `input` to `output` in the pieces `cuts` prescribes (pauses are not taken),
/// each piece one `write_all`, until `input` ends; then shuts `output` down.
pub async fn relay_async(
    mut input: impl AsyncRead + Unpin,
    mut output: impl AsyncWrite + Unpin,
    cuts: Cuts,
) -> io::Result<RelayReport> {
    let mut report = RelayReport {
        received: 0,
        forwarded: 0,
        pieces: 0,
    };
    let mut pending = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = input.read(&mut buf).await?;
        pending.extend_from_slice(&buf[..n]);
        report.received += n as u64;
        let mut start = 0;
        while let Some(len) = piece_len(&cuts, report.pieces, pending.len() - start, n == 0) {
            output.write_all(&pending[start..start + len]).await?;
            start += len;
            report.pieces += 1;
            report.forwarded += len as u64;
        }
        pending.drain(..start);
        if n == 0 {
            output.shutdown().await?;
            return Ok(report);
        }
    }
}

/// The async twin of [`super::relay::read_events`]: reads until the end, an error other
/// than `TooLarge`, or `max_calls` calls, checking the memory bound after every call.
pub async fn read_events_async<R: AsyncRead + Unpin>(
    reader: &mut lenframe::tokio::FrameReader<CountingAsync<R>>,
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
pub fn read_events_polled(
    reader: &mut lenframe::tokio::FrameReader<ScriptedAsyncReader>,
    schedule: &[Option<usize>],
    max_calls: usize,
) -> Polled {
    let mut log = EventLog::new(reader.config());
    let mut io_errors = Vec::new();
    let step = reader.state().capacity_step();
    for call in 0..max_calls {
        let polls = polls_for(schedule, call, reader.get_ref().script.left());
        let outcome = {
            let fut = std::pin::pin!(reader.read_frame());
            poll_at_most(fut, polls).map(|result| match result {
                Err(lenframe::FrameError::Io(e)) => Err(e.kind()),
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
