//! The hostile peers of the crowd as reusable clients, each with the outcome a server must
//! give it ([`Kind::attack`], [`Kind::is_expected`]); and a framed echo server under a crowd
//! of them, on threads with the blocking pair or on tokio with the async pair
//! ([`run_threaded`], `run_tokio`), with good clients that echo frames and check them.
//!
//! A hostile peer against your own server, over a Unix socket pair:
//!
//! ```
//! use std::time::Duration;
//! use lenframe::{FrameConfig, FrameReader, FrameDeadline};
//! use lenframe_testkit::crowd::{Kind, Outcome, Target};
//! use lenframe_testkit::sockets::unix_pair;
//!
//! let cfg = FrameConfig::default().max_frame_len(4096);
//! let (peer, server) = unix_pair();
//! let attacker = std::thread::spawn(move || Kind::OverLimit.attack(peer, &Target::new(cfg, b"ping")));
//! let mut reader = FrameReader::with_config(server, cfg)?;
//! reader.set_frame_deadline(Some(FrameDeadline::fixed(Duration::from_secs(1))));
//! let outcome = match reader.read_frame() {
//!     Ok(Some(_)) => unreachable!("no frame from this peer"),
//!     Ok(None) => Outcome::Closed,
//!     Err(e) => Outcome::Cut(e),
//! };
//! drop(reader); // the server hangs up: the attacker sees it and ends
//! attacker.join().unwrap()?;
//! assert!(Kind::OverLimit.is_expected(&outcome, &cfg), "{outcome:?}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The server's policy: frames of at most `max_frame_len` bytes; a frame gets
//! `deadline` (an initial time, more while its bytes keep a minimum rate, a cap); all buffers
//! beyond each reader's first step share one `MemoryBudget`; and a connection that stays
//! quiet between frames for `idle` is closed. The frame deadline never counts time between
//! frames, so the idle timeout is the server's own: on threads it is the socket's read
//! timeout (the reader puts it back between frames, and reports it as `Io(WouldBlock)`),
//! on tokio a `tokio::time::timeout` around a read that starts between frames.

use std::collections::HashMap;
use std::io::{self, Read};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use lenframe::{
    FrameConfig, FrameDeadline, FrameError, FrameReader, FrameWriter, HeaderError, LengthField,
    MemoryBudget, TimeLimit,
};

use crate::reference::{reference_frame, reference_header, trailer_len};
use crate::sockets::Duplex;

/// A server runner: [`run_threaded`] or `run_tokio`.
///
/// ```
/// let runner: lenframe_testkit::crowd::Runner = lenframe_testkit::crowd::run_threaded;
/// # let _ = runner;
/// ```
pub type Runner = fn(&Settings, &[Kind], fn()) -> Report;

/// Who a peer is: a good client, or one of the hostile peers. Each hostile peer is a
/// reusable client ([`Kind::attack`]) with the outcome a server must give it
/// ([`Kind::is_expected`]); see the [module example](self).
///
/// ```
/// use lenframe_testkit::crowd::Kind;
/// assert_eq!(Kind::HOSTILE.len(), 7);
/// assert_eq!(Kind::Silent.name(), "connect, say nothing");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Streams frames of many sizes and checks every echo.
    Good,
    /// Declares [`TRICKLE_LEN`] bytes, then sends one byte per 20 ms (slowloris): a frame
    /// deadline must cut it.
    Trickle,
    /// Declares the largest frame allowed, sends 10 bytes of it and stalls: a frame deadline
    /// must cut it, and it must cost the server the bytes received, not the bytes declared.
    DeclareMaxStall,
    /// Declares one byte over the limit: `TooLarge` at once.
    OverLimit,
    /// Sends half of a [`TRICKLE_LEN`]-byte frame and closes: `Truncated`.
    Truncate,
    /// Sends an 11-byte varint length (to a server of a varint layout): `VarintTooLong`.
    OverlongVarint,
    /// Connects and says nothing: the server's idle policy must close it.
    Silent,
    /// Sends the target's request, waits for the first byte of the answer and leaves the
    /// rest unread, starts another frame and closes: the kernel resets the connection, since
    /// data was left unread.
    Reset,
}

impl Kind {
    /// Every hostile kind, in the order attackers are dealt.
    pub const HOSTILE: [Kind; 7] = [
        Kind::Trickle,
        Kind::DeclareMaxStall,
        Kind::OverLimit,
        Kind::Truncate,
        Kind::OverlongVarint,
        Kind::Silent,
        Kind::Reset,
    ];

    /// A short name for tables.
    ///
    /// ```
    /// assert_eq!(lenframe_testkit::crowd::Kind::Reset.name(), "reset mid-frame");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Kind::Good => "good client",
            Kind::Trickle => "trickle, 1 byte / 20 ms",
            Kind::DeclareMaxStall => "declare max, send 10, stall",
            Kind::OverLimit => "declare max + 1",
            Kind::Truncate => "half a frame, then close",
            Kind::OverlongVarint => "11-byte varint",
            Kind::Silent => "connect, say nothing",
            Kind::Reset => "reset mid-frame",
        }
    }
}

