//! Every layout's wire bytes written plainly, with std's byte-order functions, a hand-written
//! LEB128 and a bitwise CRC-32C, so that what lenframe encodes and decodes is checked against
//! code it shares nothing with; and payloads whose bytes depend on a seed, so that a frame
//! delivered out of order or shifted by a byte shows.
//!
//! Nothing here needs lenframe's `std` or `alloc` features.
//!
//! ```
//! use lenframe::{Checksum, FrameConfig, FrameDecoder, Decoded};
//! use lenframe_testkit::reference::reference_frame;
//!
//! let cfg = FrameConfig::default().checksum(Checksum::Crc32c);
//! let wire = reference_frame(&cfg, b"hi");
//! let mut decoder = FrameDecoder::new(cfg)?;
//! let Decoded::Frame { frame, consumed } = decoder.decode(&wire)? else { unreachable!() };
//! assert_eq!((&wire[frame], consumed), (&b"hi"[..], wire.len()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use lenframe::{Checksum, FrameConfig, FrameEncoder, LengthField};

/// CRC-32C (Castagnoli) one bit at a time: reflected polynomial 0x82F63B78, initial value
/// and final XOR 0xFFFFFFFF.
///
/// ```
/// // The check value of the CRC catalogue.
/// assert_eq!(lenframe_testkit::reference::reference_crc32c(b"123456789"), 0xe306_9283);
/// ```
pub fn reference_crc32c(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x82f6_3b78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The default layout written plainly: a `u32` big-endian length, then the payload.
///
/// ```
/// use lenframe_testkit::reference::reference_encode;
/// assert_eq!(reference_encode(&[b"hi", b""]), b"\0\0\0\x02hi\0\0\0\0");
/// ```
///
/// # Panics
///
/// If a frame is longer than `u32::MAX` bytes.
pub fn reference_encode(frames: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for frame in frames {
        out.extend_from_slice(&u32::try_from(frame.len()).unwrap().to_be_bytes());
        out.extend_from_slice(frame);
    }
    out
}

/// Appends one frame encoded through lenframe's alloc-free core API
/// ([`FrameEncoder::header`] and [`FrameEncoder::trailer`]): offset zeros and length field,
/// payload, trailer. For tests that run without lenframe's `std` and `alloc` features.
///
/// ```
/// use lenframe::{FrameConfig, FrameEncoder};
/// use lenframe_testkit::reference::{encode_frame, reference_frame};
///
/// let cfg = FrameConfig::default();
/// let mut wire = Vec::new();
/// encode_frame(&FrameEncoder::new(cfg)?, b"abc", &mut wire);
/// assert_eq!(wire, reference_frame(&cfg, b"abc"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Panics
///
/// If the encoder refuses the payload (over the limit, or too long for the field).
pub fn encode_frame(enc: &FrameEncoder, payload: &[u8], wire: &mut Vec<u8>) {
    let header = enc.header(payload.len()).unwrap();
    let mark = wire.len();
    wire.resize(mark + header.offset(), 0);
    wire.extend_from_slice(header.field());
    let trailer = enc.trailer(&wire[mark..], payload);
    wire.extend_from_slice(payload);
    wire.extend_from_slice(trailer.as_bytes());
}

/// The length field written plainly: `value` in the field's width and byte order, or as a
/// shortest-form LEB128 varint.
///
/// ```
/// use lenframe::LengthField;
/// use lenframe_testkit::reference::reference_field;
/// assert_eq!(reference_field(LengthField::U16Le, 0x102), [2, 1]);
/// assert_eq!(reference_field(LengthField::Varint, 300), [0xac, 0x02]);
/// ```
///
/// # Panics
///
/// If `value` does not fit the field.
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
///
/// ```
/// use lenframe::FrameConfig;
/// use lenframe_testkit::reference::reference_header;
/// let cfg = FrameConfig::default().length_field_offset(1).length_adjustment(-5);
/// assert_eq!(reference_header(&cfg, 3), [0, 0, 0, 0, 8]);
/// ```
///
/// # Panics
///
/// If the payload is shorter than a positive adjustment, or the field cannot hold it.
pub fn reference_header(cfg: &FrameConfig, payload_len: u64) -> Vec<u8> {
    let field = i128::from(payload_len) - cfg.get_length_adjustment() as i128;
    let field = u64::try_from(field).expect("payload shorter than the adjustment");
    let mut out = vec![0u8; cfg.get_length_field_offset()];
    out.extend(reference_field(cfg.get_length_field(), field));
    out
}

/// The bytes a layout puts after the payload: 4 (a little-endian CRC-32C of header and
/// payload) when it has a checksum, else 0.
///
/// ```
/// use lenframe::{Checksum, FrameConfig};
/// use lenframe_testkit::reference::trailer_len;
/// assert_eq!(trailer_len(&FrameConfig::default()), 0);
/// assert_eq!(trailer_len(&FrameConfig::default().checksum(Checksum::Crc32c)), 4);
/// ```
pub fn trailer_len(cfg: &FrameConfig) -> usize {
    match cfg.get_checksum() {
        Checksum::None => 0,
        _ => 4,
    }
}

/// One frame on the wire: header, payload, and the checksum of both when the layout has one.
///
/// ```
/// use lenframe::{FrameConfig, LengthField};
/// use lenframe_testkit::reference::reference_frame;
/// let cfg = FrameConfig::default().length_field(LengthField::U8);
/// assert_eq!(reference_frame(&cfg, b"ab"), b"\x02ab");
/// ```
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
///
/// ```
/// use lenframe::{FrameConfig, LengthField};
/// use lenframe_testkit::reference::reference_stream;
/// let cfg = FrameConfig::default().length_field(LengthField::U8);
/// assert_eq!(reference_stream(&cfg, &[&b"a"[..], b""]), b"\x01a\x00");
/// ```
pub fn reference_stream<P: AsRef<[u8]>>(cfg: &FrameConfig, payloads: &[P]) -> Vec<u8> {
    payloads
        .iter()
        .flat_map(|p| reference_frame(cfg, p.as_ref()))
        .collect()
}

/// What a reader delivers for `payload`: the header without its first `num_skip` bytes, then
/// the payload; only the payload when `num_skip` is unset.
///
/// ```
/// use lenframe::{FrameConfig, LengthField};
/// use lenframe_testkit::reference::reference_delivered;
/// let cfg = FrameConfig::default().length_field(LengthField::U16Be).num_skip(1);
/// assert_eq!(reference_delivered(&cfg, b"x"), b"\x01x");
/// ```
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
///
/// ```
/// use lenframe::FrameConfig;
/// use lenframe_testkit::reference::min_payload;
/// assert_eq!(min_payload(&FrameConfig::default().length_adjustment(2)), 2);
/// ```
pub fn min_payload(cfg: &FrameConfig) -> usize {
    cfg.get_length_adjustment().max(0) as usize
}

/// A payload of `len` bytes whose content depends on `seed`, so that frames in a sequence
/// differ and a reordering or a shifted byte shows.
///
/// ```
/// use lenframe_testkit::reference::payload;
/// assert_eq!(payload(3, 0), [0, 7, 14]);
/// assert_ne!(payload(3, 1), payload(3, 2));
/// ```
pub fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| {
            seed.wrapping_mul(31)
                .wrapping_add((i as u8).wrapping_mul(7))
                ^ (i >> 8) as u8
        })
        .collect()
}

