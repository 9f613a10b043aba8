//! `FrameConfig`: the header layout, the frame limit and the oversize policy.

use crate::checksum::Checksum;
use crate::error::ConfigError;
use crate::header::LengthField;

/// The default [`FrameConfig::max_frame_len`]: 8 MiB.
pub const DEFAULT_MAX_FRAME_LEN: usize = 8 * 1024 * 1024;

/// What to do with a frame whose declared payload is over [`FrameConfig::max_frame_len`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Oversize {
    /// Report [`FrameError::TooLarge`](crate::FrameError::TooLarge) and stop: the stream
    /// is left unread past the header, and every later call reports the same error.
    #[default]
    Error,
    /// Report [`FrameError::TooLarge`](crate::FrameError::TooLarge) once, then discard the
    /// frame's bytes as they stream past, without buffering them, and go on with the next
    /// frame. The stream stays aligned.
    Skip,
}

/// How frames are laid out on the wire, and the bounds that protect the reader.
///
/// Builder methods take and return the config by value. The layout is checked once, when
/// a [`FrameDecoder`](crate::FrameDecoder), [`FrameEncoder`](crate::FrameEncoder),
/// [`FrameReader`](crate::FrameReader) or [`FrameWriter`](crate::FrameWriter) is made from
/// it ([`FrameConfig::validate`]); an impossible combination is refused there with a
/// [`ConfigError`], never discovered mid-stream.
///
/// A frame on the wire is
///
/// ```text
/// +---------------------+---------------+------------------------------------+------------+
/// | length_field_offset | length field  | payload: field + length_adjustment | trailer    |
/// |  bytes, any value   | (LengthField) |            bytes                   | (Checksum) |
/// +---------------------+---------------+------------------------------------+------------+
/// |<------------- header ------------->|
/// ```
///
/// and the frame delivered to the caller is the header and payload without its first
/// [`num_skip`](Self::num_skip) bytes (by default, the payload alone). The trailer is
/// empty unless a [`checksum`](Self::checksum) is set.
///
/// # Examples
///
/// ```
/// use lenframe::{FrameConfig, LengthField, Oversize};
///
/// // A 2-byte little-endian length that counts itself, under a 64 KiB limit.
/// let cfg = FrameConfig::default()
///     .length_field(LengthField::U16Le)
///     .length_adjustment(-2)
///     .max_frame_len(65_533)
///     .oversize(Oversize::Skip);
/// assert!(cfg.validate().is_ok());
///
/// // A one-byte field cannot express a 1000-byte limit.
/// let bad = FrameConfig::default().length_field(LengthField::U8).max_frame_len(1000);
/// assert!(bad.validate().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameConfig {
    length_field: LengthField,
    length_field_offset: usize,
    length_adjustment: isize,
    num_skip: Option<usize>,
    max_frame_len: Option<usize>,
    oversize: Oversize,
    checksum: Checksum,
}

impl Default for FrameConfig {
    /// A 4-byte big-endian length of the payload, then the payload: byte for byte what
    /// tokio-util's `LengthDelimitedCodec::new()` and Netty's `LengthFieldPrepender(4)`
    /// write. Limit 8 MiB, [`Oversize::Error`].
    fn default() -> Self {
        FrameConfig {
            length_field: LengthField::U32Be,
            length_field_offset: 0,
            length_adjustment: 0,
            num_skip: None,
            max_frame_len: None,
            oversize: Oversize::Error,
            checksum: Checksum::None,
        }
    }
}

impl FrameConfig {
    /// The default configuration; the same as [`FrameConfig::default`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets how the length is written (default [`LengthField::U32Be`]).
    #[must_use]
    pub fn length_field(mut self, field: LengthField) -> Self {
        self.length_field = field;
        self
    }

    /// Sets how many bytes come before the length field (default 0).
    ///
    /// The decoder passes over them; the encoder writes them as zeros.
    #[must_use]
    pub fn length_field_offset(mut self, offset: usize) -> Self {
        self.length_field_offset = offset;
        self
    }

    /// Sets the value added to the length field to get the payload length (default 0).
    ///
    /// A field that counts the whole header as well as the payload, for instance, takes
    /// `-(offset + width)`. The encoder subtracts it again.
    #[must_use]
    pub fn length_adjustment(mut self, adjustment: isize) -> Self {
        self.length_adjustment = adjustment;
        self
    }

