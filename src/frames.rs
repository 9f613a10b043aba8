//! Frames in memory: an iterator that borrows them from a `&[u8]`, and the longest valid
//! prefix of a file of frames.

use core::iter::FusedIterator;

use crate::config::{FrameConfig, Oversize};
use crate::decoder::{Decoded, FrameDecoder};
use crate::error::{ConfigError, FrameError, HeaderError};
use crate::stats::FrameStats;

/// An iterator over the frames in a byte slice, borrowing each one from it without copying.
///
/// It yields what a [`FrameReader`](crate::FrameReader) over the same bytes would return,
/// call for call: `Ok(frame)` for each frame; at the end of the slice nothing more after a
/// clean end, or one `Err(`[`FrameError::Truncated`]`)` with the counts when the slice ends
/// inside a frame. An oversized frame is an error under both policies: under
/// [`Oversize::Error`] it ends the iteration, under [`Oversize::Skip`] the frame is passed
/// over and the next `next()` goes on after it. Any other error ([`FrameError::InvalidHeader`],
/// [`FrameError::ChecksumMismatch`]) also ends it.
///
/// The iterator is fused: after an error that ends it, `next()` returns `None`, so a
/// `for` loop over it always terminates. [`remainder`](Self::remainder) and
/// [`position`](Self::position) then tell where the bytes that were not delivered start.
///
/// # Examples
///
/// ```
/// use lenframe::{FrameConfig, FrameError, Frames};
///
/// let wire = b"\x00\x00\x00\x05hello\x00\x00\x00\x00\x00\x00\x00\x09abc";
/// let mut frames = Frames::new(wire, FrameConfig::default())?;
/// assert_eq!(frames.next().transpose()?, Some(&b"hello"[..]));
/// assert_eq!(frames.next().transpose()?, Some(&b""[..]));
/// // The last frame declares 9 bytes; 3 arrived.
/// assert!(matches!(
///     frames.next(),
///     Some(Err(FrameError::Truncated { expected: 13, received: 7 }))
/// ));
/// assert!(frames.next().is_none());
/// assert_eq!(frames.position(), 13);
/// assert_eq!(frames.remainder(), b"\x00\x00\x00\x09abc");
/// # Ok::<(), Box<dyn core::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Frames<'a> {
    buf: &'a [u8],
    /// The end of `buf` the decoder has not consumed: what follows the delivered frames
    /// and the skipped bytes.
    rest: &'a [u8],
    /// Bytes of the frame in progress already consumed: 0, except while an oversized frame
    /// is being passed over. Invariant: `lag <= buf.len() - rest.len()`.
    lag: usize,
    /// `next` may try [`FrameDecoder::decode_whole`]: the iterator has not ended, and
    /// [`FrameDecoder::decodes_whole`].
    whole: bool,
    /// Frames delivered by `decode_whole`, which the decoder's stats leave out.
    whole_frames: u64,
    /// Bytes consumed by the general decoder: the rest of what was consumed, by
    /// `decode_whole`, is the bytes of its `whole_frames`.
    general_consumed: usize,
    skip_oversized: bool,
    done: bool,
    decoder: FrameDecoder,
    /// Payloads shorter than this are plain frames `next` takes by itself (see
    /// `FrameDecoder::plain_limit`); 0 once the iterator has ended.
    plain_limit: usize,
}

impl<'a> Frames<'a> {
    /// An iterator over the frames of `buf`, laid out as `config` says.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when the layout is impossible (see [`FrameConfig::validate`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::{FrameConfig, Frames, LengthField};
    ///
    /// let cfg = FrameConfig::default().length_field(LengthField::Varint);
    /// let frames: Vec<&[u8]> = Frames::new(b"\x02hi\x00", cfg)?.collect::<Result<_, _>>()?;
    /// assert_eq!(frames, [&b"hi"[..], &b""[..]]);
    /// # Ok::<(), Box<dyn core::error::Error>>(())
    /// ```
    pub fn new(buf: &'a [u8], config: FrameConfig) -> Result<Self, ConfigError> {
        let decoder = FrameDecoder::new(config)?;
        Ok(Frames {
            buf,
            rest: buf,
            lag: 0,
            whole: decoder.decodes_whole(),
            whole_frames: 0,
            general_consumed: 0,
            skip_oversized: config.get_oversize() == Oversize::Skip,
            done: false,
            plain_limit: decoder.plain_limit(),
            decoder,
        })
    }

