//! `lenframe::tokio::FrameWriter` and `FrameReader`, each on a current-thread runtime of its
//! own thread.

use std::io;
use std::sync::Barrier;
use std::time::Instant;

use crate::sock::{tokio_side, Sock};

pub fn stream_write(tx: Sock, start: &Barrier, payload: &[u8], frames: usize) -> io::Result<()> {
    tokio_side(tx, start, |s| async move {
        let mut w = lenframe::tokio::FrameWriter::new(s);
        for _ in 0..frames {
            w.write_frame(payload).await?;
        }
        Ok(w.flush().await?)
    })
}

/// Reads `frames` frames of `size` bytes; returns when it began.
pub fn stream_read(rx: Sock, start: &Barrier, size: usize, frames: usize) -> io::Result<Instant> {
    tokio_side(rx, start, |s| {
        let began = Instant::now();
        async move {
            let mut r = lenframe::tokio::FrameReader::new(s);
            for _ in 0..frames {
                let frame = r.read_frame().await?.expect("the writer sends every frame");
                assert_eq!(frame.len(), size);
            }
            Ok(began)
        }
    })
}
