//! A fuzz driver, and the pieces lenframe's own fuzz targets share: a byte-coded
//! [`FrameConfig`], a scripted [`Read`] (and `AsyncRead`) whose faults the fuzzer chooses,
//! and a reference driver for the sans-IO [`FrameDecoder`] that checks the decoder's
//! invariants on every call.
//!
//! [`drive_handler`] turns a fuzzer's `&[u8]` into an I/O schedule and frame bytes, reads them
//! with a [`FrameReader`] into your handler (`FnMut(&[u8]) -> Result<T, E>`), and checks
//! lenframe's invariants on the way: the frames the reader delivers are exactly those of the
//! sans-IO decoder on the whole stream, in order, whatever the schedule; its buffer stays
//! within `min(2 × bytes received, max_header_len + max_frame_len) + capacity_step`; a fatal
//! error sticks. A complete `cargo fuzz` target (`fuzz/fuzz_targets/my_decoder.rs`, with
//! `lenframe-testkit` among the fuzz crate's dependencies):
//!
//! ```
//! # // The file begins with `#![no_main]`; here `libfuzzer_sys` is stood in for, and the
//! # // target runs once on an empty input.
//! # mod libfuzzer_sys {
//! #     macro_rules! fuzz_target {
//! #         (|$d:ident: &[u8]| $b:block) => { fn target($d: &[u8]) $b };
//! #     }
//! #     pub(crate) use fuzz_target;
//! # }
//! use lenframe::FrameConfig;
//! use lenframe_testkit::fuzz::drive_handler;
//! use libfuzzer_sys::fuzz_target;
//!
//! /// The message decoder under test: a tag byte and a UTF-8 body.
//! fn decode(frame: &[u8]) -> Result<(u8, &str), &'static str> {
//!     let (&tag, body) = frame.split_first().ok_or("empty")?;
//!     Ok((tag, std::str::from_utf8(body).map_err(|_| "not UTF-8")?))
//! }
//!
//! fuzz_target!(|data: &[u8]| {
//!     let cfg = FrameConfig::default().max_frame_len(4096);
//!     let run = drive_handler(cfg, data, |frame| decode(frame).map(|(tag, _)| tag));
//!     // Every frame reached the decoder once, in order; check what the decoder promises.
//!     assert_eq!(run.results.len(), run.frames);
//! });
//! # fn main() { target(&[0, 0, 1, 0, 7]) }
//! ```
//!
//! lenframe's own targets read their input front to back with [`Unstructured`]: first the
//! [`CONFIG_LEN`] configuration bytes (all zeros is the default layout), then the target's
//! own control bytes, then the wire bytes.

use std::io::{self, Read};

use arbitrary::{Arbitrary, Unstructured};
use lenframe::{
    Checksum, Decoded, FrameConfig, FrameDecoder, FrameError, FrameReader, FrameStats, Frames,
    LengthField, Oversize,
};

use crate::reference::{expressible, reference_frame};

/// Bytes of input that code a configuration.
pub const CONFIG_LEN: usize = 10;

/// A limit far above what the fuzzer's memory limit allows to be allocated, so that any
/// allocation sized by a declared length is reported.
pub const HUGE_LIMIT: usize = 1 << 30;

/// A [`FrameConfig`] coded in [`CONFIG_LEN`] bytes; all zeros is [`FrameConfig::default`].
///
/// | byte | meaning |
/// | --- | --- |
/// | 0 | length field: `LengthField::ALL[(b + 5) % 10]` (0 is `U32Be`) |
/// | 1 | length field offset: `b % 20` |
/// | 2 | adjustment kind `b % 7`: 0 none, 1 `i8` from byte 3, 2 `i16` LE from bytes 3..5, 3 minus the shortest header, 4 `isize::MIN`, 5 `isize::MAX`, 6 minus the field's largest value plus byte 3 |
/// | 5 | `num_skip`: 0 the whole header, otherwise `(b - 1) % 32` |
/// | 6 | bit 7: [`Oversize::Skip`]; limit kind `(b & 0x7f) % 5`: 0 default, 1 byte 7, 2 bytes 7..10 LE, 3 [`HUGE_LIMIT`], 4 the largest the field can express |
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ArbConfig(pub [u8; CONFIG_LEN]);