/// The crowd server's bounds and the good clients' work.
///
/// ```
/// let s = lenframe_testkit::crowd::Settings::new(4);
/// assert_eq!(s.budget, 4 * 256 * 1024);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// The largest payload accepted.
    pub max_frame_len: usize,
    /// Each reader's first buffer and growth step.
    pub step: usize,
    /// The echo writer's buffer.
    pub write_capacity: usize,
    /// How long a connection may stay quiet between frames.
    pub idle: Duration,
    /// How long a frame may take.
    pub deadline: FrameDeadline,
    /// The limit of the memory budget all readers share.
    pub budget: usize,
    /// Frames each good client sends (and gets back).
    pub frames_per_client: usize,
}

/// The payload sizes good clients cycle through: empty, small, around and past the reader's
/// step, and large.
pub const GOOD_SIZES: [usize; 8] = [0, 1, 100, 5_000, 20_000, 70_000, 150_000, 3];

/// The frame rate every attacker below is far from: 1 MB/s.
pub const MIN_RATE: u64 = 1_000_000;

/// Time beyond its bound that a cut may take (scheduling on a loaded machine).
pub const SLACK: Duration = Duration::from_millis(500);

impl Settings {
    /// Bounds for `good` good clients: 300 ms to start a frame plus 1 s per MB, 5 s at most;
    /// 400 ms of quiet between frames; a budget of 256 KiB per good client.
    ///
    /// ```
    /// let s = lenframe_testkit::crowd::Settings::new(1);
    /// assert_eq!(s.max_frame_len, 1 << 20);
    /// ```
    pub fn new(good: usize) -> Self {
        Settings {
            max_frame_len: 1 << 20,
            step: 16 * 1024,
            write_capacity: 8 * 1024,
            idle: Duration::from_millis(400),
            deadline: FrameDeadline::with_rate(
                Duration::from_millis(300),
                MIN_RATE,
                Duration::from_secs(5),
            ),
            budget: good.max(1) * 256 * 1024,
            frames_per_client: 24,
        }
    }

    /// The layout of the server's listener with `field` as its length field.
    ///
    /// ```
    /// use lenframe::LengthField;
    /// let cfg = lenframe_testkit::crowd::Settings::new(1).config(LengthField::Varint);
    /// assert_eq!(cfg.get_length_field(), LengthField::Varint);
    /// ```
    pub fn config(&self, field: LengthField) -> FrameConfig {
        FrameConfig::default()
            .length_field(field)
            .max_frame_len(self.max_frame_len)
    }

    /// The longest a connection of `kind` may last on the server, if it is cut.
    ///
    /// ```
    /// use lenframe_testkit::crowd::{Kind, Settings};
    /// assert_eq!(Settings::new(1).bound(Kind::Good), None);
    /// ```
    pub fn bound(&self, kind: Kind) -> Option<Duration> {
        match kind {
            Kind::Good => None,
            Kind::Trickle | Kind::DeclareMaxStall => Some(self.deadline.initial() + SLACK),
            Kind::Silent => Some(self.idle + SLACK),
            Kind::OverLimit | Kind::Truncate | Kind::OverlongVarint | Kind::Reset => Some(SLACK),
        }
    }
}

/// How a connection ended, seen from the server.
///
/// ```
/// use lenframe::FrameError;
/// use lenframe_testkit::crowd::Outcome;
/// let cut = Outcome::Cut(FrameError::Truncated { expected: 10, received: 4 });
/// assert!(matches!(cut, Outcome::Cut(FrameError::Truncated { .. })));
/// ```
#[derive(Debug)]
pub enum Outcome {
    /// The peer ended the stream at a frame boundary.
    Closed,
    /// Quiet between frames for longer than the idle timeout.
    Idle,
    /// Cut with this error.
    Cut(FrameError),
}

/// One connection, seen from the crowd server.
///
/// ```
/// use lenframe_testkit::crowd::{Outcome, Served};
/// let served = Served {
///     peer: "127.0.0.1:1".parse().unwrap(),
///     server: "127.0.0.1:2".parse().unwrap(),
///     outcome: Outcome::Idle,
///     frames: 0,
///     lasted: std::time::Duration::from_millis(400),
/// };
/// assert_eq!(served.describe(), "idle timeout");
/// ```
#[derive(Debug)]
pub struct Served {
    /// The peer's address (the client's local address).
    pub peer: SocketAddr,
    /// The server's address the peer connected to (peers of different listeners may share
    /// a local port).
    pub server: SocketAddr,
    /// How it ended.
    pub outcome: Outcome,
    /// Frames echoed.
    pub frames: u64,
    /// From accept to the end.
    pub lasted: Duration,
}

