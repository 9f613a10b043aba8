//! The sans-IO decoder: bytes in, "frame here", "need more" or an error out.

use core::ops::Range;

use crate::checksum::crc32c_append;
use crate::config::{FrameConfig, Oversize};
use crate::error::{ConfigError, FrameError, HeaderError};
use crate::header::LengthField;
use crate::stats::FrameStats;

/// What [`FrameDecoder::decode`] found at the front of the buffer it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Decoded {
    /// A whole frame is at the front of the buffer.
    ///
    /// The caller delivers `buf[frame]` and then drops the first `consumed` bytes of its
    /// buffer. `frame.start` is the number of stripped header bytes, and `frame.end` is
    /// where the payload ends: `consumed` itself, or, in a layout with a
    /// [`Checksum`](crate::Checksum), `consumed` minus the trailer (which was checked).
    Frame {
        /// Where the delivered frame lies in the buffer.
        frame: Range<usize>,
        /// How many bytes the frame occupies at the front of the buffer.
        consumed: usize,
    },
    /// The frame is not complete: at least `needed` more bytes must be appended to the
    /// same buffer before calling again. Never zero.
    Incomplete {
        /// The fewest further bytes that can change the answer.
        needed: usize,
    },
    /// Bytes of an oversized frame were discarded ([`Oversize::Skip`]): the caller drops
    /// the first `consumed` bytes of its buffer and calls again.
    Skipped {
        /// How many bytes to drop from the front of the buffer.
        consumed: usize,
    },
}

/// Where the decoder is in the stream. Invariant: in every state but `Discard`, the
/// caller's buffer starts at the first byte of the current frame.
#[derive(Debug)]
enum State {
    /// Waiting for a complete header.
    Header,
    /// The header was parsed: the frame is `header_len + payload_len` bytes long, plus the
    /// checksum trailer.
    Payload {
        header_len: usize,
        payload_len: usize,
    },
    /// Discarding an oversized frame: `remaining` of its `total` bytes are still to come.
    Discard { remaining: u64, total: u64 },
    /// A fatal error was reported; it is reported again on every call.
    Failed(FrameError),
}

/// A sans-IO length-prefixed frame decoder.
///
/// It holds no buffer and does no I/O. The caller keeps the bytes received so far in a
/// buffer that starts at the current frame, and calls [`decode`](Self::decode) with it
/// whenever bytes arrive; the answer says where the frame is, how many more bytes are
/// needed, or what is wrong. Each call does work bounded by the header length, never by
/// the buffer: a frame that arrives one byte at a time is not rescanned.
///
/// At the end of the stream, [`decode_eof`](Self::decode_eof) tells a clean end at a frame
/// boundary (`Ok(None)`) from a truncated frame.
///
/// # Examples
///
/// ```
/// use lenframe::{Decoded, FrameConfig, FrameDecoder};
///
/// let mut dec = FrameDecoder::new(FrameConfig::default())?;
/// let wire = b"\x00\x00\x00\x05hello\x00\x00";
/// match dec.decode(wire)? {
///     Decoded::Frame { frame, consumed } => {
///         assert_eq!(&wire[frame], b"hello");
///         assert_eq!(consumed, 9);
///     }
///     other => panic!("unexpected {other:?}"),
/// }
/// // Two bytes of the next header: two more are needed.
/// assert_eq!(dec.decode(&wire[9..])?, Decoded::Incomplete { needed: 2 });
/// # Ok::<(), lenframe::FrameError>(())
/// ```
#[derive(Debug)]
pub struct FrameDecoder {
    config: FrameConfig,
    max: usize,
    /// `config.min_header_len()`, looked up once.
    min_header: usize,
    /// `config.get_length_adjustment()`, widened once.
    adjustment: i64,
    /// The layout is the default one (a 4-byte big-endian field at offset 0), which
    /// `decode_header` reads without going through the general `LengthField::read`.
    default_layout: bool,
    /// The checksum trailer's length: 0 (none) or 4 (CRC-32C).
    trailer: usize,
    /// [`decode_whole`](Self::decode_whole) reads the layout.
    decodes_whole: bool,
    /// ...and it is the default layout as it comes: no trailer, no adjustment, the header
    /// stripped, so that a frame is the `len` bytes after its 4-byte length.
    plain: bool,
    /// The bytes stripped from a frame of the default layout: at most its 4-byte header.
    /// (A byte, like the flags: the decoder is no larger than before it had these.)
    whole_skip: u8,
    state: State,
    stats: FrameStats,
}