impl<'a> Arbitrary<'a> for ArbConfig {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let mut bytes = [0u8; CONFIG_LEN];
        for b in &mut bytes {
            // Zero once the input runs out, so that a short input is the default layout.
            *b = u8::arbitrary(u)?;
        }
        Ok(ArbConfig(bytes))
    }

    fn size_hint(_depth: usize) -> (usize, Option<usize>) {
        (CONFIG_LEN, Some(CONFIG_LEN))
    }
}

impl std::fmt::Debug for ArbConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} = {:?}", self.0, self.config())
    }
}

impl ArbConfig {
    /// The configuration the bytes code, not yet validated.
    pub fn config(&self) -> FrameConfig {
        let b = self.0;
        let field = LengthField::ALL[(usize::from(b[0]) + 5) % LengthField::ALL.len()];
        let offset = usize::from(b[1] % 20);
        let adjustment: isize = match b[2] % 7 {
            0 => 0,
            1 => isize::from(b[3] as i8),
            2 => isize::from(i16::from_le_bytes([b[3], b[4]])),
            3 => -((offset + field.min_len()) as isize),
            4 => isize::MIN,
            5 => isize::MAX,
            _ => {
                let largest = isize::try_from(field.max_value()).unwrap_or(isize::MAX);
                (-largest).saturating_add(isize::from(b[3]))
            }
        };
        let mut cfg = FrameConfig::default()
            .length_field(field)
            .length_field_offset(offset)
            .length_adjustment(adjustment);
        if b[5] != 0 {
            cfg = cfg.num_skip(usize::from((b[5] - 1) % 32));
        }
        if b[6] & 0x80 != 0 {
            cfg = cfg.oversize(Oversize::Skip);
        }
        match (b[6] & 0x7f) % 5 {
            0 => cfg,
            1 => cfg.max_frame_len(usize::from(b[7])),
            2 => cfg.max_frame_len(u32::from_le_bytes([b[7], b[8], b[9], 0]) as usize),
            3 => cfg.max_frame_len(HUGE_LIMIT),
            _ => {
                let room = usize::MAX - cfg.max_header_len();
                let largest = i128::from(field.max_value()) + adjustment as i128;
                let largest = largest.clamp(0, room as i128) as usize;
                cfg.max_frame_len(largest)
            }
        }
    }

    /// The configuration, if [`FrameConfig::validate`] accepts it.
    pub fn valid(&self) -> Option<FrameConfig> {
        let cfg = self.config();
        cfg.validate().ok().map(|()| cfg)
    }
}

/// What the decoder reported, in order: delivered frames and the non-fatal `TooLarge`
/// errors of [`Oversize::Skip`]. `Skipped` results are not events: how the discarded bytes
/// are counted out depends on how they arrived (their total is in [`Outcome::stats`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A delivered frame.
    Frame(Vec<u8>),
    /// A reported, skipped oversized frame (the error's message).
    Skipped(String),
}

/// How the stream ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// At a frame boundary.
    Clean,
    /// Inside a frame: the `Truncated` error's message.
    Truncated(String),
    /// A fatal error's message.
    Fatal(String),
}

/// Everything a decode of one stream produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Frames and skipped frames, in order.
    pub events: Vec<Event>,
    /// How the stream ended.
    pub end: End,
    /// The decoder's counters at the end.
    pub stats: FrameStats,
}

/// How the wire bytes are handed to the decoder.
#[derive(Debug, Clone, Copy)]
pub enum Feed<'a> {
    /// All at once.
    Whole,
    /// In chunks of these sizes, cycled (a zero counts as one). Empty means one byte at a time.
    Chunks(&'a [u8]),
}