    /// Sets how many bytes to strip from the front of each delivered frame (default: the
    /// whole header, so that the payload alone is delivered). At most the shortest header.
    #[must_use]
    pub fn num_skip(mut self, num_skip: usize) -> Self {
        self.num_skip = Some(num_skip);
        self
    }

    /// Sets the largest payload accepted, in bytes, inclusive (default 8 MiB, or the most
    /// the length field can express if that is less).
    ///
    /// The limit counts the payload (the field plus the adjustment), not the header. The
    /// decoder rejects a longer declared payload as soon as the header is read, before
    /// reading or reserving anything for it; the encoder refuses it before writing.
    #[must_use]
    pub fn max_frame_len(mut self, max: usize) -> Self {
        self.max_frame_len = Some(max);
        self
    }

    /// Sets what happens to a frame over the limit (default [`Oversize::Error`]).
    #[must_use]
    pub fn oversize(mut self, policy: Oversize) -> Self {
        self.oversize = policy;
        self
    }

    /// Sets the checksum written after each payload and checked before a frame is delivered
    /// (default [`Checksum::None`]). See [`Checksum`] for the wire layout.
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::{Checksum, FrameConfig};
    ///
    /// let cfg = FrameConfig::default().checksum(Checksum::Crc32c);
    /// assert_eq!(cfg.get_checksum(), Checksum::Crc32c);
    /// ```
    #[must_use]
    pub fn checksum(mut self, checksum: Checksum) -> Self {
        self.checksum = checksum;
        self
    }

    /// The checksum after each payload.
    pub fn get_checksum(&self) -> Checksum {
        self.checksum
    }

    /// The length field layout.
    pub fn get_length_field(&self) -> LengthField {
        self.length_field
    }

    /// Bytes before the length field.
    pub fn get_length_field_offset(&self) -> usize {
        self.length_field_offset
    }

    /// The value added to the length field to get the payload length.
    pub fn get_length_adjustment(&self) -> isize {
        self.length_adjustment
    }

    /// Bytes stripped from the front of each delivered frame. `None` means the whole
    /// header, whatever its length (a varint's length varies).
    pub fn get_num_skip(&self) -> Option<usize> {
        self.num_skip
    }

    /// The oversize policy.
    pub fn get_oversize(&self) -> Oversize {
        self.oversize
    }

    /// The effective payload limit: the configured one, or, when none was set, 8 MiB capped
    /// at the most the length field can express.
    pub fn get_max_frame_len(&self) -> usize {
        match self.max_frame_len {
            Some(max) => max,
            None => {
                let largest = self.largest_payload().unwrap_or(0);
                usize::try_from(largest)
                    .map_or(DEFAULT_MAX_FRAME_LEN, |l| l.min(DEFAULT_MAX_FRAME_LEN))
            }
        }
    }

    /// The shortest header this layout has: offset plus the field's fewest bytes.
    pub fn min_header_len(&self) -> usize {
        self.length_field_offset
            .saturating_add(self.length_field.min_len())
    }

    /// The longest header this layout has: offset plus the field's most bytes.
    pub fn max_header_len(&self) -> usize {
        self.length_field_offset
            .saturating_add(self.length_field.max_len())
    }

    /// The largest payload the field and adjustment can express, or `None` if none can.
    fn largest_payload(&self) -> Option<u64> {
        let largest = i128::from(self.length_field.max_value()) + self.length_adjustment as i128;
        u64::try_from(largest.min(i128::from(u64::MAX))).ok()
    }