impl Served {
    /// The outcome in a few words, with the error's variant and its numbers. See
    /// [`Served`].
    pub fn describe(&self) -> String {
        match &self.outcome {
            Outcome::Closed => format!("closed cleanly after {} frames", self.frames),
            Outcome::Idle => "idle timeout".to_string(),
            Outcome::Cut(FrameError::TimedOut {
                expected, limit, ..
            }) => format!("TimedOut {{ expected: {expected}, {limit:?} }}"),
            Outcome::Cut(FrameError::Io(e)) => format!("Io({:?})", e.kind()),
            Outcome::Cut(e) => format!("{e:?}"),
        }
    }
}

/// What one run of the crowd gave.
///
/// ```no_run
/// use lenframe_testkit::crowd::{crowd, run_threaded, Settings};
/// let s = Settings::new(2);
/// let report = run_threaded(&s, &crowd(2, 7), || {});
/// assert!(report.mismatches(&s).is_empty());
/// println!("{:.0} frames/s", report.frames_per_sec());
/// ```
#[derive(Debug)]
pub struct Report {
    /// Every connection the server served, with who the peer was.
    pub served: Vec<(Kind, Served)>,
    /// Frames the good clients got back intact.
    pub good_frames: u64,
    /// Payload bytes the good clients got back intact.
    pub good_bytes: u64,
    /// From the first good client's connect to the last one's end.
    pub good_time: Duration,
    /// The most the budget had charged, sampled every millisecond.
    pub budget_peak: usize,
    /// The budget's limit.
    pub budget_limit: usize,
}

impl Report {
    /// Good clients' frames per second. See [`Report`].
    pub fn frames_per_sec(&self) -> f64 {
        self.good_frames as f64 / self.good_time.as_secs_f64()
    }

    /// Good clients' payload megabytes (10^6) per second, one way. See [`Report`].
    pub fn mb_per_sec(&self) -> f64 {
        self.good_bytes as f64 / 1e6 / self.good_time.as_secs_f64()
    }

    /// Checks every connection against what its kind must end with; returns the mismatches.
    /// See [`Report`].
    pub fn mismatches(&self, s: &Settings) -> Vec<String> {
        self.served
            .iter()
            .filter_map(|(kind, served)| {
                check(*kind, served, s).err().map(|why| {
                    format!(
                        "{} from {}: {why}; got {:?}",
                        kind.name(),
                        served.peer,
                        served
                    )
                })
            })
            .collect()
    }
}

/// Whether `served` ended as a peer of `kind` must on the crowd server ([`Kind::is_expected`]
/// for its listener's layout, the echoes, the deadline's numbers), within its bound.
///
/// ```
/// use std::time::Duration;
/// use lenframe::FrameError;
/// use lenframe_testkit::crowd::{check, Kind, Outcome, Served, Settings};
/// let s = Settings::new(1);
/// let served = Served {
///     peer: "127.0.0.1:1".parse().unwrap(),
///     server: "127.0.0.1:2".parse().unwrap(),
///     outcome: Outcome::Cut(FrameError::TooLarge { len: (1 << 20) + 1, max: 1 << 20 }),
///     frames: 0,
///     lasted: Duration::from_millis(3),
/// };
/// assert!(check(Kind::OverLimit, &served, &s).is_ok());
/// assert!(check(Kind::Truncate, &served, &s).is_err());
/// ```
///
/// # Errors
///
/// Why it is not as expected.
pub fn check(kind: Kind, served: &Served, s: &Settings) -> Result<(), String> {
    let field = if kind == Kind::OverlongVarint {
        LengthField::Varint
    } else {
        LengthField::U32Be
    };
    let rate = TimeLimit::MinRate {
        bytes_per_sec: MIN_RATE,
    };
    let timing = match (&served.outcome, kind) {
        (Outcome::Closed, Kind::Good) => served.frames == s.frames_per_client as u64,
        (
            Outcome::Cut(FrameError::TimedOut {
                received,
                elapsed,
                limit,
                ..
            }),
            Kind::Trickle | Kind::DeclareMaxStall,
        ) => {
            *elapsed >= s.deadline.allowed(*received)
                && (kind == Kind::Trickle || *elapsed <= s.deadline.allowed(*received) + SLACK)
                && *limit == rate
        }
        (Outcome::Idle, Kind::Silent) => served.lasted >= s.idle,
        (Outcome::Cut(_), Kind::Reset) => served.frames == 1,
        _ => true,
    };
    if !kind.is_expected(&served.outcome, &s.config(field)) || !timing {
        return Err("not the expected outcome".to_string());
    }
    match s.bound(kind) {
        Some(bound) if served.lasted > bound => {
            Err(format!("lasted {:?}, over {bound:?}", served.lasted))
        }
        _ => Ok(()),
    }
}

/// The kinds of `good` good clients and `hostile` attackers, attackers dealt round-robin.
///
/// ```
/// use lenframe_testkit::crowd::{crowd, Kind};
/// assert_eq!(crowd(1, 2), [Kind::Good, Kind::Trickle, Kind::DeclareMaxStall]);
/// ```
pub fn crowd(good: usize, hostile: usize) -> Vec<Kind> {
    let mut kinds = vec![Kind::Good; good];
    kinds.extend((0..hostile).map(|i| Kind::HOSTILE[i % Kind::HOSTILE.len()]));
    kinds
}

