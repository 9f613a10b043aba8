//! The sans-IO encoder: the header for a payload length, checked before anything is written.

#[cfg(feature = "alloc")]
use alloc::vec::Vec;

use crate::checksum::{crc32c_append, Checksum};
use crate::config::FrameConfig;
use crate::error::{ConfigError, FrameError};
use crate::header::MAX_VARINT_LEN;

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
    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    #[inline]
    pub fn write_into(&self, out: &mut Vec<u8>) {
        if self.offset > 0 {
            out.resize(out.len() + self.offset, 0);
        }
        out.extend_from_slice(self.field());
    }
}

/// The checksum trailer of one frame, ready to be written after its payload: empty for a
/// layout without a [`Checksum`], else the 4 little-endian bytes of the CRC-32C.
///
/// Made by [`FrameEncoder::trailer`].
///
/// # Examples
///
/// ```
/// use lenframe::{Checksum, FrameConfig, FrameEncoder};
///
/// let enc = FrameEncoder::new(FrameConfig::default().checksum(Checksum::Crc32c))?;
/// let trailer = enc.trailer(b"\x00\x00\x00\x02", b"hi");
/// assert_eq!(trailer.as_bytes(), b"\x97\x80\xb9\x1c");
/// # Ok::<(), lenframe::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trailer {
    bytes: [u8; 4],
    len: u8,
}

