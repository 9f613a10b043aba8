//! proptest strategies: [`FrameConfig`] layouts (with and without checksums), frame sizes
//! drawn towards the limits, relay schedules ([`cuts`]), writer plans, and hostile streams
//! together with the events a reader must report for them ([`hostile_stream`],
//! [`expected_events`]).
//!
//! ```
//! use lenframe::{FrameReader, Oversize};
//! use lenframe_testkit::events::read_events;
//! use lenframe_testkit::reference::reference_stream;
//! use lenframe_testkit::relay::Counting;
//! use lenframe_testkit::strategies::{config_and_frames, expected_events};
//! use proptest::prelude::*;
//!
//! proptest!(|((cfg, step, payloads) in config_and_frames(Oversize::Error, 6))| {
//!     let wire = reference_stream(&cfg, &payloads);
//!     let mut reader = FrameReader::with_capacity(Counting::new(&wire[..]), cfg, step).unwrap();
//!     prop_assert_eq!(read_events(&mut reader, 20), expected_events(&cfg, &payloads, None));
//! });
//! ```

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, FileFailurePersistence};

use lenframe::{Checksum, FrameConfig, FrameError, HeaderError, LengthField, Oversize};

use crate::events::Event;
use crate::reference::{
    expressible, header_expected, min_payload, payload, reference_crc32c, reference_delivered,
    reference_frame, reference_header, trailer_len,
};
use crate::relay::Cuts;

/// A proptest config with `default_cases` cases, or `PROPTEST_CASES` when that is set
/// (an explicit case count would otherwise override the variable), persisting failures in
/// `regressions` (a path relative to the package root, where cargo runs tests).
///
/// ```
/// let config = lenframe_testkit::strategies::proptest_config(64, "proptest-regressions/mine.txt");
/// assert!(config.cases > 0);
/// ```
pub fn proptest_config(default_cases: u32, regressions: &'static str) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_cases);
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions))),
        ..ProptestConfig::default()
    }
}

/// Any length field layout.
///
/// ```
/// use proptest::strategy::{Strategy, ValueTree};
/// use proptest::test_runner::TestRunner;
/// let field = lenframe_testkit::strategies::any_field()
///     .new_tree(&mut TestRunner::deterministic()).unwrap().current();
/// assert!(lenframe::LengthField::ALL.contains(&field));
/// ```
pub fn any_field() -> impl Strategy<Value = LengthField> {
    proptest::sample::select(LengthField::ALL.to_vec())
}

/// Configs over every layout the crate supports, limited to small `max_frame_len` values so
/// that frames at the limit are cheap; only configs that pass `validate()` are yielded.
///
/// Adjustments cover zero, small positive values, a field that counts the whole header
/// (`-(offset + width)`) and small negative values; `num_skip` is unset or anything up to
/// the shortest header. A quarter of them carry a CRC-32C checksum.
///
/// ```
/// use lenframe::{FrameReader, FrameWriter, Oversize};
/// use lenframe_testkit::strategies::any_config;
/// use proptest::prelude::*;
///
/// proptest!(|(cfg in any_config(Oversize::Error))| {
///     let mut w = FrameWriter::with_config(Vec::new(), cfg).unwrap();
///     w.write_frame(&vec![7; cfg.get_max_frame_len()]).unwrap();
///     w.flush().unwrap();
///     let wire = w.into_inner().unwrap();
///     let mut r = FrameReader::with_config(&wire[..], cfg).unwrap();
///     prop_assert!(r.read_frame().unwrap().is_some());
/// });
/// ```
pub fn any_config(oversize: Oversize) -> impl Strategy<Value = FrameConfig> {
    (
        any_field(),
        prop_oneof![3 => Just(0usize), 1 => 1usize..=3],
        prop_oneof![
            3 => Just(0isize),
            1 => 1isize..=3,
            2 => Just(isize::MIN), // placeholder: the field counts the header
            1 => -3isize..=-1,
        ],
        prop_oneof![Just(None), (0usize..=11).prop_map(Some)],
        prop_oneof![
            1 => Just(0usize),
            1 => 1usize..=4,
            4 => 5usize..=300,
            1 => 300usize..=1100,
        ],
        prop_oneof![3 => Just(Checksum::None), 1 => Just(Checksum::Crc32c)],
    )
        .prop_filter_map(
            "layout refused by validate()",
            move |(field, offset, adjustment, num_skip, max, checksum)| {
                let adjustment = if adjustment == isize::MIN {
                    -((offset + field.min_len()) as isize)
                } else {
                    adjustment
                };
                // A limit the field cannot express is capped to what it can.
                let largest = i128::from(field.max_value()) + adjustment as i128;
                if largest < 0 {
                    return None;
                }
                let max = (max as i128).min(largest) as usize;
                let mut cfg = FrameConfig::default()
                    .length_field(field)
                    .length_field_offset(offset)
                    .length_adjustment(adjustment)
                    .max_frame_len(max.max(min_payload_of(adjustment)))
                    .oversize(oversize)
                    .checksum(checksum);
                if let Some(skip) = num_skip {
                    cfg = cfg.num_skip(skip.min(offset + field.min_len()));
                }
                cfg.validate().ok().map(|()| cfg)
            },
        )
}