/// The `i`th payload of a good client: its size from [`GOOD_SIZES`], bytes that depend on
/// the client and the frame so that a mixed-up echo shows.
///
/// ```
/// assert_eq!(lenframe_testkit::crowd::good_payload(0, 3).len(), 5_000);
/// ```
pub fn good_payload(client: usize, i: usize) -> Vec<u8> {
    let len = GOOD_SIZES[i % GOOD_SIZES.len()];
    (0..len)
        .map(|j| (j as u8).wrapping_mul(31) ^ (client as u8) ^ (i as u8).rotate_left(3))
        .collect()
}

/// A safety bound on any client's blocking read: far beyond every server bound.
const CLIENT_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A good client: sends its frames one at a time and checks each echo; then ends the stream
/// and expects a clean end back. Returns the frames and payload bytes echoed.
fn good_client(stream: TcpStream, client: usize, s: &Settings) -> Result<(u64, u64), FrameError> {
    stream.set_read_timeout(Some(CLIENT_READ_TIMEOUT))?;
    let cfg = s.config(LengthField::U32Be);
    let mut writer = FrameWriter::with_config(stream.try_clone()?, cfg)?;
    let mut reader = FrameReader::with_config(stream, cfg)?;
    let (mut frames, mut bytes) = (0, 0);
    for i in 0..s.frames_per_client {
        let payload = good_payload(client, i);
        writer.write_frame(&payload)?;
        writer.flush()?;
        let echo = reader.read_frame()?;
        assert!(
            echo == Some(&payload[..]),
            "client {client} frame {i}: echo differs"
        );
        frames += 1;
        bytes += payload.len() as u64;
    }
    reader.get_ref().shutdown(Shutdown::Write)?;
    assert_eq!(reader.read_frame()?, None);
    Ok((frames, bytes))
}

/// Waits until the server closes the connection (an end or an error; at most a few reads of
/// anything it sends first).
fn wait_closed(stream: &mut impl Read) {
    let mut buf = [0u8; 256];
    for _ in 0..16 {
        if !matches!(stream.read(&mut buf), Ok(n) if n > 0) {
            return;
        }
    }
}

/// The payload the trickling and truncating peers declare, and the reset peer starts.
pub const TRICKLE_LEN: usize = 1000;

/// What a hostile peer needs to know of the server it visits: its layout, and a request it
/// answers with at least two bytes (the [`Kind::Reset`] peer leaves part of the answer
/// unread).
///
/// ```
/// use lenframe_testkit::crowd::Target;
/// let target = Target::new(lenframe::FrameConfig::default(), b"ping");
/// assert_eq!(target.request, b"ping");
/// ```
#[derive(Debug, Clone)]
pub struct Target {
    /// The server's layout.
    pub cfg: FrameConfig,
    /// The payload of a request the server answers.
    pub request: Vec<u8>,
}

impl Target {
    /// A server of layout `cfg` that answers `request`.
    ///
    /// ```
    /// let target = lenframe_testkit::crowd::Target::new(lenframe::FrameConfig::default(), b"");
    /// assert!(target.request.is_empty());
    /// ```
    pub fn new(cfg: FrameConfig, request: &[u8]) -> Self {
        Target {
            cfg,
            request: request.to_vec(),
        }
    }
}

impl Kind {
    /// Visits a server on `stream` as a peer of this kind would; returns once the server has
    /// closed the connection (or, for [`Kind::Trickle`], once it refuses a byte, after 10 s
    /// at most). Write errors are expected once the server has cut it. See the
    /// [module example](self).
    ///
    /// # Errors
    ///
    /// The I/O errors before the attack is made (a server that cut it earlier than its kind
    /// deserves shows in the server's outcome, not here).
    ///
    /// # Panics
    ///
    /// For [`Kind::Good`], which is not an attacker.
    pub fn attack<S: Duplex>(self, mut stream: S, target: &Target) -> io::Result<()> {
        let cfg = &target.cfg;
        let header = |len: usize| reference_header(cfg, len as u64);
        match self {
            Kind::Good => panic!("a good client is not an attacker"),
            Kind::Trickle => {
                stream.write_all(&header(TRICKLE_LEN))?;
                // At most 500 bytes (10 s); the server cuts long before, and a write fails
                // after.
                for _ in 0..500 {
                    // The trickle under test.
                    thread::sleep(Duration::from_millis(20));
                    if stream.write_all(b"x").is_err() {
                        break;
                    }
                }
            }
            Kind::DeclareMaxStall => {
                let mut wire = header(cfg.get_max_frame_len());
                wire.extend_from_slice(&[7; 10]);
                stream.write_all(&wire)?;
                wait_closed(&mut stream);
            }
            Kind::OverLimit => {
                stream.write_all(&header(cfg.get_max_frame_len() + 1))?;
                wait_closed(&mut stream);
            }
            Kind::Truncate => {
                let mut wire = header(TRICKLE_LEN);
                wire.extend_from_slice(&[9; TRICKLE_LEN / 2]);
                stream.write_all(&wire)?;
                stream.shutdown_write()?;
                wait_closed(&mut stream);
            }
            Kind::OverlongVarint => {
                let mut wire = vec![0; cfg.get_length_field_offset()];
                wire.extend_from_slice(&[0x80; 10]);
                wire.push(0x01);
                stream.write_all(&wire)?;
                wait_closed(&mut stream);
            }
            Kind::Silent => wait_closed(&mut stream),
            Kind::Reset => {
                stream.write_all(&reference_frame(cfg, &target.request))?;
                // Wait for the answer to arrive, and leave all of it but one byte unread.
                stream.read_exact(&mut [0u8; 1])?;
                let mut wire = header(TRICKLE_LEN);
                wire.extend_from_slice(&[3; 10]);
                stream.write_all(&wire)?;
                // Closing with unread data makes the kernel send a reset, not an end.
                drop(stream);
            }
        }
        Ok(())
    }