/// Decodes `wire` like a reader would, checking every answer, and returns what came out.
///
/// The buffer passed to the decoder always starts at the current frame; `consumed` bytes
/// are dropped as told; on `Incomplete` more bytes are appended, or, when the whole input
/// has been given, `decode_eof` says how the stream ended.
///
/// # Panics
///
/// On any broken invariant: a result outside the buffer, a call that neither makes progress
/// nor asks for more, a frame over the limit, an error that does not stick, or more calls
/// than a bound linear in the input.
pub fn drive(config: FrameConfig, wire: &[u8], feed: Feed<'_>) -> Outcome {
    let mut dec = FrameDecoder::new(config).expect("the configuration was validated");
    let max = config.get_max_frame_len() as u128;
    let skip_policy = config.get_oversize() == Oversize::Skip;
    let mut events = Vec::new();
    let mut start = 0;
    let mut avail = match feed {
        Feed::Whole => wire.len(),
        Feed::Chunks(_) => 0,
    };
    let mut chunk_index = 0;
    // Whether an oversized frame is being discarded.
    let mut discarding = false;
    // Each call consumes a byte, appends a byte, or reports an oversized frame whose
    // discarding consumes a byte; then one last call at the end.
    let bound = 3 * wire.len() + 4;
    for _ in 0..bound {
        let buf = &wire[start..avail];
        match dec.decode(buf) {
            Ok(Decoded::Frame { frame, consumed }) => {
                assert!(consumed >= 1, "empty frame consumed nothing");
                assert!(
                    consumed <= buf.len(),
                    "consumed {consumed} of {}",
                    buf.len()
                );
                assert_eq!(
                    frame.end + config.get_checksum().len(),
                    consumed,
                    "frame {frame:?} does not end at consumed less the trailer"
                );
                assert!(frame.start <= frame.end, "frame {frame:?} is reversed");
                let delivered = (frame.end - frame.start) as u128;
                match config.get_num_skip() {
                    None => {
                        // frame.start is the header's length.
                        assert!(
                            (config.min_header_len()..=config.max_header_len())
                                .contains(&frame.start),
                            "header of {} bytes",
                            frame.start
                        );
                        assert!(delivered <= max, "payload of {delivered} over {max}");
                    }
                    Some(skip) => {
                        assert_eq!(frame.start, skip);
                        let kept = (config.max_header_len() - skip) as u128;
                        assert!(
                            delivered <= max + kept,
                            "frame of {delivered} bytes over {max} + {kept}"
                        );
                    }
                }
                assert!(!discarding, "frame delivered while discarding");
                assert!(dec.is_at_boundary());
                events.push(Event::Frame(buf[frame].to_vec()));
                start += consumed;
            }
            Ok(Decoded::Skipped { consumed }) => {
                assert!(discarding, "Skipped while not discarding");
                assert!(
                    consumed >= 1 && consumed <= buf.len(),
                    "skipped {consumed} of {}",
                    buf.len()
                );
                start += consumed;
                discarding = !dec.is_at_boundary();
            }
            Ok(Decoded::Incomplete { needed }) => {
                assert!(needed >= 1, "Incomplete with needed 0");
                if avail < wire.len() {
                    let step = match feed {
                        Feed::Whole => wire.len(),
                        Feed::Chunks([]) => 1,
                        Feed::Chunks(sizes) => {
                            let s = sizes[chunk_index % sizes.len()];
                            chunk_index += 1;
                            usize::from(s.max(1))
                        }
                    };
                    avail = (avail + step).min(wire.len());
                    continue;
                }
                if discarding {
                    // Every byte given has been discarded.
                    assert!(buf.is_empty(), "{} bytes kept while discarding", buf.len());
                }
                let end = match dec.decode_eof(buf) {
                    Ok(None) => {
                        assert!(buf.is_empty(), "clean end with {} bytes left", buf.len());
                        End::Clean
                    }
                    Ok(Some(d)) => panic!("decode_eof found {d:?} where decode needed more"),
                    Err(e) => {
                        let FrameError::Truncated { expected, received } = e else {
                            panic!("unexpected error at the end: {e:?}");
                        };
                        assert!(expected > received, "{e}");
                        if !discarding {
                            assert_eq!(received, buf.len() as u64, "{e}");
                            assert_eq!(expected, received + needed as u64, "{e}");
                        }
                        End::Truncated(e.to_string())
                    }
                };
                let stats = dec.stats();
                check_stats(&events, stats);
                return Outcome { events, end, stats };
            }
            Err(e) => {
                let msg = e.to_string();
                match e {
                    FrameError::TooLarge { len, max: m } => {
                        assert_eq!(m as u128, max, "{msg}");
                        assert!(u128::from(len) > max, "{msg}");
                        if skip_policy {
                            assert!(!dec.is_at_boundary(), "not discarding after {msg}");
                            discarding = true;
                            events.push(Event::Skipped(msg));
                            continue;
                        }
                    }
                    FrameError::InvalidHeader(_) | FrameError::ChecksumMismatch { .. } => {}
                    other => panic!("unexpected decode error {other:?}"),
                }
                // Fatal: the same error, whatever is passed from now on.
                for probe in [buf, &[][..], wire, &wire[start..]] {
                    let again = dec.decode(probe).expect_err("fatal error did not stick");
                    assert_eq!(again.to_string(), msg);
                }
                let again = dec.decode_eof(buf).expect_err("fatal error did not stick");
                assert_eq!(again.to_string(), msg);
                let stats = dec.stats();
                check_stats(&events, stats);
                return Outcome {
                    events,
                    end: End::Fatal(msg),
                    stats,
                };
            }
        }
    }
    panic!(
        "decoder not done after {bound} calls on {} bytes",
        wire.len()
    );
}

