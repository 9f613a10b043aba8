//! A tokio echo server and client over 127.0.0.1.
//!
//! The server uses lenframe's native async pair, `lenframe::tokio::FrameReader` and
//! `FrameWriter`, with a frame deadline, its `read_frame` in a `tokio::select!` beside a
//! shutdown signal (it is cancel safe). The client uses `FrameCodec` in tokio-util's `Framed`:
//! both speak the same wire format. The client sends frames of several sizes (an empty one
//! among them), the server sends each one back, and the client checks every byte of every
//! echo. Run it with
//!
//! ```sh
//! cargo run --example async_echo --features tokio
//! ```

use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use lenframe::tokio::{FrameReader, FrameWriter};
use lenframe::{FrameCodec, FrameConfig};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio_util::codec::Framed;

/// Payload sizes the client sends, in order.
const SIZES: [usize; 7] = [5, 0, 1, 1000, 65_536, 1 << 20, 3];

/// A payload whose bytes depend on its index and size, so that a swapped or shifted frame
/// cannot pass the check.
fn payload(index: usize, len: usize) -> Bytes {
    (0..len)
        .map(|i| (i.wrapping_mul(31) ^ index.wrapping_mul(7)) as u8)
        .collect()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = FrameConfig::default().max_frame_len(2 << 20);
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    println!("server listening on {addr}");

    let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let (stream, peer) = listener.accept().await?;
        println!("server: accepted {peer}");
        let (read_half, write_half) = stream.into_split();
        let mut reader = FrameReader::with_config(read_half, config)?;
        let mut writer = FrameWriter::with_config(write_half, config)?;
        // A frame must arrive within 5 s of its first byte; idle time is not counted.
        reader.set_frame_timeout(Some(Duration::from_secs(5)));
        let mut echoed = 0u64;
        // Echo each frame until the client closes its side at a frame boundary, or the
        // shutdown signal comes: dropping a pending read_frame loses nothing.
        loop {
            tokio::select! {
                frame = reader.read_frame() => match frame? {
                    Some(frame) => {
                        writer.write_frame(frame).await?;
                        writer.flush().await?;
                        echoed += 1;
                    }
                    None => break,
                },
                _ = &mut stop_rx => {
                    println!("server: shutdown signal");
                    break;
                }
            }
        }
        // Frames that arrived with the last read are echoed too: none is dropped.
        while let Some(frame) = reader.next_buffered()? {
            writer.write_frame(frame).await?;
            echoed += 1;
        }
        writer.flush().await?;
        println!("server: done after {echoed} frames");
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(echoed)
    });

    let mut client = Framed::new(
        TcpStream::connect(addr).await?,
        FrameCodec::with_config(config)?,
    );
    for (index, &len) in SIZES.iter().enumerate() {
        let sent = payload(index, len);
        client.send(sent.clone()).await?;
        let echo = client
            .next()
            .await
            .ok_or("server closed before echoing")??;
        if echo[..] != sent[..] {
            return Err(format!("frame {index}: echo of {len} bytes differs").into());
        }
        println!("client: frame {index}: {len} bytes sent, echoed and verified");
    }
    // Close the write side: the server sees a clean end and stops. (The shutdown signal is
    // there for a server that must stop first; here it is not needed.)
    client.get_mut().shutdown().await?;
    if let Some(extra) = client.next().await {
        return Err(format!("unexpected frame or error after the last echo: {extra:?}").into());
    }
    let echoed = server.await?.map_err(|e| e.to_string())?;
    drop(stop_tx);
    let stats = client.codec().stats();
    println!(
        "done: {} frames ({} payload bytes) echoed and verified; server echoed {echoed}",
        stats.frames, stats.bytes
    );
    assert_eq!(echoed, SIZES.len() as u64);
    Ok(())
}