    /// Whether a server of layout `cfg` ended a connection of this kind as it must: a good
    /// client by a clean close, a trickle and a stall by `TimedOut` with the declared frame's
    /// byte count, `TooLarge`, `Truncated` with the numbers, `VarintTooLong`, the server's
    /// idle policy, and `ConnectionReset`. See the [module example](self).
    ///
    /// ```
    /// use lenframe::{FrameConfig, FrameError};
    /// use lenframe_testkit::crowd::{Kind, Outcome};
    /// let cfg = FrameConfig::default();
    /// let cut = Outcome::Cut(FrameError::Truncated { expected: 1004, received: 504 });
    /// assert!(Kind::Truncate.is_expected(&cut, &cfg));
    /// assert!(!Kind::Trickle.is_expected(&cut, &cfg));
    /// ```
    pub fn is_expected(self, outcome: &Outcome, cfg: &FrameConfig) -> bool {
        let max = cfg.get_max_frame_len();
        let trailer = trailer_len(cfg) as u64;
        let whole =
            |len: usize| reference_header(cfg, len as u64).len() as u64 + len as u64 + trailer;
        let header = |len: usize| reference_header(cfg, len as u64).len() as u64;
        match (outcome, self) {
            (Outcome::Closed, Kind::Good) | (Outcome::Idle, Kind::Silent) => true,
            (
                Outcome::Cut(FrameError::TimedOut {
                    expected, received, ..
                }),
                Kind::Trickle,
            ) => {
                *expected == whole(TRICKLE_LEN)
                    && (header(TRICKLE_LEN)..whole(TRICKLE_LEN)).contains(received)
            }
            (
                Outcome::Cut(FrameError::TimedOut {
                    expected, received, ..
                }),
                Kind::DeclareMaxStall,
            ) => *expected == whole(max) && *received == header(max) + 10,
            (Outcome::Cut(FrameError::TooLarge { len, max: m }), Kind::OverLimit) => {
                *len == max as u64 + 1 && *m == max
            }
            (Outcome::Cut(FrameError::Truncated { expected, received }), Kind::Truncate) => {
                *expected == whole(TRICKLE_LEN)
                    && *received == header(TRICKLE_LEN) + TRICKLE_LEN as u64 / 2
            }
            (
                Outcome::Cut(FrameError::InvalidHeader(HeaderError::VarintTooLong)),
                Kind::OverlongVarint,
            ) => true,
            (Outcome::Cut(FrameError::Io(e)), Kind::Reset) => {
                e.kind() == io::ErrorKind::ConnectionReset
            }
            _ => false,
        }
    }
}

/// Runs every peer of `kinds` on a thread of its own against the two listeners; returns
/// each peer's kind by its address, and the good clients' totals and time.
fn run_clients(
    kinds: &[Kind],
    plain: SocketAddr,
    varint: SocketAddr,
    s: &Settings,
) -> (HashMap<(SocketAddr, SocketAddr), Kind>, u64, u64, Duration) {
    let started = Instant::now();
    let peers: Vec<_> = kinds
        .iter()
        .enumerate()
        .map(|(i, &kind)| {
            let addr = if kind == Kind::OverlongVarint {
                varint
            } else {
                plain
            };
            let stream = TcpStream::connect(addr).expect("connect to the crowd server");
            let local = (stream.local_addr().unwrap(), addr);
            let s = *s;
            let handle = thread::spawn(move || match kind {
                Kind::Good => {
                    let done = good_client(stream, i, &s).expect("a good client is served");
                    (done, Instant::now())
                }
                _ => {
                    let field = if kind == Kind::OverlongVarint {
                        LengthField::Varint
                    } else {
                        LengthField::U32Be
                    };
                    let target = Target::new(s.config(field), b"ping");
                    // An attacker's own I/O may fail once it is cut: that is the point.
                    let _ = kind.attack(stream, &target);
                    ((0, 0), Instant::now())
                }
            });
            (local, kind, handle)
        })
        .collect();
    let (mut frames, mut bytes, mut last) = (0, 0, started);
    let mut by_addr = HashMap::new();
    for (local, kind, handle) in peers {
        let ((f, b), ended) = handle.join().expect("peer thread");
        if kind == Kind::Good {
            frames += f;
            bytes += b;
            last = last.max(ended);
        }
        by_addr.insert(local, kind);
    }
    (by_addr, frames, bytes, last - started)
}

