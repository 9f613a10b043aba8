//! Model-based tests of the blocking `FrameReader`/`FrameWriter` as an application uses them,
//! over TCP on 127.0.0.1 and a Unix socket pair.
//!
//! A reference model of one connection (the frames the application wrote, which of them the
//! writer accepted, the frames the peer queued and how much of them it sent, the frames the
//! application took, the frame deadline, the socket's own read timeout) and random sequences
//! of what an application does: write small or large frames and retry the ones not accepted
//! (by `frames_accepted()`, never by counting bytes), flush, let the peer stall (the socket's
//! write timeout then stops writes part-way), take the writer apart and go on raw, read,
//! take the reader apart and read the next frame raw from the leftover bytes and the socket,
//! lend the socket to a reader for a few frames (`FrameReader::new(&stream)`) and take it
//! back through `into_parts`, `into_inner` or drop, spend time in a handler, set or clear a
//! frame deadline. After every step:
//!
//! - the peer has received exactly a prefix of the accepted frames, once each, in order, and
//!   all of them after a flush; at the end, every frame the application wrote, once;
//! - reads give exactly the model's frame, `TimedOut` with the model's counts only when the
//!   peer sent part of a frame and stopped (never after a handler pause while the rest was
//!   there), and the socket's own timeout's `WouldBlock` only when the peer is silent;
//! - the socket's read timeout is the one it had when lent;
//! - bytes a reader hands over with `into_parts`, then the socket, are exactly the rest of
//!   the peer's stream;
//! - the reader's capacity stays within twice the largest frame received plus one step, and
//!   within two steps once memory is due back; the writer's buffer stays within two
//!   capacities plus what it accepted since it was last empty (or what it kept then, while
//!   the shrink waits out its hysteresis), and within two capacities once its first large
//!   rest has gone out.
//!
//! 16 cases by default, each over TCP or a Unix socket (override with `PROPTEST_CASES`).

mod support;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use lenframe::{FrameConfig, FrameError, FrameReader, FrameWriter, ReadTimeout, TimeLimit};
use proptest::prelude::*;
use proptest_state_machine::{prop_state_machine, ReferenceStateMachine, StateMachineTest};

use lenframe_testkit::strategies::proptest_config;
use support::model::{
    payload, peer_sends, wire, End, Ledger, PeerFrames, PeerModel, ReaderMemory, WriterMemory,
    WriterView, APP, PEER, STEP, WCAP, WKEEP,
};

/// A frame deadline that only a stalled peer reaches.
const SHORT: Duration = Duration::from_millis(15);
/// A frame deadline no step reaches.
const LONG: Duration = Duration::from_secs(60);
/// The read timeout the socket may have of its own when it is lent.
const OWN: Duration = Duration::from_millis(25);
/// A handler's time between reads: longer than `SHORT`.
const PAUSE: Duration = Duration::from_millis(25);
/// The socket's write timeout: a write to a stalled peer stops after it.
const WRITE_TIMEOUT: Duration = Duration::from_millis(5);
/// The most peer bytes the application has not taken: they always fit in the socket
/// buffers, so the peer's writes never wait for the application.
const MAX_UNREAD: usize = 48 * 1024;
/// Bounds on retry loops: each attempt waits at most `WRITE_TIMEOUT`.
const MAX_ATTEMPTS: usize = 20_000;

// ---------------------------------------------------------------------------------------
// The model

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deadline {
    Off,
    Short,
    Long,
}

