//! `FrameCodec`: a `tokio_util::codec` decoder and encoder over the sans-IO core.
//!
//! The documentation, with a `Framed` example, is on [`FrameCodec`].

use std::fmt;
use std::ops::Range;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::config::FrameConfig;
use crate::decoder::{Decoded, FrameDecoder};
use crate::encoder::FrameEncoder;
use crate::error::{ConfigError, FrameError};
use crate::header::{LengthField, MAX_VARINT_LEN};
use crate::stats::FrameStats;

/// A `tokio_util::codec` [`Decoder`] and [`Encoder`] for length-prefixed frames.
///
/// Decoded frames are [`BytesMut`] split off the read buffer without copying; payloads are
/// encoded from [`Bytes`] or `&[u8]`.
///
/// It turns any `AsyncRead + AsyncWrite` into a `Stream` of frames and a `Sink`
/// of payloads with `tokio_util::codec::Framed` (or `FramedRead` / `FramedWrite` for one
/// direction). It speaks every layout of [`FrameConfig`], under the same limits and oversize
/// policies as [`FrameReader`](crate::FrameReader) and [`FrameWriter`](crate::FrameWriter),
/// because it is driven by the same [`FrameDecoder`] and [`FrameEncoder`] and nothing else.
///
/// ```
/// use bytes::Bytes;
/// use futures_util::{SinkExt, StreamExt};
/// use lenframe::FrameCodec;
/// use tokio::net::{TcpListener, TcpStream};
/// use tokio_util::codec::Framed;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let listener = TcpListener::bind("127.0.0.1:0").await?;
/// let mut client = Framed::new(
///     TcpStream::connect(listener.local_addr()?).await?,
///     FrameCodec::new(),
/// );
/// let mut server = Framed::new(listener.accept().await?.0, FrameCodec::new());
///
/// client.send(Bytes::from_static(b"hello")).await?;
/// client.send(Bytes::new()).await?; // an empty frame is a frame
/// drop(client); // closes the connection: the server sees a clean end
///
/// assert_eq!(&server.next().await.transpose()?.unwrap()[..], b"hello");
/// assert_eq!(&server.next().await.transpose()?.unwrap()[..], b"");
/// assert!(server.next().await.is_none());
/// # Ok(())
/// # }
/// ```
///
/// # Compared with tokio-util's `LengthDelimitedCodec`
///
/// For the layouts both speak, the bytes on the wire are the same (see the crate's
/// README, section *Compatibility*, for the setting that matches each layout). The
/// differences:
///
/// - **Memory follows the bytes that arrived.** `LengthDelimitedCodec` reserves the declared
///   payload length as soon as it has read a header, so a peer that sends one 4-byte header
///   declaring 8 MiB costs 8 MiB. `FrameCodec` never allocates: the read buffer grows only as
///   `Framed` reads bytes into it.
/// - **The limit counts the payload after the length adjustment.** `LengthDelimitedCodec`
///   compares the raw field with `max_frame_length`, before the adjustment.
/// - **The encoder writes the whole header.** `FrameCodec` writes `length_field_offset` zero
///   bytes before the field and subtracts the adjustment, so what it writes its own decoder
///   (and tokio-util's, with the matching settings) reads back; `LengthDelimitedCodec`'s
///   encoder writes no offset bytes and ignores `num_skip`.
/// - **Varint lengths** ([`LengthField::Varint`](crate::LengthField::Varint)): protobuf's
///   delimited streams, which `LengthDelimitedCodec` cannot read.
/// - **[`Oversize::Skip`](crate::Oversize::Skip)**: an oversized frame is reported once and
///   then discarded as it streams past, and the next frames follow.
/// - **Truncation is an error with numbers.** At the end of the stream, a partial frame is
///   [`FrameError::Truncated`] with the frame's expected and received byte counts, never
///   silently dropped.
/// - **Errors are [`FrameError`]**, with the numbers in the variant; it converts to
///   `io::Error` with a fitting kind.
///
/// # After an error
///
/// `Framed` ends its stream (`None`) after yielding an error from the decoder. Under
/// [`Oversize::Error`](crate::Oversize::Error) that is the end: polling again returns the same
/// error. Under [`Oversize::Skip`](crate::Oversize::Skip) the stream can be polled again and
/// goes on with the frame after the oversized one; `Framed` first reads from the transport
/// again, so the next frame shows once more bytes (or the end of the stream) arrive.
///
/// One limit is `Framed`'s own: once the transport has ended, an error stops it for good. If
/// a second oversized frame is only reached after the end of the stream was seen (two of them
/// among the last bytes), `Framed` reports it and then never calls the decoder again, so the
/// frames after it are not delivered. Where that matters, call
/// [`decode_eof`](Decoder::decode_eof) on the remaining bytes
/// ([`Framed::read_buffer`](tokio_util::codec::Framed::read_buffer)) or read with
/// [`FrameReader`](crate::FrameReader).
///
/// # Bounds
///
/// - A declared payload over [`FrameConfig::max_frame_len`] is refused as soon as its
///   header is decoded ([`FrameError::TooLarge`]), before any payload byte is buffered.
/// - The codec never allocates in the read buffer: it grows only with the bytes `Framed`
///   reads (`Framed` doubles it when it is full), so a peer that declares 8 MiB and sends
///   `N` bytes costs at most `2 N` bytes or `Framed`'s initial 8 KiB, whichever is more,
///   never 8 MiB.
/// - The codec only arranges the room the buffer already has, so that large frames are read
///   in place: a frame of 64 KiB or more that will not fit in what is left of the
///   allocation, but would at its front (in the space of the frames already split off), is
///   moved there as soon as its header is decoded, while few of its bytes have arrived; and
///   the buffer's capacity is cut at the frame's end, so that `Framed` reads up to there and
///   the next frame starts in an empty buffer. In front of a small frame the codec takes
///   such room back, up to 64 KiB, for reading ahead. A stream of large frames thus reuses
///   one buffer and copies none of their bytes a second time.
/// - Work per call is bounded by the header length plus the bytes split off: a frame that
///   arrives one byte at a time is not rescanned.
///
/// # Examples
///
/// ```
/// use bytes::{Bytes, BytesMut};
/// use lenframe::FrameCodec;
/// use tokio_util::codec::{Decoder, Encoder};
///
/// let mut codec = FrameCodec::new();
/// let mut wire = BytesMut::new();
/// codec.encode(Bytes::from_static(b"hi"), &mut wire)?;
/// assert_eq!(&wire[..], b"\x00\x00\x00\x02hi");
///
/// assert_eq!(codec.decode(&mut wire)?.as_deref(), Some(&b"hi"[..]));
/// assert!(wire.is_empty());
/// # Ok::<(), lenframe::FrameError>(())
/// ```
pub struct FrameCodec {
    decoder: FrameDecoder,
    encoder: FrameEncoder,
    encoded: FrameStats,
    /// The layout is the default one (a 4-byte big-endian field at offset 0), whose header
    /// `put_header` writes with one store.
    default_layout: bool,
}

