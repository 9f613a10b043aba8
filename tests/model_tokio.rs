//! Model-based tests of `lenframe::tokio::FrameReader`/`FrameWriter` as an application uses
//! them, on tokio's paused clock over `tokio::io::duplex`, so that every wait is exact.
//!
//! A reference model of one connection (the frames the application wrote, which of them the
//! writer accepted, the frames the peer queued and how much of them it sent, the frames the
//! application took, the frame deadline and how long the current frame has been waited for)
//! and random sequences of what an application does: write small or large frames under
//! `tokio::time::timeout` or by polling the future a few times and dropping it, then retry
//! the ones not accepted as the docs say (by `frames_accepted()`); flush while the peer
//! reads; let the peer read a few bytes or none; take the writer apart and go on raw; read
//! by awaiting (borrowed or owned frames), under a timeout, or by polling a few times and dropping the future; spend
//! time in a handler (`tokio::time::advance`); take the reader apart and read the next frame
//! raw; lend the stream to a reader for a few frames and take it back; set or clear a frame
//! deadline. After every step:
//!
//! - the peer has received exactly a prefix of the accepted frames, once each, in order, and
//!   all of them after a flush; at the end, every frame the application wrote, once;
//! - a read gives the model's frame at once, or waits exactly as long as the model says:
//!   `TimedOut` with the model's counts exactly when the time spent waiting for the frame's
//!   bytes (across dropped futures, never counting handler time or time between frames)
//!   reaches the deadline, and only while the peer has sent part of a frame;
//! - bytes a reader hands over with `into_parts`, then the stream, are exactly the rest of
//!   the peer's stream;
//! - reader and writer memory stay within the bounds of `support::model`.
//!
//! 32 cases by default (override with `PROPTEST_CASES`).

mod support;

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use lenframe::tokio::{FrameReader, FrameWriter};
use lenframe::{FrameConfig, FrameError, TimeLimit};
use proptest::prelude::*;
use proptest_state_machine::{prop_state_machine, ReferenceStateMachine, StateMachineTest};
use tokio::io::{AsyncRead, AsyncWriteExt, DuplexStream, ReadBuf};
use tokio::runtime::Runtime;
// The test polls by hand and plays the peer inside one task: tokio's cooperative budget
// would answer `Pending` once it runs out, which is not what a stream with bytes does.
use tokio::task::unconstrained;
use tokio::time::{timeout, Instant};

use lenframe_testkit::async_io::poll_at_most;
use lenframe_testkit::strategies::proptest_config;
use support::model::{
    payload, peer_sends, wire, End, Ledger, PeerFrames, PeerModel, ReaderMemory, WriterMemory,
    WriterView, APP, PEER, STEP, WCAP,
};

/// The frame deadline, when one is set. No sum of the waits below equals it, so a frame
/// deadline and a caller's timeout never fire at the same instant.
const DEADLINE: Duration = Duration::from_millis(100);
/// The waits a caller puts around a read or a write.
const WAITS: [u64; 3] = [33, 71, 250];
/// The application-to-peer stream's buffer: a large frame waits for the peer.
const APP_DUPLEX: usize = 8 * 1024;
/// The peer-to-application stream's buffer: the peer's writes never wait.
const PEER_DUPLEX: usize = 64 * 1024;
/// The most peer bytes the application has not taken.
const MAX_UNREAD: usize = 48 * 1024;
/// A bound on polls of one future driven alongside the peer.
const MAX_POLLS: usize = 100_000;

// ---------------------------------------------------------------------------------------
// The model

/// How the application waits for a read or a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum How {
    Await,
    /// Awaited as an owned frame (`read_frame_owned`): reads only.
    Owned,
    /// Under `tokio::time::timeout` of this many milliseconds.
    Timeout(u64),
    /// Polled this many times, then dropped.
    Polls(usize),
}

#[derive(Debug, Clone)]
enum Op {
    /// The application writes a frame of this many bytes (retrying earlier ones first).
    Write(usize, How),
    /// Flush, with the peer reading alongside.
    Flush,
    /// The peer reads up to this many bytes, or what is there.
    PeerRead(usize),
    /// `into_inner` (refused while bytes are unwritten), `into_parts`, the unwritten bytes
    /// and one frame written raw, then a new writer.
    WriterApart(usize),
    /// The peer queues frames of these lengths and sends all it queued but `hold` bytes of
    /// the last one.
    PeerSend {
        lens: Vec<usize>,
        hold: usize,
    },
    Read(How),
    /// `into_parts`, then the next frame read raw from the leftover bytes and the stream.
    RawRead,
    /// The stream lent to a new reader for this many frames.
    Lend(usize, End),
    /// The application's handler takes this many milliseconds.
    Pause(u64),
    SetDeadline(bool),
}