    /// Where the bytes not yet delivered start: after the last frame delivered (or
    /// oversized frame passed over). Once the iterator has ended, `buf.len()` after a
    /// clean end, else the offset of the frame that was truncated or failed.
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::{FrameConfig, Frames};
    ///
    /// let mut frames = Frames::new(b"\x00\x00\x00\x01a\x00\x00", FrameConfig::default())?;
    /// assert_eq!(frames.position(), 0);
    /// frames.next();
    /// assert_eq!(frames.position(), 5);
    /// # Ok::<(), lenframe::ConfigError>(())
    /// ```
    pub fn position(&self) -> usize {
        self.buf.len() - self.rest.len() - self.lag
    }

    /// The bytes from [`position`](Self::position) to the end of the slice: empty after a
    /// clean end, the partial frame after a [`FrameError::Truncated`], the failed frame and
    /// everything after it after a fatal error.
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::{FrameConfig, Frames};
    ///
    /// let mut frames = Frames::new(b"\x00\x00\x00\x01a\x00\x00", FrameConfig::default())?;
    /// while let Some(Ok(_)) = frames.next() {}
    /// assert_eq!(frames.remainder(), b"\x00\x00");
    /// # Ok::<(), lenframe::ConfigError>(())
    /// ```
    pub fn remainder(&self) -> &'a [u8] {
        &self.buf[self.position()..]
    }

    /// Frames and bytes delivered and skipped so far, as [`FrameDecoder::stats`] counts them.
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::{FrameConfig, Frames};
    ///
    /// let mut frames = Frames::new(b"\x00\x00\x00\x02ab\x00\x00\x00\x00", FrameConfig::default())?;
    /// frames.by_ref().for_each(drop);
    /// assert_eq!((frames.stats().frames, frames.stats().bytes), (2, 2));
    /// # Ok::<(), lenframe::ConfigError>(())
    /// ```
    pub fn stats(&self) -> FrameStats {
        let consumed = self.buf.len() - self.rest.len() - self.general_consumed;
        self.decoder
            .stats_with_whole(self.whole_frames, consumed as u64)
    }

    /// `next` through the general decoder: other layouts, frames cut by the end of the
    /// slice, errors and skipped frames. Kept out of line, so that `next` inlines into
    /// the caller's loop.
    #[inline(never)]
    fn next_general(&mut self) -> Option<Result<&'a [u8], FrameError>> {
        if self.done {
            return None;
        }
        let item = self.decode_general();
        self.whole = !self.done && self.decoder.decodes_whole();
        self.plain_limit = if self.whole {
            self.decoder.plain_limit()
        } else {
            0
        };
        item
    }

    fn decode_general(&mut self) -> Option<Result<&'a [u8], FrameError>> {
        // Each turn delivers, ends, or consumes at least one byte.
        loop {
            let rest = self.rest;
            match self.decoder.decode(rest) {
                Ok(Decoded::Frame { frame, consumed }) => {
                    self.rest = &rest[consumed..];
                    self.general_consumed += consumed;
                    self.lag = 0;
                    return Some(Ok(&rest[frame]));
                }
                Ok(Decoded::Skipped { consumed }) => {
                    self.rest = &rest[consumed..];
                    self.general_consumed += consumed;
                    self.lag = if self.decoder.is_at_boundary() {
                        0
                    } else {
                        self.lag + consumed
                    };
                }
                Ok(Decoded::Incomplete { .. }) => return self.end(),
                Err(e) => {
                    // Only an oversized frame under `Oversize::Skip` lets the stream go on.
                    self.done = !(self.skip_oversized && matches!(e, FrameError::TooLarge { .. }));
                    return Some(Err(e));
                }
            }
        }
    }

    /// The end of the slice was reached with the decoder asking for more bytes.
    fn end(&mut self) -> Option<Result<&'a [u8], FrameError>> {
        self.done = true;
        match self.decoder.decode_eof(self.rest) {
            // A clean end: no byte left and none consumed of a frame in progress, so
            // `position()` is already `buf.len()`.
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<&'a [u8], FrameError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        // The common case, small enough to inline into the caller's loop: a whole frame
        // of the default layout at a frame boundary; plain, or with more to it.
        if let Some((header, rest)) = self.rest.split_first_chunk::<4>() {
            let len = u32::from_be_bytes(*header) as usize;
            if len < self.plain_limit {
                if let Some((frame, rest)) = rest.split_at_checked(len) {
                    self.rest = rest;
                    self.whole_frames += 1;
                    return Some(Ok(frame));
                }
            }
        }
        if self.whole {
            if let Some((frame, consumed)) = self.decoder.decode_whole(self.rest) {
                self.rest = &self.rest[consumed..];
                self.whole_frames += 1;
                return Some(Ok(frame));
            }
        }
        self.next_general()
    }
}