impl FrameCodec {
    /// A codec with the default configuration ([`FrameConfig::default`]): a 4-byte
    /// big-endian payload length, frames of up to 8 MiB.
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::{FrameCodec, FrameConfig};
    ///
    /// assert_eq!(*FrameCodec::new().config(), FrameConfig::default());
    /// ```
    pub fn new() -> Self {
        Self::with_config(FrameConfig::default()).expect("the default configuration is valid")
    }

    /// A codec for `config`, which is used for both decoding and encoding.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when the layout is impossible (see [`FrameConfig::validate`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use lenframe::{ConfigError, FrameCodec, FrameConfig, LengthField};
    /// use tokio_util::codec::Decoder;
    ///
    /// // protobuf's delimited stream: a varint length, then the message.
    /// let cfg = FrameConfig::default().length_field(LengthField::Varint);
    /// let mut codec = FrameCodec::with_config(cfg)?;
    /// let mut wire = BytesMut::from(&b"\x03abc"[..]);
    /// assert_eq!(codec.decode(&mut wire)?.as_deref(), Some(&b"abc"[..]));
    ///
    /// // A one-byte field cannot express a 1000-byte limit.
    /// let bad = FrameConfig::default().length_field(LengthField::U8).max_frame_len(1000);
    /// assert!(matches!(
    ///     FrameCodec::with_config(bad),
    ///     Err(ConfigError::LimitTooLarge { max: 1000, largest: 255 })
    /// ));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_config(config: FrameConfig) -> Result<Self, ConfigError> {
        Ok(FrameCodec {
            decoder: FrameDecoder::new(config)?,
            encoder: FrameEncoder::new(config)?,
            encoded: FrameStats::default(),
            default_layout: config.get_length_field() == LengthField::U32Be
                && config.get_length_field_offset() == 0,
        })
    }

    /// The configuration in use.
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::{FrameCodec, FrameConfig};
    ///
    /// let codec = FrameCodec::with_config(FrameConfig::default().max_frame_len(1024))?;
    /// assert_eq!(codec.config().get_max_frame_len(), 1024);
    /// # Ok::<(), lenframe::ConfigError>(())
    /// ```
    pub fn config(&self) -> &FrameConfig {
        self.decoder.config()
    }

    /// What the decoder has done: frames delivered and their bytes (after stripping), and
    /// frames and bytes discarded under [`Oversize::Skip`](crate::Oversize::Skip).
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use lenframe::FrameCodec;
    /// use tokio_util::codec::Decoder;
    ///
    /// let mut codec = FrameCodec::new();
    /// let mut wire = BytesMut::from(&b"\x00\x00\x00\x03abc\x00\x00\x00\x00"[..]);
    /// while codec.decode(&mut wire)?.is_some() {}
    /// assert_eq!((codec.stats().frames, codec.stats().bytes), (2, 3));
    /// # Ok::<(), lenframe::FrameError>(())
    /// ```
    pub fn stats(&self) -> FrameStats {
        self.decoder.stats()
    }

    /// What the encoder has done: frames accepted and their payload bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use lenframe::FrameCodec;
    /// use tokio_util::codec::Encoder;
    ///
    /// let mut codec = FrameCodec::new();
    /// let mut wire = BytesMut::new();
    /// codec.encode(&b"abc"[..], &mut wire)?;
    /// assert_eq!((codec.encode_stats().frames, codec.encode_stats().bytes), (1, 3));
    /// # Ok::<(), lenframe::FrameError>(())
    /// ```
    pub fn encode_stats(&self) -> FrameStats {
        self.encoded
    }
}