/// What the model says a read does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// The frame, at once.
    Frame { index: usize, len: usize },
    /// `TimedOut` with these counts, after waiting `after`.
    TimedOut {
        expected: u64,
        received: u64,
        after: Duration,
    },
    /// The caller's timeout fired after this long, with nothing.
    Elapsed(Duration),
    /// Still pending after the polls; dropped.
    Pending,
}

#[derive(Debug, Clone)]
struct Model {
    /// Lengths of the frames the application wrote (raw ones included), in order.
    written: Vec<usize>,
    peer: PeerModel,
    deadline: bool,
    /// Time spent waiting for the current frame's bytes.
    waited: Duration,
    expect: Option<Expect>,
}

impl Model {
    fn read_outcome(&self, how: How) -> Option<Expect> {
        if self.peer.whole(1) {
            let (index, len) = self.peer.next();
            return Some(Expect::Frame { index, len });
        }
        let timed_out = (self.peer.partial() > 0 && self.deadline).then(|| {
            let (expected, received) = self.peer.cut();
            Expect::TimedOut {
                expected,
                received,
                after: DEADLINE - self.waited,
            }
        });
        match how {
            How::Polls(_) => Some(Expect::Pending),
            // Without a deadline, or between frames, the wait has no end.
            How::Await | How::Owned => timed_out,
            How::Timeout(ms) => {
                let wait = Duration::from_millis(ms);
                match timed_out {
                    Some(Expect::TimedOut { after, .. }) if after < wait => timed_out,
                    _ => Some(Expect::Elapsed(wait)),
                }
            }
        }
    }

    fn take(&mut self, n: usize) {
        self.peer.take(n);
        self.waited = Duration::ZERO;
    }
}

struct ConnModel;

fn write_len() -> impl Strategy<Value = usize> {
    prop_oneof![
        4 => 0..64usize,
        3 => 64..WCAP,
        3 => WCAP - 4..40_000,
        1 => 100_000..400_000usize,
    ]
}

fn wait() -> impl Strategy<Value = u64> {
    proptest::sample::select(&WAITS[..])
}

impl ReferenceStateMachine for ConnModel {
    type State = Model;
    type Transition = Op;

    fn init_state() -> BoxedStrategy<Model> {
        any::<bool>()
            .prop_map(|deadline| Model {
                written: Vec::new(),
                peer: PeerModel::default(),
                deadline,
                waited: Duration::ZERO,
                expect: None,
            })
            .boxed()
    }

    fn transitions(_: &Model) -> BoxedStrategy<Op> {
        let write_how = prop_oneof![
            wait().prop_map(How::Timeout),
            (1..4usize).prop_map(How::Polls)
        ];
        let read_how = prop_oneof![
            2 => Just(How::Await),
            1 => Just(How::Owned),
            2 => wait().prop_map(How::Timeout),
            1 => (1..3usize).prop_map(How::Polls),
        ];
        let end = prop_oneof![Just(End::IntoParts), Just(End::IntoInner), Just(End::Drop)];
        prop_oneof![
            6 => (write_len(), write_how).prop_map(|(len, how)| Op::Write(len, how)),
            2 => Just(Op::Flush),
            2 => prop_oneof![Just(usize::MAX), 1..20_000usize].prop_map(Op::PeerRead),
            1 => write_len().prop_map(Op::WriterApart),
            5 => peer_sends().prop_map(|(lens, hold)| Op::PeerSend { lens, hold }),
            7 => read_how.prop_map(Op::Read),
            1 => Just(Op::RawRead),
            2 => (1..4usize, end).prop_map(|(n, end)| Op::Lend(n, end)),
            2 => (1..500u64).prop_map(Op::Pause),
            2 => any::<bool>().prop_map(Op::SetDeadline),
        ]
        .boxed()
    }

    fn preconditions(state: &Model, op: &Op) -> bool {
        match op {
            Op::PeerSend { lens, hold } => state.peer.can_send(lens, *hold, MAX_UNREAD),
            Op::Read(how) => state.read_outcome(*how).is_some(),
            Op::RawRead => state.peer.whole(1),
            Op::Lend(n, _) => state.peer.whole(*n),
            _ => true,
        }
    }