impl FusedIterator for Frames<'_> {}

/// Why [`valid_prefix`] stopped where it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stop {
    /// The bytes end with a whole frame (or are empty): all of them are valid.
    End,
    /// The bytes end inside a frame (a torn write), with the frame's expected and received
    /// byte counts as in [`FrameError::Truncated`].
    Truncated {
        /// Bytes the frame needed (or, inside the header, the fewest it could need).
        expected: u64,
        /// Bytes of the frame present.
        received: u64,
    },
    /// A whole frame whose checksum trailer does not match its bytes.
    ChecksumMismatch {
        /// The checksum in the trailer.
        expected: u32,
        /// The checksum of the frame's header and payload.
        computed: u32,
    },
    /// A header no bytes could make valid.
    InvalidHeader(HeaderError),
    /// A header declaring a payload over the limit.
    TooLarge {
        /// The declared payload length.
        len: u64,
        /// The configured limit.
        max: usize,
    },
}

/// The longest prefix of a byte slice that holds only whole, valid frames: what
/// [`valid_prefix`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recovery {
    /// Length in bytes of the valid prefix: where an append-only file can be cut and
    /// appended to again.
    pub valid_len: usize,
    /// Frames in the valid prefix.
    pub frames: u64,
    /// What follows the valid prefix.
    pub stop: Stop,
}

/// Finds the longest prefix of `buf` made of whole, valid frames: the part of an
/// append-only file of frames that survived a crash or damage.
///
/// Frames are read from the start as a [`Frames`] iterator reads them; the prefix ends
/// before the first frame that is torn (the bytes end inside it), damaged (its checksum
/// does not match, in a layout with a [`Checksum`](crate::Checksum)), or has an invalid or
/// oversized header. An oversized frame ends the prefix under either [`Oversize`] policy:
/// a writer with the same configuration never writes one, so it is taken for damage.
///
/// Cutting the file at [`Recovery::valid_len`] and appending there keeps every frame
/// before it and drops nothing valid: frames are found only from the start, so no longer
/// prefix of valid frames exists. Without a checksum, damage inside a payload cannot be
/// seen, and damage to a length field is seen only when it makes the rest inconsistent.
///
/// # Errors
///
/// [`ConfigError`] when the layout is impossible (see [`FrameConfig::validate`]).
///
/// # Examples
///
/// ```
/// # #[cfg(feature = "alloc")] {
/// use lenframe::{valid_prefix, Checksum, FrameConfig, FrameEncoder, Stop};
///
/// let cfg = FrameConfig::default().checksum(Checksum::Crc32c);
/// let enc = FrameEncoder::new(cfg)?;
/// let mut log = Vec::new();
/// enc.encode(b"first", &mut log)?;
/// enc.encode(b"second", &mut log)?;
/// let whole = log.len();
///
/// // A crash tore the last frame: the first one survives.
/// let torn = &log[..whole - 3];
/// let found = valid_prefix(torn, cfg)?;
/// assert_eq!((found.valid_len, found.frames), (13, 1));
/// assert_eq!(found.stop, Stop::Truncated { expected: 14, received: 11 });
///
/// // A flipped bit in the second payload: caught by its checksum.
/// log[20] ^= 0x04;
/// let found = valid_prefix(&log, cfg)?;
/// assert_eq!((found.valid_len, found.frames), (13, 1));
/// assert!(matches!(found.stop, Stop::ChecksumMismatch { .. }));
/// # }
/// # Ok::<(), Box<dyn core::error::Error>>(())
/// ```
pub fn valid_prefix(buf: &[u8], config: FrameConfig) -> Result<Recovery, ConfigError> {
    let mut frames = Frames::new(buf, config.oversize(Oversize::Error))?;
    let mut count = 0;
    let stop = loop {
        match frames.next() {
            None => break Stop::End,
            Some(Ok(_)) => count += 1,
            Some(Err(e)) => break stop_for(e),
        }
    };
    Ok(Recovery {
        valid_len: frames.position(),
        frames: count,
        stop,
    })
}

/// The reason for an error [`Frames`] ends with, under [`Oversize::Error`].
fn stop_for(err: FrameError) -> Stop {
    match err {
        FrameError::Truncated { expected, received } => Stop::Truncated { expected, received },
        FrameError::ChecksumMismatch { expected, computed } => {
            Stop::ChecksumMismatch { expected, computed }
        }
        FrameError::InvalidHeader(e) => Stop::InvalidHeader(e),
        FrameError::TooLarge { len, max } => Stop::TooLarge { len, max },
        other => unreachable!("a decoder reports no {other:?}"),
    }
}
