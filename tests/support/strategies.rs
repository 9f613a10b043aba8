//! Proptest strategies for header layouts, frame sizes and byte splits, and a reference
//! encoding of every layout written plainly with std's byte-order functions, so that the
//! crate's encoder and decoder are checked against code they share nothing with.

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, FileFailurePersistence};

use lenframe::{Checksum, FrameConfig, LengthField, Oversize};

use super::crc::reference_crc32c;
use super::relay::Event;

/// A proptest config with `default_cases` cases, or `PROPTEST_CASES` when that is set
/// (an explicit case count would otherwise override the variable), persisting failures in
/// `regressions` (a path relative to the package root, where cargo runs tests).
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

/// The length field written plainly: `value` in the field's width and byte order, or as a
/// shortest-form LEB128 varint.
pub fn reference_field(field: LengthField, value: u64) -> Vec<u8> {
    match field {
        LengthField::U8 => vec![u8::try_from(value).unwrap()],
        LengthField::U16Be => u16::try_from(value).unwrap().to_be_bytes().to_vec(),
        LengthField::U16Le => u16::try_from(value).unwrap().to_le_bytes().to_vec(),
        LengthField::U24Be => {
            assert!(value < 1 << 24);
            (value as u32).to_be_bytes()[1..].to_vec()
        }
        LengthField::U24Le => {
            assert!(value < 1 << 24);
            (value as u32).to_le_bytes()[..3].to_vec()
        }
        LengthField::U32Be => u32::try_from(value).unwrap().to_be_bytes().to_vec(),
        LengthField::U32Le => u32::try_from(value).unwrap().to_le_bytes().to_vec(),
        LengthField::U64Be => value.to_be_bytes().to_vec(),
        LengthField::U64Le => value.to_le_bytes().to_vec(),
        LengthField::Varint => {
            let mut out = Vec::new();
            let mut rest = value;
            loop {
                let low = (rest % 128) as u8;
                rest /= 128;
                if rest == 0 {
                    out.push(low);
                    return out;
                }
                out.push(low + 128);
            }
        }
        other => panic!("no reference encoding for {other:?}"),
    }
}

/// The header of a frame whose payload is `payload_len` bytes: `offset` zero bytes, then the
/// field holding `payload_len - adjustment`.
pub fn reference_header(cfg: &FrameConfig, payload_len: u64) -> Vec<u8> {
    let field = i128::from(payload_len) - cfg.get_length_adjustment() as i128;
    let field = u64::try_from(field).expect("payload shorter than the adjustment");
    let mut out = vec![0u8; cfg.get_length_field_offset()];
    out.extend(reference_field(cfg.get_length_field(), field));
    out
}

/// The bytes a layout puts after the payload: the little-endian CRC-32C of header and
/// payload when it has a checksum, else nothing.
pub fn trailer_len(cfg: &FrameConfig) -> usize {
    match cfg.get_checksum() {
        Checksum::None => 0,
        _ => 4,
    }
}

/// One frame on the wire: header, payload, and the checksum of both when the layout has one.
pub fn reference_frame(cfg: &FrameConfig, payload: &[u8]) -> Vec<u8> {
    let mut out = reference_header(cfg, payload.len() as u64);
    out.extend_from_slice(payload);
    if trailer_len(cfg) != 0 {
        let crc = reference_crc32c(&out);
        out.extend_from_slice(&crc.to_le_bytes());
    }
    out
}

/// Frames on the wire, one after the other.
pub fn reference_stream<P: AsRef<[u8]>>(cfg: &FrameConfig, payloads: &[P]) -> Vec<u8> {
    payloads
        .iter()
        .flat_map(|p| reference_frame(cfg, p.as_ref()))
        .collect()
}

/// What a reader delivers for `payload`: the header without its first `num_skip` bytes, then
/// the payload; only the payload when `num_skip` is unset.
pub fn reference_delivered(cfg: &FrameConfig, payload: &[u8]) -> Vec<u8> {
    match cfg.get_num_skip() {
        None => payload.to_vec(),
        Some(skip) => {
            let mut frame = reference_header(cfg, payload.len() as u64);
            frame.extend_from_slice(payload);
            frame[skip..].to_vec()
        }
    }
}

/// The shortest payload the layout can express (a positive adjustment needs that many bytes).
pub fn min_payload(cfg: &FrameConfig) -> usize {
    cfg.get_length_adjustment().max(0) as usize
}

/// A payload of `len` bytes whose content depends on `seed`, so that frames in a sequence
/// differ and a reordering or a shifted byte shows.
pub fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| {
            seed.wrapping_mul(31)
                .wrapping_add((i as u8).wrapping_mul(7))
                ^ (i >> 8) as u8
        })
        .collect()
}