    /// Checks that the layout can be both read and written.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] when the limit exceeds what the field can express, no length at
    /// all can be expressed, more bytes are stripped than the shortest header holds, or
    /// the longest frame (header, payload and checksum) would not fit in a `usize`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let Some(largest) = self.largest_payload() else {
            return Err(ConfigError::NoValidLength {
                adjustment: self.length_adjustment,
            });
        };
        let max = self.get_max_frame_len();
        if max as u64 > largest {
            return Err(ConfigError::LimitTooLarge { max, largest });
        }
        if let Some(num_skip) = self.num_skip {
            if num_skip > self.min_header_len() {
                return Err(ConfigError::SkipTooLarge {
                    num_skip,
                    header_len: self.min_header_len(),
                });
            }
        }
        // The trailer counts with the header: what is around the payload.
        let header_len = self
            .length_field_offset
            .checked_add(self.length_field.max_len())
            .and_then(|h| h.checked_add(self.checksum.len()))
            .ok_or(ConfigError::FrameTooLargeForMemory {
                header_len: usize::MAX,
                max,
            })?;
        if header_len.checked_add(max).is_none() {
            return Err(ConfigError::FrameTooLargeForMemory { header_len, max });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_limit_is_capped_by_narrow_fields() {
        assert_eq!(
            FrameConfig::default().get_max_frame_len(),
            DEFAULT_MAX_FRAME_LEN
        );
        let u8cfg = FrameConfig::default().length_field(LengthField::U8);
        assert_eq!(u8cfg.get_max_frame_len(), 255);
        assert_eq!(u8cfg.validate(), Ok(()));
        let adj = u8cfg.length_adjustment(-1);
        assert_eq!(adj.get_max_frame_len(), 254);
        assert_eq!(
            FrameConfig::default()
                .length_field(LengthField::U16Be)
                .get_max_frame_len(),
            65_535
        );
    }

    #[test]
    fn limit_over_the_field_is_refused() {
        let cfg = FrameConfig::default()
            .length_field(LengthField::U16Be)
            .max_frame_len(65_536);
        assert_eq!(
            cfg.validate(),
            Err(ConfigError::LimitTooLarge {
                max: 65_536,
                largest: 65_535
            })
        );
        assert_eq!(cfg.max_frame_len(65_535).validate(), Ok(()));
        let counted = cfg.length_adjustment(-2).max_frame_len(65_534);
        assert_eq!(
            counted.validate(),
            Err(ConfigError::LimitTooLarge {
                max: 65_534,
                largest: 65_533
            })
        );
        assert_eq!(counted.length_adjustment(3).validate(), Ok(()));
    }

    #[test]
    fn adjustment_below_field_range_is_refused() {
        let cfg = FrameConfig::default()
            .length_field(LengthField::U8)
            .length_adjustment(-256);
        assert_eq!(
            cfg.validate(),
            Err(ConfigError::NoValidLength { adjustment: -256 })
        );
        assert_eq!(cfg.length_adjustment(-255).get_max_frame_len(), 0);
        assert_eq!(cfg.length_adjustment(-255).validate(), Ok(()));
    }

    #[test]
    fn skip_beyond_header_is_refused() {
        let cfg = FrameConfig::default().length_field_offset(2).num_skip(7);
        assert_eq!(
            cfg.validate(),
            Err(ConfigError::SkipTooLarge {
                num_skip: 7,
                header_len: 6
            })
        );
        assert_eq!(cfg.num_skip(6).validate(), Ok(()));
        let varint = FrameConfig::default()
            .length_field(LengthField::Varint)
            .num_skip(2);
        assert_eq!(
            varint.validate(),
            Err(ConfigError::SkipTooLarge {
                num_skip: 2,
                header_len: 1
            })
        );
    }

    #[test]
    fn frame_that_cannot_fit_in_memory_is_refused() {
        let cfg = FrameConfig::default()
            .length_field(LengthField::U64Be)
            .length_field_offset(16)
            .max_frame_len(usize::MAX - 10);
        assert_eq!(
            cfg.validate(),
            Err(ConfigError::FrameTooLargeForMemory {
                header_len: 24,
                max: usize::MAX - 10
            })
        );
        let offset = FrameConfig::default().length_field_offset(usize::MAX);
        assert!(matches!(
            offset.validate(),
            Err(ConfigError::FrameTooLargeForMemory { .. })
        ));
    }

    #[test]
    fn checksum_trailer_counts_toward_memory() {
        // 8 + 8 header bytes and the limit fill a usize exactly: no room for a trailer.
        let cfg = FrameConfig::default()
            .length_field(LengthField::U64Be)
            .length_field_offset(8)
            .max_frame_len(usize::MAX - 16);
        assert_eq!(cfg.validate(), Ok(()));
        assert_eq!(
            cfg.checksum(Checksum::Crc32c).validate(),
            Err(ConfigError::FrameTooLargeForMemory {
                header_len: 20,
                max: usize::MAX - 16
            })
        );
    }
}
