//! The optional per-frame checksum: which one, how long its trailer is, and how it is
//! computed.

/// The checksum carried after each frame's payload.
///
/// With [`Checksum::Crc32c`], every frame ends with a 4-byte trailer: the CRC-32C
/// (Castagnoli; CRC-32/ISCSI in the CRC catalogue) of the whole header (offset bytes and
/// length field) and the payload, little-endian.
///
/// ```text
/// "hi" with FrameConfig::default().checksum(Checksum::Crc32c)
/// +-----+-----+-----+-----+------+-----+-----+-----+-----+
/// | x00 | x00 | x00 | x02 | h  i | x97 | x80 | xb9 | x1c |
/// +-----+-----+-----+-----+------+-----+-----+-----+-----+
/// |<- length, u32 BE ---->|<pay->|<- CRC-32C, u32 LE --->|
/// |<------ covered by the CRC -->|   0x1cb98097
/// ```
///
/// The length field still counts the payload alone, and
/// [`max_frame_len`](crate::FrameConfig::max_frame_len) is still the payload limit. Decoders
/// check the trailer before a frame is delivered: a mismatch is
/// [`FrameError::ChecksumMismatch`](crate::FrameError::ChecksumMismatch), and fatal.
///
/// A checksummed layout is lenframe's own: no other framing library reads or writes it.
///
/// # Examples
///
/// ```
/// use lenframe::{Checksum, FrameConfig, FrameError, Frames};
///
/// let cfg = FrameConfig::default().checksum(Checksum::Crc32c);
/// let mut wire = *b"\x00\x00\x00\x02hi\x97\x80\xb9\x1c";
/// assert_eq!(Frames::new(&wire, cfg)?.next().transpose()?, Some(&b"hi"[..]));
///
/// wire[5] = b'o'; // "ho": damaged
/// assert!(matches!(
///     Frames::new(&wire, cfg)?.next(),
///     Some(Err(FrameError::ChecksumMismatch { expected: 0x1cb9_8097, .. }))
/// ));
/// # Ok::<(), Box<dyn core::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Checksum {
    /// No checksum: the frame ends with its payload (the default, and what every other
    /// length-prefixed framing speaks).
    #[default]
    None,
    /// A 4-byte little-endian CRC-32C of header and payload after the payload.
    Crc32c,
}

impl Checksum {
    /// The trailer's length in bytes: 0 for [`Checksum::None`], 4 for [`Checksum::Crc32c`].
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::Checksum;
    ///
    /// assert_eq!(Checksum::None.len(), 0);
    /// assert_eq!(Checksum::Crc32c.len(), 4);
    /// ```
    #[allow(clippy::len_without_is_empty)] // a layout, not a container
    pub const fn len(self) -> usize {
        match self {
            Checksum::None => 0,
            Checksum::Crc32c => 4,
        }
    }
}

/// Continues the CRC-32C `crc` (0 to start) over `data`: `crc32c_append(crc32c_append(0, a),
/// b)` is the CRC of `a ‖ b`.
#[cfg(feature = "std")]
#[inline]
pub(crate) fn crc32c_append(crc: u32, data: &[u8]) -> u32 {
    crc32c::crc32c_append(crc, data)
}

/// Continues the CRC-32C `crc` (0 to start) over `data`: `crc32c_append(crc32c_append(0, a),
/// b)` is the CRC of `a ‖ b`.
#[cfg(not(feature = "std"))]
#[inline]
pub(crate) fn crc32c_append(crc: u32, data: &[u8]) -> u32 {
    const CASTAGNOLI: crc::Crc<u32, crc::Table<16>> =
        crc::Crc::<u32, crc::Table<16>>::new(&crc::CRC_32_ISCSI);
    // `crc` is a finished value: undo the final inversion to get the register back, which
    // `digest_with_initial` takes in unreflected order.
    let mut digest = CASTAGNOLI.digest_with_initial((!crc).reverse_bits());
    digest.update(data);
    digest.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_check_value_and_chaining() {
        // The CRC catalogue's check value for CRC-32/ISCSI.
        assert_eq!(crc32c_append(0, b"123456789"), 0xe306_9283);
        assert_eq!(crc32c_append(0, b""), 0);
        for cut in 0..=9 {
            let (a, b) = b"123456789".split_at(cut);
            assert_eq!(
                crc32c_append(crc32c_append(0, a), b),
                0xe306_9283,
                "cut {cut}"
            );
        }
        assert_eq!(crc32c_append(0, b"\x00\x00\x00\x02hi"), 0x1cb9_8097);
    }
}
