//! tokio-util's `FramedWrite` and `FramedRead`, each on a current-thread runtime of its own
//! thread, with a codec: tokio-util's `LengthDelimitedCodec` or lenframe's `FrameCodec`.

use std::io;
use std::sync::Barrier;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use tokio_util::codec::{Decoder, Encoder, FramedRead, FramedWrite};

use crate::sock::{tokio_side, Sock};

pub fn stream_write<C, E>(
    tx: Sock,
    start: &Barrier,
    payload: &[u8],
    frames: usize,
    codec: C,
) -> io::Result<()>
where
    C: Encoder<Bytes, Error = E>,
    E: From<io::Error>,
    io::Error: From<E>,
{
    let payload = Bytes::copy_from_slice(payload);
    tokio_side(tx, start, |s| async move {
        let mut w = FramedWrite::new(s, codec);
        for _ in 0..frames {
            w.feed(payload.clone()).await?;
        }
        Ok(SinkExt::<Bytes>::flush(&mut w).await?)
    })
}

/// Reads `frames` frames of `size` bytes; returns when it began.
pub fn stream_read<C, E>(
    rx: Sock,
    start: &Barrier,
    size: usize,
    frames: usize,
    codec: C,
) -> io::Result<Instant>
where
    C: Decoder<Item = BytesMut, Error = E>,
    E: From<io::Error>,
    io::Error: From<E>,
{
    tokio_side(rx, start, |s| {
        let began = Instant::now();
        async move {
            let mut r = FramedRead::new(s, codec);
            for _ in 0..frames {
                let frame = r.next().await.expect("the writer sends every frame")?;
                assert_eq!(frame.len(), size);
            }
            Ok(began)
        }
    })
}