/// Samples the budget every millisecond until told to stop (at most for 10 minutes);
/// returns the most it saw charged.
fn sample_budget(budget: MemoryBudget, stop: mpsc::Receiver<()>) -> usize {
    let mut peak = budget.in_use();
    for _ in 0..600_000 {
        peak = peak.max(budget.in_use());
        if stop.recv_timeout(Duration::from_millis(1)) != Err(mpsc::RecvTimeoutError::Timeout) {
            break;
        }
    }
    peak
}

/// Puts the clients' and the server's views together.
fn report(
    by_addr: HashMap<(SocketAddr, SocketAddr), Kind>,
    served: Vec<Served>,
    good: (u64, u64, Duration),
    budget_peak: usize,
    s: &Settings,
) -> Report {
    assert_eq!(served.len(), by_addr.len(), "every connection was served");
    let served = served
        .into_iter()
        .map(|served| (by_addr[&(served.peer, served.server)], served))
        .collect();
    Report {
        served,
        good_frames: good.0,
        good_bytes: good.1,
        good_time: good.2,
        budget_peak,
        budget_limit: s.budget,
    }
}

/// The plain listener and the varint one, each with how many of `kinds` connect to it and
/// its length field.
fn listeners<L>(plain: L, varint: L, kinds: &[Kind]) -> [(L, usize, LengthField); 2] {
    let n_varint = kinds.iter().filter(|&&k| k == Kind::OverlongVarint).count();
    [
        (plain, kinds.len() - n_varint, LengthField::U32Be),
        (varint, n_varint, LengthField::Varint),
    ]
}

/// A thread sampling a budget's charge until stopped.
struct Sampler {
    stop: mpsc::Sender<()>,
    thread: thread::JoinHandle<usize>,
}

impl Sampler {
    fn start(budget: &MemoryBudget) -> Self {
        let (stop, stop_rx) = mpsc::channel();
        let budget = budget.clone();
        let thread = thread::spawn(move || sample_budget(budget, stop_rx));
        Sampler { stop, thread }
    }

    /// Stops sampling once every reader is gone; checks they gave all their memory back;
    /// returns the most the budget had charged.
    fn stop(self, budget: &MemoryBudget) -> usize {
        self.stop.send(()).unwrap();
        let peak = self.thread.join().unwrap();
        assert_eq!(budget.in_use(), 0, "every reader gave its memory back");
        peak
    }
}

/// The most read calls one connection is served for: far more than any peer here makes.
const MAX_PASSES: usize = 1_000_000;

/// Serves one connection on the calling thread until it ends or is cut.
fn serve_blocking(
    stream: TcpStream,
    peer: SocketAddr,
    cfg: FrameConfig,
    s: &Settings,
    budget: &MemoryBudget,
) -> Served {
    let accepted = Instant::now();
    let server = stream.local_addr().expect("the server's address");
    let mut frames = 0;
    let outcome = 'serve: {
        let setup = (|| -> Result<_, FrameError> {
            stream.set_read_timeout(Some(s.idle))?;
            let writer = FrameWriter::with_capacity(stream.try_clone()?, cfg, s.write_capacity)?;
            let mut reader = FrameReader::with_capacity(stream, cfg, s.step)?;
            reader.set_frame_deadline(Some(s.deadline));
            reader.set_budget(Some(budget.clone()))?;
            Ok((reader, writer))
        })();
        let (mut reader, mut writer) = match setup {
            Ok(pair) => pair,
            Err(e) => break 'serve Outcome::Cut(e),
        };
        for _ in 0..MAX_PASSES {
            let err = match reader.read_frame() {
                Ok(Some(frame)) => {
                    if let Err(e) = writer.write_frame(frame).and_then(|()| writer.flush()) {
                        break 'serve Outcome::Cut(e);
                    }
                    frames += 1;
                    continue;
                }
                Ok(None) => break 'serve Outcome::Closed,
                Err(e) => e,
            };
            match err {
                // The socket's read timeout between frames: the server's idle policy.
                e if e.is_would_block() && reader.read_buffer().is_empty() => {
                    break 'serve Outcome::Idle
                }
                // Inside a frame, the frame's deadline decides.
                e if e.is_would_block() => {}
                e => break 'serve Outcome::Cut(e),
            }
        }
        panic!("connection from {peer} still served after {MAX_PASSES} reads");
    };
    Served {
        peer,
        server,
        outcome,
        frames,
        lasted: accepted.elapsed(),
    }
}

