//! The classic loopback client and server, done right.
//!
//! A server on 127.0.0.1 (an ephemeral port, not a fixed 8080) echoes every frame it
//! receives; a client sends messages that the stream coalesces (a hundred small ones in one
//! write) and splits (one of 1 MiB, which arrives over many reads), plus the sizes and bytes
//! that break `read(fd, buf, 1024)` + `printf("%s")`: exactly 1024 and 1025 bytes, no NUL,
//! all NULs, and an empty message. The client checks every echoed byte. Then a hostile peer
//! declares a 4 GiB message and sends ten bytes: the server refuses it at the header.
//!
//! Run with `cargo run --example loopback`.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use lenframe::{FrameConfig, FrameError, FrameReader, FrameWriter};

/// A `Read` wrapper that records the size of every `read` call, to show what the stream did.
struct Tap<R> {
    inner: R,
    reads: Vec<usize>,
}

impl<R: Read> Read for Tap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.reads.push(n);
        Ok(n)
    }
}

const MAX_FRAME: usize = 2 * 1024 * 1024;

fn messages() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = (0..100)
        .map(|i| format!("message #{i}").into_bytes())
        .collect();
    out.push((0..1024 * 1024).map(|i| (i % 251) as u8).collect()); // 1 MiB
    out.push(vec![b'a'; 1024]); // exactly the article's buffer
    out.push(vec![b'b'; 1025]); // one byte more
    out.push(b"no NUL at the end".to_vec());
    out.push(vec![0; 64]); // nothing but NULs
    out.push(Vec::new()); // an empty message is still a message
    out
}

/// Serves one connection: echoes every frame, reports how reads and frames lined up.
fn serve(stream: TcpStream) -> Result<(), FrameError> {
    let cfg = FrameConfig::default().max_frame_len(MAX_FRAME);
    let mut writer = FrameWriter::with_config(stream.try_clone()?, cfg)?;
    let mut reader = FrameReader::with_config(
        Tap {
            inner: stream,
            reads: Vec::new(),
        },
        cfg,
    )?;
    reader
        .get_ref()
        .inner
        .set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut frames_per_read: Vec<usize> = Vec::new();
    let mut largest_split = (0, 0); // (frame length, reads it took)
    loop {
        let reads_before = reader.get_ref().reads.len();
        let Some(frame) = reader.read_frame()? else {
            break;
        };
        let len = frame.len();
        writer.write_frame(frame)?;
        let reads = reader.get_ref().reads.len();
        frames_per_read.resize(reads, 0);
        frames_per_read[reads - 1] += 1;
        if reads - reads_before > 1 && len > largest_split.0 {
            largest_split = (len, reads - reads_before);
        }
        // Flush once nothing more is buffered: echoes of coalesced frames go out together.
        if reader.read_buffer().is_empty() {
            writer.flush()?;
        }
    }
    writer.flush()?;
    let stats = reader.stats();
    let busiest = frames_per_read.iter().max().copied().unwrap_or(0);
    println!(
        "server: {} frames ({} bytes) in {} read() calls",
        stats.frames,
        stats.bytes,
        reader.get_ref().reads.len()
    );
    println!("server: coalesced: one read() call completed {busiest} frames");
    println!(
        "server: split: a frame of {} bytes arrived over {} read() calls",
        largest_split.0, largest_split.1
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    println!("server: listening on {addr}");

    let server = thread::spawn(move || -> Result<(), FrameError> {
        let (stream, _) = listener.accept()?;
        serve(stream)?;
        // A hostile peer: declares 4 GiB, sends ten bytes.
        let (stream, _) = listener.accept()?;
        let cfg = FrameConfig::default().max_frame_len(MAX_FRAME);
        let mut reader = FrameReader::with_config(stream, cfg)?;
        match reader.read_frame() {
            Err(e @ FrameError::TooLarge { .. }) => {
                println!(
                    "server: hostile peer refused at its header: {e} (buffer: {} bytes)",
                    reader.capacity()
                )
            }
            other => println!("server: unexpected answer to the hostile peer: {other:?}"),
        }
        Ok(())
    });

    // The client writes from one thread and reads the echoes on another, so that neither
    // side can block the other with a full socket buffer.
    let sent = messages();
    let stream = TcpStream::connect(addr)?;
    let mut writer = FrameWriter::new(stream.try_clone()?);
    let to_send = sent.clone();
    let sender = thread::spawn(move || -> Result<(), FrameError> {
        for message in &to_send {
            writer.write_frame(message)?;
        }
        writer.flush()?;
        writer.get_ref().shutdown(Shutdown::Write)?;
        Ok(())
    });
    let mut reader =
        FrameReader::with_config(stream, FrameConfig::default().max_frame_len(MAX_FRAME))?;
    reader.set_frame_timeout(Some(Duration::from_secs(10)));
    let mut echoed = 0;
    while let Some(frame) = reader.read_frame()? {
        let expected = sent.get(echoed).ok_or("more echoes than messages")?;
        if frame != &expected[..] {
            return Err(format!("echo #{echoed} differs from what was sent").into());
        }
        echoed += 1;
    }
    sender.join().expect("sender thread")?;
    if echoed != sent.len() {
        return Err(format!("{echoed} echoes for {} messages", sent.len()).into());
    }
    let bytes: usize = sent.iter().map(Vec::len).sum();
    println!("client: {echoed} frames ({bytes} bytes) echoed back, every byte verified");

    let mut hostile = TcpStream::connect(addr)?;
    hostile.write_all(&u32::MAX.to_be_bytes())?;
    hostile.write_all(b"0123456789")?;
    server.join().expect("server thread")?;
    Ok(())
}
