//! The length field: its widths, byte orders and the varint, read and written.

use byteorder::{BigEndian, ByteOrder, LittleEndian};

use crate::error::HeaderError;

/// The most bytes an unsigned LEB128 varint of a `u64` takes.
pub const MAX_VARINT_LEN: usize = 10;

/// How the payload length is written in the header.
///
/// Every variant is a layout that tokio-util's `LengthDelimitedCodec` or Netty's
/// `LengthFieldBasedFrameDecoder` speaks, plus [`LengthField::Varint`], the
/// length prefix of protobuf's delimited stream format. A width that no peer speaks
/// (5 bytes, say) cannot be written down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum LengthField {
    /// One byte.
    U8,
    /// Two bytes, big-endian.
    U16Be,
    /// Two bytes, little-endian.
    U16Le,
    /// Three bytes, big-endian.
    U24Be,
    /// Three bytes, little-endian.
    U24Le,
    /// Four bytes, big-endian: the default, as tokio-util's `LengthDelimitedCodec::new()`
    /// and Netty's `LengthFieldPrepender(4)` write it.
    #[default]
    U32Be,
    /// Four bytes, little-endian.
    U32Le,
    /// Eight bytes, big-endian.
    U64Be,
    /// Eight bytes, little-endian.
    U64Le,
    /// An unsigned LEB128 varint of 1 to 10 bytes, in its shortest form (protobuf's
    /// `writeDelimitedTo`, prost's `encode_length_delimited`).
    Varint,
}

impl LengthField {
    /// Every layout, for code (and tests) that must cover them all.
    pub const ALL: [LengthField; 10] = [
        LengthField::U8,
        LengthField::U16Be,
        LengthField::U16Le,
        LengthField::U24Be,
        LengthField::U24Le,
        LengthField::U32Be,
        LengthField::U32Le,
        LengthField::U64Be,
        LengthField::U64Le,
        LengthField::Varint,
    ];

    /// The fixed width in bytes, or `None` for [`LengthField::Varint`].
    pub const fn width(self) -> Option<usize> {
        match self {
            LengthField::U8 => Some(1),
            LengthField::U16Be | LengthField::U16Le => Some(2),
            LengthField::U24Be | LengthField::U24Le => Some(3),
            LengthField::U32Be | LengthField::U32Le => Some(4),
            LengthField::U64Be | LengthField::U64Le => Some(8),
            LengthField::Varint => None,
        }
    }

    /// The fewest bytes the field takes (1 for the varint).
    pub const fn min_len(self) -> usize {
        match self.width() {
            Some(w) => w,
            None => 1,
        }
    }

    /// The most bytes the field takes (10 for the varint).
    pub const fn max_len(self) -> usize {
        match self.width() {
            Some(w) => w,
            None => MAX_VARINT_LEN,
        }
    }

    /// The largest value the field can hold.
    pub const fn max_value(self) -> u64 {
        match self.width() {
            Some(8) | None => u64::MAX,
            Some(w) => (1u64 << (8 * w)) - 1,
        }
    }

    /// How many bytes the field takes to hold `value` (always [`width`](Self::width) for a
    /// fixed field; for the varint, the length of its shortest form).
    pub const fn encoded_len(self, value: u64) -> usize {
        match self.width() {
            Some(w) => w,
            None => {
                // One byte per started group of 7 bits, and at least one byte.
                let bits = 64 - (value | 1).leading_zeros() as usize;
                bits.div_ceil(7)
            }
        }
    }

    /// Reads the field from the front of `buf`.
    ///
    /// Returns `Ok(None)` when `buf` is too short to hold the whole field yet, and
    /// `Ok(Some((value, len)))` with the field's length in bytes once it is complete.
    /// An invalid varint is an error as soon as it is known to be invalid, never later.
    #[inline(always)]
    pub(crate) fn read(self, buf: &[u8]) -> Result<Option<(u64, usize)>, HeaderError> {
        let Some(width) = self.width() else {
            return read_varint(buf);
        };
        let Some(field) = buf.get(..width) else {
            return Ok(None);
        };
        let value = match self {
            LengthField::U8 => u64::from(field[0]),
            LengthField::U16Be => u64::from(BigEndian::read_u16(field)),
            LengthField::U16Le => u64::from(LittleEndian::read_u16(field)),
            LengthField::U24Be => u64::from(BigEndian::read_u24(field)),
            LengthField::U24Le => u64::from(LittleEndian::read_u24(field)),
            LengthField::U32Be => u64::from(BigEndian::read_u32(field)),
            LengthField::U32Le => u64::from(LittleEndian::read_u32(field)),
            LengthField::U64Be => BigEndian::read_u64(field),
            LengthField::U64Le => LittleEndian::read_u64(field),
            LengthField::Varint => unreachable!("handled above"),
        };
        Ok(Some((value, width)))
    }