impl Deadline {
    fn get(self) -> Option<Duration> {
        match self {
            Deadline::Off => None,
            Deadline::Short => Some(SHORT),
            Deadline::Long => Some(LONG),
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    /// The application writes a frame of this many bytes (retrying earlier ones first).
    Write(usize),
    Flush,
    /// The peer stops reading (at the next frame boundary or chunk).
    Stall,
    Resume,
    /// `into_inner` (refused while bytes are unwritten), `into_parts`, the unwritten bytes
    /// and one frame written raw, then a new writer.
    WriterApart(usize),
    /// The peer queues frames of these lengths and sends all it queued but `hold` bytes of
    /// the last one.
    PeerSend {
        lens: Vec<usize>,
        hold: usize,
    },
    Read,
    /// `into_parts`, then the next frame read raw from the leftover bytes and the socket.
    RawRead,
    /// The socket lent to a new reader for this many frames.
    Lend(usize, End),
    /// The application's handler takes `PAUSE`.
    Pause,
    SetDeadline(Deadline),
}

/// What the model says a read returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Frame { index: usize, len: usize },
    TimedOut { expected: u64, received: u64 },
    WouldBlock,
}

#[derive(Debug, Clone)]
struct Model {
    tcp: bool,
    own: Option<Duration>,
    /// Lengths of the frames the application wrote (raw ones included), in order.
    written: Vec<usize>,
    stalled: bool,
    peer: PeerModel,
    deadline: Deadline,
    /// What the last read returns.
    expect: Option<Expect>,
}

impl Model {
    fn read_outcome(&self) -> Option<Expect> {
        if self.peer.whole(1) {
            let (index, len) = self.peer.next();
            return Some(Expect::Frame { index, len });
        }
        if self.peer.partial() > 0 && self.deadline == Deadline::Short {
            let (expected, received) = self.peer.cut();
            return Some(Expect::TimedOut { expected, received });
        }
        // Only the socket's own timeout ends the wait; without it the read would block.
        self.own.map(|_| Expect::WouldBlock)
    }
}

struct ConnModel;

fn write_len() -> impl Strategy<Value = usize> {
    prop_oneof![
        4 => 0..64usize,
        3 => 64..WCAP,
        3 => WCAP - 4..30_000,
        1 => 300_000..1_200_000usize,
    ]
}

impl ReferenceStateMachine for ConnModel {
    type State = Model;
    type Transition = Op;

    fn init_state() -> BoxedStrategy<Model> {
        (any::<bool>(), any::<bool>())
            .prop_map(|(tcp, own)| Model {
                tcp: tcp || cfg!(not(unix)),
                own: own.then_some(OWN),
                written: Vec::new(),
                stalled: false,
                peer: PeerModel::default(),
                deadline: Deadline::Off,
                expect: None,
            })
            .boxed()
    }

    fn transitions(state: &Model) -> BoxedStrategy<Op> {
        let deadline = prop_oneof![
            Just(Deadline::Off),
            Just(Deadline::Short),
            Just(Deadline::Long)
        ];
        let end = prop_oneof![Just(End::IntoParts), Just(End::IntoInner), Just(End::Drop)];
        let stall = if state.stalled {
            Just(Op::Resume)
        } else {
            Just(Op::Stall)
        };
        prop_oneof![
            6 => write_len().prop_map(Op::Write),
            2 => Just(Op::Flush),
            1 => stall,
            1 => write_len().prop_map(Op::WriterApart),
            5 => peer_sends().prop_map(|(lens, hold)| Op::PeerSend { lens, hold }),
            6 => Just(Op::Read),
            1 => Just(Op::RawRead),
            2 => (1..4usize, end).prop_map(|(n, end)| Op::Lend(n, end)),
            1 => Just(Op::Pause),
            2 => deadline.prop_map(Op::SetDeadline),
        ]
        .boxed()
    }

    fn preconditions(state: &Model, op: &Op) -> bool {
        match op {
            Op::Stall => !state.stalled,
            Op::Resume => state.stalled,
            Op::WriterApart(_) => !state.stalled,
            Op::PeerSend { lens, hold } => state.peer.can_send(lens, *hold, MAX_UNREAD),
            Op::Read => state.read_outcome().is_some(),
            Op::RawRead => state.peer.whole(1),
            Op::Lend(n, _) => state.peer.whole(*n),
            _ => true,
        }
    }

    fn apply(mut state: Model, op: &Op) -> Model {
        state.expect = None;
        match op {
            Op::Write(len) => state.written.push(*len),
            Op::WriterApart(len) => state.written.push(*len),
            Op::Stall => state.stalled = true,
            Op::Resume => state.stalled = false,
            Op::Flush | Op::Pause => {}
            Op::PeerSend { lens, hold } => state.peer.send(lens, *hold),
            Op::Read => {
                let expect = state.read_outcome().expect("checked by the precondition");
                if let Expect::Frame { .. } = expect {
                    state.peer.take(1);
                }
                state.expect = Some(expect);
            }
            Op::RawRead => state.peer.take(1),
            Op::Lend(n, _) => state.peer.take(*n),
            Op::SetDeadline(d) => state.deadline = *d,
        }
        state
    }
}

// ---------------------------------------------------------------------------------------
// The system under test: real sockets, a peer thread that records frames

#[derive(Debug)]
enum Sock {
    Tcp(TcpStream),
    #[cfg(unix)]
    Unix(UnixStream),
}

impl Sock {
    fn pair(tcp: bool) -> (Sock, Sock) {
        #[cfg(unix)]
        if !tcp {
            let (a, b) = lenframe_testkit::sockets::unix_pair();
            return (Sock::Unix(a), Sock::Unix(b));
        }
        let _ = tcp;
        let (a, b) = lenframe_testkit::sockets::tcp_pair();
        // Bytes written are sent at once: Nagle's algorithm would hold a small segment back
        // until an ACK, which a receiver whose own sends are blocked delays by up to 40 ms.
        a.set_nodelay(true).unwrap();
        b.set_nodelay(true).unwrap();
        (Sock::Tcp(a), Sock::Tcp(b))
    }

