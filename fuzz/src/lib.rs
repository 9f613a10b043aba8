//! Pieces shared by the lenframe fuzz targets: a byte-coded [`FrameConfig`], a scripted
//! [`Read`] whose faults the fuzzer chooses, and a reference driver for the sans-IO
//! [`FrameDecoder`] that checks the decoder's invariants on every call.
//!
//! Every target reads its input front to back with [`Unstructured`]: first the
//! [`CONFIG_LEN`] configuration bytes (all zeros is the default layout), then the
//! target's own control bytes, then the wire bytes. See `fuzz/README.md` for the layout.

use std::io::{self, Read};

use arbitrary::{Arbitrary, Unstructured};
use lenframe::{
    Checksum, Decoded, FrameConfig, FrameDecoder, FrameError, FrameStats, Frames, LengthField,
    Oversize,
};

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

/// The configuration coded in the input, with a CRC-32C trailer when `checksum` is odd, if
/// [`FrameConfig::validate`] accepts it.
pub fn valid_with_checksum(cfg: ArbConfig, checksum: u8) -> Option<FrameConfig> {
    let sum = if checksum & 1 == 1 {
        Checksum::Crc32c
    } else {
        Checksum::None
    };
    let config = cfg.config().checksum(sum);
    config.validate().ok().map(|()| config)
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

/// At most this many `Interrupted` and `WouldBlock` results per stream.
pub const MAX_FAULTS: usize = 256;

/// A [`Read`] over `data` that follows a script of short reads and faults, cycled; after
/// [`MAX_FAULTS`] faults, or with an empty script, it fills every buffer it is given.
#[derive(Debug)]
pub struct ScheduledRead<'a> {
    data: &'a [u8],
    pos: usize,
    script: &'a [ReadOp],
    next: usize,
    faults: usize,
}

impl<'a> ScheduledRead<'a> {
    /// A reader of `data` following `script`.
    pub fn new(data: &'a [u8], script: &'a [ReadOp]) -> Self {
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

    /// `Interrupted` and `WouldBlock` results returned so far.
    pub fn faults(&self) -> usize {
        self.faults
    }
}

impl Read for ScheduledRead<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // An empty buffer would be answered with 0, which is the end of the stream.
        assert!(!buf.is_empty(), "read called with an empty buffer");
        let op = if self.script.is_empty() || self.faults >= MAX_FAULTS {
            ReadOp::Full
        } else {
            let op = self.script[self.next % self.script.len()];
            self.next += 1;
            op
        };
        let room = buf.len().min(self.data.len() - self.pos);
        let n = match op {
            ReadOp::Short(n) => room.min(usize::from(n)),
            ReadOp::Full => room,
            ReadOp::Interrupted => {
                self.faults += 1;
                return Err(io::ErrorKind::Interrupted.into());
            }
            ReadOp::WouldBlock => {
                self.faults += 1;
                return Err(io::ErrorKind::WouldBlock.into());
            }
        };
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