    fn apply(mut state: Model, op: &Op) -> Model {
        state.expect = None;
        match op {
            Op::Write(len, _) | Op::WriterApart(len) => state.written.push(*len),
            Op::Flush | Op::PeerRead(_) | Op::Pause(_) => {}
            Op::PeerSend { lens, hold } => state.peer.send(lens, *hold),
            Op::Read(how) => {
                let expect = state
                    .read_outcome(*how)
                    .expect("checked by the precondition");
                match expect {
                    Expect::Frame { .. } => state.take(1),
                    // The clock restarts, paused.
                    Expect::TimedOut { .. } => state.waited = Duration::ZERO,
                    // Waiting counts only inside a frame and under a deadline.
                    Expect::Elapsed(wait) if state.deadline && state.peer.partial() > 0 => {
                        state.waited += wait;
                    }
                    Expect::Elapsed(_) | Expect::Pending => {}
                }
                state.expect = Some(expect);
            }
            // A new reader takes over after these: its clock starts afresh.
            Op::RawRead => state.take(1),
            Op::Lend(n, _) => state.take(*n),
            Op::SetDeadline(on) => {
                state.deadline = *on;
                state.waited = Duration::ZERO;
            }
        }
        state
    }
}

// ---------------------------------------------------------------------------------------
// The system under test

/// The application's read side once a reader was taken apart: the bytes it handed over,
/// read first, then the stream.
#[derive(Debug)]
struct Stream {
    carry: VecDeque<u8>,
    inner: DuplexStream,
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.carry.is_empty() {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        let n = buf.remaining().min(this.carry.len());
        let bytes: Vec<u8> = this.carry.drain(..n).collect();
        buf.put_slice(&bytes);
        Poll::Ready(Ok(()))
    }
}

/// The peer's reading end, read only when the test says so.
struct Peer {
    stream: DuplexStream,
    parser: PeerFrames,
    got: Vec<Vec<u8>>,
    ended: bool,
}

impl Peer {
    /// Reads up to `limit` bytes, or what is there.
    fn read(&mut self, limit: usize) {
        let mut cx = Context::from_waker(Waker::noop());
        let mut chunk = vec![0; 16 * 1024];
        let mut left = limit;
        // Each round takes at least one byte of `left`, or stops.
        while left > 0 && !self.ended {
            let mut buf = ReadBuf::new(&mut chunk[..left.min(16 * 1024)]);
            match Pin::new(&mut self.stream).poll_read(&mut cx, &mut buf) {
                Poll::Ready(Ok(())) if buf.filled().is_empty() => self.ended = true,
                Poll::Ready(Ok(())) => {
                    let n = buf.filled().len();
                    let frames = self.parser.push(buf.filled());
                    self.got.extend(frames);
                    left -= n;
                }
                Poll::Ready(Err(e)) => panic!("the peer's read failed: {e}"),
                Poll::Pending => break,
            }
        }
    }
}

/// Polls `fut` to completion with the peer reading all there is between polls.
fn drive<F: Future>(fut: F, peer: &mut Peer) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..MAX_POLLS {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        peer.read(usize::MAX);
    }
    panic!("a future driven alongside a reading peer did not finish");
}

enum ReadSide {
    Framed(Box<FrameReader<Stream>>),
    Apart(Stream),
}

struct Conn {
    read: Option<ReadSide>,
    writer: Option<FrameWriter<DuplexStream>>,
    /// Frames written but not accepted yet (index, payload): retried in order.
    outbox: VecDeque<(usize, Vec<u8>)>,
    ledger: Ledger,
    peer: Peer,
    peer_out: DuplexStream,
    reader_mem: ReaderMemory,
    writer_mem: WriterMemory,
}

struct Sut {
    rt: Runtime,
    conn: Conn,
}

fn new_writer(stream: DuplexStream) -> FrameWriter<DuplexStream> {
    FrameWriter::with_capacity(stream, FrameConfig::default(), WCAP).unwrap()
}

impl Conn {
    fn new() -> Conn {
        let (app_out, peer_in) = tokio::io::duplex(APP_DUPLEX);
        let (peer_out, app_in) = tokio::io::duplex(PEER_DUPLEX);
        Conn {
            read: Some(ReadSide::Apart(Stream {
                carry: VecDeque::new(),
                inner: app_in,
            })),
            writer: Some(new_writer(app_out)),
            outbox: VecDeque::new(),
            ledger: Ledger::default(),
            peer: Peer {
                stream: peer_in,
                parser: PeerFrames::default(),
                got: Vec::new(),
                ended: false,
            },
            peer_out,
            reader_mem: ReaderMemory::default(),
            writer_mem: WriterMemory::default(),
        }
    }