fn min_payload_of(adjustment: isize) -> usize {
    adjustment.max(0) as usize
}

/// A payload length for `cfg` that is legal to write, drawn towards the edges: the smallest,
/// 1 byte, exactly `max_frame_len`, one under it, and around the multiples of `step` (the
/// reader's capacity step), plus anything in between.
///
/// ```
/// use lenframe::FrameConfig;
/// use lenframe_testkit::strategies::frame_len;
/// use proptest::prelude::*;
/// let cfg = FrameConfig::default().max_frame_len(100);
/// proptest!(|(len in frame_len(&cfg, 16))| prop_assert!(len <= 100));
/// ```
pub fn frame_len(cfg: &FrameConfig, step: usize) -> impl Strategy<Value = usize> {
    let lo = min_payload(cfg);
    let hi = cfg.get_max_frame_len();
    let clamp = move |n: usize| n.clamp(lo, hi);
    prop_oneof![
        1 => Just(lo),
        1 => Just(clamp(1)),
        1 => Just(hi),
        1 => Just(clamp(hi.saturating_sub(1))),
        2 => (1usize..=3, -2isize..=2).prop_map(move |(k, d)| {
            clamp((k * step).saturating_add_signed(d))
        }),
        4 => lo..=hi,
    ]
}

/// Payloads for `cfg`: up to `max_frames` frames, lengths from [`frame_len`], contents from
/// [`payload`] with a different seed each.
///
/// ```
/// use lenframe::FrameConfig;
/// use lenframe_testkit::strategies::frames;
/// use proptest::prelude::*;
/// let cfg = FrameConfig::default().max_frame_len(100);
/// proptest!(|(payloads in frames(&cfg, 16, 5))| prop_assert!(payloads.len() <= 5));
/// ```
pub fn frames(
    cfg: &FrameConfig,
    step: usize,
    max_frames: usize,
) -> impl Strategy<Value = Vec<Vec<u8>>> {
    proptest::collection::vec((frame_len(cfg, step), any::<u8>()), 0..=max_frames).prop_map(
        |lens| {
            lens.into_iter()
                .enumerate()
                .map(|(i, (len, seed))| payload(len, seed.wrapping_add(i as u8)))
                .collect()
        },
    )
}

/// The reader's capacity step: 1 byte, small steps around header sizes, or the default.
///
/// ```
/// use lenframe_testkit::strategies::capacity_step;
/// use proptest::prelude::*;
/// proptest!(|(step in capacity_step())| prop_assert!(step >= 1));
/// ```
pub fn capacity_step() -> impl Strategy<Value = usize> {
    prop_oneof![
        1 => Just(1usize),
        3 => 2usize..=16,
        2 => 17usize..=200,
        1 => Just(lenframe::DEFAULT_READ_CAPACITY),
    ]
}

