//! Memory given back after large frames, measured with a counting allocator: a reader that
//! once received a large frame holds two steps again, not the large frame's buffer, and a
//! stream that keeps alternating large and small frames does not reallocate on every frame.

mod support;

use std::io::Read;

use lenframe::{FrameReader, DEFAULT_READ_CAPACITY};
use lenframe_testkit::reference::{payload, reference_encode};
use lenframe_testkit::scripted::{Idle, PacedReader};
use support::alloc::{live, measure, Counting};

#[global_allocator]
static ALLOC: Counting = Counting;

const STEP: usize = DEFAULT_READ_CAPACITY;
const MIB: usize = 1024 * 1024;
/// What a reader keeps by default after a large frame: two steps.
const RETAINED: usize = 2 * STEP;

/// One 8 MiB frame, then three small ones.
fn large_then_small() -> Vec<u8> {
    let large = payload(8 * MIB, 1);
    reference_encode(&[&large[..], b"a", b"bb", b"ccc"])
}

/// Reads the 8 MiB frame and the three small ones, checking each.
fn read_large_then_small<R: std::io::Read>(reader: &mut FrameReader<R>) {
    assert_eq!(reader.read_frame().unwrap().map(<[u8]>::len), Some(8 * MIB));
    for small in [&b"a"[..], b"bb", b"ccc"] {
        assert_eq!(reader.read_frame().unwrap(), Some(small));
    }
}

/// How many readers the many-readers test keeps: 1,000 (`LENFRAME_READERS` overrides it).
fn reader_count() -> usize {
    std::env::var("LENFRAME_READERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

#[test]
fn memory_many_readers_give_back_their_large_frame_buffers() {
    let readers_wanted = reader_count();
    let wire = large_then_small();
    // One reader alone, to see its peak while the large frame is buffered.
    let (_, one) = measure(|| {
        let mut reader = FrameReader::new(&wire[..]);
        read_large_then_small(&mut reader);
    });
    assert!(
        one.peak <= 2 * (8 * MIB + 4) + STEP,
        "peak {} for one reader",
        one.peak
    );
    // A thousand, one at a time, each kept alive after its frames.
    let mut readers = Vec::with_capacity(readers_wanted);
    let base = live();
    for _ in 0..readers_wanted {
        // A connection that then goes quiet: its next read finds nothing for now.
        let mut reader = FrameReader::new(Read::chain(&wire[..], Idle));
        read_large_then_small(&mut reader);
        // The small frames came with the large frame's last bytes: the buffer went back to
        // two steps as soon as the first of them was asked for, before any read.
        assert_eq!(reader.capacity(), RETAINED);
        assert!(reader.read_frame().unwrap_err().is_would_block());
        readers.push(reader);
    }
    let held = live() - base;
    for reader in &readers {
        assert_eq!(reader.capacity(), RETAINED);
    }
    // Nothing but the buffers themselves: 128 KiB each, against the 8,256 KiB each held
    // with shrinking off.
    assert_eq!(held, readers_wanted * RETAINED);
    println!(
        "{readers_wanted} readers after an 8 MiB frame: {} KiB each, {} KiB live in all; \
         one reader's peak {} KiB",
        RETAINED / 1024,
        held / 1024,
        one.peak / 1024
    );
    drop(readers);
}

#[test]
fn memory_shrink_off_keeps_the_large_buffer() {
    let wire = large_then_small();
    let mut reader = FrameReader::new(&wire[..]);
    reader.set_shrink_to(None);
    read_large_then_small(&mut reader);
    assert_eq!(reader.read_frame().unwrap(), None);
    assert_eq!(reader.capacity(), 8 * MIB + STEP);
}

#[test]
fn memory_large_frame_then_idle_shrinks_at_the_next_read() {
    let large = payload(MIB, 2);
    let source = Read::chain(PacedReader::frames(&[&large[..]]), Idle);
    let mut reader = FrameReader::new(source);
    assert_eq!(reader.read_frame().unwrap(), Some(&large[..]));
    assert!(reader.capacity() > MIB, "capacity {}", reader.capacity());
    // Nothing more comes: the read that finds nothing gives the memory back first.
    let (err, usage) = measure(|| reader.read_frame().unwrap_err());
    assert!(err.is_would_block(), "{err:?}");
    assert_eq!(reader.capacity(), RETAINED);
    assert_eq!(usage.calls, 1, "one reallocation down to two steps");
}

#[test]
fn memory_alternating_large_and_small_frames_do_not_reallocate_every_frame() {
    const FRAMES: usize = 200;
    /// The most small frames the buffer waits for after large ones before it shrinks.
    const MAX_HOLD: usize = 64;
    let large = payload(MIB, 3);
    let mut frames: Vec<&[u8]> = (0..FRAMES)
        .map(|i| {
            if i % 2 == 0 {
                &large[..]
            } else {
                &b"small"[..]
            }
        })
        .collect();
    frames.extend(std::iter::repeat_n(&b"quiet"[..], MAX_HOLD));
    // Each frame arrives in reads of its own, as from a peer that writes one and waits.
    let mut reader = FrameReader::new(PacedReader::frames(&frames));
    let (delivered, usage) = measure(|| {
        let mut delivered = 0;
        for frame in &frames[..FRAMES] {
            assert_eq!(reader.read_frame().unwrap(), Some(*frame));
            delivered += 1;
        }
        delivered
    });
    assert_eq!(delivered, FRAMES);
    println!(
        "{FRAMES} alternating 1 MiB and 5-byte frames: {} allocator calls",
        usage.calls
    );
    assert!(
        usage.calls < FRAMES as u64 / 4,
        "{} allocator calls for {FRAMES} frames",
        usage.calls
    );
    // Once large frames stay away, the buffer still goes back to two steps.
    for frame in &frames[FRAMES..] {
        assert_eq!(reader.read_frame().unwrap(), Some(*frame));
    }
    assert_eq!(reader.read_frame().unwrap(), None);
    assert_eq!(reader.capacity(), RETAINED);
}

#[cfg(feature = "tokio")]
#[tokio::test(flavor = "current_thread")]
async fn memory_tokio_reader_gives_back_its_large_frame_buffer() {
    let wire = large_then_small();
    let mut reader = lenframe::tokio::FrameReader::new(&wire[..]);
    assert_eq!(
        reader.read_frame().await.unwrap().map(<[u8]>::len),
        Some(8 * MIB)
    );
    assert!(reader.capacity() >= 8 * MIB);
    for small in [&b"a"[..], b"bb", b"ccc"] {
        assert_eq!(reader.read_frame().await.unwrap(), Some(small));
        // Given back as soon as the first small frame was asked for.
        assert_eq!(reader.capacity(), RETAINED);
    }
    assert_eq!(reader.read_frame().await.unwrap(), None);
    assert_eq!(reader.capacity(), RETAINED);
    // And with shrinking off, the buffer is kept.
    let mut kept = lenframe::tokio::FrameReader::new(&wire[..]);
    kept.state_mut().set_shrink_to(None);
    while kept.read_frame().await.unwrap().is_some() {}
    assert_eq!(kept.capacity(), 8 * MIB + STEP);
}