impl FrameDecoder {
    /// Makes a decoder for `config`.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when the layout is impossible (see [`FrameConfig::validate`]).
    pub fn new(config: FrameConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let default_layout = config.get_length_field() == LengthField::U32Be
            && config.get_length_field_offset() == 0;
        let max = config.get_max_frame_len();
        Ok(FrameDecoder {
            max,
            min_header: config.min_header_len(),
            // isize is at most 64 bits wide on every platform Rust supports.
            adjustment: config.get_length_adjustment() as i64,
            default_layout,
            trailer: config.get_checksum().len(),
            decodes_whole: default_layout && max as u64 <= i64::MAX as u64,
            plain: default_layout
                && max as u64 <= i64::MAX as u64
                && config.get_checksum().len() == 0
                && config.get_length_adjustment() == 0
                && config.get_num_skip().is_none_or(|n| n == 4),
            whole_skip: config.get_num_skip().map_or(4, |n| n.min(4) as u8),
            config,
            state: State::Header,
            stats: FrameStats::default(),
        })
    }

    /// The configuration this decoder was made with.
    pub fn config(&self) -> &FrameConfig {
        &self.config
    }

    /// Frames and bytes delivered and skipped so far.
    pub fn stats(&self) -> FrameStats {
        self.stats
    }

    /// Returns `true` when the decoder is between frames: nothing of a next frame has been
    /// seen (in the buffer last passed) or is being discarded.
    pub fn is_at_boundary(&self) -> bool {
        matches!(self.state, State::Header)
    }

    /// Decodes the frame at the front of `buf`.
    ///
    /// `buf` holds the bytes received since the last frame (or skip) that was consumed;
    /// bytes may be appended between calls, never removed except as told by a result.
    ///
    /// # Errors
    ///
    /// - [`FrameError::TooLarge`] when the header declares a payload over the limit. Under
    ///   [`Oversize::Error`] the decoder is then failed and every later call returns the same
    ///   error; under [`Oversize::Skip`] the following calls discard the frame
    ///   ([`Decoded::Skipped`]) and go on.
    /// - [`FrameError::InvalidHeader`] for a header no bytes could make valid. Fatal.
    /// - [`FrameError::ChecksumMismatch`] when a whole frame is here and its trailer does
    ///   not match its bytes (layouts with a [`Checksum`](crate::Checksum)). Fatal.
    #[inline]
    pub fn decode(&mut self, buf: &[u8]) -> Result<Decoded, FrameError> {
        match self.state {
            State::Header => self.decode_header(buf),
            State::Payload {
                header_len,
                payload_len,
            } => self.decode_payload(buf, header_len, payload_len),
            _ => self.decode_rare(buf),
        }
    }

    /// `decode` while discarding or failed: kept out of line, so that the common path
    /// inlines into the caller's loop.
    #[inline(never)]
    fn decode_rare(&mut self, buf: &[u8]) -> Result<Decoded, FrameError> {
        match self.state {
            State::Discard { remaining, total } => Ok(self.discard(buf, remaining, total)),
            State::Failed(ref err) => Err(err.clone_decode_error().unwrap_or(FrameError::Poisoned)),
            State::Header | State::Payload { .. } => unreachable!("handled by decode"),
        }
    }

    /// Says what the end of the stream means, given the bytes left in the buffer.
    ///
    /// # Errors
    ///
    /// - `Ok(None)`: a clean end, at a frame boundary.
    /// - [`FrameError::Truncated`]: the stream ended inside a frame (header or payload),
    ///   with the frame's expected and received byte counts.
    /// - The decoder's earlier fatal error, if it has one.
    ///
    /// A complete frame still in `buf` is not an end: call [`decode`](Self::decode) first.
    pub fn decode_eof(&mut self, buf: &[u8]) -> Result<Option<Decoded>, FrameError> {
        let (expected, received) = match self.decode(buf)? {
            frame @ (Decoded::Frame { .. } | Decoded::Skipped { .. }) => return Ok(Some(frame)),
            Decoded::Incomplete { .. } if buf.is_empty() && self.is_at_boundary() => {
                return Ok(None)
            }
            Decoded::Incomplete { needed } => self.progress(buf.len(), needed),
        };
        Err(FrameError::Truncated { expected, received })
    }