/// Panics unless a reader's `capacity` is within the bound its read side documents:
/// `min(2 × received, max_header_len + max_frame_len) + step`, with `received` the bytes it
/// has read and `step` its capacity step.
pub fn check_capacity(config: &FrameConfig, step: usize, capacity: usize, received: usize) {
    let frame_bound = (config.max_header_len() as u128)
        + config.get_max_frame_len() as u128
        + config.get_checksum().len() as u128;
    let limit = (2 * received as u128).min(frame_bound) + step as u128;
    assert!(
        capacity as u128 <= limit,
        "capacity {capacity} over {limit} after {received} bytes"
    );
}

/// What a reader front end delivered, call by call, to compare with [`drive`]'s [`Outcome`].
#[derive(Debug, Default)]
pub struct Delivered {
    /// Frames and reported skipped frames, in order.
    pub events: Vec<Event>,
    /// How the stream ended, once it has: reading stops then.
    pub end: Option<End>,
}

impl Delivered {
    /// Records one `read_frame` result (errors the front end is to retry are the caller's).
    /// Returns the message of a fatal error, which the caller then checks is returned again.
    pub fn record(
        &mut self,
        result: Result<Option<Vec<u8>>, FrameError>,
        oversize: Oversize,
    ) -> Option<String> {
        match result {
            Ok(Some(frame)) => self.events.push(Event::Frame(frame)),
            Ok(None) => self.end = Some(End::Clean),
            Err(e @ FrameError::TooLarge { .. }) if oversize == Oversize::Skip => {
                self.events.push(Event::Skipped(e.to_string()));
            }
            Err(e @ FrameError::Truncated { .. }) => self.end = Some(End::Truncated(e.to_string())),
            Err(e) => {
                let msg = e.to_string();
                self.end = Some(End::Fatal(msg.clone()));
                return Some(msg);
            }
        }
        None
    }

    /// Panics unless the stream ended within `calls` calls and at most [`MAX_FAULTS`]
    /// faults, with the events, end and counters of `expected`.
    pub fn check(self, expected: &Outcome, stats: FrameStats, faults: usize, calls: usize) {
        let end = self
            .end
            .unwrap_or_else(|| panic!("reader not done after {calls} calls"));
        assert!(faults <= MAX_FAULTS, "{faults} faults");
        assert_eq!(self.events, expected.events);
        assert_eq!(end, expected.end);
        assert_eq!(stats, expected.stats);
    }
}

/// A layout and the bytes to decode, from a fuzzer's input: a coded configuration, one byte
/// whose low bit adds a CRC-32C trailer, then the wire. `None` when the input is too short
/// or [`FrameConfig::validate`] refuses the layout.
pub fn checksummed_input(data: &[u8]) -> Option<(FrameConfig, &[u8])> {
    let mut u = arbitrary::Unstructured::new(data);
    let cfg = <ArbConfig as arbitrary::Arbitrary>::arbitrary(&mut u).ok()?;
    let checksum = <u8 as arbitrary::Arbitrary>::arbitrary(&mut u).ok()?;
    let sum = if checksum & 1 == 1 {
        Checksum::Crc32c
    } else {
        Checksum::None
    };
    let config = cfg.config().checksum(sum);
    config.validate().ok()?;
    Some((config, u.take_rest()))
}

