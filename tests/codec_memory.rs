//! Memory of `FrameCodec` inside tokio-util's `FramedRead`, measured with a counting
//! allocator: the read buffer follows the bytes that arrived, never the declared length, and
//! a large frame costs a logarithmic number of allocations.

mod support;

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::StreamExt;
use lenframe::{FrameCodec, DEFAULT_MAX_FRAME_LEN};
use support::alloc::{measure, Counting};
use tokio::io::{AsyncRead, ReadBuf};
use tokio_util::codec::FramedRead;

#[global_allocator]
static ALLOC: Counting = Counting;

/// `FramedRead`'s initial read buffer.
const FRAMED_INITIAL: usize = 8 * 1024;
const CHUNK: usize = 64 * 1024;

/// Hands out its bytes at most `CHUNK` per read, then stays pending: a peer that went quiet.
struct Quiet<'a>(&'a [u8]);

impl AsyncRead for Quiet<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.0.is_empty() {
            return Poll::Pending;
        }
        let n = CHUNK.min(buf.remaining()).min(self.0.len());
        let (now, rest) = self.0.split_at(n);
        buf.put_slice(now);
        self.0 = rest;
        Poll::Ready(Ok(()))
    }
}

/// A header declaring `declared` bytes, then `sent` bytes of payload.
fn wire(declared: usize, sent: usize) -> Vec<u8> {
    let mut wire = u32::try_from(declared).unwrap().to_be_bytes().to_vec();
    wire.resize(4 + sent, 0x33);
    wire
}

/// Polls `reader` until it is pending (every byte read) or yields; returns what it yielded.
fn poll_once(reader: &mut FramedRead<Quiet<'_>, FrameCodec>) -> Poll<Option<usize>> {
    let waker = futures_util::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    reader
        .poll_next_unpin(&mut cx)
        .map(|f| f.map(|f| f.expect("a valid frame").len()))
}

#[test]
fn codec_hostile_header_buffer_is_at_most_twice_the_bytes_received() {
    for sent in [
        0,
        10,
        5_000,
        100_000,
        1 << 20,
        3 << 20,
        DEFAULT_MAX_FRAME_LEN - 1,
    ] {
        let wire = wire(DEFAULT_MAX_FRAME_LEN, sent);
        let received = wire.len();
        let (capacity, usage) = measure(|| {
            let mut reader = FramedRead::new(Quiet(&wire), FrameCodec::new());
            assert_eq!(poll_once(&mut reader), Poll::Pending);
            assert_eq!(reader.read_buffer().len(), received);
            reader.read_buffer().capacity()
        });
        let bound = (2 * received).max(FRAMED_INITIAL);
        assert!(
            capacity <= bound,
            "8 MiB declared, {received} bytes received: capacity {capacity} over {bound}"
        );
        // The buffer, and the few bytes of the header `bytes` shares it through.
        assert!(
            usage.peak <= bound + 64,
            "8 MiB declared, {received} bytes received: peak {} over {bound}",
            usage.peak
        );
    }
}

#[test]
fn codec_8_mib_frame_in_64_kib_reads_costs_logarithmic_allocations() {
    let wire = wire(DEFAULT_MAX_FRAME_LEN, DEFAULT_MAX_FRAME_LEN);
    let (len, usage) = measure(|| {
        let mut reader = FramedRead::new(Quiet(&wire), FrameCodec::new());
        loop {
            if let Poll::Ready(frame) = poll_once(&mut reader) {
                break frame.expect("one frame");
            }
        }
    });
    assert_eq!(len, DEFAULT_MAX_FRAME_LEN);
    // The initial 8 KiB, one doubling per power of two up to 8 MiB + 4 (11), and the
    // shared header `split_to` allocates to hand out the frame: 13 in all.
    let doublings = (wire.len().div_ceil(FRAMED_INITIAL))
        .next_power_of_two()
        .ilog2();
    assert!(
        usage.calls <= 2 + u64::from(doublings),
        "{} allocation calls for an 8 MiB frame",
        usage.calls
    );
    // Twice the frame, and the few bytes of the shared header.
    assert!(usage.peak <= 2 * wire.len() + 64, "peak {}", usage.peak);
}

#[test]
fn codec_stream_of_large_frames_allocates_nothing_once_warmed_up() {
    // Frames just over 1 MiB never line up with the buffer, so most of them have to be
    // moved to the front of it: that reuses the buffer, and allocates nothing.
    let size = (1 << 20) + 100;
    let frames = 24;
    let mut wire = Vec::new();
    for _ in 0..frames {
        wire.extend_from_slice(&u32::try_from(size).unwrap().to_be_bytes());
        wire.resize(wire.len() + size, 0x5a);
    }
    let mut reader = FramedRead::new(Quiet(&wire), FrameCodec::new());
    let mut next = || loop {
        if let Poll::Ready(frame) = poll_once(&mut reader) {
            break frame.expect("a frame");
        }
    };
    for _ in 0..4 {
        assert_eq!(next(), size);
    }
    // Warmed up: the remaining frames cost no allocation at all.
    let (_, usage) = measure(|| {
        for _ in 4..frames {
            assert_eq!(next(), size);
        }
    });
    assert_eq!(usage.calls, 0);
}