/// Any way of cutting a stream: one byte at a time, the whole stream at once, or random
/// piece sizes from 1 to a few frames' worth; rarely with short pauses.
///
/// ```
/// use lenframe_testkit::strategies::cuts;
/// use proptest::prelude::*;
/// proptest!(|(cuts in cuts())| {
///     let pieces = cuts.split(b"0123456789");
///     prop_assert_eq!(pieces.concat(), b"0123456789");
/// });
/// ```
pub fn cuts() -> impl Strategy<Value = Cuts> {
    let sizes = prop_oneof![
        1 => Just(vec![1usize]),
        1 => Just(vec![usize::MAX]),
        3 => proptest::collection::vec(1usize..=12, 1..=16),
        2 => proptest::collection::vec(
            prop_oneof![1usize..=8, 9usize..=700, 700usize..=5000],
            1..=8,
        ),
    ];
    let pauses = prop_oneof![
        6 => Just(Vec::new()),
        1 => proptest::collection::vec(prop_oneof![3 => Just(0u16), 1 => 1u16..=200], 1..=8),
    ];
    (sizes, pauses).prop_map(|(sizes, pauses)| Cuts { sizes, pauses })
}

/// What a reader must report, call after call, for `payloads` written with the reference
/// encoding (any of them may be over the limit) and cut after `cut` bytes (`None`: not
/// cut). A `TooLarge` under `Oversize::Error` is repeated three times, then nothing more.
///
/// ```
/// use lenframe::FrameConfig;
/// use lenframe_testkit::events::Event;
/// use lenframe_testkit::strategies::expected_events;
/// let cfg = FrameConfig::default().max_frame_len(4);
/// assert_eq!(
///     expected_events(&cfg, &[&b"ok"[..], b"too long"], None),
///     [Event::Frame(b"ok".to_vec()), Event::TooLarge { len: 8, max: 4 },
///      Event::TooLarge { len: 8, max: 4 }, Event::TooLarge { len: 8, max: 4 }],
/// );
/// assert_eq!(
///     expected_events(&cfg, &[&b"ok"[..]], Some(5)),
///     [Event::Truncated { expected: 6, received: 5 }],
/// );
/// ```
pub fn expected_events<P: AsRef<[u8]>>(
    cfg: &FrameConfig,
    payloads: &[P],
    cut: Option<usize>,
) -> Vec<Event> {
    let max = cfg.get_max_frame_len();
    let skip = cfg.get_oversize() == Oversize::Skip;
    let cut = cut.unwrap_or(usize::MAX);
    let mut events = Vec::new();
    let mut start = 0;
    for p in payloads {
        let p = p.as_ref();
        let header_len = reference_header(cfg, p.len() as u64).len();
        let total = header_len + p.len() + trailer_len(cfg);
        let too_large = Event::TooLarge {
            len: p.len() as u64,
            max,
        };
        if cut <= start {
            break;
        }
        let received = cut - start;
        if received < header_len {
            events.push(Event::Truncated {
                expected: header_expected(cfg, received),
                received: received as u64,
            });
            return events;
        }
        if p.len() > max {
            if !skip {
                events.extend([too_large.clone(), too_large.clone(), too_large]);
                return events;
            }
            events.push(too_large);
        }
        if received < total {
            events.push(Event::Truncated {
                expected: total as u64,
                received: received as u64,
            });
            return events;
        }
        if p.len() <= max {
            events.push(Event::Frame(reference_delivered(cfg, p)));
        }
        start += total;
    }
    events.push(Event::End);
    events
}