    fn writer(&mut self) -> &mut FrameWriter<DuplexStream> {
        self.writer.as_mut().unwrap()
    }

    fn view(&self) -> WriterView {
        let w = self.writer.as_ref().unwrap();
        WriterView {
            pending: w.state().pending().len(),
            capacity: w.state().buffer_capacity(),
            frames: w.frames_accepted(),
        }
    }

    /// Offers the frames not yet accepted, in order, waiting as `how` says (or driving them
    /// to the end alongside the peer when `how` is `None`); a frame was accepted exactly
    /// when `frames_accepted()` went up. Stops at the first one not accepted.
    async fn retry_outbox(&mut self, how: Option<How>) -> bool {
        while let Some((index, body)) = self.outbox.pop_front() {
            let view = self.view();
            let outcome = {
                let w = self.writer.as_mut().unwrap();
                match how {
                    None => Some(drive(w.write_frame(&body), &mut self.peer)),
                    Some(How::Await | How::Owned) => Some(w.write_frame(&body).await),
                    Some(How::Timeout(ms)) => {
                        timeout(Duration::from_millis(ms), w.write_frame(&body))
                            .await
                            .ok()
                    }
                    Some(How::Polls(k)) => poll_at_most(pin!(w.write_frame(&body)), k),
                }
            };
            let after = self.writer().frames_accepted();
            match outcome {
                Some(Ok(())) => assert_eq!(after, view.frames + 1, "Ok means accepted"),
                Some(Err(e)) => panic!("a write to a duplex failed: {e:?}"),
                // Dropped: accepted whole or not at all, as the count says.
                None => assert!(after <= view.frames + 1),
            }
            let took = after > view.frames;
            self.writer_mem
                .after(view, self.view(), if took { 4 + body.len() } else { 0 });
            if !took {
                self.outbox.push_front((index, body));
                return false;
            }
            self.ledger.accepted.push((index, body.len()));
        }
        true
    }

    async fn flush(&mut self) {
        assert!(self.retry_outbox(None).await);
        let view = self.view();
        let w = self.writer.as_mut().unwrap();
        drive(w.flush(), &mut self.peer).expect("flush");
        self.writer_mem.after(view, self.view(), 0);
        assert!(self.writer().state().pending().is_empty());
        self.peer.read(usize::MAX);
        self.check_peer();
        assert_eq!(
            self.ledger.peer_got,
            self.ledger.accepted.len(),
            "flushed frames reach the peer"
        );
    }

    fn check_peer(&mut self) {
        for frame in &self.peer.got[self.ledger.peer_got..] {
            self.ledger.peer_received(frame);
        }
    }

    async fn writer_apart(&mut self, index: usize, len: usize) {
        assert!(self.retry_outbox(None).await);
        let w = self.writer.take().unwrap();
        let pending = w.state().pending().len();
        let w = match w.into_inner() {
            Ok(stream) => {
                assert_eq!(
                    pending, 0,
                    "into_inner gave the stream back with bytes unwritten"
                );
                new_writer(stream)
            }
            Err(w) => {
                assert!(pending > 0, "into_inner refused with nothing unwritten");
                w
            }
        };
        let (mut stream, mut raw) = w.into_parts();
        assert_eq!(raw.len(), pending);
        // Raw: the accepted bytes first, then a frame written by hand.
        raw.extend(wire(&payload(APP, index, len)));
        drive(stream.write_all(&raw), &mut self.peer).expect("raw write");
        self.ledger.accepted.push((index, len));
        self.writer = Some(new_writer(stream));
        self.writer_mem = WriterMemory::default();
        self.peer.read(usize::MAX);
        self.check_peer();
        assert_eq!(self.ledger.peer_got, self.ledger.accepted.len());
    }

    fn take_apart(&mut self) -> Stream {
        let stream = match self.read.take().unwrap() {
            ReadSide::Apart(stream) => stream,
            ReadSide::Framed(reader) => {
                let (mut stream, leftover) = (*reader).into_parts();
                give_back(&mut stream, &leftover);
                stream
            }
        };
        // Leftover bytes and unread ones are exactly the rest of the peer's stream.
        self.ledger.check_handed_over(stream.carry.iter());
        stream
    }