    fn try_clone(&self) -> Sock {
        match self {
            Sock::Tcp(s) => Sock::Tcp(s.try_clone().unwrap()),
            #[cfg(unix)]
            Sock::Unix(s) => Sock::Unix(s.try_clone().unwrap()),
        }
    }

    fn shutdown(&self, how: Shutdown) {
        match self {
            Sock::Tcp(s) => s.shutdown(how).unwrap(),
            #[cfg(unix)]
            Sock::Unix(s) => s.shutdown(how).unwrap(),
        }
    }

    fn set_write_timeout(&self, t: Option<Duration>) {
        match self {
            Sock::Tcp(s) => s.set_write_timeout(t).unwrap(),
            #[cfg(unix)]
            Sock::Unix(s) => s.set_write_timeout(t).unwrap(),
        }
    }
}

impl Read for &Sock {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match *self {
            Sock::Tcp(s) => (&*s).read(buf),
            #[cfg(unix)]
            Sock::Unix(s) => (&*s).read(buf),
        }
    }
}

impl Write for &Sock {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match *self {
            Sock::Tcp(s) => (&*s).write(buf),
            #[cfg(unix)]
            Sock::Unix(s) => (&*s).write(buf),
        }
    }
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match *self {
            Sock::Tcp(s) => (&*s).write_vectored(bufs),
            #[cfg(unix)]
            Sock::Unix(s) => (&*s).write_vectored(bufs),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for Sock {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }
}

impl Write for Sock {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        (&*self).write_vectored(bufs)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl ReadTimeout for Sock {
    fn read_timeout(&self) -> io::Result<Option<Duration>> {
        match self {
            Sock::Tcp(s) => s.read_timeout(),
            #[cfg(unix)]
            Sock::Unix(s) => s.read_timeout(),
        }
    }
    fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Sock::Tcp(s) => s.set_read_timeout(t),
            #[cfg(unix)]
            Sock::Unix(s) => s.set_read_timeout(t),
        }
    }
}

/// The application's read side once a reader was taken apart: the bytes it handed over,
/// read first, then the socket. A wrapper of the caller's own, forwarding the read timeout
/// to the socket inside as `ReadTimeout`'s docs ask.
#[derive(Debug)]
struct Stream {
    carry: RefCell<VecDeque<u8>>,
    sock: Sock,
}

impl Stream {
    fn give_back(&self, bytes: &[u8]) {
        let mut carry = self.carry.borrow_mut();
        for &b in bytes.iter().rev() {
            carry.push_front(b);
        }
    }
}

impl Read for &Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut carry = self.carry.borrow_mut();
        if !carry.is_empty() {
            return carry.read(buf);
        }
        (&self.sock).read(buf)
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }
}

impl ReadTimeout for Stream {
    fn read_timeout(&self) -> io::Result<Option<Duration>> {
        self.sock.read_timeout()
    }
    fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        self.sock.set_read_timeout(t)
    }
}

/// Whether the peer reads.
#[derive(Debug, Default)]
struct Gate {
    stalled: Mutex<bool>,
    cv: Condvar,
}

impl Gate {
    fn set(&self, stalled: bool) {
        *self.stalled.lock().unwrap() = stalled;
        self.cv.notify_all();
    }

    fn wait_open(&self) {
        let guard = self.stalled.lock().unwrap();
        let (guard, timeout) = self
            .cv
            .wait_timeout_while(guard, Duration::from_secs(60), |stalled| *stalled)
            .unwrap();
        assert!(!timeout.timed_out(), "the peer stayed stalled for a minute");
        drop(guard);
    }
}