/// Accepts exactly `count` connections on `listener`, each served on a thread of its own
/// (which first calls `on_server_thread`); returns when all are served.
fn accept_blocking(
    listener: TcpListener,
    count: usize,
    cfg: FrameConfig,
    s: Settings,
    budget: MemoryBudget,
    on_server_thread: fn(),
) -> Vec<Served> {
    on_server_thread();
    let handlers: Vec<_> = (0..count)
        .map(|_| {
            let (stream, peer) = listener.accept().expect("accept");
            let budget = budget.clone();
            thread::spawn(move || {
                on_server_thread();
                serve_blocking(stream, peer, cfg, &s, &budget)
            })
        })
        .collect();
    handlers
        .into_iter()
        .map(|h| h.join().expect("server thread"))
        .collect()
}

/// The threaded server (one thread per connection, blocking `FrameReader`/`FrameWriter`)
/// under `kinds`; `on_server_thread` runs first on every server thread.
///
/// See [`Report`].
///
/// # Panics
///
/// If a listener cannot be bound, a good client is not served, or a thread panics.
pub fn run_threaded(s: &Settings, kinds: &[Kind], on_server_thread: fn()) -> Report {
    let budget = MemoryBudget::new(s.budget);
    let plain = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let varint = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let (plain_addr, varint_addr) = (plain.local_addr().unwrap(), varint.local_addr().unwrap());
    let sampler = Sampler::start(&budget);
    let servers = listeners(plain, varint, kinds).map(|(listener, count, field)| {
        let (cfg, s, budget) = (s.config(field), *s, budget.clone());
        thread::spawn(move || accept_blocking(listener, count, cfg, s, budget, on_server_thread))
    });
    let (by_addr, frames, bytes, time) = run_clients(kinds, plain_addr, varint_addr, s);
    let served: Vec<Served> = servers
        .into_iter()
        .flat_map(|h| h.join().expect("acceptor thread"))
        .collect();
    report(
        by_addr,
        served,
        (frames, bytes, time),
        sampler.stop(&budget),
        s,
    )
}

#[cfg(feature = "tokio")]
mod on_tokio {
    use super::*;
    use lenframe::tokio::{FrameReader, FrameWriter};

    /// Serves one connection as a task until it ends or is cut.
    async fn serve(
        stream: tokio::net::TcpStream,
        peer: SocketAddr,
        cfg: FrameConfig,
        s: Settings,
        budget: MemoryBudget,
    ) -> Served {
        let accepted = Instant::now();
        let server = stream.local_addr().expect("the server's address");
        let (r, w) = stream.into_split();
        let mut frames = 0;
        let outcome = 'serve: {
            let mut writer =
                FrameWriter::with_capacity(w, cfg, s.write_capacity).expect("a valid layout");
            let mut reader = FrameReader::with_capacity(r, cfg, s.step).expect("a valid layout");
            reader.set_frame_deadline(Some(s.deadline));
            if let Err(e) = reader.set_budget(Some(budget)) {
                break 'serve Outcome::Cut(e);
            }
            for _ in 0..MAX_PASSES {
                // The idle timeout applies to a read that starts between frames; the read is
                // cancel safe, so one cut short inside a frame just goes on.
                let read = if reader.state().in_frame() {
                    Some(reader.read_frame().await)
                } else {
                    tokio::time::timeout(s.idle, reader.read_frame()).await.ok()
                };
                match read {
                    Some(Ok(Some(frame))) => {
                        if let Err(e) = writer.write_frame(frame).await {
                            break 'serve Outcome::Cut(e);
                        }
                        if let Err(e) = writer.flush().await {
                            break 'serve Outcome::Cut(e);
                        }
                        frames += 1;
                        continue;
                    }
                    Some(Ok(None)) => break 'serve Outcome::Closed,
                    Some(Err(e)) => break 'serve Outcome::Cut(e),
                    None => {}
                }
                // The idle timeout passed. A frame that began meanwhile goes on under its own
                // deadline: the read is cancel safe, so nothing of it was lost.
                if !reader.state().in_frame() {
                    break 'serve Outcome::Idle;
                }
            }
            panic!("connection from {peer} still served after {MAX_PASSES} reads");
        };
        Served {
            peer,
            server,
            outcome,
            frames,
            lasted: accepted.elapsed(),
        }
    }

    /// Accepts exactly `count` connections on `listener`, one task each; returns when all
    /// are served.
    async fn accept(
        listener: tokio::net::TcpListener,
        count: usize,
        cfg: FrameConfig,
        s: Settings,
        budget: MemoryBudget,
    ) -> Vec<Served> {
        let mut tasks = Vec::with_capacity(count);
        for _ in 0..count {
            let (stream, peer) = listener.accept().await.expect("accept");
            tasks.push(tokio::spawn(serve(stream, peer, cfg, s, budget.clone())));
        }
        let mut served = Vec::with_capacity(count);
        for task in tasks {
            served.push(task.await.expect("server task"));
        }
        served
    }

    /// The tokio server (one task per connection on a two-worker runtime, async
    /// `FrameReader`/`FrameWriter`) under `kinds`; `on_server_thread` runs first on every
    /// runtime thread.
    ///
    /// ```no_run
    /// use lenframe_testkit::crowd::{crowd, run_tokio, Settings};
    /// let s = Settings::new(2);
    /// assert!(run_tokio(&s, &crowd(2, 7), || {}).mismatches(&s).is_empty());
    /// ```
    ///
    /// # Panics
    ///
    /// If a listener cannot be bound, a good client is not served, or a task panics.
    pub fn run_tokio(s: &Settings, kinds: &[Kind], on_server_thread: fn()) -> Report {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .on_thread_start(on_server_thread)
            .build()
            .expect("a tokio runtime");
        let budget = MemoryBudget::new(s.budget);
        let (plain, varint) = rt.block_on(async {
            let bind = || tokio::net::TcpListener::bind("127.0.0.1:0");
            (bind().await.expect("bind"), bind().await.expect("bind"))
        });
        let (plain_addr, varint_addr) = (plain.local_addr().unwrap(), varint.local_addr().unwrap());
        let sampler = Sampler::start(&budget);
        let servers = listeners(plain, varint, kinds).map(|(listener, count, field)| {
            rt.spawn(accept(listener, count, s.config(field), *s, budget.clone()))
        });
        let (by_addr, frames, bytes, time) = run_clients(kinds, plain_addr, varint_addr, s);
        let served: Vec<Served> = rt.block_on(async {
            let mut served = Vec::new();
            for server in servers {
                served.extend(server.await.expect("acceptor task"));
            }
            served
        });
        rt.shutdown_timeout(Duration::from_secs(1));
        report(
            by_addr,
            served,
            (frames, bytes, time),
            sampler.stop(&budget),
            s,
        )
    }
}