    /// Writes `value` at the front of `out` and returns the bytes written.
    ///
    /// The caller has checked that `value <= self.max_value()` and that `out` holds
    /// [`max_len`](Self::max_len) bytes. A fixed field is written as one 8-byte store when
    /// `out` has room for it (the bytes past the field are then zero), so that a header
    /// built on the stack is read back without a partial-store stall.
    #[inline(always)]
    pub(crate) fn write(self, value: u64, out: &mut [u8]) -> usize {
        debug_assert!(value <= self.max_value());
        let Some(width) = self.width() else {
            return write_varint(value, out);
        };
        // The field's bytes come first in both orders: big-endian shifts them to the top,
        // and a little-endian value under 2^(8 * width) has only zeros above them.
        let mut bytes = [0u8; 8];
        if self.is_little_endian() {
            LittleEndian::write_u64(&mut bytes, value);
        } else {
            BigEndian::write_u64(&mut bytes, value << (64 - 8 * width));
        }
        match out.get_mut(..8) {
            Some(dst) => dst.copy_from_slice(&bytes),
            None => out[..width].copy_from_slice(&bytes[..width]),
        }
        width
    }

    /// Whether a fixed field is written least significant byte first.
    const fn is_little_endian(self) -> bool {
        matches!(
            self,
            LengthField::U16Le | LengthField::U24Le | LengthField::U32Le | LengthField::U64Le
        )
    }
}

/// Decodes an unsigned LEB128 varint in its shortest form from the front of `buf`.
fn read_varint(buf: &[u8]) -> Result<Option<(u64, usize)>, HeaderError> {
    let mut value = 0u64;
    for (i, &byte) in buf.iter().take(MAX_VARINT_LEN).enumerate() {
        let group = u64::from(byte & 0x7f);
        if i == MAX_VARINT_LEN - 1 {
            // The tenth byte holds bit 63 only: anything more overflows, and a
            // continuation bit would make an eleventh byte.
            if byte & 0x80 != 0 {
                return Err(HeaderError::VarintTooLong);
            }
            if group > 1 {
                return Err(HeaderError::VarintOverflow);
            }
        }
        value |= group << (7 * i);
        if byte & 0x80 == 0 {
            let len = i + 1;
            if byte == 0 && len > 1 {
                return Err(HeaderError::VarintOverlong { len });
            }
            return Ok(Some((value, len)));
        }
    }
    Ok(None)
}