/// Payloads for `cfg` where each frame is, with weight `oversize_weight` in 10, over the
/// limit by 1 to 300 bytes (when the field can express that), else legal.
///
/// ```
/// use lenframe::FrameConfig;
/// use lenframe_testkit::strategies::frames_with_oversize;
/// use proptest::prelude::*;
/// let cfg = FrameConfig::default().max_frame_len(10);
/// proptest!(|(payloads in frames_with_oversize(&cfg, 4, 3, 5))| {
///     prop_assert!(payloads.iter().all(|p| p.len() <= 310));
/// });
/// ```
pub fn frames_with_oversize(
    cfg: &FrameConfig,
    step: usize,
    max_frames: usize,
    oversize_weight: u32,
) -> impl Strategy<Value = Vec<Vec<u8>>> {
    let cfg = *cfg;
    let max = cfg.get_max_frame_len();
    let one = prop_oneof![
        10 - oversize_weight => frame_len(&cfg, step),
        oversize_weight => prop_oneof![Just(1usize), 1usize..=300]
            .prop_map(move |over| max + over),
    ]
    .prop_filter("the field cannot express it", move |&len| {
        expressible(&cfg, len)
    });
    proptest::collection::vec((one, any::<u8>()), 0..=max_frames).prop_map(|lens| {
        lens.into_iter()
            .enumerate()
            .map(|(i, (len, seed))| payload(len, seed.wrapping_add(i as u8)))
            .collect()
    })
}

/// How the writer side writes: its capacity, and after which frames it flushes.
///
/// ```
/// let plan = lenframe_testkit::strategies::WritePlan { capacity: 1, flush_after: vec![true] };
/// assert!(plan.flush_after[0]);
/// ```
#[derive(Debug, Clone)]
pub struct WritePlan {
    /// The writer's capacity: 1 byte, small, around a few frames, or the default.
    pub capacity: usize,
    /// Whether to flush after each frame (cycled).
    pub flush_after: Vec<bool>,
}

/// Any writer capacity and flush pattern.
///
/// ```
/// use lenframe_testkit::strategies::write_plan;
/// use proptest::prelude::*;
/// proptest!(|(plan in write_plan())| prop_assert!(plan.capacity >= 1 && !plan.flush_after.is_empty()));
/// ```
pub fn write_plan() -> impl Strategy<Value = WritePlan> {
    (
        prop_oneof![
            1 => Just(1usize),
            2 => 2usize..=64,
            1 => 65usize..=2000,
            2 => Just(lenframe::DEFAULT_WRITE_CAPACITY),
        ],
        proptest::collection::vec(proptest::bool::weighted(0.2), 1..=8),
    )
        .prop_map(|(capacity, flush_after)| WritePlan {
            capacity,
            flush_after,
        })
}

/// A config for `oversize`, a reader capacity step, and up to `max_frames` legal payloads.
///
/// ```
/// use lenframe::Oversize;
/// use lenframe_testkit::strategies::config_and_frames;
/// use proptest::prelude::*;
/// proptest!(|((cfg, _step, payloads) in config_and_frames(Oversize::Skip, 4))| {
///     prop_assert!(payloads.iter().all(|p| p.len() <= cfg.get_max_frame_len()));
/// });
/// ```
pub fn config_and_frames(
    oversize: Oversize,
    max_frames: usize,
) -> impl Strategy<Value = (FrameConfig, usize, Vec<Vec<u8>>)> {
    (any_config(oversize), capacity_step())
        .prop_flat_map(move |(cfg, step)| (Just(cfg), Just(step), frames(&cfg, step, max_frames)))
}

/// A writer capacity for fault tests: 1 byte, small (most frames take the vectored path),
/// around a few frames, or the default.
///
/// ```
/// use lenframe_testkit::strategies::writer_capacity;
/// use proptest::prelude::*;
/// proptest!(|(capacity in writer_capacity())| prop_assert!(capacity >= 1));
/// ```
pub fn writer_capacity() -> impl Strategy<Value = usize> {
    prop_oneof![
        1 => Just(1usize),
        3 => 2usize..=48,
        1 => 49usize..=1500,
        1 => Just(lenframe::DEFAULT_WRITE_CAPACITY),
    ]
}