/// Any length field layout.
pub fn any_field() -> impl Strategy<Value = LengthField> {
    proptest::sample::select(LengthField::ALL.to_vec())
}

/// Configs over every layout the crate supports, limited to small `max_frame_len` values so
/// that frames at the limit are cheap; only configs that pass `validate()` are yielded.
///
/// Adjustments cover zero, small positive values, a field that counts the whole header
/// (`-(offset + width)`) and small negative values; `num_skip` is unset or anything up to
/// the shortest header.
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

/// Payloads for `cfg`: up to `max_frames` frames, lengths from [`frame_len`].
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
pub fn capacity_step() -> impl Strategy<Value = usize> {
    prop_oneof![
        1 => Just(1usize),
        3 => 2usize..=16,
        2 => 17usize..=200,
        1 => Just(lenframe::DEFAULT_READ_CAPACITY),
    ]
}

/// How a byte stream is cut into pieces: every piece's size is taken in turn from `sizes`
/// (cycling), so one strategy covers one byte at a time, random cuts through headers and
/// payloads, and many frames coalesced into one piece.
#[derive(Debug, Clone)]
pub struct Cuts {
    /// Piece sizes, each at least 1, used in turn.
    pub sizes: Vec<usize>,
    /// Pause (microseconds) after the piece with the same index, if any: only to vary
    /// timing, never to order anything.
    pub pauses: Vec<u16>,
}

impl Cuts {
    /// Splits `bytes` into pieces following the sizes.
    pub fn split<'a>(&self, bytes: &'a [u8]) -> Vec<&'a [u8]> {
        let mut out = Vec::new();
        let mut rest = bytes;
        let mut i = 0;
        while !rest.is_empty() {
            let n = self.size(i).min(rest.len());
            out.push(&rest[..n]);
            rest = &rest[n..];
            i += 1;
        }
        out
    }

    /// The size of piece `i`.
    pub fn size(&self, i: usize) -> usize {
        self.sizes[i % self.sizes.len()].max(1)
    }

    /// The pause after piece `i`.
    pub fn pause(&self, i: usize) -> std::time::Duration {
        let us = if self.pauses.is_empty() {
            0
        } else {
            self.pauses[i % self.pauses.len()]
        };
        std::time::Duration::from_micros(u64::from(us))
    }
}

/// Any way of cutting a stream: one byte at a time, the whole stream at once, or random
/// piece sizes from 1 to a few frames' worth; rarely with short pauses.
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

/// Whether a payload of `len` bytes can be written in `cfg`'s length field at all (possibly
/// over the limit): the field holds `len - adjustment`.
pub fn expressible(cfg: &FrameConfig, len: usize) -> bool {
    let field = len as i128 - cfg.get_length_adjustment() as i128;
    field >= 0 && field <= i128::from(cfg.get_length_field().max_value())
}

/// The fewest bytes that could complete a header of which `received` bytes arrived.
pub fn header_expected(cfg: &FrameConfig, received: usize) -> u64 {
    let min = cfg.min_header_len();
    match cfg.get_length_field().width() {
        Some(_) => min as u64,
        None => min.max(received + 1) as u64,
    }
}

/// What a reader must report, call after call, for `payloads` written with the reference
/// encoding (any of them may be over the limit) and cut after `cut` bytes (`None`: not
/// cut). A `TooLarge` under `Oversize::Error` is repeated three times, then nothing more.
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
#[derive(Debug, Clone)]
pub struct WritePlan {
    /// The writer's capacity: 1 byte, small, around a few frames, or the default.
    pub capacity: usize,
    /// Whether to flush after each frame (cycled).
    pub flush_after: Vec<bool>,
}

/// Any writer capacity and flush pattern.
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
pub fn config_and_frames(
    oversize: Oversize,
    max_frames: usize,
) -> impl Strategy<Value = (FrameConfig, usize, Vec<Vec<u8>>)> {
    (any_config(oversize), capacity_step())
        .prop_flat_map(move |(cfg, step)| (Just(cfg), Just(step), frames(&cfg, step, max_frames)))
}

/// A writer capacity for fault tests: 1 byte, small (most frames take the vectored path),
/// around a few frames, or the default.
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
pub fn config_and_payloads() -> impl Strategy<Value = (FrameConfig, Vec<Vec<u8>>)> {
    (any_config(Oversize::Error), 1usize..=64)
        .prop_flat_map(|(cfg, step)| (Just(cfg), frames(&cfg, step, 10)))
}