impl FrameCodec {
    /// Appends the header whose length field holds `field` to `dst`, which has room for it.
    ///
    /// The default layout is one 4-byte store; the general path builds the field in a
    /// scratch array first.
    #[inline(always)]
    fn put_header(&self, field: u64, dst: &mut BytesMut) {
        if self.default_layout {
            // `field` fits: the config limits it to what a u32 holds.
            dst.put_u32(field as u32);
            return;
        }
        let config = self.encoder.config();
        dst.put_bytes(0, config.get_length_field_offset());
        let mut bytes = [0; MAX_VARINT_LEN];
        let n = config.get_length_field().write(field, &mut bytes);
        dst.put_slice(&bytes[..n]);
    }
}

/// Frames of at least this many bytes are read up to their end and no further.
const LARGE_FRAME: usize = 64 * 1024;

/// The room the codec asks for in front of a small frame, when it can have it without
/// allocating.
const READ_AHEAD: usize = 64 * 1024;

/// Arranges the read buffer `src`, which starts with an incomplete frame of which `needed`
/// more bytes are to come, so that the rest of the frame is read in place. Never allocates.
///
/// A large frame that will not fit in what is left of the buffer's allocation, but would
/// fit at its front (in the space of the frames already split off), is moved there; then
/// the buffer's capacity is cut at the frame's end, so that reads stop there and the next
/// frame starts in an empty buffer, which costs nothing to move. In front of a small frame,
/// room hidden by such a cut (or at the front) is taken back for reading ahead.
#[inline]
fn make_room(src: &mut BytesMut, needed: usize) {
    let len = src.len();
    if len == 0 {
        return;
    }
    // `len + needed` is the frame's length, which fits in memory (the config checks it).
    let end = len + needed;
    if end >= LARGE_FRAME {
        if src.capacity() < end {
            let _ = src.try_reclaim(needed);
        }
        if src.capacity() > end {
            drop(src.split_off(end));
        }
    } else if src.capacity() - len < READ_AHEAD {
        let _ = src.try_reclaim(READ_AHEAD);
    }
}

impl Default for FrameCodec {
    /// The same as [`FrameCodec::new`].
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for FrameCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameCodec")
            .field("decoder", &self.decoder)
            .field("encoded", &self.encoded)
            .finish_non_exhaustive()
    }
}

impl Decoder for FrameCodec {
    type Item = BytesMut;
    type Error = FrameError;