impl Trailer {
    /// The trailer's bytes: as many as [`FrameEncoder::trailer_len`].
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl AsRef<[u8]> for Trailer {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

/// A sans-IO frame encoder: it checks a payload length against the layout and the limit
/// and produces the header, so that nothing is written for a frame that must be refused.
///
/// # Examples
///
/// ```
/// # #[cfg(feature = "alloc")] {
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
/// # }
/// # Ok::<(), lenframe::FrameError>(())
/// ```
#[derive(Debug, Clone)]
pub struct FrameEncoder {
    config: FrameConfig,
    max: usize,
    /// The layout is the default one (a 4-byte big-endian field at offset 0, no length
    /// adjustment), whose field is the payload's length and whose header `write_header`
    /// writes directly.
    #[cfg(feature = "std")]
    default_layout: bool,
    checksum: Checksum,
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
            #[cfg(feature = "std")]
            default_layout: config.get_length_field() == crate::LengthField::U32Be
                && config.get_length_field_offset() == 0
                && config.get_length_adjustment() == 0,
            checksum: config.get_checksum(),
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
        #[cfg(feature = "std")]
        if self.default_layout {
            // The config limits the length to what the 4-byte field holds.
            return Ok(payload_len as u64);
        }
        let field = i128::from(payload_len as u64) - self.config.get_length_adjustment() as i128;
        // The config guarantees that max - adjustment fits the field, so only the lower
        // bound can fail here.
        u64::try_from(field).map_err(|_| self.refuse(payload_len))
    }

    /// The longest payload of a plain frame, when every frame of this layout is plain: a
    /// 4-byte big-endian field holding the payload's length at offset 0, no checksum. Such a
    /// frame is the field's 4 bytes then the payload, which `WriteState` copies in directly.
    #[cfg(feature = "std")]
    pub(crate) fn plain_max(&self) -> Option<usize> {
        (self.default_layout && self.checksum == Checksum::None).then_some(self.max)
    }

    /// The header's length for a length field holding `field`. (This and `write_header`
    /// are the blocking writer's fast path.)
    #[cfg(feature = "std")]
    #[inline(always)]
    pub(crate) fn header_len(&self, field: u64) -> usize {
        if self.default_layout {
            return 4;
        }
        // The config guarantees that offset + the field's longest form fits in usize.
        self.config.get_length_field_offset() + self.config.get_length_field().encoded_len(field)
    }

    /// Writes the header whose length field holds `field` (from
    /// [`field_value`](Self::field_value)) into `out`, which holds exactly
    /// [`header_len`](Self::header_len) bytes: what [`Header::write_into`] appends, without
    /// building the `Header`.
    #[cfg(feature = "std")]
    #[inline(always)]
    pub(crate) fn write_header(&self, field: u64, out: &mut [u8]) {
        if self.default_layout {
            // `field` fits: the config limits it to what a u32 holds.
            out.copy_from_slice(&(field as u32).to_be_bytes());
            return;
        }
        let (zeros, out) = out.split_at_mut(self.config.get_length_field_offset());
        zeros.fill(0);
        let mut bytes = [0; MAX_VARINT_LEN];
        let n = self.config.get_length_field().write(field, &mut bytes);
        // Copies of a constant size compile to a single store; the common widths get one.
        match n {
            4 => out.copy_from_slice(&bytes[..4]),
            2 => out.copy_from_slice(&bytes[..2]),
            8 => out.copy_from_slice(&bytes[..8]),
            _ => out.copy_from_slice(&bytes[..n]),
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

    /// The bytes a frame with a payload of `payload_len` bytes takes on the wire: header,
    /// payload and checksum trailer.
    ///
    /// # Errors
    ///
    /// As for [`header`](Self::header).
    pub fn encoded_len(&self, payload_len: usize) -> Result<usize, FrameError> {
        // The config guarantees that max_header_len + max + trailer fits in usize.
        Ok(self.header(payload_len)?.encoded_len() + payload_len + self.trailer_len())
    }

    /// The length of the checksum trailer that follows each payload: 0 without a
    /// [`Checksum`], 4 with [`Checksum::Crc32c`].
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::{Checksum, FrameConfig, FrameEncoder};
    ///
    /// assert_eq!(FrameEncoder::new(FrameConfig::default())?.trailer_len(), 0);
    /// let crc = FrameConfig::default().checksum(Checksum::Crc32c);
    /// assert_eq!(FrameEncoder::new(crc)?.trailer_len(), 4);
    /// # Ok::<(), lenframe::ConfigError>(())
    /// ```
    #[inline]
    pub fn trailer_len(&self) -> usize {
        self.checksum.len()
    }

    /// The trailer to write after the payload of a frame whose header bytes are `header`.
    ///
    /// The checksum covers the header's bytes (offset zeros and length field, exactly as
    /// written) followed by the payload's; it is the same wherever that run of bytes is cut
    /// between the two arguments, so a writer that already has header and payload side by
    /// side may pass them all as `header` and an empty `payload`. Without a [`Checksum`]
    /// the trailer is empty and nothing is computed.
    ///
    /// A writer emits, for each frame: the header ([`header`](Self::header)), the payload,
    /// then these bytes; [`encode`](Self::encode) does all three into a `Vec`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::{Checksum, FrameConfig, FrameEncoder};
    ///
    /// let enc = FrameEncoder::new(FrameConfig::default().checksum(Checksum::Crc32c))?;
    /// let header = enc.header(2)?;
    /// let mut header_bytes = vec![0; header.offset()];
    /// header_bytes.extend_from_slice(header.field());
    ///
    /// // Header and payload apart (a vectored write), or side by side: the same trailer.
    /// let apart = enc.trailer(&header_bytes, b"hi");
    /// let together = enc.trailer(b"\x00\x00\x00\x02hi", b"");
    /// assert_eq!(apart, together);
    /// assert_eq!(apart.as_bytes(), b"\x97\x80\xb9\x1c");
    /// # Ok::<(), lenframe::FrameError>(())
    /// ```
    #[inline]
    pub fn trailer(&self, header: &[u8], payload: &[u8]) -> Trailer {
        match self.checksum {
            Checksum::None => Trailer {
                bytes: [0; 4],
                len: 0,
            },
            Checksum::Crc32c => {
                let crc = crc32c_append(0, header);
                // A writer passes a frame's bytes as `header` alone; the crate's setup for
                // an empty slice costs as much as 64 bytes.
                let crc = match payload {
                    [] => crc,
                    _ => crc32c_append(crc, payload),
                };
                Trailer {
                    bytes: crc.to_le_bytes(),
                    len: 4,
                }
            }
        }
    }

    /// Appends the frame (header, payload, then the checksum trailer if the layout has one)
    /// to `out`.
    ///
    /// # Errors
    ///
    /// As for [`header`](Self::header); `out` is then left unchanged.
    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    pub fn encode(&self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), FrameError> {
        let header = self.header(payload.len())?;
        out.reserve(header.encoded_len() + payload.len() + self.trailer_len());
        let mark = out.len();
        header.write_into(out);
        out.extend_from_slice(payload);
        if self.trailer_len() != 0 {
            let trailer = self.trailer(&out[mark..], &[]);
            out.extend_from_slice(trailer.as_bytes());
        }
        Ok(())
    }
}

#[cfg(all(test, feature = "std"))]
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