/// The peer's reading side: frames parsed plainly (a `u32` big-endian length, then the
/// payload), each sent to the test as it completes. Ends at the end of the stream.
fn record(mut sock: Sock, gate: Arc<Gate>, frames: mpsc::Sender<Vec<u8>>) -> io::Result<()> {
    let mut parser = PeerFrames::default();
    let mut chunk = vec![0; 64 * 1024];
    // Each round reads at least one byte or returns: bounded by the bytes the app sends.
    loop {
        gate.wait_open();
        let n = sock.read(&mut chunk)?;
        if n == 0 {
            assert!(parser.at_boundary(), "the stream ended inside a frame");
            return Ok(());
        }
        for frame in parser.push(&chunk[..n]) {
            frames.send(frame).expect("the test is listening");
        }
    }
}

enum ReadSide {
    Framed(Box<FrameReader<Stream>>),
    Apart(Stream),
}

struct Conn {
    /// A handle on the application's socket, to look at its read timeout.
    probe: Sock,
    /// The read timeout the socket had when first lent (as the kernel stores it).
    lent_with: Option<Duration>,
    read: Option<ReadSide>,
    writer: Option<FrameWriter<Sock>>,
    /// Frames written but not accepted yet (index, payload): retried in order.
    outbox: VecDeque<(usize, Vec<u8>)>,
    ledger: Ledger,
    from_peer: mpsc::Receiver<Vec<u8>>,
    recorder: Option<JoinHandle<io::Result<()>>>,
    gate: Arc<Gate>,
    peer_out: Sock,
    reader_mem: ReaderMemory,
    writer_mem: WriterMemory,
}

fn new_writer(sock: Sock) -> FrameWriter<Sock> {
    FrameWriter::with_capacity(sock, FrameConfig::default(), WCAP).unwrap()
}

impl Conn {
    fn new(model: &Model) -> Conn {
        let (app, peer) = Sock::pair(model.tcp);
        app.set_read_timeout(model.own).unwrap();
        app.set_write_timeout(Some(WRITE_TIMEOUT));
        let gate = Arc::new(Gate::default());
        let (tx, from_peer) = mpsc::channel();
        let recorder = {
            let (sock, gate) = (peer.try_clone(), Arc::clone(&gate));
            thread::spawn(move || record(sock, gate, tx))
        };
        Conn {
            lent_with: app.read_timeout().unwrap(),
            probe: app.try_clone(),
            writer: Some(new_writer(app.try_clone())),
            read: Some(ReadSide::Apart(Stream {
                carry: RefCell::new(VecDeque::new()),
                sock: app,
            })),
            outbox: VecDeque::new(),
            ledger: Ledger::default(),
            from_peer,
            recorder: Some(recorder),
            gate,
            peer_out: peer,
            reader_mem: ReaderMemory::default(),
            writer_mem: WriterMemory::default(),
        }
    }

    fn writer(&mut self) -> &mut FrameWriter<Sock> {
        self.writer.as_mut().unwrap()
    }

    /// Offers the frames not yet accepted, in order, as the docs say: a frame was accepted
    /// exactly when `frames_accepted()` went up. Stops at the first one refused for now.
    fn retry_outbox(&mut self) -> bool {
        while let Some((index, payload)) = self.outbox.pop_front() {
            let view = self.view();
            let before = view.frames;
            let result = self.writer().write_frame(&payload);
            let after = self.writer().frames_accepted();
            match &result {
                Ok(()) => assert_eq!(after, before + 1, "Ok means accepted"),
                Err(e) => {
                    assert!(e.is_would_block(), "unexpected error {e:?}");
                    assert_eq!(after, before, "an error here means not accepted");
                }
            }
            let took = if after > before { 4 + payload.len() } else { 0 };
            self.writer_mem.after(view, self.view(), took);
            if after == before {
                self.outbox.push_front((index, payload));
                return false;
            }
            self.ledger.accepted.push((index, payload.len()));
        }
        true
    }

    fn view(&self) -> WriterView {
        let w = self.writer.as_ref().unwrap();
        WriterView {
            pending: w.buffer().len(),
            capacity: w.state().buffer_capacity(),
            frames: w.frames_accepted(),
        }
    }