    /// Splits the next frame off the front of `src`, or returns `Ok(None)` when `src` does
    /// not hold a whole frame yet.
    ///
    /// Bytes of a frame being discarded under [`Oversize::Skip`](crate::Oversize::Skip) are
    /// dropped from `src` as they arrive. Nothing is ever allocated in `src`; the bytes of an
    /// incomplete frame may be moved to the front of its allocation, and its capacity cut
    /// at the end of a large frame (see *Bounds* on [`FrameCodec`]).
    ///
    /// # Errors
    ///
    /// - [`FrameError::TooLarge`] when a header declares a payload over the limit: under
    ///   [`Oversize::Error`](crate::Oversize::Error) every later call returns it again; under
    ///   [`Oversize::Skip`](crate::Oversize::Skip) it is returned once and the frame is then
    ///   discarded.
    /// - [`FrameError::InvalidHeader`] for a header no bytes could make valid, and
    ///   [`FrameError::ChecksumMismatch`] for a damaged frame in a checksummed layout; fatal.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use lenframe::{FrameCodec, FrameConfig, FrameError, Oversize};
    /// use tokio_util::codec::Decoder;
    ///
    /// let cfg = FrameConfig::default().max_frame_len(2).oversize(Oversize::Skip);
    /// let mut codec = FrameCodec::with_config(cfg)?;
    /// let mut wire = BytesMut::from(&b"\x00\x00\x00\x03xyz\x00\x00\x00\x01k"[..]);
    /// assert!(matches!(
    ///     codec.decode(&mut wire),
    ///     Err(FrameError::TooLarge { len: 3, max: 2 })
    /// ));
    /// // The oversized frame is dropped, and the next one follows.
    /// assert_eq!(codec.decode(&mut wire)?.as_deref(), Some(&b"k"[..]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, FrameError> {
        // A whole frame of the default layout at a boundary: one step.
        if let Some((frame, consumed)) = self.decoder.take_whole(src) {
            return Ok(Some(split_frame(src, frame, consumed)));
        }
        // Each turn either returns or drops at least one byte of `src`.
        loop {
            match self.decoder.decode(src)? {
                Decoded::Frame { frame, consumed } => {
                    return Ok(Some(split_frame(src, frame, consumed)))
                }
                Decoded::Skipped { consumed } => src.advance(consumed),
                Decoded::Incomplete { needed } => {
                    make_room(src, needed);
                    return Ok(None);
                }
            }
        }
    }

    /// As [`decode`](Self::decode), at the end of the stream: `Ok(None)` when `src` ends at
    /// a frame boundary, a frame if a whole one is left.
    ///
    /// # Errors
    ///
    /// [`FrameError::Truncated`] when the stream ended inside a header or a payload
    /// (including a frame being discarded), with the frame's expected and received byte
    /// counts; the bytes are left in `src`. Otherwise as [`decode`](Self::decode).
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use lenframe::{FrameCodec, FrameError};
    /// use tokio_util::codec::Decoder;
    ///
    /// let mut codec = FrameCodec::new();
    /// let mut wire = BytesMut::from(&b"\x00\x00\x00\x05hel"[..]);
    /// assert!(matches!(
    ///     codec.decode_eof(&mut wire),
    ///     Err(FrameError::Truncated { expected: 9, received: 7 })
    /// ));
    ///
    /// let mut clean = BytesMut::new();
    /// assert!(FrameCodec::new().decode_eof(&mut clean)?.is_none());
    /// # Ok::<(), FrameError>(())
    /// ```
    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, FrameError> {
        if let Some(frame) = self.decode(src)? {
            return Ok(Some(frame));
        }
        // `decode` left an incomplete frame (or nothing) at the front of `src`, so the core
        // answers either a clean end or `Truncated`.
        match self.decoder.decode_eof(src)? {
            None => Ok(None),
            Some(Decoded::Frame { frame, consumed }) => Ok(Some(split_frame(src, frame, consumed))),
            // Unreachable after `decode` returned `Ok(None)`, but if the core ever answers
            // so, carry on with what is left rather than lose it.
            Some(Decoded::Skipped { consumed }) => {
                src.advance(consumed);
                self.decode_eof(src)
            }
            Some(Decoded::Incomplete { .. }) => Ok(None),
        }
    }
}

/// Splits a decoded frame off the front of `src`: the first `consumed` bytes go, and
/// `src[frame]` (without stripped header bytes and checksum trailer) is returned.
fn split_frame(src: &mut BytesMut, frame: Range<usize>, consumed: usize) -> BytesMut {
    let mut out = src.split_to(consumed);
    out.truncate(frame.end);
    out.advance(frame.start);
    out
}

impl Encoder<&[u8]> for FrameCodec {
    type Error = FrameError;