/// A config under `Oversize::Error` and up to 10 legal payloads, sized around steps of 1 to
/// 64 bytes.
///
/// ```
/// use lenframe_testkit::strategies::config_and_payloads;
/// use proptest::prelude::*;
/// proptest!(|((_cfg, payloads) in config_and_payloads())| prop_assert!(payloads.len() <= 10));
/// ```
pub fn config_and_payloads() -> impl Strategy<Value = (FrameConfig, Vec<Vec<u8>>)> {
    (any_config(Oversize::Error), 1usize..=64)
        .prop_flat_map(|(cfg, step)| (Just(cfg), frames(&cfg, step, 10)))
}

/// What a [`HostileStream`] does to a reader after its honest frames.
///
/// ```
/// use lenframe_testkit::strategies::Hostility;
/// assert_ne!(Hostility::OverLimit, Hostility::DeclaredOverLimit);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hostility {
    /// A whole frame over the limit, then honest frames.
    OverLimit,
    /// A header declaring more than the limit, and then the end of the stream.
    DeclaredOverLimit,
    /// The stream ends at a random byte, inside a header, a payload or a trailer, or at a
    /// frame boundary.
    Truncated,
    /// A varint length of 10 bytes or more with the continuation bit still set (varint
    /// layouts only).
    OverlongVarint,
    /// A varint length whose tenth byte carries bits beyond the 64th (varint layouts only).
    VarintOverflow,
    /// One byte of a frame's payload or checksum flipped (checksummed layouts only).
    DamagedChecksum,
}

/// A hostile stream, and the events a reader must report for it call after call (as
/// [`crate::events::read_events`] collects them: a `TooLarge` under `Oversize::Error` three
/// times, a fatal error once, then reading stops).
///
/// ```
/// let s = lenframe_testkit::strategies::HostileStream {
///     cfg: lenframe::FrameConfig::default(),
///     hostility: lenframe_testkit::strategies::Hostility::Truncated,
///     wire: vec![0, 0],
///     events: vec![lenframe_testkit::events::Event::Truncated { expected: 4, received: 2 }],
/// };
/// assert_eq!(s.wire.len(), 2);
/// ```
#[derive(Debug, Clone)]
pub struct HostileStream {
    /// The layout the reader is configured with.
    pub cfg: FrameConfig,
    /// What the stream does.
    pub hostility: Hostility,
    /// The bytes on the wire.
    pub wire: Vec<u8>,
    /// What a reader must report.
    pub events: Vec<Event>,
}

/// The kinds of hostility that apply to `cfg`.
fn hostilities(cfg: &FrameConfig) -> Vec<Hostility> {
    let mut kinds = vec![Hostility::Truncated];
    let over = cfg.get_max_frame_len().saturating_add(1);
    if expressible(cfg, over) {
        kinds.extend([Hostility::OverLimit, Hostility::DeclaredOverLimit]);
    }
    if cfg.get_length_field() == LengthField::Varint {
        kinds.extend([Hostility::OverlongVarint, Hostility::VarintOverflow]);
    }
    if cfg.get_checksum() != Checksum::None {
        kinds.push(Hostility::DamagedChecksum);
    }
    kinds
}

/// The events for honest `payloads` that end at a frame boundary, without the end.
fn honest_events(cfg: &FrameConfig, payloads: &[Vec<u8>]) -> Vec<Event> {
    let mut events = expected_events(cfg, payloads, None);
    events.pop();
    events
}

/// Hostile streams over every layout of [`any_config`] (with `oversize` as its policy): a
/// few honest frames, then what [`Hostility`] says: a frame over the limit (by 1 to 300
/// bytes), a header declaring over the limit and nothing more, the end of the stream at any
/// byte, an overlong or overflowing varint, or a damaged checksum; each with the events a
/// reader must report.
///
/// ```
/// use lenframe::{FrameReader, Oversize};
/// use lenframe_testkit::events::read_events;
/// use lenframe_testkit::relay::Counting;
/// use lenframe_testkit::strategies::hostile_stream;
/// use proptest::prelude::*;
///
/// proptest!(|(s in hostile_stream(Oversize::Error))| {
///     let mut reader = FrameReader::with_config(Counting::new(&s.wire[..]), s.cfg).unwrap();
///     prop_assert_eq!(read_events(&mut reader, 50), s.events);
/// });
/// ```
pub fn hostile_stream(oversize: Oversize) -> impl Strategy<Value = HostileStream> {
    any_config(oversize).prop_flat_map(|cfg| {
        let kinds = hostilities(&cfg);
        (
            Just(cfg),
            proptest::sample::select(kinds),
            frames(&cfg, 16, 4),
            frames(&cfg, 16, 2),
            1usize..=300,
            any::<proptest::sample::Index>(),
            any::<u8>(),
        )
            .prop_map(|(cfg, hostility, honest, after, over, at, flip)| {
                hostile(cfg, hostility, honest, after, over, at, flip.max(1))
            })
    })
}