/// What a [`Frames`] iterator yields over `wire`, in the form [`drive`] reports it, and
/// the offset it reports as the start of the undelivered tail.
///
/// # Panics
///
/// When the iterator yields more than a bound linear in the input, is not fused, or
/// reports a tail outside the buffer.
pub fn frames_outcome(config: FrameConfig, wire: &[u8]) -> (Outcome, usize) {
    let mut frames = Frames::new(wire, config).expect("the configuration was validated");
    let mut events = Vec::new();
    for _ in 0..=wire.len() + 2 {
        let end = match frames.next() {
            Some(Ok(frame)) => {
                events.push(Event::Frame(frame.to_vec()));
                continue;
            }
            None => End::Clean,
            Some(Err(e @ FrameError::Truncated { .. })) => End::Truncated(e.to_string()),
            Some(Err(e @ FrameError::TooLarge { .. }))
                if config.get_oversize() == Oversize::Skip =>
            {
                events.push(Event::Skipped(e.to_string()));
                continue;
            }
            Some(Err(e)) => End::Fatal(e.to_string()),
        };
        assert!(frames.next().is_none(), "Frames not fused after {end:?}");
        let position = frames.position();
        assert!(position <= wire.len(), "position {position} past the end");
        assert_eq!(frames.remainder(), &wire[position..]);
        let stats = frames.stats();
        return (Outcome { events, end, stats }, position);
    }
    panic!("Frames yielded more than {} items", wire.len() + 2);
}

/// The counters agree with the events.
fn check_stats(events: &[Event], stats: FrameStats) {
    let frames = events.iter().filter_map(|e| match e {
        Event::Frame(f) => Some(f.len() as u64),
        Event::Skipped(_) => None,
    });
    assert_eq!(stats.frames, frames.clone().count() as u64, "{stats:?}");
    assert_eq!(stats.bytes, frames.sum::<u64>(), "{stats:?}");
    let skipped = events
        .iter()
        .filter(|e| matches!(e, Event::Skipped(_)))
        .count();
    assert_eq!(stats.skipped_frames, skipped as u64, "{stats:?}");
}

/// The front of a reader target's input: the configuration, the capacity step
/// (`1 + b % 64`) and a script of `n % 33` steps.
pub fn reader_input<'a, Op: Arbitrary<'a>>(
    u: &mut Unstructured<'a>,
) -> arbitrary::Result<(ArbConfig, usize, Vec<Op>)> {
    let cfg = ArbConfig::arbitrary(u)?;
    let step = 1 + usize::from(u8::arbitrary(u)? % 64);
    let count = u8::arbitrary(u)? % 33;
    let mut script = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        script.push(Op::arbitrary(u)?);
    }
    Ok((cfg, step, script))
}

/// One step of a [`ScheduledRead`]'s script, coded in one byte: the top two bits choose
/// the kind, the low six the count of a short read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOp {
    /// Returns at most `n` bytes (1..=64).
    Short(u8),
    /// Fails with `Interrupted`.
    Interrupted,
    /// Fails with `WouldBlock`.
    WouldBlock,
    /// Fills as much of the buffer as there is input for.
    Full,
}

impl<'a> Arbitrary<'a> for ReadOp {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let b = u8::arbitrary(u)?;
        Ok(match b >> 6 {
            0 => ReadOp::Short((b & 0x3f) + 1),
            1 => ReadOp::Interrupted,
            2 => ReadOp::WouldBlock,
            _ => ReadOp::Full,
        })
    }

    fn size_hint(_depth: usize) -> (usize, Option<usize>) {
        (1, Some(1))
    }
}

/// At most this many faults per stream: `Interrupted` and `WouldBlock` results of a
/// [`ScheduledRead`], `Pending` and error results of a `ScheduledAsyncRead`.
pub const MAX_FAULTS: usize = 256;