    /// `(expected, received)` byte counts of the current frame, given the bytes in the
    /// caller's buffer and the decoder's last `needed` answer.
    pub fn progress(&self, buffered: usize, needed: usize) -> (u64, u64) {
        match self.state {
            State::Discard { remaining, total } => (total, total - remaining),
            _ => (
                (buffered as u64).saturating_add(needed as u64),
                buffered as u64,
            ),
        }
    }

    #[inline(always)]
    fn decode_header(&mut self, buf: &[u8]) -> Result<Decoded, FrameError> {
        if buf.len() < self.min_header {
            return Ok(Decoded::Incomplete {
                needed: self.min_header - buf.len(),
            });
        }
        let (field, header_len) = match buf.first_chunk::<4>() {
            Some(bytes) if self.default_layout => (u64::from(u32::from_be_bytes(*bytes)), 4),
            _ => {
                let offset = self.config.get_length_field_offset();
                let (field, field_len) = match self.config.get_length_field().read(&buf[offset..]) {
                    Ok(Some(parsed)) => parsed,
                    // Only the varint can still be short here, and it grows a byte at a time.
                    Ok(None) => return Ok(Decoded::Incomplete { needed: 1 }),
                    Err(e) => return Err(self.fail(e.into())),
                };
                // The config guarantees offset + field_len <= max_header_len fits in usize.
                (field, offset + field_len)
            }
        };
        // `None` when the adjusted length is negative or past u64: refused either way.
        let payload_len = match field.checked_add_signed(self.adjustment) {
            Some(payload) if payload <= self.max as u64 => payload as usize,
            _ => return Err(self.refuse(field, header_len)),
        };
        // payload <= max, and the config checked that max_header_len + max + trailer fits in
        // usize.
        let total = header_len + payload_len + self.trailer;
        if buf.len() < total {
            self.state = State::Payload {
                header_len,
                payload_len,
            };
            return Ok(Decoded::Incomplete {
                needed: total - buf.len(),
            });
        }
        // The whole frame is here: the state stays `Header`.
        self.deliver(buf, header_len, total)
    }

    /// Whether [`decode_whole`](Self::decode_whole) may be called: the decoder is between
    /// frames, and the layout is the default one's 4-byte big-endian field at offset 0 (with
    /// any adjustment, `num_skip` and checksum, and a limit under 2^63).
    pub(crate) fn decodes_whole(&self) -> bool {
        self.decodes_whole && matches!(self.state, State::Header)
    }