    fn framed(&mut self, deadline: bool) -> &mut FrameReader<Stream> {
        if let Some(ReadSide::Apart(_)) = self.read {
            let stream = self.take_apart();
            let mut reader =
                FrameReader::with_capacity(stream, FrameConfig::default(), STEP).unwrap();
            reader.set_frame_timeout(deadline.then_some(DEADLINE));
            self.reader_mem = ReaderMemory::default();
            self.read = Some(ReadSide::Framed(Box::new(reader)));
        }
        match self.read.as_mut().unwrap() {
            ReadSide::Framed(reader) => reader,
            ReadSide::Apart(_) => unreachable!(),
        }
    }

    async fn read(&mut self, model: &Model, how: How) {
        let expect = model.expect.expect("the model's outcome");
        let largest = self.ledger.largest_sent();
        let reader = self.framed(model.deadline);
        let buffered_before = reader.read_buffer().len();
        let start = Instant::now();
        let owned =
            |result: Result<Option<&[u8]>, FrameError>| result.map(|f| f.map(<[u8]>::to_vec));
        let result = match how {
            How::Await => Some(owned(reader.read_frame().await)),
            How::Owned => Some(
                reader
                    .read_frame_owned()
                    .await
                    .map(|f| f.map(|b| b.to_vec())),
            ),
            How::Timeout(ms) => timeout(Duration::from_millis(ms), reader.read_frame())
                .await
                .ok()
                .map(owned),
            How::Polls(k) => poll_at_most(pin!(reader.read_frame()), k).map(owned),
        };
        let waited = start.elapsed();
        let capacity = reader.capacity();
        self.reader_mem.after_read(largest, capacity);
        match expect {
            Expect::Frame { index, len } => {
                assert_eq!(index, self.ledger.taken);
                let got = result
                    .expect("a whole frame is read at once")
                    .unwrap_or_else(|e| panic!("read failed: {e:?}"));
                assert!(got == Some(self.ledger.took(len)), "read the wrong frame");
                assert_eq!(waited, Duration::ZERO);
                self.reader_mem.delivered(len, buffered_before, capacity);
            }
            Expect::TimedOut {
                expected,
                received,
                after,
            } => match result {
                Some(Err(FrameError::TimedOut {
                    expected: e,
                    received: r,
                    elapsed,
                    limit,
                })) => {
                    assert_eq!((e, r), (expected, received));
                    assert_eq!((elapsed, waited), (DEADLINE, after));
                    assert_eq!(limit, TimeLimit::Fixed(DEADLINE));
                }
                other => panic!("expected TimedOut {expected}/{received}, got {other:?}"),
            },
            Expect::Elapsed(wait) => {
                assert!(result.is_none(), "expected nothing, got {result:?}");
                assert_eq!(waited, wait);
            }
            Expect::Pending => {
                assert!(result.is_none(), "expected Pending, got {result:?}");
                assert_eq!(waited, Duration::ZERO);
            }
        }
    }

    fn raw_read(&mut self, model: &Model) {
        let mut stream = self.take_apart();
        let len = model.peer.lens[self.ledger.taken];
        let want = wire(&self.ledger.took(len));
        // The frame is whole: the leftover bytes, then what the stream has.
        let mut got = Vec::new();
        let mut cx = Context::from_waker(Waker::noop());
        let mut chunk = vec![0; want.len()];
        // Each round reads at least one byte or fails.
        while got.len() < want.len() {
            let mut buf = ReadBuf::new(&mut chunk[..want.len() - got.len()]);
            match Pin::new(&mut stream).poll_read(&mut cx, &mut buf) {
                Poll::Ready(Ok(())) if !buf.filled().is_empty() => {
                    got.extend_from_slice(buf.filled())
                }
                other => panic!("raw read of a whole frame: {other:?}"),
            }
        }
        assert!(got == want, "raw frame differs");
        self.read = Some(ReadSide::Apart(stream));
    }

    async fn lend(&mut self, model: &Model, n: usize, end: End) {
        let mut stream = self.take_apart();
        let leftover = {
            let mut lent =
                FrameReader::with_capacity(&mut stream, FrameConfig::default(), STEP).unwrap();
            lent.set_frame_timeout(model.deadline.then_some(DEADLINE));
            for _ in 0..n {
                let len = model.peer.lens[self.ledger.taken];
                let frame = lent.read_frame().await.unwrap().map(<[u8]>::to_vec);
                assert!(
                    frame == Some(self.ledger.took(len)),
                    "lent reader: wrong frame"
                );
            }
            match end {
                End::IntoParts => lent.into_parts().1,
                End::IntoInner => {
                    let leftover = lent.read_buffer().to_vec();
                    let _: &mut Stream = lent.into_inner();
                    leftover
                }
                End::Drop => {
                    let leftover = lent.read_buffer().to_vec();
                    drop(lent);
                    leftover
                }
            }
        };
        give_back(&mut stream, &leftover);
        self.read = Some(ReadSide::Apart(stream));
    }

