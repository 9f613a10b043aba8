//! The one error type of the crate, and the reasons a header can be invalid.

use core::time::Duration;
#[cfg(feature = "std")]
use std::io;

use crate::deadline::TimeLimit;

/// Why a frame header could not be decoded.
///
/// A header is *invalid* when no further bytes could make it valid, as opposed to
/// *incomplete*, which the decoder reports as [`Decoded::Incomplete`](crate::Decoded::Incomplete).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderError {
    /// A varint length ran past 10 bytes, the most a `u64` needs.
    #[error("varint length is longer than 10 bytes")]
    VarintTooLong,
    /// A varint length's tenth byte carries bits beyond the 64th.
    #[error("varint length overflows 64 bits")]
    VarintOverflow,
    /// A varint length used more bytes than its value needs (its last byte is zero).
    #[error("varint length is not in its shortest form ({len} bytes)")]
    VarintOverlong {
        /// How many bytes the varint used.
        len: usize,
    },
    /// The length field plus the configured adjustment is below zero.
    #[error("length field {field} plus adjustment {adjustment} is negative")]
    NegativeLength {
        /// The value read from the length field.
        field: u64,
        /// The configured [`length_adjustment`](crate::FrameConfig::length_adjustment).
        adjustment: isize,
    },
}

/// Why a [`FrameConfig`](crate::FrameConfig) was refused.
///
/// A configuration is checked once, when a decoder, encoder, reader or writer is made from
/// it, so that no impossible layout is ever discovered in the middle of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `max_frame_len` is larger than the length field can express with the adjustment.
    #[error("max_frame_len {max} is larger than the {largest} bytes the length field can express")]
    LimitTooLarge {
        /// The configured limit.
        max: usize,
        /// The largest payload the length field and adjustment can express.
        largest: u64,
    },
    /// No payload length at all can be expressed: the adjustment is below minus the field's
    /// largest value.
    #[error("length adjustment {adjustment} leaves no payload length the field can express")]
    NoValidLength {
        /// The configured adjustment.
        adjustment: isize,
    },
    /// More header bytes are to be stripped than the header has.
    #[error("cannot strip {num_skip} bytes from a header of at least {header_len} bytes")]
    SkipTooLarge {
        /// The configured [`num_skip`](crate::FrameConfig::num_skip).
        num_skip: usize,
        /// The shortest header this layout can have.
        header_len: usize,
    },
    /// The largest frame (header, `max_frame_len` and checksum trailer) does not fit in a
    /// `usize`.
    #[error("header of {header_len} bytes plus max_frame_len {max} does not fit in memory")]
    FrameTooLargeForMemory {
        /// The longest header this layout can have, plus the checksum trailer.
        header_len: usize,
        /// The configured limit.
        max: usize,
    },
    /// A buffer size of zero was requested.
    #[error("buffer size must be at least 1 byte")]
    ZeroBufferSize,
}