/// Writes `value` as a shortest-form unsigned LEB128 varint.
fn write_varint(mut value: u64, out: &mut [u8]) -> usize {
    let mut i = 0;
    while value >= 0x80 {
        out[i] = (value as u8) | 0x80;
        value >>= 7;
        i += 1;
    }
    out[i] = value as u8;
    i + 1
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    fn enc(field: LengthField, value: u64) -> Vec<u8> {
        let mut out = [0u8; MAX_VARINT_LEN];
        let n = field.write(value, &mut out);
        assert_eq!(n, field.encoded_len(value));
        out[..n].to_vec()
    }

    #[test]
    fn fixed_fields_fit_an_exact_slice() {
        // Shorter than 8 bytes: only the field's own bytes are written.
        let mut out = [0xeeu8; 5];
        assert_eq!(LengthField::U32Be.write(0x0102_0304, &mut out[..4]), 4);
        assert_eq!(out, [1, 2, 3, 4, 0xee]);
        assert_eq!(LengthField::U24Le.write(0x01_0203, &mut out[..3]), 3);
        assert_eq!(out, [3, 2, 1, 4, 0xee]);
        assert_eq!(LengthField::U8.write(0xab, &mut out[..1]), 1);
        assert_eq!(out, [0xab, 2, 1, 4, 0xee]);
        // Room for 8: the bytes past the field are zero.
        let mut out = [0xeeu8; 10];
        assert_eq!(LengthField::U16Be.write(0x0102, &mut out), 2);
        assert_eq!(out, [1, 2, 0, 0, 0, 0, 0, 0, 0xee, 0xee]);
        assert_eq!(LengthField::U16Le.write(0x0102, &mut out), 2);
        assert_eq!(out, [2, 1, 0, 0, 0, 0, 0, 0, 0xee, 0xee]);
    }

    #[test]
    fn fixed_fields_match_std_byte_order() {
        assert_eq!(enc(LengthField::U8, 0xab), [0xab]);
        assert_eq!(enc(LengthField::U16Be, 0x0102), 0x0102u16.to_be_bytes());
        assert_eq!(enc(LengthField::U16Le, 0x0102), 0x0102u16.to_le_bytes());
        assert_eq!(enc(LengthField::U24Be, 0x010203), [1, 2, 3]);
        assert_eq!(enc(LengthField::U24Le, 0x010203), [3, 2, 1]);
        assert_eq!(
            enc(LengthField::U32Be, 0x0102_0304),
            0x0102_0304u32.to_be_bytes()
        );
        assert_eq!(
            enc(LengthField::U32Le, 0x0102_0304),
            0x0102_0304u32.to_le_bytes()
        );
        assert_eq!(
            enc(LengthField::U64Be, u64::MAX - 1),
            (u64::MAX - 1).to_be_bytes()
        );
        assert_eq!(enc(LengthField::U64Le, 0x0102), 0x0102u64.to_le_bytes());
    }

    #[test]
    fn max_values() {
        assert_eq!(LengthField::U8.max_value(), 255);
        assert_eq!(LengthField::U16Le.max_value(), 65_535);
        assert_eq!(LengthField::U24Be.max_value(), 16_777_215);
        assert_eq!(LengthField::U32Be.max_value(), u64::from(u32::MAX));
        assert_eq!(LengthField::U64Le.max_value(), u64::MAX);
        assert_eq!(LengthField::Varint.max_value(), u64::MAX);
    }

    #[test]
    fn varint_vectors() {
        // Protobuf's documented examples and the edges of each byte count.
        let cases: &[(u64, &[u8])] = &[
            (0, &[0x00]),
            (1, &[0x01]),
            (127, &[0x7f]),
            (128, &[0x80, 0x01]),
            (150, &[0x96, 0x01]),
            (300, &[0xac, 0x02]),
            (16_383, &[0xff, 0x7f]),
            (16_384, &[0x80, 0x80, 0x01]),
            (
                u64::MAX,
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            ),
        ];
        for &(value, bytes) in cases {
            assert_eq!(enc(LengthField::Varint, value), bytes, "encoding {value}");
            assert_eq!(
                LengthField::Varint.read(bytes),
                Ok(Some((value, bytes.len()))),
                "decoding {value}"
            );
            // Every proper prefix is incomplete, not invalid.
            for cut in 0..bytes.len() {
                assert_eq!(
                    LengthField::Varint.read(&bytes[..cut]),
                    Ok(None),
                    "{value} cut at {cut}"
                );
            }
        }
    }

    #[test]
    fn varint_rejects_overlong_overflow_and_eleven_bytes() {
        assert_eq!(
            LengthField::Varint.read(&[0x80, 0x00]),
            Err(HeaderError::VarintOverlong { len: 2 })
        );
        assert_eq!(
            LengthField::Varint.read(&[0x81, 0x80, 0x00]),
            Err(HeaderError::VarintOverlong { len: 3 })
        );
        let mut overflow = [0xffu8; 10];
        overflow[9] = 0x02;
        assert_eq!(
            LengthField::Varint.read(&overflow),
            Err(HeaderError::VarintOverflow)
        );
        // Ten continuation bytes are invalid at once: no eleventh byte is waited for.
        assert_eq!(
            LengthField::Varint.read(&[0x80; 10]),
            Err(HeaderError::VarintTooLong)
        );
        assert_eq!(
            LengthField::Varint.read(&[0xff; 11]),
            Err(HeaderError::VarintTooLong)
        );
    }

    #[test]
    fn fixed_field_incomplete_until_whole() {
        for field in LengthField::ALL {
            let w = field.min_len();
            let bytes = enc(field, 5);
            for cut in 0..bytes.len() {
                assert_eq!(
                    field.read(&bytes[..cut]),
                    Ok(None),
                    "{field:?} cut at {cut}"
                );
            }
            assert_eq!(field.read(&bytes), Ok(Some((5, w))), "{field:?}");
        }
    }
}