    fn flush(&mut self, stalled: bool) {
        let attempts = if stalled { 1 } else { MAX_ATTEMPTS };
        for _ in 0..attempts {
            if !self.retry_outbox() {
                continue;
            }
            let view = self.view();
            let result = self.writer().flush();
            self.writer_mem.after(view, self.view(), 0);
            match result {
                Ok(()) => {
                    assert!(self.writer().buffer().is_empty());
                    if !stalled {
                        self.await_peer();
                    }
                    return;
                }
                Err(e) => assert!(e.is_would_block(), "unexpected error {e:?}"),
            }
        }
        assert!(stalled, "a flush to a reading peer did not finish");
    }

    /// Waits (bounded) until the peer received every accepted frame.
    fn await_peer(&mut self) {
        while self.ledger.peer_got < self.ledger.accepted.len() {
            let frame = self
                .from_peer
                .recv_timeout(Duration::from_secs(30))
                .expect("the peer receives every flushed frame");
            self.ledger.peer_received(&frame);
        }
    }

    fn take_apart(&mut self) -> Stream {
        let stream = match self.read.take().unwrap() {
            ReadSide::Apart(stream) => stream,
            ReadSide::Framed(reader) => {
                let (stream, leftover) = (*reader).into_parts();
                stream.give_back(&leftover);
                stream
            }
        };
        // Leftover bytes and unread ones are exactly the rest of the peer's stream.
        self.ledger.check_handed_over(stream.carry.borrow().iter());
        stream
    }

    fn framed(&mut self, deadline: Deadline) -> &mut FrameReader<Stream> {
        if let Some(ReadSide::Apart(_)) = self.read {
            let stream = self.take_apart();
            let mut reader =
                FrameReader::with_capacity(stream, FrameConfig::default(), STEP).unwrap();
            if let Some(d) = deadline.get() {
                reader.set_frame_timeout(Some(d));
            }
            self.reader_mem = ReaderMemory::default();
            self.read = Some(ReadSide::Framed(Box::new(reader)));
        }
        match self.read.as_mut().unwrap() {
            ReadSide::Framed(reader) => reader,
            ReadSide::Apart(_) => unreachable!(),
        }
    }

    fn read(&mut self, model: &Model) {
        let expect = model.expect.expect("the model's outcome");
        let largest = self.ledger.largest_sent();
        let reader = self.framed(model.deadline);
        let buffered_before = reader.read_buffer().len();
        let result = reader.read_frame().map(|frame| frame.map(<[u8]>::to_vec));
        let capacity = reader.capacity();
        self.reader_mem.after_read(largest, capacity);
        match expect {
            Expect::Frame { index, len } => {
                let got = result.unwrap_or_else(|e| panic!("read failed: {e:?}"));
                assert_eq!(index, self.ledger.taken);
                assert!(got == Some(self.ledger.took(len)), "read the wrong frame");
                self.reader_mem.delivered(len, buffered_before, capacity);
            }
            Expect::TimedOut { expected, received } => match result {
                Err(FrameError::TimedOut {
                    expected: e,
                    received: r,
                    elapsed,
                    limit,
                }) => {
                    assert_eq!((e, r), (expected, received));
                    assert!(elapsed >= SHORT, "cut after {elapsed:?}");
                    assert_eq!(limit, TimeLimit::Fixed(SHORT));
                }
                other => panic!("expected TimedOut {expected}/{received}, got {other:?}"),
            },
            Expect::WouldBlock => match result {
                Err(e) if e.is_would_block() => {}
                other => panic!("expected the socket's own timeout, got {other:?}"),
            },
        }
    }

    fn raw_read(&mut self, model: &Model) {
        let stream = self.take_apart();
        let mut header = [0; 4];
        (&stream).read_exact(&mut header).unwrap();
        let len = u32::from_be_bytes(header) as usize;
        let mut body = vec![0; len];
        (&stream).read_exact(&mut body).unwrap();
        assert_eq!(len, model.peer.lens[self.ledger.taken]);
        assert!(body == self.ledger.took(len), "raw frame differs");
        self.read = Some(ReadSide::Apart(stream));
    }

    fn lend(&mut self, model: &Model, n: usize, end: End) {
        let stream = self.take_apart();
        {
            let mut lent =
                FrameReader::with_capacity(&stream, FrameConfig::default(), STEP).unwrap();
            if let Some(d) = model.deadline.get() {
                lent.set_frame_timeout(Some(d));
            }
            for _ in 0..n {
                let len = model.peer.lens[self.ledger.taken];
                let frame = lent.read_frame().unwrap().map(<[u8]>::to_vec);
                assert!(
                    frame == Some(self.ledger.took(len)),
                    "lent reader: wrong frame"
                );
            }
            let leftover = match end {
                End::IntoParts => lent.into_parts().1,
                End::IntoInner => {
                    let leftover = lent.read_buffer().to_vec();
                    let _: &Stream = lent.into_inner();
                    leftover
                }
                End::Drop => {
                    let leftover = lent.read_buffer().to_vec();
                    drop(lent);
                    leftover
                }
            };
            stream.give_back(&leftover);
        }
        self.read = Some(ReadSide::Apart(stream));
    }