/// Everything that can go wrong while framing.
///
/// Messages are lower-case, without a final period, and name the numbers involved.
/// With the `std` feature, [`From<FrameError> for io::Error`](#impl-From%3CFrameError%3E-for-Error)
/// maps each variant to a fitting `io::ErrorKind`, so code that speaks `io::Result` can use
/// `?`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// A frame's payload is longer than the configured limit.
    ///
    /// Reported by the decoder as soon as the header is read, before any payload byte is
    /// read or any memory is reserved for it, and by the encoder before any byte is written.
    /// `len` is the payload length after the length adjustment, saturated at `u64::MAX`.
    #[error("frame of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// The declared (or attempted) payload length in bytes.
        len: u64,
        /// The configured [`max_frame_len`](crate::FrameConfig::max_frame_len).
        max: usize,
    },
    /// A payload is shorter than the layout can express (a positive length adjustment
    /// needs at least that many payload bytes). Reported by the encoder before writing.
    #[error("frame of {len} bytes is shorter than the {min} bytes the length field can express")]
    TooShort {
        /// The attempted payload length.
        len: usize,
        /// The shortest payload the layout can express.
        min: usize,
    },
    /// The stream ended inside a frame: in its header or in its payload.
    ///
    /// Both counts are of the whole frame, header included. While the header was still
    /// incomplete, `expected` is the fewest bytes that could have completed it.
    #[error("stream ended inside a frame: expected {expected} bytes, received {received}")]
    Truncated {
        /// Bytes the frame needed (or, inside the header, the fewest it could need).
        expected: u64,
        /// Bytes of the frame that arrived before the end of the stream.
        received: u64,
    },
    /// The header can never become valid, whatever bytes follow.
    #[error("invalid frame header: {0}")]
    InvalidHeader(#[from] HeaderError),
    /// A frame's checksum trailer does not match its header and payload (a layout with a
    /// [`Checksum`](crate::Checksum)): the bytes were damaged. Reported before the frame is
    /// delivered, and fatal: nothing after a damaged frame can be trusted to be aligned.
    #[error("frame checksum mismatch: trailer says {expected:#010x}, bytes give {computed:#010x}")]
    ChecksumMismatch {
        /// The checksum read from the frame's trailer.
        expected: u32,
        /// The checksum computed over the frame's header and payload.
        computed: u32,
    },
    /// The per-frame deadline passed before the frame was complete.
    ///
    /// The bytes received so far are kept: the next read resumes the same frame, with a
    /// fresh deadline. Counts are as in [`FrameError::Truncated`].
    #[error(
        "frame not complete after {elapsed:?}: expected {expected} bytes, received {received}, \
         past {limit}"
    )]
    TimedOut {
        /// Bytes the frame needed (or, inside the header, the fewest it could need).
        expected: u64,
        /// Bytes of the frame received so far.
        received: u64,
        /// Time spent waiting for the frame's bytes: from its first byte (or the first wait
        /// for the rest of it), not counting the time the application spent between calls.
        elapsed: Duration,
        /// The bound that was hit: a fixed timeout, a minimum rate or the cap on a frame.
        limit: TimeLimit,
    },
    /// Growing a reader's buffer would take the shared [`MemoryBudget`] past its limit.
    ///
    /// The read fails and nothing is lost: the bytes stay buffered. A server usually drops
    /// the connection whose frame did not fit.
    ///
    /// [`MemoryBudget`]: crate::MemoryBudget
    #[error("buffer growth of {requested} bytes exceeds the memory budget: {in_use} of {limit} bytes in use")]
    OverBudget {
        /// The bytes the growth needed.
        requested: usize,
        /// The bytes charged to the budget when it was refused.
        in_use: usize,
        /// The budget's limit.
        limit: usize,
    },
    /// An earlier I/O error left a frame half-written: the peer's view of the stream is
    /// unknown, so the writer refuses every further call.
    #[error("writer failed mid-stream earlier and accepts no further frames")]
    Poisoned,
    /// A [`WriteState`](crate::WriteState) was offered a frame (or asked to flush) while a
    /// large frame it began is neither finished nor stopped: its header may be on the wire,
    /// so anything else written now would desynchronise the stream. A front end must report
    /// every write of a large frame to `large_progress` until it returns, or call
    /// `large_stop`.
    #[error("a large frame of {len} bytes was begun and is neither finished nor stopped")]
    WriteUnfinished {
        /// The payload length of the unfinished frame.
        len: usize,
    },
    /// The configuration was refused.
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    /// The underlying reader or writer failed.
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl FrameError {
    /// Returns `true` for `Io` errors that only mean "not now": [`io::ErrorKind::WouldBlock`]
    /// and [`io::ErrorKind::TimedOut`]. After such an error every adapter keeps its state,
    /// so calling again later resumes with nothing lost or repeated.
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    pub fn is_would_block(&self) -> bool {
        matches!(self, FrameError::Io(e) if is_transient(e.kind()))
    }

    /// A copy of a decoding error, for decoders that must report it again on every call.
    /// `None` for the variants that carry an `io::Error`, which is not `Clone`.
    pub(crate) fn clone_decode_error(&self) -> Option<FrameError> {
        Some(match *self {
            FrameError::TooLarge { len, max } => FrameError::TooLarge { len, max },
            FrameError::Truncated { expected, received } => {
                FrameError::Truncated { expected, received }
            }
            FrameError::InvalidHeader(e) => FrameError::InvalidHeader(e),
            FrameError::ChecksumMismatch { expected, computed } => {
                FrameError::ChecksumMismatch { expected, computed }
            }
            _ => return None,
        })
    }
}

/// `WouldBlock` and `TimedOut`: the operation may succeed if tried again later.
#[cfg(feature = "std")]
pub(crate) fn is_transient(kind: io::ErrorKind) -> bool {
    matches!(kind, io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
}

#[cfg(feature = "std")]
impl From<FrameError> for io::Error {
    /// `Io` errors are returned as they were; the others are wrapped with a fitting kind:
    /// `TooLarge`, `InvalidHeader`, `ChecksumMismatch` → `InvalidData`; `Truncated` →
    /// `UnexpectedEof`; `TimedOut` → `TimedOut`; `OverBudget` → `OutOfMemory`; `TooShort`,
    /// `Config` → `InvalidInput`; `Poisoned` → `Other`.
    fn from(err: FrameError) -> io::Error {
        let kind = match err {
            FrameError::Io(e) => return e,
            FrameError::TooLarge { .. }
            | FrameError::InvalidHeader(_)
            | FrameError::ChecksumMismatch { .. } => io::ErrorKind::InvalidData,
            FrameError::Truncated { .. } => io::ErrorKind::UnexpectedEof,
            FrameError::TimedOut { .. } => io::ErrorKind::TimedOut,
            FrameError::OverBudget { .. } => io::ErrorKind::OutOfMemory,
            FrameError::TooShort { .. } | FrameError::Config(_) => io::ErrorKind::InvalidInput,
            FrameError::Poisoned | FrameError::WriteUnfinished { .. } => io::ErrorKind::Other,
        };
        io::Error::new(kind, err)
    }
}

#[cfg(feature = "std")]
impl From<ConfigError> for io::Error {
    /// A refused configuration is an `InvalidInput` error, so a constructor's `?` works in a
    /// function that returns `io::Result`.
    ///
    /// ```
    /// use std::io;
    /// use lenframe::{FrameConfig, FrameReader, LengthField};
    ///
    /// fn open(wire: &[u8]) -> io::Result<FrameReader<&[u8]>> {
    ///     // A 2-byte field cannot express a limit of 100,000 bytes.
    ///     let cfg = FrameConfig::default()
    ///         .length_field(LengthField::U16Be)
    ///         .max_frame_len(100_000);
    ///     Ok(FrameReader::with_config(wire, cfg)?)
    /// }
    /// assert_eq!(open(b"").unwrap_err().kind(), io::ErrorKind::InvalidInput);
    /// ```
    fn from(err: ConfigError) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidInput, err)
    }
}