/// A reader over `data` that follows a script of short reads and faults (`Op`: [`ReadOp`]
/// for a [`Read`], [`AsyncReadOp`] for a `tokio::io::AsyncRead`), cycled; after
/// [`MAX_FAULTS`] faults, or with an empty script, it fills every buffer it is given.
#[derive(Debug)]
pub struct ScheduledRead<'a, Op = ReadOp> {
    data: &'a [u8],
    pos: usize,
    script: &'a [Op],
    next: usize,
    faults: usize,
}

impl<'a, Op: Copy> ScheduledRead<'a, Op> {
    /// A reader of `data` following `script`.
    pub fn new(data: &'a [u8], script: &'a [Op]) -> Self {
        ScheduledRead {
            data,
            pos: 0,
            script,
            next: 0,
            faults: 0,
        }
    }

    /// Bytes handed out so far.
    pub fn received(&self) -> usize {
        self.pos
    }

    /// Faults (errors, and `Pending` for the async reader) returned so far.
    pub fn faults(&self) -> usize {
        self.faults
    }

    /// The next step of the script, or `full` once it is spent or the faults are used up,
    /// for a read into `room` bytes.
    fn next_op(&mut self, full: Op, room: usize) -> Op {
        // Filling nothing would read as the end of the stream.
        assert!(room > 0, "read called with an empty buffer");
        if self.script.is_empty() || self.faults >= MAX_FAULTS {
            return full;
        }
        let op = self.script[self.next % self.script.len()];
        self.next += 1;
        op
    }

    /// Counts a fault and returns its error.
    fn fault(&mut self, kind: io::ErrorKind) -> io::Error {
        self.faults += 1;
        kind.into()
    }

    /// The next bytes to hand out: at most `limit`, at most `room`; the position moves past
    /// them.
    fn take(&mut self, limit: usize, room: usize) -> &'a [u8] {
        let n = limit.min(room).min(self.data.len() - self.pos);
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        out
    }
}

impl Read for ScheduledRead<'_, ReadOp> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let limit = match self.next_op(ReadOp::Full, buf.len()) {
            ReadOp::Short(n) => usize::from(n),
            ReadOp::Full => usize::MAX,
            ReadOp::Interrupted => return Err(self.fault(io::ErrorKind::Interrupted)),
            ReadOp::WouldBlock => return Err(self.fault(io::ErrorKind::WouldBlock)),
        };
        let bytes = self.take(limit, buf.len());
        buf[..bytes.len()].copy_from_slice(bytes);
        Ok(bytes.len())
    }
}

/// One step of a `ScheduledAsyncRead`'s script, coded in one byte: the top three bits
/// choose the kind, the low five the count of a short read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsyncReadOp {
    /// Fills at most `n` bytes (1..=32).
    Short(u8),
    /// `Poll::Pending` (the waker is woken at once).
    Pending,
    /// Fails with `Interrupted`, which the reader retries within the same poll.
    Interrupted,
    /// Fails with `ConnectionReset`, which the reader returns; the next call resumes.
    Reset,
    /// Fills as much of the buffer as there is input for.
    Full,
}

impl<'a> Arbitrary<'a> for AsyncReadOp {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let b = u8::arbitrary(u)?;
        Ok(match b >> 5 {
            0 | 1 => AsyncReadOp::Short((b & 0x1f) + 1),
            2 | 3 => AsyncReadOp::Pending,
            4 => AsyncReadOp::Interrupted,
            5 => AsyncReadOp::Reset,
            _ => AsyncReadOp::Full,
        })
    }

    fn size_hint(_depth: usize) -> (usize, Option<usize>) {
        (1, Some(1))
    }
}

/// A `tokio::io::AsyncRead` over `data` whose polls follow a script of short reads,
/// `Pending` and errors, cycled; after [`MAX_FAULTS`] `Pending` and error results, or with an
/// empty script, it fills every buffer it is given.
#[cfg(feature = "tokio")]
pub type ScheduledAsyncRead<'a> = ScheduledRead<'a, AsyncReadOp>;