/// One hostile stream: `honest` frames, then the hostility; `after` are honest frames that
/// follow a whole oversized frame, `over` how far over the limit it goes, `at` where a
/// truncation or a damage falls, `flip` the bits flipped.
fn hostile(
    cfg: FrameConfig,
    hostility: Hostility,
    honest: Vec<Vec<u8>>,
    after: Vec<Vec<u8>>,
    over: usize,
    at: proptest::sample::Index,
    flip: u8,
) -> HostileStream {
    let mut wire: Vec<u8> = honest
        .iter()
        .flat_map(|p| reference_frame(&cfg, p))
        .collect();
    let mut events = honest_events(&cfg, &honest);
    let max = cfg.get_max_frame_len();
    // Over the limit by `over` if the field can say it, else by one.
    let big = if expressible(&cfg, max + over) {
        max + over
    } else {
        max + 1
    };
    let fatal = |e: FrameError| Event::Other(format!("{e:?}"));
    match hostility {
        Hostility::OverLimit => {
            let mut payloads = honest;
            payloads.push(payload(big, 0x5a));
            payloads.extend(after);
            wire = payloads
                .iter()
                .flat_map(|p| reference_frame(&cfg, p))
                .collect();
            events = expected_events(&cfg, &payloads, None);
        }
        Hostility::DeclaredOverLimit => {
            let cut = wire.len() + reference_header(&cfg, big as u64).len();
            let mut payloads = honest;
            payloads.push(payload(big, 0x5a));
            events = expected_events(&cfg, &payloads, Some(cut));
            wire.extend(reference_header(&cfg, big as u64));
        }
        Hostility::Truncated => {
            let mut payloads = honest;
            payloads.extend(after);
            let whole: Vec<u8> = payloads
                .iter()
                .flat_map(|p| reference_frame(&cfg, p))
                .collect();
            let cut = at.index(whole.len() + 1);
            events = expected_events(&cfg, &payloads, Some(cut));
            wire = whole[..cut].to_vec();
        }
        Hostility::OverlongVarint => {
            wire.resize(wire.len() + cfg.get_length_field_offset(), 0);
            wire.extend([0x80; 10]);
            wire.push(0x01);
            events.push(fatal(HeaderError::VarintTooLong.into()));
        }
        Hostility::VarintOverflow => {
            wire.resize(wire.len() + cfg.get_length_field_offset(), 0);
            wire.extend([0xff; 9]);
            wire.push(0x02);
            events.push(fatal(HeaderError::VarintOverflow.into()));
        }
        Hostility::DamagedChecksum => {
            let body = payload(min_payload(&cfg).max(at.index(max + 1)), flip);
            let mut frame = reference_frame(&cfg, &body);
            let header = frame.len() - body.len() - 4;
            let crc_at = frame.len() - 4;
            // A payload byte, or a trailer byte when the payload is empty.
            let i = if body.is_empty() {
                crc_at + at.index(4)
            } else {
                header + at.index(body.len())
            };
            frame[i] ^= flip;
            let stored = u32::from_le_bytes(frame[crc_at..].try_into().unwrap());
            let computed = reference_crc32c(&frame[..crc_at]);
            wire.extend(frame);
            events.push(fatal(FrameError::ChecksumMismatch {
                expected: stored,
                computed,
            }));
        }
    }
    HostileStream {
        cfg,
        hostility,
        wire,
        events,
    }
}
