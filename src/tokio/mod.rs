//! Native tokio front ends: [`FrameReader`] over any `tokio::io::AsyncRead`, [`FrameWriter`]
//! over any `tokio::io::AsyncWrite` (feature `tokio`).
//!
//! They drive the same sans-IO [`ReadState`](crate::ReadState) and
//! [`WriteState`](crate::WriteState) as the blocking [`crate::FrameReader`] and
//! [`crate::FrameWriter`], so every bound and guarantee of those holds here too; they only
//! poll the I/O and wait, on tokio's timers for frame deadlines. Both are cancel safe: see
//! each method's *Cancel safety* section.
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