    /// The whole frame at the front of `buf`, in one step: `Some((frame, consumed))` exactly
    /// when [`decode`](Self::decode) would answer [`Decoded::Frame`] with `buf[frame]` and
    /// `consumed`. That is when the whole frame is in `buf`, its header valid and its trailer
    /// matching. In every other case `None`: `decode` then has the answer, be it a frame, a
    /// need for more bytes or an error.
    ///
    /// Only while [`decodes_whole`](Self::decodes_whole). Made for a caller that holds all
    /// its bytes at once ([`Frames`](crate::Frames)): the header is read and the frame
    /// bounded once, and nothing changes in the decoder. Its frames are left out of
    /// [`stats`](Self::stats); [`stats_with_whole`](Self::stats_with_whole) counts them.
    #[inline(always)]
    pub(crate) fn decode_whole<'b>(&self, buf: &'b [u8]) -> Option<(&'b [u8], usize)> {
        debug_assert!(self.decodes_whole());
        if self.plain {
            let (header, rest) = buf.split_first_chunk::<4>()?;
            let len = u32::from_be_bytes(*header) as usize;
            if len > self.max {
                return None;
            }
            return Some((rest.get(..len)?, 4 + len));
        }
        // The trailer's length as a constant in each copy: no check of a frame's bounds
        // is made twice.
        match self.trailer {
            0 => self.decode_whole_with::<0>(buf),
            _ => self.decode_whole_with::<4>(buf),
        }
    }

    /// [`decode_whole`](Self::decode_whole) for a trailer of `TRAILER` bytes.
    #[inline(always)]
    fn decode_whole_with<'b, const TRAILER: usize>(
        &self,
        buf: &'b [u8],
    ) -> Option<(&'b [u8], usize)> {
        let field = u64::from(u32::from_be_bytes(*buf.first_chunk::<4>()?));
        // A negative adjusted length wraps to 2^63 or more: over the limit, as refused.
        let payload_len = field.wrapping_add(self.adjustment as u64);
        if payload_len > self.max as u64 {
            return None;
        }
        // As in `decode_header`: the config checked that the frame's length fits in usize.
        let end = 4 + payload_len as usize;
        let (framed, after) = buf.split_at_checked(end)?;
        if TRAILER != 0 {
            let trailer = after.first_chunk::<4>()?;
            if u32::from_le_bytes(*trailer) != crc32c_append(0, framed) {
                return None;
            }
        }
        Some((framed.get(usize::from(self.whole_skip)..)?, end + TRAILER))
    }

    /// [`decode_whole`](Self::decode_whole) when the decoder [decodes whole
    /// frames](Self::decodes_whole), with the frame as a range of `buf` and counted in
    /// [`stats`](Self::stats) as `decode` counts it: for the callers that keep their bytes
    /// in a buffer of their own and this decoder's stats as theirs.
    #[cfg(feature = "std")]
    #[inline(always)]
    pub(crate) fn take_whole(&mut self, buf: &[u8]) -> Option<(Range<usize>, usize)> {
        if !self.decodes_whole() {
            return None;
        }
        let (frame, consumed) = self.decode_whole(buf)?;
        let start = frame.as_ptr() as usize - buf.as_ptr() as usize;
        self.stats.frames += 1;
        self.stats.bytes += frame.len() as u64;
        Some((start..start + frame.len(), consumed))
    }

    /// Payloads shorter than this are plain frames that a caller holding the decoder's
    /// bytes may take itself, with [`count_plain`](Self::count_plain): the layout is plain
    /// (the 4-byte length, then exactly that many bytes of payload, which is the frame) and
    /// the decoder between frames. 0 otherwise.
    #[inline]
    pub(crate) fn plain_limit(&self) -> usize {
        if self.plain && self.decodes_whole() {
            self.max.saturating_add(1)
        } else {
            0
        }
    }

    /// Counts in [`stats`](Self::stats) a plain frame of `len` bytes that a caller took
    /// under [`plain_limit`](Self::plain_limit), as `decode` would have counted it.
    #[cfg(feature = "std")]
    #[inline(always)]
    pub(crate) fn count_plain(&mut self, len: usize) {
        self.stats.frames += 1;
        self.stats.bytes += len as u64;
    }

    /// [`stats`](Self::stats), counting as well `frames` frames that
    /// [`decode_whole`](Self::decode_whole) delivered from `consumed` bytes in all, as
    /// `decode` would have counted them: each delivered its frame less the `num_skip` bytes
    /// and the trailer.
    pub(crate) fn stats_with_whole(&self, frames: u64, consumed: u64) -> FrameStats {
        let mut stats = self.stats;
        stats.frames += frames;
        stats.bytes += consumed - frames * (usize::from(self.whole_skip) + self.trailer) as u64;
        stats
    }

    /// The error for a header whose adjusted length is negative or over the limit, and the
    /// state that follows it.
    #[cold]
    #[inline(never)]
    fn refuse(&mut self, field: u64, header_len: usize) -> FrameError {
        let adjustment = self.config.get_length_adjustment();
        let payload = i128::from(field) + adjustment as i128;
        if payload < 0 {
            return self.fail(HeaderError::NegativeLength { field, adjustment }.into());
        }
        let len = u64::try_from(payload).unwrap_or(u64::MAX);
        let err = FrameError::TooLarge { len, max: self.max };
        match self.config.get_oversize() {
            Oversize::Error => self.fail(err),
            Oversize::Skip => {
                let total = len
                    .saturating_add(header_len as u64)
                    .saturating_add(self.trailer as u64);
                self.state = State::Discard {
                    remaining: total,
                    total,
                };
                self.stats.skipped_frames += 1;
                err
            }
        }
    }

    #[inline]
    fn decode_payload(
        &mut self,
        buf: &[u8],
        header_len: usize,
        payload_len: usize,
    ) -> Result<Decoded, FrameError> {
        let total = header_len + payload_len + self.trailer;
        if buf.len() < total {
            return Ok(Decoded::Incomplete {
                needed: total - buf.len(),
            });
        }
        self.state = State::Header;
        self.deliver(buf, header_len, total)
    }

    /// The answer for a whole frame of `total` bytes (trailer included) at the front of
    /// `buf`, once its checksum, if the layout has one, matches.
    #[inline]
    fn deliver(
        &mut self,
        buf: &[u8],
        header_len: usize,
        total: usize,
    ) -> Result<Decoded, FrameError> {
        let end = total - self.trailer;
        if self.trailer != 0 {
            self.verify(&buf[..total])?;
        }
        let skip = self.config.get_num_skip().unwrap_or(header_len);
        self.stats.frames += 1;
        self.stats.bytes += (end - skip) as u64;
        Ok(Decoded::Frame {
            frame: skip..end,
            consumed: total,
        })
    }

    /// Checks the CRC-32C trailer at the end of `frame` against the bytes before it.
    #[inline(never)]
    fn verify(&mut self, frame: &[u8]) -> Result<(), FrameError> {
        let (expected, computed) = trailer_and_crc(frame);
        if computed == expected {
            return Ok(());
        }
        Err(self.fail(FrameError::ChecksumMismatch { expected, computed }))
    }

    fn discard(&mut self, buf: &[u8], remaining: u64, total: u64) -> Decoded {
        if buf.is_empty() {
            // The shortest answer that still makes progress once bytes arrive.
            let needed = usize::try_from(remaining).unwrap_or(usize::MAX);
            return Decoded::Incomplete { needed };
        }
        let consumed = usize::try_from(remaining).map_or(buf.len(), |r| r.min(buf.len()));
        let remaining = remaining - consumed as u64;
        self.stats.skipped_bytes += consumed as u64;
        self.state = if remaining == 0 {
            State::Header
        } else {
            State::Discard { remaining, total }
        };
        Decoded::Skipped { consumed }
    }

    #[cold]
    fn fail(&mut self, err: FrameError) -> FrameError {
        let copy = err.clone_decode_error().unwrap_or(FrameError::Poisoned);
        self.state = State::Failed(copy);
        err
    }

    /// Whether [`decode`](Self::decode), called on `buf` until it stops skipping, would
    /// deliver a frame; nothing changes in this decoder.
    #[cfg(feature = "std")]
    pub(crate) fn has_frame(&self, mut buf: &[u8]) -> bool {
        let mut probe = match self.state {
            State::Failed(_) => return false,
            // Bytes of a discarded frame come first; a frame may follow them.
            State::Discard { remaining, .. } => {
                match usize::try_from(remaining).ok().and_then(|r| buf.get(r..)) {
                    Some(after) => buf = after,
                    None => return false,
                }
                FrameDecoder {
                    state: State::Header,
                    ..*self
                }
            }
            // In every other state `buf` starts at the current frame's header.
            State::Header | State::Payload { .. } => FrameDecoder {
                state: State::Header,
                ..*self
            },
        };
        // Each round consumes bytes or stops.
        loop {
            match probe.decode(buf) {
                Ok(Decoded::Frame { .. }) => return true,
                Ok(Decoded::Skipped { consumed }) => buf = &buf[consumed..],
                Ok(Decoded::Incomplete { .. }) => return false,
                Err(FrameError::TooLarge { .. })
                    if matches!(probe.state, State::Discard { .. }) => {}
                Err(_) => return false,
            }
        }
    }
}

