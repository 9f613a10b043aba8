//! Native tokio front ends: [`FrameReader`] over any `tokio::io::AsyncRead`, [`FrameWriter`]
//! over any `tokio::io::AsyncWrite` (feature `tokio`).
//!
//! They drive the same sans-IO [`ReadState`](crate::ReadState) and
//! [`WriteState`](crate::WriteState) as the blocking [`crate::FrameReader`] and
//! [`crate::FrameWriter`], so every bound and guarantee of those holds here too; they only
//! poll the I/O and wait, on tokio's timers for frame deadlines. Both are cancel safe: see
//! each method's *Cancel safety* section.
//!
//! Each async method has a poll method beside it for code that polls by hand; the reader is
//! a `futures` [`Stream`](futures_core::Stream) of owned frames ([`bytes::Bytes`], not copied
//! when large) and the writer a [`Sink`](futures_sink::Sink) of them, so `StreamExt::next`,
//! `SinkExt::send` and `forward` work.
//!
//! ```
//! use tokio::net::{TcpListener, TcpStream};
//! use lenframe::tokio::{FrameReader, FrameWriter};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let listener = TcpListener::bind("127.0.0.1:0").await?;
//! let mut writer = FrameWriter::new(TcpStream::connect(listener.local_addr()?).await?);
//! let mut reader = FrameReader::new(listener.accept().await?.0);
//!
//! writer.write_frame(b"hello").await?;
//! writer.write_frame(b"").await?;
//! writer.shutdown().await?; // flushes, then closes: the reader sees a clean end
//!
//! assert_eq!(reader.read_frame().await?, Some(&b"hello"[..]));
//! assert_eq!(reader.read_frame().await?, Some(&b""[..]));
//! assert_eq!(reader.read_frame().await?, None);
//! # Ok(())
//! # }
//! ```

mod reader;
mod writer;

pub use reader::{FrameReader, ReadFrame};
pub use writer::{FrameWriter, WriteFrame};