    async fn peer_send(&mut self, model: &Model, lens: &[usize]) {
        let bytes = self.ledger.peer_sends(&model.peer, lens);
        // Within `MAX_UNREAD`, the stream's buffer takes it all at once.
        let written = poll_at_most(pin!(self.peer_out.write_all(bytes)), 1);
        assert!(matches!(written, Some(Ok(()))), "the peer's write waited");
    }

    async fn apply(&mut self, model: &Model, op: Op) {
        match op {
            Op::Write(len, how) => {
                let index = model.written.len() - 1;
                self.outbox.push_back((index, payload(APP, index, len)));
                self.retry_outbox(Some(how)).await;
            }
            Op::Flush => self.flush().await,
            Op::PeerRead(n) => self.peer.read(n),
            Op::WriterApart(len) => self.writer_apart(model.written.len() - 1, len).await,
            Op::PeerSend { lens, .. } => self.peer_send(model, &lens).await,
            Op::Read(how) => self.read(model, how).await,
            Op::RawRead => self.raw_read(model),
            Op::Lend(n, end) => self.lend(model, n, end).await,
            Op::Pause(ms) => tokio::time::advance(Duration::from_millis(ms)).await,
            Op::SetDeadline(on) => {
                if let Some(ReadSide::Framed(reader)) = self.read.as_mut() {
                    reader.set_frame_timeout(on.then_some(DEADLINE));
                }
            }
        }
        self.check_peer();
    }

    async fn teardown(mut self, model: Model) {
        // Every frame written reaches the peer once, in order, then the end.
        self.flush().await;
        let w = self.writer.take().unwrap();
        drive(
            async move {
                let mut w = w;
                w.shutdown().await
            },
            &mut self.peer,
        )
        .expect("shutdown");
        self.peer.read(usize::MAX);
        assert!(self.peer.ended && self.peer.parser.at_boundary());
        self.check_peer();
        assert_eq!(self.ledger.peer_got, model.written.len());
        // The peer's stream: the rest, then a clean end after the last frame.
        let rest = self.ledger.peer_stream[self.ledger.peer_sent..].to_vec();
        self.peer_out.write_all(&rest).await.unwrap();
        self.peer_out.shutdown().await.unwrap();
        let reader = self.framed(model.deadline);
        for (index, &len) in model.peer.lens.iter().enumerate().skip(model.peer.taken) {
            let frame = reader.read_frame().await.unwrap().map(<[u8]>::to_vec);
            assert!(frame == Some(payload(PEER, index, len)));
        }
        assert_eq!(reader.read_frame().await.unwrap(), None);
    }
}

fn give_back(stream: &mut Stream, bytes: &[u8]) {
    for &b in bytes.iter().rev() {
        stream.carry.push_front(b);
    }
}

struct ConnTest;

impl StateMachineTest for ConnTest {
    type SystemUnderTest = Sut;
    type Reference = ConnModel;

    fn init_test(_: &Model) -> Sut {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        Sut {
            rt,
            conn: Conn::new(),
        }
    }

    fn apply(mut sut: Sut, model: &Model, op: Op) -> Sut {
        let Sut { rt, conn } = &mut sut;
        rt.block_on(unconstrained(conn.apply(model, op)));
        sut
    }

    fn check_invariants(sut: &Sut, model: &Model) {
        let conn = &sut.conn;
        assert_eq!(
            (conn.ledger.taken, conn.ledger.pos),
            (model.peer.taken, model.peer.pos)
        );
        assert_eq!(
            conn.ledger.accepted.len() + conn.outbox.len(),
            model.written.len()
        );
        assert_eq!(conn.ledger.peer_got, conn.peer.got.len());
        assert!(conn.ledger.peer_got <= conn.ledger.accepted.len());
    }

    fn teardown(sut: Sut, model: Model) {
        let Sut { rt, conn } = sut;
        rt.block_on(unconstrained(conn.teardown(model)));
    }
}

prop_state_machine! {
    #![proptest_config(proptest_config(32, "proptest-regressions/model_tokio.txt"))]

    #[test]
    fn the_tokio_pair_keeps_its_contracts_under_what_callers_do(sequential 1..40 => ConnTest);
}