    fn writer_apart(&mut self, index: usize, len: usize) {
        assert!(
            self.retry_outbox_until_done(),
            "a reading peer takes every frame"
        );
        let w = self.writer.take().unwrap();
        let pending = w.buffer().len();
        let w = match w.into_inner() {
            Ok(sock) => {
                assert_eq!(
                    pending, 0,
                    "into_inner gave the socket back with bytes unwritten"
                );
                new_writer(sock)
            }
            Err(w) => {
                assert!(pending > 0, "into_inner refused with nothing unwritten");
                w
            }
        };
        let (sock, unwritten) = w.into_parts();
        assert_eq!(unwritten.len(), pending);
        // Raw: the accepted bytes first, then a frame written by hand.
        write_all_retrying(&sock, &unwritten);
        let body = payload(APP, index, len);
        write_all_retrying(&sock, &wire(&body));
        self.ledger.accepted.push((index, len));
        self.writer = Some(new_writer(sock));
        self.writer_mem = WriterMemory::default();
        self.await_peer();
    }

    fn retry_outbox_until_done(&mut self) -> bool {
        (0..MAX_ATTEMPTS).any(|_| self.retry_outbox())
    }

    fn peer_send(&mut self, model: &Model, lens: &[usize]) {
        let bytes = self.ledger.peer_sends(&model.peer, lens);
        (&self.peer_out).write_all(bytes).unwrap();
    }

    fn set_deadline(&mut self, d: Deadline) {
        if let Some(ReadSide::Framed(reader)) = self.read.as_mut() {
            reader.set_frame_timeout(d.get());
        }
    }

    fn drain_peer(&mut self) {
        while let Ok(frame) = self.from_peer.try_recv() {
            self.ledger.peer_received(&frame);
        }
    }
}

/// Writes all of `bytes` raw, retrying the socket's write timeout (a slow peer thread).
fn write_all_retrying(mut sock: &Sock, mut bytes: &[u8]) {
    for _ in 0..MAX_ATTEMPTS {
        if bytes.is_empty() {
            return;
        }
        match sock.write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("raw write failed: {e}"),
        }
    }
    assert!(bytes.is_empty(), "a reading peer takes every byte");
}

struct ConnTest;

impl StateMachineTest for ConnTest {
    type SystemUnderTest = Conn;
    type Reference = ConnModel;

    fn init_test(model: &Model) -> Conn {
        Conn::new(model)
    }

    fn apply(mut conn: Conn, model: &Model, op: Op) -> Conn {
        match op {
            Op::Write(len) => {
                let index = model.written.len() - 1;
                conn.outbox.push_back((index, payload(APP, index, len)));
                conn.retry_outbox();
            }
            Op::Flush => conn.flush(model.stalled),
            Op::Stall => conn.gate.set(true),
            Op::Resume => conn.gate.set(false),
            Op::WriterApart(len) => conn.writer_apart(model.written.len() - 1, len),
            Op::PeerSend { lens, .. } => conn.peer_send(model, &lens),
            Op::Read => conn.read(model),
            Op::RawRead => conn.raw_read(model),
            Op::Lend(n, end) => conn.lend(model, n, end),
            Op::Pause => thread::sleep(PAUSE),
            Op::SetDeadline(d) => conn.set_deadline(d),
        }
        conn
    }

    fn check_invariants(conn: &Conn, model: &Model) {
        assert_eq!(
            conn.probe.read_timeout().unwrap(),
            conn.lent_with,
            "the socket's read timeout is not the one it was lent with"
        );
        assert_eq!(
            (conn.ledger.taken, conn.ledger.pos),
            (model.peer.taken, model.peer.pos)
        );
        assert_eq!(
            conn.ledger.accepted.len() + conn.outbox.len(),
            model.written.len()
        );
        assert!(conn.ledger.peer_got <= conn.ledger.accepted.len());
    }

