//! The sans-IO encoder: the header for a payload length, checked before anything is written.

use crate::config::FrameConfig;
use crate::error::{ConfigError, FrameError};
use crate::header::{LengthField, MAX_VARINT_LEN};

/// The header of one frame, ready to be written: `offset` zero bytes, then the length field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    offset: usize,
    field: [u8; MAX_VARINT_LEN],
    field_len: u8,
}

impl Header {
    /// The bytes before the length field, all zero.
    #[inline]
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The length field's bytes.
    #[inline]
    pub fn field(&self) -> &[u8] {
        &self.field[..usize::from(self.field_len)]
    }

    /// The header's length in bytes: offset plus field.
    #[inline]
    pub fn encoded_len(&self) -> usize {
        self.offset + usize::from(self.field_len)
    }

    /// Appends the header's bytes to `out`.
    #[inline]
    pub fn write_into(&self, out: &mut Vec<u8>) {
        if self.offset > 0 {
            out.resize(out.len() + self.offset, 0);
        }
        out.extend_from_slice(self.field());
    }
}

/// A sans-IO frame encoder: it checks a payload length against the layout and the limit
/// and produces the header, so that nothing is written for a frame that must be refused.
///
/// # Examples
///
/// ```
/// use lenframe::{FrameConfig, FrameEncoder, FrameError};
///
/// let enc = FrameEncoder::new(FrameConfig::default().max_frame_len(16))?;
/// let mut wire = Vec::new();
/// enc.encode(b"hello", &mut wire)?;
/// assert_eq!(wire, b"\x00\x00\x00\x05hello");
///
/// // 17 bytes are refused, and nothing is appended.
/// let err = enc.encode(&[0; 17], &mut wire).unwrap_err();
/// assert!(matches!(err, FrameError::TooLarge { len: 17, max: 16 }));
/// assert_eq!(wire.len(), 9);
/// # Ok::<(), FrameError>(())
/// ```
#[derive(Debug, Clone)]
pub struct FrameEncoder {
    config: FrameConfig,
    max: usize,
    /// The layout is the default one (a 4-byte big-endian field at offset 0), whose header
    /// `append_header` writes directly.
    default_layout: bool,
}

impl FrameEncoder {
    /// Makes an encoder for `config`.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when the layout is impossible (see [`FrameConfig::validate`]).
    pub fn new(config: FrameConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(FrameEncoder {
            max: config.get_max_frame_len(),
            default_layout: config.get_length_field() == LengthField::U32Be
                && config.get_length_field_offset() == 0,
            config,
        })
    }

    /// The configuration this encoder was made with.
    pub fn config(&self) -> &FrameConfig {
        &self.config
    }

    /// The header for a payload of `payload_len` bytes.
    ///
    /// # Errors
    ///
    /// [`FrameError::TooLarge`] over the limit; [`FrameError::TooShort`] when a positive
    /// length adjustment makes the length field negative.
    #[inline(always)]
    pub fn header(&self, payload_len: usize) -> Result<Header, FrameError> {
        let field = self.field_value(payload_len)?;
        let mut header = Header {
            offset: self.config.get_length_field_offset(),
            field: [0; MAX_VARINT_LEN],
            field_len: 0,
        };
        header.field_len = self
            .config
            .get_length_field()
            .write(field, &mut header.field) as u8;
        Ok(header)
    }

    /// The length field's value for a payload of `payload_len` bytes, checked as by
    /// [`header`](Self::header).
    #[inline(always)]
    pub(crate) fn field_value(&self, payload_len: usize) -> Result<u64, FrameError> {
        if payload_len > self.max {
            return Err(self.refuse(payload_len));
        }
        let field = i128::from(payload_len as u64) - self.config.get_length_adjustment() as i128;
        // The config guarantees that max - adjustment fits the field, so only the lower
        // bound can fail here.
        u64::try_from(field).map_err(|_| self.refuse(payload_len))
    }

    /// The header's length for a length field holding `field`.
    #[inline(always)]
    pub(crate) fn header_len(&self, field: u64) -> usize {
        if self.default_layout {
            return 4;
        }
        // The config guarantees that offset + the field's longest form fits in usize.
        self.config.get_length_field_offset() + self.config.get_length_field().encoded_len(field)
    }

