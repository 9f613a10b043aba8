//! Length-prefixed message framing over any byte stream, with hard bounds on memory, time
//! and input.
//!
//! A byte stream (TCP, a Unix socket, a pipe, a file) carries bytes, not messages: one read
//! can return part of a message or several at once, one write can take part of what it was
//! given, and a peer can declare or send any amount, or stall. lenframe puts a length in
//! front of each message and gives back exactly the messages that were sent, or an error
//! that says what went wrong, without ever reading, allocating or waiting without bound.
//!
//! # Wire format
//!
//! By default a frame is a 4-byte big-endian payload length, then the payload: byte for byte
//! what tokio-util's `LengthDelimitedCodec::new()` and Netty's `LengthFieldPrepender(4)`
//! write.
//!
//! ```text
//!  "hello" (5 bytes)            "" (0 bytes)
//! +-----+-----+-----+-----+--------------------+-----+-----+-----+-----+
//! | x00 | x00 | x00 | x05 | h  e  l  l  o      | x00 | x00 | x00 | x00 |
//! +-----+-----+-----+-----+--------------------+-----+-----+-----+-----+
//! |<- length, u32 BE ---->|<---- payload ----->|<- length 0 ---------->|
//! ```
//!
//! Every layout tokio-util and Netty speak can be configured with [`FrameConfig`]:
//!
//! ```text
//! +--------------------+-----------------+--------------------------------------+
//! | offset bytes       | length field    | payload: field + adjustment bytes    |
//! | (passed over; the  | 1, 2, 3, 4 or 8 |                                      |
//! |  encoder writes 0) | bytes BE/LE, or |                                      |
//! |                    | a LEB128 varint |                                      |
//! +--------------------+-----------------+--------------------------------------+
//! |<-- num_skip bytes (default: the whole header) -->| delivered frame ------->|
//! ```
//!
//! - [`LengthField`]: width 1, 2, 3, 4 or 8 bytes, big- or little-endian, or an unsigned
//!   LEB128 varint of at most 10 bytes in its shortest form (protobuf's delimited streams);
//! - [`length_field_offset`](FrameConfig::length_field_offset): bytes before the length field;
//! - [`length_adjustment`](FrameConfig::length_adjustment): added to the field to get the
//!   payload length (`-4` when a 4-byte field counts itself);
//! - [`num_skip`](FrameConfig::num_skip): header bytes stripped from the delivered frame;
//! - [`max_frame_len`](FrameConfig::max_frame_len) and [`Oversize`]: the payload limit and
//!   what to do with a frame over it.
//!
//! Impossible layouts (a limit the field cannot express, more bytes stripped than the header
//! has) are refused with a [`ConfigError`] when a decoder, encoder, reader or writer is made.
//!
//! # Quick start
//!
//! ```
//! # #[cfg(feature = "std")] {
//! use std::net::{TcpListener, TcpStream};
//! use lenframe::{FrameReader, FrameWriter};
//!
//! let listener = TcpListener::bind("127.0.0.1:0")?;
//! let mut writer = FrameWriter::new(TcpStream::connect(listener.local_addr()?)?);
//! let mut reader = FrameReader::new(listener.accept()?.0);
//!
//! writer.write_frame(b"hello")?;
//! writer.write_frame(b"")?;
//! writer.flush()?;
//! drop(writer); // closes the connection: the reader sees a clean end
//!
//! assert_eq!(reader.read_frame()?, Some(&b"hello"[..]));
//! assert_eq!(reader.read_frame()?, Some(&b""[..]));
//! assert_eq!(reader.read_frame()?, None);
//! # }
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```
//!
//! # Layers
//!
//! - The sans-IO core, `no_std` without the default `std` feature: [`FrameDecoder`] takes
//!   bytes and answers [`Decoded::Frame`], [`Decoded::Incomplete`] or an error;
//!   [`FrameEncoder`] makes the [`Header`] (and, with a [`Checksum`], the [`Trailer`]) for a
//!   payload, or refuses it before anything is written; [`Frames`] iterates over the frames
//!   of a `&[u8]` without copying, and [`valid_prefix`] finds the longest run of whole,
//!   valid frames in a damaged log. None does I/O.
//! - The sans-IO state machines: [`ReadState`] (the read buffer, the decode loop, frame
//!   deadlines and read rates, shrinking, [`MemoryBudget`] charges) and [`WriteState`]
//!   (batching, vectored-write bookkeeping, poisoning). Time enters as an `Instant` value.
//! - Blocking front ends over `std::io`: [`FrameReader`] and [`FrameWriter`].
//! - With the `tokio` feature, native async front ends in `lenframe::tokio`
//!   (`FrameReader` over any `AsyncRead`, `FrameWriter` over any `AsyncWrite`, cancel safe),
//!   and a `tokio_util::codec` codec over the core.
//!
//! The front ends only perform I/O and wait: every bound below lives once, in the core.
//!
//! # Guarantees
//!
//! - **No short frame.** A frame is delivered whole or not at all. A zero-length frame is a
//!   frame, never the end of the stream.
//! - **End of stream.** At a frame boundary it is `Ok(None)`; inside a header or payload it
//!   is [`FrameError::Truncated`] with the frame's expected and received byte counts.
//! - **Bounded input.** A declared payload over the limit (8 MiB by default, inclusive) is
//!   refused as soon as the header is read, after the length adjustment, with
//!   [`FrameError::TooLarge`]. All header arithmetic is checked: no wrap, no panic, on any
//!   input and on 32-bit targets.
//! - **Bounded memory.** A reader's buffer grows only with bytes that arrived: a peer that
//!   declares 8 MiB and sends 10 bytes costs one read step (64 KiB by default), not 8 MiB.
//!   After a large frame the buffer shrinks back to two steps, and a [`MemoryBudget`] bounds
//!   the buffers of many readers together ([`FrameError::OverBudget`]).
//! - **Bounded time.** [`FrameReader::set_frame_timeout`] (on sockets) and the async reader's
//!   (on any `AsyncRead`) bound the time a frame's bytes take to arrive, which a socket read
//!   timeout cannot do; a [`FrameDeadline::with_rate`] lets a frame earn time while its
//!   bytes arrive at a minimum rate, up to a cap. Only the time spent waiting for the peer
//!   counts, never the application's own time between calls.
//! - **Bounded work.** Decoding is linear in the bytes received, however they are split.
//! - **Nothing lost or repeated.** `Interrupted` is retried; after `WouldBlock`, a socket
//!   timeout or [`FrameError::TimedOut`], the next call resumes from the exact byte. A dropped
//!   async read loses nothing; a dropped async write leaves its frame accepted whole or not at
//!   all.
//! - **No desynchronised frames.** After a framing error no frame is ever returned from the
//!   rest of the stream, except under [`Oversize::Skip`], which discards the oversized frame
//!   byte-exactly and stays aligned.
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

#[cfg(feature = "alloc")]
extern crate alloc;

#[cfg(feature = "std")]
mod budget;
mod checksum;
mod config;
mod deadline;
mod decoder;
mod encoder;
mod error;
mod frames;
mod header;
#[cfg(feature = "std")]
mod read_state;
#[cfg(feature = "std")]
mod reader;
#[cfg(feature = "std")]
mod retention;
mod stats;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod tokio;
#[cfg(feature = "tokio")]
mod tokio_codec;
#[cfg(feature = "std")]
mod write_state;
#[cfg(feature = "std")]
mod writer;

#[cfg(feature = "std")]
pub use budget::{Charge, MemoryBudget};
pub use checksum::Checksum;
pub use config::{FrameConfig, Oversize, DEFAULT_MAX_FRAME_LEN};
pub use deadline::{FrameDeadline, TimeLimit};
pub use decoder::{Decoded, FrameDecoder};
pub use encoder::{FrameEncoder, Header, Trailer};
pub use error::{ConfigError, FrameError, HeaderError};
pub use frames::{valid_prefix, Frames, Recovery, Stop};
pub use header::{LengthField, MAX_VARINT_LEN};
#[cfg(feature = "std")]
pub use read_state::{ReadState, DEFAULT_READ_CAPACITY};
#[cfg(feature = "std")]
pub use reader::{FrameReader, ReadTimeout};
pub use stats::FrameStats;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use tokio_codec::FrameCodec;
#[cfg(feature = "std")]
pub use write_state::{Accept, LargeWrite, WriteState, DEFAULT_WRITE_CAPACITY};
#[cfg(feature = "std")]
pub use writer::FrameWriter;

#[doc = include_str!("../README.md")]
#[cfg(all(doctest, feature = "std"))]
pub struct ReadmeDoctests;