/// Whether a payload of `len` bytes can be written in `cfg`'s length field at all (possibly
/// over the limit): the field holds `len - adjustment`.
///
/// ```
/// use lenframe::{FrameConfig, LengthField};
/// use lenframe_testkit::reference::expressible;
/// let cfg = FrameConfig::default().length_field(LengthField::U8).max_frame_len(10);
/// assert!(expressible(&cfg, 255));
/// assert!(!expressible(&cfg, 256));
/// ```
pub fn expressible(cfg: &FrameConfig, len: usize) -> bool {
    let field = len as i128 - cfg.get_length_adjustment() as i128;
    field >= 0 && field <= i128::from(cfg.get_length_field().max_value())
}

/// The fewest bytes that could complete a header of which `received` bytes arrived: what a
/// reader's `Truncated { expected, .. }` says when the stream ends inside a header.
///
/// ```
/// use lenframe::{FrameConfig, LengthField};
/// use lenframe_testkit::reference::header_expected;
/// assert_eq!(header_expected(&FrameConfig::default(), 1), 4);
/// let varint = FrameConfig::default().length_field(LengthField::Varint);
/// assert_eq!(header_expected(&varint, 2), 3);
/// ```
pub fn header_expected(cfg: &FrameConfig, received: usize) -> u64 {
    let min = cfg.min_header_len();
    match cfg.get_length_field().width() {
        Some(_) => min as u64,
        None => min.max(received + 1) as u64,
    }
}