    /// Appends one frame (the header, then `payload`, then the checksum trailer if the
    /// layout has one) to `dst`.
    ///
    /// # Errors
    ///
    /// [`FrameError::TooLarge`] for a payload over the limit and [`FrameError::TooShort`]
    /// for one the layout cannot express; `dst` is then left unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use lenframe::{FrameCodec, FrameConfig, FrameError, LengthField};
    /// use tokio_util::codec::Encoder;
    ///
    /// // A 2-byte little-endian field after one offset byte, counting the whole header.
    /// let cfg = FrameConfig::default()
    ///     .length_field(LengthField::U16Le)
    ///     .length_field_offset(1)
    ///     .length_adjustment(-3);
    /// let mut codec = FrameCodec::with_config(cfg)?;
    /// let mut wire = BytesMut::new();
    /// codec.encode(&b"hey"[..], &mut wire)?;
    /// assert_eq!(&wire[..], b"\x00\x06\x00hey");
    ///
    /// let mut small = FrameCodec::with_config(FrameConfig::default().max_frame_len(2))?;
    /// assert!(matches!(
    ///     small.encode(&b"hey"[..], &mut wire),
    ///     Err(FrameError::TooLarge { len: 3, max: 2 })
    /// ));
    /// assert_eq!(wire.len(), 6);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn encode(&mut self, payload: &[u8], dst: &mut BytesMut) -> Result<(), FrameError> {
        let field = self.encoder.field_value(payload.len())?;
        let trailer_len = self.encoder.trailer_len();
        dst.reserve(self.encoder.header_len(field) + payload.len() + trailer_len);
        let mark = dst.len();
        self.put_header(field, dst);
        dst.extend_from_slice(payload);
        if trailer_len != 0 {
            let trailer = self.encoder.trailer(&dst[mark..], &[]);
            dst.extend_from_slice(trailer.as_bytes());
        }
        self.encoded.frames += 1;
        self.encoded.bytes += payload.len() as u64;
        Ok(())
    }
}

impl Encoder<Bytes> for FrameCodec {
    type Error = FrameError;