#[cfg(feature = "tokio")]
impl tokio::io::AsyncRead for ScheduledRead<'_, AsyncReadOp> {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        use std::task::Poll;
        let this = self.get_mut();
        let limit = match this.next_op(AsyncReadOp::Full, buf.remaining()) {
            AsyncReadOp::Short(n) => usize::from(n),
            AsyncReadOp::Full => usize::MAX,
            AsyncReadOp::Pending => {
                this.faults += 1;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            AsyncReadOp::Interrupted => {
                return Poll::Ready(Err(this.fault(io::ErrorKind::Interrupted)))
            }
            AsyncReadOp::Reset => {
                return Poll::Ready(Err(this.fault(io::ErrorKind::ConnectionReset)))
            }
        };
        let bytes = this.take(limit, buf.remaining());
        buf.put_slice(bytes);
        Poll::Ready(Ok(()))
    }
}

/// Reads `wire` with a [`FrameReader`] of capacity step `step` over a [`ScheduledRead`]
/// following `script`, handing every delivered frame to `on_frame`, and checks lenframe's
/// invariants: the same frames, skipped frames, end and counters as [`drive`] on the whole
/// input; the buffer within its bound after every call; a fatal error returned again; the
/// end reached within a bound linear in the input and the faults. Returns the frames
/// delivered.
///
/// ```
/// use lenframe::FrameConfig;
/// use lenframe_testkit::fuzz::{check_reader, ReadOp};
/// let wire = b"\0\0\0\x02hi\0\0\0\x01!";
/// let mut seen = Vec::new();
/// let script = [ReadOp::Short(1), ReadOp::WouldBlock, ReadOp::Interrupted];
/// let frames = check_reader(FrameConfig::default(), 3, &script, wire, |f| seen.push(f.to_vec()));
/// assert_eq!((frames, seen), (2, vec![b"hi".to_vec(), b"!".to_vec()]));
/// ```
///
/// # Panics
///
/// On any broken invariant; if `config` is invalid or `step` is 0.
pub fn check_reader(
    config: FrameConfig,
    step: usize,
    script: &[ReadOp],
    wire: &[u8],
    mut on_frame: impl FnMut(&[u8]),
) -> usize {
    let expected = drive(config, wire, Feed::Whole);
    let mut reader = FrameReader::with_capacity(ScheduledRead::new(wire, script), config, step)
        .expect("validated");
    assert_eq!(reader.capacity_step(), step);
    let mut delivered = Delivered::default();
    let mut frames = 0;
    let bound = 2 * wire.len() + MAX_FAULTS + 4;
    for _ in 0..bound {
        let result = reader.read_frame().map(|f| {
            f.map(|frame| {
                frames += 1;
                on_frame(frame);
                frame.to_vec()
            })
        });
        check_capacity(
            &config,
            step,
            reader.capacity(),
            reader.get_ref().received(),
        );
        match result {
            Err(e) if e.is_would_block() => {}
            result => {
                if let Some(msg) = delivered.record(result, config.get_oversize()) {
                    let again = reader.read_frame().expect_err("fatal error did not stick");
                    assert_eq!(again.to_string(), msg);
                }
                if delivered.end.is_some() {
                    break;
                }
            }
        }
    }
    delivered.check(&expected, reader.stats(), reader.get_ref().faults(), bound);
    frames
}

/// A fuzzer's input read as an I/O schedule and frame bytes for [`drive_handler`]:
///
/// | bytes | meaning |
/// | --- | --- |
/// | 0 | the reader's capacity step: `1 + b % 64` |
/// | 1 | the script's length `n % 33`, then `n` [`ReadOp`] bytes |
/// | then, repeated | a payload: a `u16` little-endian length, then that many bytes, framed in the layout |
/// | the rest | what does not make a whole payload (or one the field cannot express) goes on the wire raw: a torn or hostile tail |
///
/// ```
/// use lenframe::FrameConfig;
/// use lenframe_testkit::fuzz::HandlerInput;
/// let data = [0, 0, 2, 0, b'h', b'i', 9];
/// let input = HandlerInput::parse(&FrameConfig::default(), &data);
/// assert_eq!((input.step, input.payloads.len(), input.tail), (1, 1, &[9][..]));
/// assert_eq!(input.wire(&FrameConfig::default()), b"\0\0\0\x02hi\x09");
/// ```
#[derive(Debug, Clone)]
pub struct HandlerInput<'a> {
    /// The reader's capacity step.
    pub step: usize,
    /// How the reads go.
    pub script: Vec<ReadOp>,
    /// The payloads, framed on the wire one after the other.
    pub payloads: Vec<&'a [u8]>,
    /// Raw bytes after the frames.
    pub tail: &'a [u8],
}

