//! Growth: one frame of the maximum size (8 MiB), delivered one byte per read and in one
//! go, for lenframe and tokio-util: time, allocator calls, bytes moved by `realloc`.

use std::io::{self, Read};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_util::{FutureExt, StreamExt};
use lenframe::FrameReader;
use tokio::io::{AsyncRead, ReadBuf};
use tokio_util::codec::{FramedRead, LengthDelimitedCodec};

use crate::stats::median;
use crate::{alloc as counting, Opts, MIB};

/// Hands out one byte per read.
struct OneByte<'a>(&'a [u8]);

impl Read for OneByte<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match (self.0.split_first(), buf.first_mut()) {
            (Some((&b, rest)), Some(slot)) => {
                *slot = b;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

impl AsyncRead for OneByte<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if buf.remaining() > 0 {
            if let Some((&b, rest)) = self.0.split_first() {
                buf.put_slice(&[b]);
                self.0 = rest;
            }
        }
        Poll::Ready(Ok(()))
    }
}

pub fn growth_part(opts: &Opts) -> io::Result<()> {
    let len = lenframe::DEFAULT_MAX_FRAME_LEN;
    let mut wire = Vec::with_capacity(len + 4);
    wire.extend_from_slice(&(len as u32).to_be_bytes());
    wire.extend((0..len).map(|i| i as u8));
    let reps = opts.reps;
    println!("\n### One 8 MiB frame (median of {reps} runs)\n");
    println!("| delivery | reader | time | allocs | reallocs | bytes moved by realloc | peak heap | reads |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    type Case<'a> = (
        &'static str,
        &'static str,
        Box<dyn Fn() -> (usize, usize) + 'a>,
    );
    let cases: Vec<Case<'_>> = vec![
        (
            "1 byte per read",
            "lenframe FrameReader",
            Box::new(|| {
                let mut r = FrameReader::new(OneByte(&wire));
                let n = r.read_frame().unwrap().expect("one frame").len();
                (n, wire.len())
            }),
        ),
        (
            "1 byte per read",
            "tokio-util FramedRead",
            Box::new(|| {
                let mut r = FramedRead::new(OneByte(&wire), LengthDelimitedCodec::new());
                let frame = r.next().now_or_never().expect("ready").expect("one frame");
                (frame.unwrap().len(), wire.len())
            }),
        ),
        (
            "in one go (&[u8])",
            "lenframe FrameReader",
            Box::new(|| {
                let mut r = FrameReader::new(&wire[..]);
                let n = r.read_frame().unwrap().expect("one frame").len();
                (n, wire.len().div_ceil(lenframe::DEFAULT_READ_CAPACITY))
            }),
        ),
        (
            "in one go (&[u8])",
            "tokio-util FramedRead",
            Box::new(|| {
                let mut r = FramedRead::new(&wire[..], LengthDelimitedCodec::new());
                let frame = r.next().now_or_never().expect("ready").expect("one frame");
                (frame.unwrap().len(), 0)
            }),
        ),
    ];
    for (delivery, name, case) in &cases {
        let mut times = Vec::new();
        let mut last = None;
        for _ in 0..reps {
            let base = counting::reset();
            let t0 = Instant::now();
            let (n, reads) = case();
            let dt = t0.elapsed();
            let after = counting::now();
            assert_eq!(n, len);
            times.push(dt.as_secs_f64());
            last = Some((
                after.allocs - base.allocs,
                after.reallocs - base.reallocs,
                after.moved - base.moved,
                counting::peak() - base.live,
                reads,
            ));
        }
        let (allocs, reallocs, moved, peak, reads) = last.expect("at least one run");
        let reads = if *name == "tokio-util FramedRead" && reads == 0 {
            "-".to_string()
        } else {
            reads.to_string()
        };
        println!(
            "| {} | {} | {:.1} ms | {} | {} | {:.1} MiB | {:.2} MiB | {} |",
            delivery,
            name,
            median(times) * 1e3,
            allocs,
            reallocs,
            moved as f64 / MIB as f64,
            peak as f64 / MIB as f64,
            reads
        );
    }
    Ok(())
}