    /// As the `&[u8]` encoder.
    ///
    /// # Errors
    ///
    /// As the `&[u8]` encoder.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::{Bytes, BytesMut};
    /// use lenframe::FrameCodec;
    /// use tokio_util::codec::Encoder;
    ///
    /// let mut wire = BytesMut::new();
    /// FrameCodec::new().encode(Bytes::new(), &mut wire)?;
    /// assert_eq!(&wire[..], b"\x00\x00\x00\x00");
    /// # Ok::<(), lenframe::FrameError>(())
    /// ```
    fn encode(&mut self, payload: Bytes, dst: &mut BytesMut) -> Result<(), FrameError> {
        Encoder::<&[u8]>::encode(self, &payload, dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{HeaderError, LengthField, Oversize};

    fn codec(cfg: FrameConfig) -> FrameCodec {
        FrameCodec::with_config(cfg).unwrap()
    }

    fn encode_all(cfg: FrameConfig, payloads: &[&[u8]]) -> Vec<u8> {
        let mut c = codec(cfg);
        let mut wire = BytesMut::new();
        for p in payloads {
            c.encode(*p, &mut wire).unwrap();
        }
        wire.to_vec()
    }

    /// Feeds `wire` in two pieces split at `cut`, decoding after each, then calls
    /// `decode_eof`; returns the frames.
    fn decode_split(cfg: FrameConfig, wire: &[u8], cut: usize) -> Vec<Vec<u8>> {
        let mut c = codec(cfg);
        let mut buf = BytesMut::new();
        let mut frames = Vec::new();
        for piece in [&wire[..cut], &wire[cut..]] {
            buf.extend_from_slice(piece);
            while let Some(f) = c.decode(&mut buf).unwrap() {
                frames.push(f.to_vec());
            }
        }
        while let Some(f) = c.decode_eof(&mut buf).unwrap() {
            frames.push(f.to_vec());
        }
        assert!(buf.is_empty());
        frames
    }

    #[test]
    fn decode_split_at_every_byte_for_every_field() {
        let payloads: [&[u8]; 4] = [b"first", b"", &[0xa5; 200], b"x"];
        for field in LengthField::ALL {
            let cfg = FrameConfig::default()
                .length_field(field)
                .length_field_offset(1);
            let wire = encode_all(cfg, &payloads);
            for cut in 0..=wire.len() {
                let frames = decode_split(cfg, &wire, cut);
                assert_eq!(frames, payloads, "{field:?} cut at {cut}");
            }
        }
    }

    #[test]
    fn decode_one_byte_at_a_time_with_num_skip() {
        // num_skip 1 keeps the length field in the delivered frame.
        let cfg = FrameConfig::default()
            .length_field(LengthField::U16Be)
            .length_field_offset(1)
            .num_skip(1);
        let wire = encode_all(cfg, &[b"ab", b""]);
        assert_eq!(wire, b"\x00\x00\x02ab\x00\x00\x00");
        let mut c = codec(cfg);
        let mut buf = BytesMut::new();
        let mut frames = Vec::new();
        for &b in &wire {
            buf.put_u8(b);
            if let Some(f) = c.decode(&mut buf).unwrap() {
                frames.push(f.to_vec());
            }
        }
        assert_eq!(frames, [&b"\x00\x02ab"[..], &b"\x00\x00"[..]]);
        assert!(buf.is_empty());
        assert_eq!((c.stats().frames, c.stats().bytes), (2, 6));
    }

    #[test]
    fn decode_skip_reports_once_then_discards_as_bytes_arrive() {
        let cfg = FrameConfig::default()
            .max_frame_len(4)
            .oversize(Oversize::Skip);
        let mut c = codec(cfg);
        let mut buf = BytesMut::from(&b"\x00\x00\x00\x0aabc"[..]);
        assert!(matches!(
            c.decode(&mut buf),
            Err(FrameError::TooLarge { len: 10, max: 4 })
        ));
        // Nothing was consumed by the error; the next call drops what is there.
        assert_eq!(buf.len(), 7);
        assert!(c.decode(&mut buf).unwrap().is_none());
        assert!(buf.is_empty());
        // 14 bytes in all; 7 dropped, 7 to go: 5 more now, then the rest with a frame.
        buf.extend_from_slice(b"defgh");
        assert!(c.decode(&mut buf).unwrap().is_none());
        assert!(buf.is_empty());
        buf.extend_from_slice(b"ij\x00\x00\x00\x02ok");
        assert_eq!(c.decode(&mut buf).unwrap().as_deref(), Some(&b"ok"[..]));
        assert!(buf.is_empty());
        let s = c.stats();
        assert_eq!(
            (s.frames, s.bytes, s.skipped_frames, s.skipped_bytes),
            (1, 2, 1, 14)
        );
        // A second oversized frame is reported again, once.
        buf.extend_from_slice(b"\x00\x00\x00\x05abcde\x00\x00\x00\x00");
        assert!(matches!(
            c.decode(&mut buf),
            Err(FrameError::TooLarge { len: 5, max: 4 })
        ));
        assert_eq!(c.decode(&mut buf).unwrap().as_deref(), Some(&b""[..]));
        assert!(buf.is_empty());
    }

    #[test]
    fn decode_error_policy_is_fatal() {
        let mut c = codec(FrameConfig::default().max_frame_len(4));
        let mut buf = BytesMut::from(&b"\x00\x00\x00\x05abcde\x00\x00\x00\x00"[..]);
        for _ in 0..3 {
            assert!(matches!(
                c.decode(&mut buf),
                Err(FrameError::TooLarge { len: 5, max: 4 })
            ));
            assert_eq!(buf.len(), 13, "nothing is consumed after a fatal error");
        }
        assert!(matches!(
            c.decode_eof(&mut buf),
            Err(FrameError::TooLarge { len: 5, max: 4 })
        ));
    }

    #[test]
    fn decode_too_large_numbers_after_adjustment() {
        // The field counts the 4-byte header: payload = field - 4.
        let cfg = FrameConfig::default()
            .length_adjustment(-4)
            .max_frame_len(100);
        let mut ok = codec(cfg);
        let mut buf = BytesMut::from(&104u32.to_be_bytes()[..]);
        assert!(ok.decode(&mut buf).unwrap().is_none());
        let mut over = codec(cfg);
        let mut buf = BytesMut::from(&105u32.to_be_bytes()[..]);
        assert!(matches!(
            over.decode(&mut buf),
            Err(FrameError::TooLarge { len: 101, max: 100 })
        ));
        let mut max = codec(FrameConfig::default());
        let mut buf = BytesMut::from(&u32::MAX.to_be_bytes()[..]);
        assert!(matches!(
            max.decode(&mut buf),
            Err(FrameError::TooLarge {
                len: 4_294_967_295,
                max: 8_388_608
            })
        ));
        let mut wide = codec(
            FrameConfig::default()
                .length_field(LengthField::U64Le)
                .length_adjustment(isize::MAX),
        );
        let mut buf = BytesMut::from(&u64::MAX.to_le_bytes()[..]);
        assert!(matches!(
            wide.decode(&mut buf),
            Err(FrameError::TooLarge {
                len: u64::MAX,
                max: 8_388_608
            })
        ));
    }

    #[test]
    fn decode_invalid_header_is_fatal() {
        let mut c = codec(FrameConfig::default().length_field(LengthField::Varint));
        let mut buf = BytesMut::from(&b"\x80\x00"[..]);
        for _ in 0..2 {
            assert!(matches!(
                c.decode(&mut buf),
                Err(FrameError::InvalidHeader(HeaderError::VarintOverlong {
                    len: 2
                }))
            ));
        }
    }

    #[test]
    fn decode_eof_truncation_at_every_offset() {
        let wire = b"\x00\x00\x00\x03abc\x00\x00\x00\x02de";
        for cut in 0..=wire.len() {
            let mut c = codec(FrameConfig::default());
            let mut buf = BytesMut::from(&wire[..cut]);
            let mut frames = Vec::new();
            let end = loop {
                match c.decode_eof(&mut buf) {
                    Ok(Some(f)) => frames.push(f.to_vec()),
                    Ok(None) => break None,
                    Err(FrameError::Truncated { expected, received }) => {
                        break Some((expected, received))
                    }
                    Err(e) => panic!("cut {cut}: {e}"),
                }
            };
            let (want_frames, want_end): (usize, Option<(u64, u64)>) = match cut {
                0 => (0, None),
                1..=3 => (0, Some((4, cut as u64))),
                4..=6 => (0, Some((7, cut as u64))),
                7 => (1, None),
                8..=10 => (1, Some((4, cut as u64 - 7))),
                11..=12 => (1, Some((6, cut as u64 - 7))),
                _ => (2, None),
            };
            assert_eq!(frames.len(), want_frames, "cut {cut}");
            assert_eq!(end, want_end, "cut {cut}");
            if want_end.is_some() {
                assert_eq!(buf.len(), cut - 7 * want_frames, "bytes kept at cut {cut}");
            }
        }
    }

    #[test]
    fn decode_eof_inside_a_skipped_frame_is_truncated() {
        let cfg = FrameConfig::default()
            .max_frame_len(1)
            .oversize(Oversize::Skip);
        let mut c = codec(cfg);
        let mut buf = BytesMut::from(&b"\x00\x00\x00\x05ab"[..]);
        assert!(matches!(
            c.decode(&mut buf),
            Err(FrameError::TooLarge { len: 5, max: 1 })
        ));
        assert!(matches!(
            c.decode_eof(&mut buf),
            Err(FrameError::Truncated {
                expected: 9,
                received: 6
            })
        ));
        assert!(buf.is_empty());
    }

    #[test]
    fn decode_reserves_nothing_for_a_declared_length() {
        // A max-size header and 10 bytes of body: the buffer keeps exactly the capacity it
        // had, here the 14 bytes it was made with.
        let mut c = codec(FrameConfig::default());
        let mut buf = BytesMut::with_capacity(14);
        buf.extend_from_slice(&(8u32 << 20).to_be_bytes());
        buf.extend_from_slice(&[7; 10]);
        assert_eq!(buf.capacity(), 14);
        for _ in 0..3 {
            assert!(c.decode(&mut buf).unwrap().is_none());
            assert_eq!((buf.len(), buf.capacity()), (14, 14));
        }
        assert!(matches!(
            c.decode_eof(&mut buf),
            Err(FrameError::Truncated {
                expected: 8_388_612,
                received: 14
            })
        ));
        assert_eq!(buf.capacity(), 14);
    }

    #[test]
    fn decode_moves_a_large_frame_to_the_front_and_cuts_reads_at_its_end() {
        const CAP: usize = 256 * 1024;
        const FIRST: usize = 200 * 1024;
        const SECOND: usize = 100 * 1024;
        // A 200 KiB frame, then the header and 100 bytes of a 100 KiB one, in 256 KiB.
        let wire = |buf: &mut BytesMut| {
            buf.extend_from_slice(&(FIRST as u32).to_be_bytes());
            buf.resize(4 + FIRST, 1);
            buf.extend_from_slice(&(SECOND as u32).to_be_bytes());
            buf.resize(4 + FIRST + 4 + 100, 2);
        };
        let mut c = codec(FrameConfig::default());
        let mut buf = BytesMut::with_capacity(CAP);
        let base = buf.as_ptr() as usize;
        wire(&mut buf);
        assert_eq!(c.decode(&mut buf).unwrap().unwrap().len(), FIRST);
        // The second frame's 104 bytes are moved to the front, where all of it fits, and
        // the buffer ends where the frame does.
        assert!(c.decode(&mut buf).unwrap().is_none());
        assert_eq!(buf.len(), 104);
        assert_eq!((buf.as_ptr() as usize, buf.capacity()), (base, 4 + SECOND));
        assert_eq!(&buf[..4], &(SECOND as u32).to_be_bytes());
        buf.resize(4 + SECOND, 2);
        assert_eq!(c.decode(&mut buf).unwrap().unwrap().len(), SECOND);
        assert_eq!((buf.len(), buf.capacity()), (0, 0));

        // While the first frame is held, its bytes cannot be overwritten: nothing moves,
        // and nothing is allocated either.
        let mut c = codec(FrameConfig::default());
        let mut buf = BytesMut::with_capacity(CAP);
        wire(&mut buf);
        let first = c.decode(&mut buf).unwrap().unwrap();
        let (ptr, cap) = (buf.as_ptr() as usize, buf.capacity());
        assert!(c.decode(&mut buf).unwrap().is_none());
        assert_eq!((buf.as_ptr() as usize, buf.capacity()), (ptr, cap));
        assert_eq!(cap, CAP - 4 - FIRST);
        assert!(first.iter().all(|&b| b == 1));
    }

    #[test]
    fn decode_takes_back_the_room_cut_off_after_a_large_frame() {
        let mut c = codec(FrameConfig::default());
        let mut buf = BytesMut::with_capacity(256 * 1024);
        buf.extend_from_slice(&(100_000u32).to_be_bytes());
        buf.extend_from_slice(&[1; 10]);
        assert!(c.decode(&mut buf).unwrap().is_none());
        // Reads stop at the frame's end...
        assert_eq!(buf.capacity(), 100_004);
        buf.resize(100_004, 1);
        assert_eq!(c.decode(&mut buf).unwrap().unwrap().len(), 100_000);
        // ...so the next frame starts in an empty buffer. `Framed` asks for one byte, and
        // gets just that, the rest of the allocation being beyond the cut.
        assert_eq!(buf.capacity(), 0);
        buf.reserve(1);
        assert_eq!(buf.capacity(), 1);
        buf.extend_from_slice(b"\x00");
        // A small frame's header: the codec takes back room to read ahead.
        assert!(c.decode(&mut buf).unwrap().is_none());
        assert_eq!((buf.len(), buf.capacity()), (1, 1 + READ_AHEAD));
    }

    #[test]
    fn decoded_frame_is_split_without_copy() {
        let mut c = codec(FrameConfig::default());
        let mut buf = BytesMut::from(&b"\x00\x00\x00\x03abc\x00\x00"[..]);
        let base = buf.as_ptr() as usize;
        let frame = c.decode(&mut buf).unwrap().unwrap();
        assert_eq!(&frame[..], b"abc");
        assert_eq!(frame.as_ptr() as usize, base + 4);
        assert_eq!(&buf[..], b"\x00\x00");
    }

    #[test]
    fn encode_refuses_before_writing() {
        let cfg = FrameConfig::default().length_field(LengthField::U8);
        let mut c = codec(cfg);
        let mut wire = BytesMut::from(&b"x"[..]);
        assert!(matches!(
            c.encode(&[0u8; 256][..], &mut wire),
            Err(FrameError::TooLarge { len: 256, max: 255 })
        ));
        let mut short = codec(FrameConfig::default().length_adjustment(2));
        assert!(matches!(
            short.encode(Bytes::from_static(b"a"), &mut wire),
            Err(FrameError::TooShort { len: 1, min: 2 })
        ));
        assert_eq!(&wire[..], b"x");
        assert_eq!(c.encode_stats(), FrameStats::default());
        c.encode(&[1u8; 255][..], &mut wire).unwrap();
        assert_eq!(wire.len(), 1 + 1 + 255);
        assert_eq!(wire[1], 255);
        assert_eq!((c.encode_stats().frames, c.encode_stats().bytes), (1, 255));
    }

    #[test]
    fn encode_matches_the_core_encoder_for_every_field() {
        for field in LengthField::ALL {
            let cfg = FrameConfig::default()
                .length_field(field)
                .length_field_offset(2)
                .length_adjustment(-1);
            let enc = FrameEncoder::new(cfg).unwrap();
            let mut c = codec(cfg);
            for len in [0usize, 1, 127, 128, 254] {
                let payload = vec![0x5a; len];
                let mut want = Vec::new();
                enc.encode(&payload, &mut want).unwrap();
                let mut got = BytesMut::new();
                c.encode(Bytes::from(payload), &mut got).unwrap();
                assert_eq!(&got[..], &want[..], "{field:?} len {len}");
            }
        }
    }

    #[test]
    fn config_errors_are_returned() {
        let cfg = FrameConfig::default().num_skip(5);
        assert!(matches!(
            FrameCodec::with_config(cfg),
            Err(ConfigError::SkipTooLarge {
                num_skip: 5,
                header_len: 4
            })
        ));
    }
}