impl<'a> HandlerInput<'a> {
    /// Reads `data` as the table of [`HandlerInput`] says, for a reader of layout `cfg`.
    /// Any input is valid: a short one is an empty schedule and an empty stream.
    ///
    /// ```
    /// let input = lenframe_testkit::fuzz::HandlerInput::parse(&lenframe::FrameConfig::default(), &[]);
    /// assert!(input.payloads.is_empty() && input.tail.is_empty());
    /// ```
    pub fn parse(cfg: &FrameConfig, data: &'a [u8]) -> Self {
        let mut u = Unstructured::new(data);
        let step = 1 + usize::from(u8::arbitrary(&mut u).unwrap_or(0) % 64);
        let count = u8::arbitrary(&mut u).unwrap_or(0) % 33;
        let script = (0..count)
            .map_while(|_| ReadOp::arbitrary(&mut u).ok())
            .collect();
        let mut rest = u.take_rest();
        let mut payloads = Vec::new();
        while let [lo, hi, body @ ..] = rest {
            let len = usize::from(u16::from_le_bytes([*lo, *hi]));
            if len > body.len()
                || !expressible(cfg, len)
                || len < crate::reference::min_payload(cfg)
            {
                break;
            }
            payloads.push(&body[..len]);
            rest = &body[len..];
        }
        HandlerInput {
            step,
            script,
            payloads,
            tail: rest,
        }
    }

    /// The bytes on the wire: every payload framed in `cfg`'s layout, then the raw tail.
    /// See [`HandlerInput`].
    pub fn wire(&self, cfg: &FrameConfig) -> Vec<u8> {
        let mut wire: Vec<u8> = self
            .payloads
            .iter()
            .flat_map(|p| reference_frame(cfg, p))
            .collect();
        wire.extend_from_slice(self.tail);
        wire
    }
}

/// What [`drive_handler`] saw: the handler's result for every frame, in order.
///
/// See [`drive_handler`].
#[derive(Debug)]
pub struct HandlerRun<T, E> {
    /// The handler's results, one per delivered frame, in order.
    pub results: Vec<Result<T, E>>,
    /// Frames the reader delivered.
    pub frames: usize,
    /// Bytes on the wire.
    pub wire_len: usize,
}

/// Reads a fuzzer's input as a [`HandlerInput`] (an I/O schedule and frame bytes), drives it
/// through a [`FrameReader`] of layout `cfg` into `handler`, and checks lenframe's
/// invariants with [`check_reader`]. Every delivered frame reaches `handler` once, in order,
/// whatever its result; the caller asserts what its handler promises. See the
/// [module docs](self) for a complete `cargo fuzz` target.
///
/// ```
/// use lenframe::FrameConfig;
/// use lenframe_testkit::fuzz::drive_handler;
/// let data = [0, 1, 0x01, 3, 0, b'a', b'b', b'c'];
/// let run = drive_handler(FrameConfig::default(), &data, |frame| {
///     std::str::from_utf8(frame).map(str::len)
/// });
/// assert_eq!(run.results, [Ok(3)]);
/// ```
///
/// # Panics
///
/// On any broken invariant of the reader, or if `cfg` is invalid.
pub fn drive_handler<T, E>(
    cfg: FrameConfig,
    data: &[u8],
    mut handler: impl FnMut(&[u8]) -> Result<T, E>,
) -> HandlerRun<T, E> {
    let input = HandlerInput::parse(&cfg, data);
    let wire = input.wire(&cfg);
    let mut results = Vec::new();
    let frames = check_reader(cfg, input.step, &input.script, &wire, |frame| {
        results.push(handler(frame));
    });
    HandlerRun {
        results,
        frames,
        wire_len: wire.len(),
    }
}