/// The CRC-32C trailer at the end of `frame`, and the CRC-32C of the bytes before it.
#[inline(never)]
fn trailer_and_crc(frame: &[u8]) -> (u32, u32) {
    let (covered, trailer) = frame.split_at(frame.len() - 4);
    let expected = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    (expected, crc32c_append(0, covered))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LengthField;

    fn dec(cfg: FrameConfig) -> FrameDecoder {
        FrameDecoder::new(cfg).unwrap()
    }

    #[test]
    fn every_prefix_of_a_header_is_incomplete() {
        let wire = b"\x00\x00\x00\x03abc";
        let mut d = dec(FrameConfig::default());
        for cut in 0..wire.len() {
            // Inside the header only the header's bytes are known to be needed.
            let needed = if cut < 4 { 4 - cut } else { wire.len() - cut };
            assert_eq!(
                d.decode(&wire[..cut]).unwrap(),
                Decoded::Incomplete { needed }
            );
        }
        assert_eq!(
            d.decode(wire).unwrap(),
            Decoded::Frame {
                frame: 4..7,
                consumed: 7
            }
        );
        assert!(d.is_at_boundary());
    }

    #[test]
    fn limit_is_inclusive_and_checked_after_adjustment() {
        let cfg = FrameConfig::default()
            .max_frame_len(10)
            .length_adjustment(2);
        let mut d = dec(cfg);
        // Field 8 + adjustment 2 = 10: exactly the limit.
        assert_eq!(
            d.decode(b"\x00\x00\x00\x08").unwrap(),
            Decoded::Incomplete { needed: 10 }
        );
        let mut d = dec(cfg);
        // Field 9 + 2 = 11 is over, although the raw field is under the limit.
        assert!(matches!(
            d.decode(b"\x00\x00\x00\x09"),
            Err(FrameError::TooLarge { len: 11, max: 10 })
        ));
        // Fatal under Oversize::Error: the same error on every call, whatever follows.
        assert!(matches!(
            d.decode(b""),
            Err(FrameError::TooLarge { len: 11, max: 10 })
        ));
    }

    #[test]
    fn skip_discards_and_realigns() {
        let cfg = FrameConfig::default()
            .max_frame_len(2)
            .oversize(Oversize::Skip);
        let mut d = dec(cfg);
        let wire = b"\x00\x00\x00\x03xyz\x00\x00\x00\x01k";
        assert!(matches!(
            d.decode(wire),
            Err(FrameError::TooLarge { len: 3, max: 2 })
        ));
        assert_eq!(
            d.decode(&wire[..5]).unwrap(),
            Decoded::Skipped { consumed: 5 }
        );
        assert_eq!(
            d.decode(&wire[5..6]).unwrap(),
            Decoded::Skipped { consumed: 1 }
        );
        assert_eq!(d.decode(&[]).unwrap(), Decoded::Incomplete { needed: 1 });
        assert_eq!(
            d.decode(&wire[6..]).unwrap(),
            Decoded::Skipped { consumed: 1 }
        );
        assert_eq!(
            d.decode(&wire[7..]).unwrap(),
            Decoded::Frame {
                frame: 4..5,
                consumed: 5
            }
        );
        let stats = d.stats();
        assert_eq!(
            (
                stats.frames,
                stats.bytes,
                stats.skipped_frames,
                stats.skipped_bytes
            ),
            (1, 1, 1, 7)
        );
    }

    #[test]
    fn eof_tells_clean_end_from_truncation() {
        let mut d = dec(FrameConfig::default());
        assert!(d.decode_eof(b"").unwrap().is_none());
        assert!(matches!(
            d.decode_eof(b"\x00\x00"),
            Err(FrameError::Truncated {
                expected: 4,
                received: 2
            })
        ));
        assert!(matches!(
            d.decode_eof(b"\x00\x00\x00\x05ab"),
            Err(FrameError::Truncated {
                expected: 9,
                received: 6
            })
        ));
        let empty_frame = b"\x00\x00\x00\x00";
        let mut d = dec(FrameConfig::default());
        assert_eq!(
            d.decode_eof(empty_frame).unwrap(),
            Some(Decoded::Frame {
                frame: 4..4,
                consumed: 4
            })
        );
    }

    #[test]
    fn negative_adjusted_length_is_invalid() {
        let mut d = dec(FrameConfig::default().length_adjustment(-4));
        assert!(matches!(
            d.decode(b"\x00\x00\x00\x03"),
            Err(FrameError::InvalidHeader(HeaderError::NegativeLength {
                field: 3,
                adjustment: -4
            }))
        ));
    }

    #[test]
    fn offset_and_strip_select_the_delivered_bytes() {
        let cfg = FrameConfig::default()
            .length_field(LengthField::U16Le)
            .length_field_offset(1)
            .num_skip(1);
        let mut d = dec(cfg);
        let wire = b"\x7f\x02\x00hi";
        assert_eq!(
            d.decode(wire).unwrap(),
            Decoded::Frame {
                frame: 1..5,
                consumed: 5
            }
        );
    }

    #[test]
    fn u64_field_at_the_extremes_does_not_wrap() {
        let cfg = FrameConfig::default()
            .length_field(LengthField::U64Be)
            .length_adjustment(isize::MAX);
        let mut d = dec(cfg.max_frame_len(100).oversize(Oversize::Skip));
        let err = d.decode(&u64::MAX.to_be_bytes()).unwrap_err();
        assert!(matches!(
            err,
            FrameError::TooLarge {
                len: u64::MAX,
                max: 100
            }
        ));
        assert_eq!(d.progress(0, 1), (u64::MAX, 0));
    }
}
