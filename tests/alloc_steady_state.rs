//! In steady state, reading and writing frames allocates nothing: the reader's and the
//! writer's buffers are allocated once and reused for every frame.
//!
//! A counting global allocator counts the allocations made by the current thread (tests run
//! in parallel threads of this one binary), and each test asserts that the count does not
//! move while many frames go through after a warm-up.

mod support;

use lenframe::{FrameConfig, FrameReader, FrameWriter, LengthField};
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::thread;

use support::alloc::{calls as allocations, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Payload sizes cycled through: small frames, and some over the 64 KiB buffers.
fn size_of(i: usize) -> usize {
    match i % 50 {
        49 => 100 * 1024 + i % 7,
        k => (k * 37 + i) % 2000,
    }
}

fn payload(i: usize) -> Vec<u8> {
    (0..size_of(i)).map(|j| (i ^ j) as u8).collect()
}

/// `count` frames of the sizes above, encoded with the default layout.
fn wire(count: usize) -> Vec<u8> {
    let mut w = FrameWriter::new(Vec::new());
    for i in 0..count {
        w.write_frame(&payload(i)).unwrap();
    }
    w.flush().unwrap();
    w.into_inner().expect("flushed")
}

#[test]
fn the_counter_sees_this_threads_allocations() {
    let before = allocations();
    let v = std::hint::black_box(vec![1u8; 10]);
    let mut w = std::hint::black_box(Vec::<u8>::with_capacity(1));
    w.extend_from_slice(&v);
    assert_eq!(
        allocations() - before,
        3,
        "one alloc, one alloc, one realloc"
    );
}

const WARM_UP: usize = 100;
const FRAMES: usize = 5_000;

#[test]
fn reader_over_a_slice_allocates_nothing_per_frame() {
    let wire = wire(WARM_UP + FRAMES);
    let mut reader = FrameReader::new(&wire[..]);
    for i in 0..WARM_UP {
        assert_eq!(reader.read_frame().unwrap().unwrap().len(), size_of(i));
    }
    let before = allocations();
    let mut bytes = 0;
    for i in WARM_UP..WARM_UP + FRAMES {
        let frame = reader.read_frame().unwrap().unwrap();
        assert_eq!(frame.len(), size_of(i));
        assert!(frame.iter().enumerate().all(|(j, &b)| b == (i ^ j) as u8));
        bytes += frame.len();
    }
    assert_eq!(reader.read_frame().unwrap(), None);
    assert_eq!(
        allocations() - before,
        0,
        "allocations while reading {bytes} bytes"
    );
    assert_eq!(reader.stats().frames, (WARM_UP + FRAMES) as u64);
}

#[test]
fn reader_over_a_varint_layout_allocates_nothing_per_frame() {
    let cfg = FrameConfig::default().length_field(LengthField::Varint);
    let mut w = FrameWriter::with_config(Vec::new(), cfg).unwrap();
    for i in 0..WARM_UP + FRAMES {
        w.write_frame(&vec![i as u8; size_of(i)]).unwrap();
    }
    w.flush().unwrap();
    let wire = w.into_inner().expect("flushed");
    let mut reader = FrameReader::with_config(&wire[..], cfg).unwrap();
    for _ in 0..WARM_UP {
        reader.read_frame().unwrap().unwrap();
    }
    let before = allocations();
    for i in WARM_UP..WARM_UP + FRAMES {
        let frame = reader.read_frame().unwrap().unwrap();
        assert_eq!(frame.len(), size_of(i));
        assert!(frame.iter().all(|&b| b == i as u8));
    }
    assert_eq!(allocations() - before, 0);
}

#[test]
fn reader_over_a_socket_allocates_nothing_per_frame() {
    let (mut tx, rx) = UnixStream::pair().unwrap();
    let wire = wire(WARM_UP + FRAMES);
    // The writer thread's allocations are its own; only the reading thread is counted.
    let writer = thread::spawn(move || tx.write_all(&wire));
    let mut reader = FrameReader::new(rx);
    for i in 0..WARM_UP {
        assert_eq!(reader.read_frame().unwrap().unwrap().len(), size_of(i));
    }
    let before = allocations();
    for i in WARM_UP..WARM_UP + FRAMES {
        let frame = reader.read_frame().unwrap().unwrap();
        assert_eq!(frame.len(), size_of(i));
        assert!(frame.iter().enumerate().all(|(j, &b)| b == (i ^ j) as u8));
    }
    let after = allocations();
    writer.join().unwrap().unwrap();
    assert_eq!(reader.read_frame().unwrap(), None);
    assert_eq!(after - before, 0);
}

/// A writer that keeps nothing, and counts the bytes it was given.
struct Counter(usize);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes the warm-up frames (their buffer grows to its full size on the way), then counts
/// the allocations made while writing `payloads` and flushing.
fn write_many<W: Write>(w: &mut FrameWriter<W>, payloads: &[Vec<u8>]) -> u64 {
    for i in 0..WARM_UP {
        w.write_frame(&payload(i)).unwrap();
    }
    w.flush().unwrap();
    let before = allocations();
    for p in payloads {
        w.write_frame(p).unwrap();
    }
    w.flush().unwrap();
    allocations() - before
}

#[test]
fn writer_allocates_nothing_per_frame() {
    let payloads: Vec<Vec<u8>> = (WARM_UP..WARM_UP + FRAMES).map(payload).collect();
    let warm_len: usize = (0..WARM_UP).map(|i| size_of(i) + 4).sum();
    let wire_len: usize = payloads.iter().map(|p| p.len() + 4).sum();
    let large = payloads.iter().filter(|p| p.len() > 64 * 1024).count();
    assert!(large >= 50, "some frames go out with a vectored write");

    // Into a Vec sized up front.
    let mut w = FrameWriter::new(Vec::with_capacity(warm_len + wire_len));
    assert_eq!(write_many(&mut w, &payloads), 0);
    assert_eq!(w.get_ref().len(), warm_len + wire_len);
    let mut reader = FrameReader::new(&w.get_ref()[..]);
    for i in 0..WARM_UP {
        assert_eq!(reader.read_frame().unwrap().unwrap().len(), size_of(i));
    }
    for p in &payloads {
        assert_eq!(reader.read_frame().unwrap(), Some(&p[..]));
    }
    assert_eq!(reader.read_frame().unwrap(), None);

    // Into io::sink(), and into a writer that counts what it is given.
    let mut w = FrameWriter::new(io::sink());
    assert_eq!(write_many(&mut w, &payloads), 0);
    let mut w = FrameWriter::new(Counter(0));
    assert_eq!(write_many(&mut w, &payloads), 0);
    assert_eq!(w.get_ref().0, warm_len + wire_len);
}

#[test]
fn writer_into_a_socket_allocates_nothing_per_frame() {
    let (tx, mut rx) = UnixStream::pair().unwrap();
    let payloads: Vec<Vec<u8>> = (WARM_UP..WARM_UP + FRAMES).map(payload).collect();
    let drain = thread::spawn(move || {
        let mut got = Vec::new();
        rx.read_to_end(&mut got).map(|_| got)
    });
    let mut w = FrameWriter::new(tx);
    assert_eq!(write_many(&mut w, &payloads), 0);
    drop(w);
    let got = drain.join().unwrap().unwrap();
    let mut reader = FrameReader::new(&got[..]);
    for i in 0..WARM_UP {
        assert_eq!(reader.read_frame().unwrap().unwrap().len(), size_of(i));
    }
    for p in &payloads {
        assert_eq!(reader.read_frame().unwrap(), Some(&p[..]));
    }
    assert_eq!(reader.read_frame().unwrap(), None);
}
