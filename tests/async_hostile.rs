//! The hostile-input floor (`/work/shared/HOSTILE-INPUT.md` items 1, 3, 6, 15 and the
//! steady state) on `lenframe::tokio::FrameReader`:
//! - a header declaring `u32::MAX` or 8 MiB + 1 is `TooLarge { len, max }` at the header,
//!   with no allocation over one capacity step (counting allocator), again on every call;
//! - a peer that declares 8 MiB and sends 10 bytes costs one step, while it waits and when
//!   the stream then ends (`Truncated` with exact counts);
//! - a small multi-frame stream ended at every offset, read one byte per poll with `Pending`
//!   between: exactly the whole frames before the end, then `Ok(None)` at a boundary or
//!   `Truncated { expected, received }`;
//! - an overlong or eleven-byte varint is `InvalidHeader`, for good;
//! - reading many small frames allocates nothing per frame after a warm-up.
//!
//! Futures are polled by hand with a no-op waker where allocations are counted, so that no
//! runtime allocates on the test's thread while it is measured.

mod support;

use std::pin::pin;
use std::time::Duration;

use lenframe::tokio::FrameReader;
use lenframe::{FrameConfig, FrameError, HeaderError, LengthField, DEFAULT_MAX_FRAME_LEN};
use tokio::io::AsyncWriteExt;