    /// Appends the header whose length field holds `field` (from
    /// [`field_value`](Self::field_value)) to `out`: what [`Header::write_into`] appends,
    /// without building the `Header`.
    #[inline(always)]
    pub(crate) fn append_header(&self, field: u64, out: &mut Vec<u8>) {
        if self.default_layout {
            // `field` fits: the config limits it to what a u32 holds.
            out.extend_from_slice(&(field as u32).to_be_bytes());
            return;
        }
        let offset = self.config.get_length_field_offset();
        if offset > 0 {
            out.resize(out.len() + offset, 0);
        }
        let mut bytes = [0; MAX_VARINT_LEN];
        let n = self.config.get_length_field().write(field, &mut bytes);
        // Copies of a constant size compile to a single store; the common widths get one.
        match n {
            4 => out.extend_from_slice(&bytes[..4]),
            2 => out.extend_from_slice(&bytes[..2]),
            8 => out.extend_from_slice(&bytes[..8]),
            _ => out.extend_from_slice(&bytes[..n]),
        }
    }

    /// The error for a payload length that [`header`](Self::header) refuses: over the limit,
    /// or too short for a positive length adjustment.
    #[cold]
    #[inline(never)]
    fn refuse(&self, payload_len: usize) -> FrameError {
        if payload_len > self.max {
            return FrameError::TooLarge {
                len: payload_len as u64,
                max: self.max,
            };
        }
        FrameError::TooShort {
            len: payload_len,
            min: self.config.get_length_adjustment().unsigned_abs(),
        }
    }

    /// The bytes a frame with a payload of `payload_len` bytes takes on the wire.
    ///
    /// # Errors
    ///
    /// As for [`header`](Self::header).
    pub fn encoded_len(&self, payload_len: usize) -> Result<usize, FrameError> {
        // The config guarantees that max_header_len + max fits in usize.
        Ok(self.header(payload_len)?.encoded_len() + payload_len)
    }

    /// Appends the frame (header, then payload) to `out`.
    ///
    /// # Errors
    ///
    /// As for [`header`](Self::header); `out` is then left unchanged.
    pub fn encode(&self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), FrameError> {
        let header = self.header(payload.len())?;
        out.reserve(header.encoded_len() + payload.len());
        header.write_into(out);
        out.extend_from_slice(payload);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LengthField;

    #[test]
    fn adjustment_is_subtracted_and_offset_zeroed() {
        let cfg = FrameConfig::default()
            .length_field(LengthField::U16Be)
            .length_field_offset(2)
            .length_adjustment(-4);
        let enc = FrameEncoder::new(cfg).unwrap();
        let mut out = Vec::new();
        enc.encode(b"ab", &mut out).unwrap();
        assert_eq!(out, b"\x00\x00\x00\x06ab");
    }

    #[test]
    fn positive_adjustment_needs_that_many_bytes() {
        let enc = FrameEncoder::new(FrameConfig::default().length_adjustment(3)).unwrap();
        assert!(matches!(
            enc.header(2),
            Err(FrameError::TooShort { len: 2, min: 3 })
        ));
        assert_eq!(enc.header(3).unwrap().field(), [0, 0, 0, 0]);
    }

    #[test]
    fn narrow_field_refuses_before_writing() {
        let enc =
            FrameEncoder::new(FrameConfig::default().length_field(LengthField::U16Be)).unwrap();
        let mut out = vec![9];
        let err = enc.encode(&vec![0; 65_536], &mut out).unwrap_err();
        assert!(matches!(
            err,
            FrameError::TooLarge {
                len: 65_536,
                max: 65_535
            }
        ));
        assert_eq!(out, [9]);
        assert_eq!(enc.encoded_len(65_535).unwrap(), 65_537);
    }

    #[test]
    fn varint_header_length_follows_value() {
        let enc =
            FrameEncoder::new(FrameConfig::default().length_field(LengthField::Varint)).unwrap();
        assert_eq!(enc.header(127).unwrap().field(), [0x7f]);
        assert_eq!(enc.header(300).unwrap().field(), [0xac, 0x02]);
        assert_eq!(enc.encoded_len(300).unwrap(), 302);
    }
}
