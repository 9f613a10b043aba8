//! Memory bounds under hostile prefixes, measured with a counting allocator: memory follows
//! the bytes that arrived, never the length a header declares.

mod support;

use std::io::ErrorKind;

use lenframe::{FrameConfig, FrameError, FrameReader, Oversize, DEFAULT_MAX_FRAME_LEN};
use lenframe_testkit::scripted::{ScriptedReader, Step};
use support::alloc::{measure, Counting};

#[global_allocator]
static ALLOC: Counting = Counting;

const STEP: usize = lenframe::DEFAULT_READ_CAPACITY;
const MAX: usize = DEFAULT_MAX_FRAME_LEN;

fn header(len: u32) -> Vec<u8> {
    len.to_be_bytes().to_vec()
}

#[test]
fn memory_header_over_limit_allocates_one_step() {
    let wire = header(u32::MAX);
    let (result, usage) = measure(|| {
        let mut reader = FrameReader::new(&wire[..]);
        reader.read_frame().map(|f| f.map(<[u8]>::len))
    });
    assert!(matches!(
        result,
        Err(FrameError::TooLarge {
            len: 4_294_967_295,
            max: MAX
        })
    ));
    assert_eq!(usage.largest, STEP);
    assert_eq!(usage.peak, STEP);
}

#[test]
fn memory_max_header_with_ten_bytes_costs_one_step() {
    let mut wire = header(MAX as u32);
    wire.extend_from_slice(&[1; 10]);
    let (result, usage) = measure(|| {
        let mut reader = FrameReader::new(&wire[..]);
        reader.read_frame().map(|f| f.map(<[u8]>::len))
    });
    assert!(
        matches!(result, Err(FrameError::Truncated { expected, received: 14 }) if expected == MAX as u64 + 4)
    );
    assert_eq!(
        usage.peak, STEP,
        "8 MiB declared, 10 bytes sent: one read step, not 8 MiB"
    );
}

#[test]
fn memory_max_minus_one_bytes_grows_with_bytes_received() {
    let mut wire = header(MAX as u32);
    wire.resize(4 + MAX - 1, 0xee);
    let received = wire.len();
    let (result, usage) = measure(|| {
        let mut reader = FrameReader::new(&wire[..]);
        reader.read_frame().map(|f| f.map(<[u8]>::len))
    });
    assert!(matches!(
        result,
        Err(FrameError::Truncated { expected, received: r }) if expected == MAX as u64 + 4 && r == received as u64
    ));
    // Growth in whole steps: never more than the bytes received plus one step.
    assert!(
        usage.peak <= received + STEP,
        "peak {} for {} bytes",
        usage.peak,
        received
    );
    assert!(usage.largest <= received + STEP);
}

#[test]
fn memory_idle_connections_with_max_headers_cost_one_step_each() {
    const CONNECTIONS: usize = 1000;
    const SMALL_STEP: usize = 4096;
    let sources: Vec<ScriptedReader> = (0..CONNECTIONS)
        .map(|_| {
            ScriptedReader::new(
                header(MAX as u32),
                [Step::Bytes(4), Step::Fail(ErrorKind::WouldBlock)],
            )
        })
        .collect();
    let (readers, usage) = measure(move || {
        let mut readers = Vec::with_capacity(CONNECTIONS);
        for source in sources {
            let mut reader =
                FrameReader::with_capacity(source, FrameConfig::default(), SMALL_STEP).unwrap();
            assert!(reader.read_frame().unwrap_err().is_would_block());
            assert_eq!(reader.read_buffer().len(), 4);
            readers.push(reader);
        }
        readers
    });
    let per_reader = std::mem::size_of::<FrameReader<ScriptedReader>>();
    let bound = CONNECTIONS * (SMALL_STEP + per_reader);
    assert!(
        usage.peak <= bound,
        "peak {} > {} for {} readers",
        usage.peak,
        bound,
        CONNECTIONS
    );
    // The largest allocation is the Vec holding the readers, not anything a header declared.
    assert_eq!(usage.largest, CONNECTIONS * per_reader);
    assert_eq!(readers.len(), CONNECTIONS);
}

#[test]
fn memory_skipped_frame_streams_past_without_buffering() {
    let declared = 64 * 1024 * 1024u32;
    let mut wire = header(declared);
    wire.resize(4 + declared as usize, 0x55);
    wire.extend_from_slice(&lenframe_testkit::reference::reference_encode(&[b"after"]));
    let cfg = FrameConfig::default()
        .max_frame_len(1024)
        .oversize(Oversize::Skip);
    let (frames, usage) = measure(|| {
        let mut reader = FrameReader::with_capacity(&wire[..], cfg, 8192).unwrap();
        let first = reader.read_frame().map(|f| f.map(<[u8]>::to_vec));
        let second = reader.read_frame().map(|f| f.map(<[u8]>::to_vec));
        (first, second, reader.stats())
    });
    assert!(
        matches!(frames.0, Err(FrameError::TooLarge { len, max: 1024 }) if len == u64::from(declared))
    );
    assert_eq!(frames.1.unwrap(), Some(b"after".to_vec()));
    assert_eq!(frames.2.skipped_bytes, u64::from(declared) + 4);
    // The 64 MiB went through an 8 KiB buffer (plus the 5-byte frame's copy).
    assert_eq!(usage.largest, 8192);
    assert!(usage.peak <= 8192 + 5, "peak {}", usage.peak);
}

#[test]
fn memory_one_byte_per_read_grows_geometrically() {
    const LEN: usize = 300_000;
    const SMALL_STEP: usize = 16 * 1024;
    let mut wire = header(LEN as u32);
    wire.resize(4 + LEN, 7);
    let calls = wire.len();
    let source = ScriptedReader::new(wire, std::iter::repeat_n(Step::Bytes(1), calls));
    let (len, usage) = measure(move || {
        let mut reader =
            FrameReader::with_capacity(source, FrameConfig::default(), SMALL_STEP).unwrap();
        let len = reader.read_frame().unwrap().map(<[u8]>::len);
        // The last growth stops at what the frame still needed.
        assert_eq!(reader.capacity(), 4 + LEN);
        len
    });
    assert_eq!(len, Some(LEN));
    // 16 KiB, then doubling while full (32, 64, 128, 256 KiB), then the 37,860 bytes the
    // frame still needed: six calls, not one per byte nor one per step.
    assert_eq!(usage.calls, 6);
}