    fn teardown(mut conn: Conn, model: Model) {
        conn.drain_peer();
        // Every frame written reaches the peer once, in order.
        conn.gate.set(false);
        conn.flush(false);
        assert!(conn.outbox.is_empty());
        let sock = conn
            .writer
            .take()
            .unwrap()
            .into_inner()
            .expect("flushed: nothing unwritten");
        sock.shutdown(Shutdown::Write);
        conn.recorder
            .take()
            .unwrap()
            .join()
            .expect("the peer thread")
            .expect("the peer's reads");
        conn.drain_peer();
        assert_eq!(conn.ledger.peer_got, model.written.len());
        // The peer's stream: the rest, then a clean end after the last frame.
        (&conn.peer_out)
            .write_all(&conn.ledger.peer_stream[conn.ledger.peer_sent..])
            .unwrap();
        conn.ledger.peer_sent = conn.ledger.peer_stream.len();
        conn.peer_out.shutdown(Shutdown::Write);
        let reader = conn.framed(model.deadline);
        for (index, &len) in model.peer.lens.iter().enumerate().skip(model.peer.taken) {
            let frame = reader.read_frame().unwrap().map(<[u8]>::to_vec);
            assert!(frame == Some(payload(PEER, index, len)));
        }
        assert_eq!(reader.read_frame().unwrap(), None);
        drop(conn.read.take());
        assert_eq!(conn.probe.read_timeout().unwrap(), conn.lent_with);
    }
}

prop_state_machine! {
    #![proptest_config(proptest_config(16, "proptest-regressions/model_blocking.txt"))]

    #[test]
    fn the_blocking_pair_keeps_its_contracts_under_what_callers_do(sequential 1..40 => ConnTest);
}

/// A peer that takes all but the last byte on every flush keeps the writer one byte short of
/// empty: the bytes already written must not pile up at the front of its buffer.
#[test]
fn a_writer_kept_one_byte_short_of_empty_stays_within_its_capacity() {
    use lenframe_testkit::scripted::{ScriptedWriter, Step};
    let frames = 10_000;
    // The first flush takes 99 of 100 bytes; each later one the 100 bytes offered but one.
    let mut script = vec![Step::Bytes(99), Step::Fail(io::ErrorKind::WouldBlock)];
    for _ in 1..frames {
        script.extend([Step::Bytes(100), Step::Fail(io::ErrorKind::WouldBlock)]);
    }
    let mut writer =
        FrameWriter::with_capacity(ScriptedWriter::new(script), FrameConfig::default(), WCAP)
            .unwrap();
    let body = [7u8; 96];
    for _ in 0..frames {
        writer.write_frame(&body).unwrap();
        assert!(writer.flush().unwrap_err().is_would_block());
        assert_eq!(writer.buffer().len(), 1);
        assert!(writer.state().buffer_capacity() <= WKEEP);
    }
    writer.flush().unwrap();
    let (sink, unwritten) = writer.into_parts();
    assert!(unwritten.is_empty());
    assert_eq!(sink.data, wire(&body).repeat(frames));
}

/// A large frame offered while the rest of an earlier one waits (a stalled peer) is taken
/// back whole, and the buffer holding that rest is not doubled for its header.
#[test]
fn a_large_frame_refused_behind_a_buffered_rest_does_not_double_the_buffer() {
    use lenframe_testkit::scripted::{ScriptedWriter, Step};
    let would_block = Step::Fail(io::ErrorKind::WouldBlock);
    let script = [Step::Bytes(10), would_block, would_block];
    let mut writer =
        FrameWriter::with_capacity(ScriptedWriter::new(script), FrameConfig::default(), WCAP)
            .unwrap();
    let first = payload(APP, 0, 100_000);
    writer.write_frame(&first).unwrap(); // 10 bytes out, the rest buffered and accepted
    let rest = writer.buffer().len();
    assert_eq!((rest, writer.frames_accepted()), (100_004 - 10, 1));
    let held = writer.state().buffer_capacity();
    let second = payload(APP, 1, 50_000);
    assert!(writer.write_frame(&second).unwrap_err().is_would_block());
    assert_eq!((writer.buffer().len(), writer.frames_accepted()), (rest, 1));
    assert!(writer.state().buffer_capacity() <= held + 4);
    writer.write_frame(&second).unwrap();
    writer.flush().unwrap();
    let (sink, unwritten) = writer.into_parts();
    assert!(unwritten.is_empty());
    assert_eq!(sink.data, [wire(&first), wire(&second)].concat());
}