use lenframe_testkit::async_io::{
    poll_at_most, read_events_polled, AsyncStep, ScriptedAsyncReader,
};
use lenframe_testkit::reference::{payload, reference_stream};
use lenframe_testkit::strategies::expected_events;
use support::alloc::{calls as allocations, measure, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

const STEP: usize = 4096;
const MAX: usize = DEFAULT_MAX_FRAME_LEN;

/// Polls one `read_frame` on a reader that never returns `Pending`.
fn read_now(reader: &mut FrameReader<&[u8]>) -> Result<Option<Vec<u8>>, FrameError> {
    poll_at_most(pin!(reader.read_frame()), 1)
        .expect("a slice reader is always ready")
        .map(|f| f.map(<[u8]>::to_vec))
}

fn too_large(result: Result<Option<Vec<u8>>, FrameError>) -> (u64, usize) {
    match result {
        Err(FrameError::TooLarge { len, max }) => (len, max),
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[test]
fn header_over_the_limit_is_refused_at_the_header_within_one_step() {
    for declared in [u64::from(u32::MAX), MAX as u64 + 1] {
        let header = u32::try_from(declared).unwrap().to_be_bytes();
        // The header alone, and the header with a few payload bytes after it.
        for extra in [0usize, 10] {
            let mut wire = header.to_vec();
            wire.extend(payload(extra, 9));
            let mut reader =
                FrameReader::with_capacity(&wire[..], FrameConfig::default(), STEP).unwrap();
            let (result, usage) = measure(|| read_now(&mut reader));
            assert_eq!(too_large(result), (declared, MAX), "declared {declared}");
            assert!(usage.largest <= STEP, "{usage:?} for {declared}");
            assert!(reader.capacity() <= STEP, "capacity {}", reader.capacity());
            // Fatal: the same error on every later call, and still no growth.
            for _ in 0..3 {
                assert_eq!(too_large(read_now(&mut reader)), (declared, MAX));
            }
            assert!(reader.capacity() <= STEP);
        }
    }
}

/// Over a duplex stream that stays open: refused as soon as the header arrives.
#[tokio::test]
async fn header_over_the_limit_is_refused_without_waiting_for_the_body() {
    let (mut peer, ours) = tokio::io::duplex(64);
    peer.write_all(&u32::MAX.to_be_bytes()).await.unwrap();
    let mut reader = FrameReader::with_capacity(ours, FrameConfig::default(), STEP).unwrap();
    let result = reader.read_frame().await.map(|f| f.map(<[u8]>::to_vec));
    assert_eq!(too_large(result), (u64::from(u32::MAX), MAX));
    assert!(reader.capacity() <= STEP);
    drop(peer);
}

#[test]
fn declared_8_mib_with_10_bytes_sent_costs_one_step() {
    let mut wire = (MAX as u32).to_be_bytes().to_vec();
    wire.extend(payload(10, 3));
    let mut reader = FrameReader::with_capacity(&wire[..], FrameConfig::default(), STEP).unwrap();
    let (result, usage) = measure(|| read_now(&mut reader));
    assert!(
        matches!(
            result,
            Err(FrameError::Truncated { expected, received: 14 }) if expected == MAX as u64 + 4
        ),
        "{result:?}"
    );
    assert!(usage.largest <= STEP, "{usage:?}");
    assert!(usage.peak <= STEP, "{usage:?}");
    assert_eq!(reader.capacity(), STEP);
    assert_eq!(reader.state().read_buffer(), &wire[..]);
}

/// The same peer keeping the stream open: the reader waits holding one step (the default
/// 64 KiB), with the 14 bytes buffered.
#[tokio::test(start_paused = true)]
async fn declared_8_mib_with_10_bytes_sent_waits_holding_one_step() {
    let (mut peer, ours) = tokio::io::duplex(64);
    let mut wire = (MAX as u32).to_be_bytes().to_vec();
    wire.extend(payload(10, 3));
    peer.write_all(&wire).await.unwrap();
    let mut reader = FrameReader::new(ours);
    let waited = tokio::time::timeout(Duration::from_secs(5), reader.read_frame()).await;
    assert!(waited.is_err(), "no frame can be complete");
    assert_eq!(reader.capacity(), lenframe::DEFAULT_READ_CAPACITY);
    assert_eq!(reader.state().read_buffer(), &wire[..]);
    // The stream ends: the frame was cut short, with the exact counts.
    drop(peer);
    let result = reader.read_frame().await.map(|f| f.map(<[u8]>::to_vec));
    assert!(
        matches!(
            result,
            Err(FrameError::Truncated { expected, received: 14 }) if expected == MAX as u64 + 4
        ),
        "{result:?}"
    );
}

/// One byte per poll, with `Pending` between every two polls, dropped after every poll.
fn byte_at_a_time(len: usize) -> Vec<AsyncStep> {
    (0..=len)
        .flat_map(|_| [AsyncStep::Pending, AsyncStep::Bytes(1)])
        .collect()
}

#[test]
fn truncated_at_every_offset_gives_exact_counts() {
    let payloads: Vec<Vec<u8>> = vec![vec![], vec![1], vec![2; 5], vec![3; 4], vec![4; 130]];
    for cfg in [
        FrameConfig::default().max_frame_len(200),
        FrameConfig::default()
            .length_field(LengthField::Varint)
            .max_frame_len(200),
        FrameConfig::default()
            .length_field(LengthField::U16Le)
            .length_field_offset(2)
            .max_frame_len(200),
    ] {
        let wire = reference_stream(&cfg, &payloads);
        for cut in 0..=wire.len() {
            let script = byte_at_a_time(cut);
            let mut reader = FrameReader::with_capacity(
                ScriptedAsyncReader::new(wire[..cut].to_vec(), script),
                cfg,
                3,
            )
            .unwrap();
            let polled = read_events_polled(&mut reader, &[Some(1)], 4 * cut + 16);
            assert!(polled.finished, "cut at {cut}: {:?}", polled.events);
            assert!(polled.io_errors.is_empty());
            assert_eq!(
                polled.events,
                expected_events(&cfg, &payloads, Some(cut)),
                "{cfg:?} cut at {cut}"
            );
        }
    }
}

#[test]
fn overlong_and_eleven_byte_varints_are_invalid_for_good() {
    let cfg = FrameConfig::default().length_field(LengthField::Varint);
    let cases: [(&[u8], HeaderError); 4] = [
        (&[0x80, 0x00], HeaderError::VarintOverlong { len: 2 }),
        (
            &[0x81, 0x80, 0x00, 7],
            HeaderError::VarintOverlong { len: 3 },
        ),
        (&[0xff; 11], HeaderError::VarintTooLong),
        (
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02],
            HeaderError::VarintOverflow,
        ),
    ];
    for (wire, want) in cases {
        // A valid frame first: delivered, then the invalid header.
        let mut bytes = vec![1, b'a'];
        bytes.extend_from_slice(wire);
        let mut reader = FrameReader::with_capacity(&bytes[..], cfg, STEP).unwrap();
        assert_eq!(read_now(&mut reader).unwrap(), Some(b"a".to_vec()));
        for _ in 0..3 {
            match read_now(&mut reader) {
                Err(FrameError::InvalidHeader(got)) => assert_eq!(got, want, "{wire:x?}"),
                other => panic!("{wire:x?}: expected InvalidHeader, got {other:?}"),
            }
        }
        assert!(reader.capacity() <= STEP);
    }
}

const WARM_UP: usize = 100;
const FRAMES: usize = 5_000;

/// Frames of 0 to 199 bytes.
fn small_frames(count: usize) -> Vec<Vec<u8>> {
    (0..count).map(|i| payload(i * 37 % 200, i as u8)).collect()
}

#[test]
fn reading_small_frames_allocates_nothing_per_frame() {
    let frames = small_frames(WARM_UP + FRAMES);
    let wire = reference_stream(&FrameConfig::default(), &frames);
    let mut reader = FrameReader::new(&wire[..]);
    for frame in &frames[..WARM_UP] {
        assert_eq!(read_now(&mut reader).unwrap().as_ref(), Some(frame));
    }
    let before = allocations();
    for frame in &frames[WARM_UP..] {
        let got = poll_at_most(pin!(reader.read_frame()), 1).unwrap().unwrap();
        assert_eq!(got, Some(&frame[..]));
    }
    let got = poll_at_most(pin!(reader.read_frame()), 1).unwrap().unwrap();
    assert_eq!(got, None);
    assert_eq!(
        allocations() - before,
        0,
        "allocations over {FRAMES} frames"
    );
    assert_eq!(reader.stats().frames, (WARM_UP + FRAMES) as u64);
}

/// The same through `Pending` and short reads of 1 to 50 bytes, with futures dropped on
/// `Pending` and made again.
#[test]
fn reading_small_frames_through_pending_and_short_reads_allocates_nothing_per_frame() {
    let frames = small_frames(WARM_UP + FRAMES);
    let wire = reference_stream(&FrameConfig::default(), &frames);
    let script: Vec<AsyncStep> = (0..wire.len())
        .map(|i| match i % 3 {
            0 => AsyncStep::Pending,
            _ => AsyncStep::Bytes(1 + i % 50),
        })
        .collect();
    let mut reader = FrameReader::with_capacity(
        ScriptedAsyncReader::new(wire, script),
        FrameConfig::default(),
        256,
    )
    .unwrap();
    let mut delivered = 0;
    let mut before = None;
    for _ in 0..20 * (WARM_UP + FRAMES) {
        if delivered == WARM_UP && before.is_none() {
            before = Some(allocations());
        }
        let outcome = poll_at_most(pin!(reader.read_frame()), 1);
        match outcome {
            None => {}
            Some(Ok(Some(frame))) => {
                assert_eq!(frame, &frames[delivered][..]);
                delivered += 1;
            }
            Some(Ok(None)) => break,
            Some(Err(e)) => panic!("{e}"),
        }
    }
    assert_eq!(delivered, frames.len());
    let before = before.expect("warmed up");
    assert_eq!(
        allocations() - before,
        0,
        "allocations over {FRAMES} frames"
    );
}