#[cfg(feature = "tokio")]
pub use on_tokio::run_tokio;

/// Per attacker kind (and for the good clients): how many connections, how many ended as
/// expected, and the outcome the first of them had.
///
/// ```no_run
/// use lenframe_testkit::crowd::{crowd, run_threaded, tally, Settings};
/// let s = Settings::new(1);
/// for (kind, count, ok, outcome) in tally(&run_threaded(&s, &crowd(1, 7), || {}), &s) {
///     println!("{}: {ok} of {count} as expected, e.g. {outcome}", kind.name());
/// }
/// ```
pub fn tally(report: &Report, s: &Settings) -> Vec<(Kind, usize, usize, String)> {
    let mut kinds: Vec<Kind> = report.served.iter().map(|(k, _)| *k).collect();
    kinds.sort();
    kinds.dedup();
    kinds
        .into_iter()
        .map(|kind| {
            let of_kind: Vec<&Served> = report
                .served
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, served)| served)
                .collect();
            let ok = of_kind
                .iter()
                .filter(|sv| check(kind, sv, s).is_ok())
                .count();
            (kind, of_kind.len(), ok, of_kind[0].describe())
        })
        .collect()
}

/// A markdown table for one server: per attacker kind, how many were cut as expected and
/// with what; then the good clients' throughput without and with the attackers, the peak
/// heap of the server's threads and the budget's peak (`calm` and `stormy` pair each run
/// with the peak heap the caller measured).
///
/// ```no_run
/// use lenframe_testkit::crowd::{crowd, run_threaded, table, Settings};
/// let s = Settings::new(1);
/// let (calm, stormy) = (run_threaded(&s, &crowd(1, 0), || {}), run_threaded(&s, &crowd(1, 7), || {}));
/// println!("{}", table("threads", &s, (&calm, 0), (&stormy, 0)));
/// ```
pub fn table(
    server: &str,
    s: &Settings,
    calm: (&Report, usize),
    stormy: (&Report, usize),
) -> String {
    let mut out = format!(
        "| {server}: peer | connections | cut as expected | server's outcome |\n|---|---|---|---|\n"
    );
    for (kind, count, ok, outcome) in tally(stormy.0, s) {
        out += &format!("| {} | {count} | {ok} | {outcome} |\n", kind.name());
    }
    out += &format!(
        "\n| {server}: run | good clients' frames/s | MB/s (one way) | server peak heap | budget peak / limit |\n|---|---|---|---|---|\n"
    );
    for (label, (report, peak)) in [("good clients only", calm), ("with attackers", stormy)] {
        let good = report
            .served
            .iter()
            .filter(|(k, _)| *k == Kind::Good)
            .count();
        out += &format!(
            "| {label} ({good} good, {} hostile) | {:.0} | {:.1} | {:.1} MiB | {:.1} / {:.1} MiB |\n",
            report.served.len() - good,
            report.frames_per_sec(),
            report.mb_per_sec(),
            peak as f64 / (1 << 20) as f64,
            report.budget_peak as f64 / (1 << 20) as f64,
            report.budget_limit as f64 / (1 << 20) as f64,
        );
    }
    out
}
