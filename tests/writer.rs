//! FrameWriter over scripted writers: exact bytes, syscall shape, resumption and poisoning.

use std::io::{self, ErrorKind};

use lenframe::{FrameConfig, FrameError, FrameWriter, LengthField};
use lenframe_testkit::reference::reference_encode;
use lenframe_testkit::scripted::{ScriptedWriter, Step};

fn writer(script: Vec<Step>, capacity: usize) -> FrameWriter<ScriptedWriter> {
    FrameWriter::with_capacity(
        ScriptedWriter::new(script),
        FrameConfig::default(),
        capacity,
    )
    .unwrap()
}

#[test]
fn write_small_frames_go_out_together_on_flush() {
    let mut w = writer(vec![], 1024);
    for frame in [&b"a"[..], b"", b"bcd"] {
        w.write_frame(frame).unwrap();
    }
    assert!(
        w.get_ref().writes.is_empty(),
        "nothing written before flush"
    );
    w.flush().unwrap();
    assert_eq!(w.get_ref().data, reference_encode(&[b"a", b"", b"bcd"]));
    assert_eq!(w.get_ref().writes, [16]);
    assert_eq!(w.get_ref().flushes, 1);
    assert_eq!((w.stats().frames, w.stats().bytes), (3, 4));
}

#[test]
fn write_large_frame_is_one_vectored_write_with_pending_bytes() {
    let big = vec![0xabu8; 5000];
    let mut w = writer(vec![], 1024);
    w.write_frame(b"small").unwrap();
    w.write_frame(&big).unwrap();
    // The pending small frame, the header and the payload went out in one call.
    assert_eq!(w.get_ref().writes, [9 + 4 + 5000]);
    assert_eq!(w.get_ref().data, reference_encode(&[b"small", &big]));
    assert!(w.buffer().is_empty());
}

#[test]
fn write_buffer_full_flushes_before_accepting() {
    let mut w = writer(vec![], 10);
    w.write_frame(b"12345").unwrap(); // 9 bytes buffered
    w.write_frame(b"6").unwrap(); // 5 more would overflow: the first goes out
    assert_eq!(w.get_ref().writes, [9]);
    w.flush().unwrap();
    assert_eq!(w.get_ref().data, reference_encode(&[b"12345", b"6"]));
}

#[test]
fn write_short_counts_and_interrupted_give_exact_bytes() {
    let mut script = Vec::new();
    for i in 0..200 {
        script.push(if i % 7 == 3 {
            Step::Fail(ErrorKind::Interrupted)
        } else {
            Step::Bytes(1 + i % 3)
        });
    }
    let frames: Vec<Vec<u8>> = (0..30).map(|i| vec![i as u8; i * 11]).collect();
    let mut w = writer(script, 64);
    for f in &frames {
        w.write_frame(f).unwrap();
    }
    w.flush().unwrap();
    let refs: Vec<&[u8]> = frames.iter().map(|f| &f[..]).collect();
    assert_eq!(w.get_ref().data, reference_encode(&refs));
}

#[test]
fn write_would_block_before_any_byte_refuses_the_frame() {
    let big = vec![1u8; 100];
    let mut w = writer(vec![Step::Fail(ErrorKind::WouldBlock)], 16);
    let err = w.write_frame(&big).unwrap_err();
    assert!(err.is_would_block());
    assert!(
        w.buffer().is_empty(),
        "the refused frame left nothing behind"
    );
    assert_eq!(w.stats().frames, 0);
    w.write_frame(&big).unwrap();
    assert_eq!(w.get_ref().data, reference_encode(&[&big]));
}

#[test]
fn write_would_block_mid_frame_keeps_the_rest_for_flush() {
    let big: Vec<u8> = (0..100u8).collect();
    let script = vec![
        Step::Bytes(10),
        Step::Fail(ErrorKind::WouldBlock),
        Step::Fail(ErrorKind::WouldBlock),
    ];
    let mut w = writer(script, 16);
    // Part of the frame went out: it is accepted, the rest waits in the buffer.
    w.write_frame(&big).unwrap();
    assert_eq!(w.buffer().len(), 104 - 10);
    assert!(w.flush().unwrap_err().is_would_block());
    assert_eq!(w.buffer().len(), 94);
    w.flush().unwrap();
    assert_eq!(w.get_ref().data, reference_encode(&[&big]));
    assert!(!w.is_poisoned());
}

#[test]
fn write_would_block_on_full_buffer_refuses_next_small_frame() {
    let script = vec![Step::Bytes(3), Step::Fail(ErrorKind::WouldBlock)];
    let mut w = writer(script, 12);
    w.write_frame(b"abcdef").unwrap(); // 10 bytes buffered
    let err = w.write_frame(b"gh").unwrap_err(); // flush: 3 bytes out, then WouldBlock
    assert!(err.is_would_block());
    assert_eq!(w.buffer(), &reference_encode(&[b"abcdef"])[3..]);
    w.write_frame(b"gh").unwrap();
    w.flush().unwrap();
    assert_eq!(w.get_ref().data, reference_encode(&[b"abcdef", b"gh"]));
}

#[test]
fn write_hard_error_mid_frame_poisons() {
    let big = vec![2u8; 100];
    let script = vec![Step::Bytes(50), Step::Fail(ErrorKind::BrokenPipe)];
    let mut w = writer(script, 16);
    match w.write_frame(&big) {
        Err(FrameError::Io(e)) => assert_eq!(e.kind(), ErrorKind::BrokenPipe),
        other => panic!("expected BrokenPipe, got {other:?}"),
    }
    assert!(w.is_poisoned());
    assert!(matches!(w.write_frame(b"x"), Err(FrameError::Poisoned)));
    assert!(matches!(w.flush(), Err(FrameError::Poisoned)));
    assert_eq!(w.get_ref().data.len(), 50, "nothing more was written");
}

#[test]
fn write_zero_is_an_error_not_a_loop() {
    let mut w = writer(vec![Step::Bytes(0)], 1024);
    w.write_frame(b"abc").unwrap();
    match w.flush() {
        Err(FrameError::Io(e)) => assert_eq!(e.kind(), ErrorKind::WriteZero),
        other => panic!("expected WriteZero, got {other:?}"),
    }
    assert!(w.is_poisoned());
}

#[test]
fn write_hard_error_at_a_boundary_with_nothing_pending_does_not_poison() {
    let mut w = writer(vec![Step::Fail(ErrorKind::ConnectionReset)], 16);
    let err = w.write_frame(&[0u8; 64]).unwrap_err();
    assert!(matches!(err, FrameError::Io(ref e) if e.kind() == ErrorKind::ConnectionReset));
    assert!(!w.is_poisoned());
    assert!(w.get_ref().data.is_empty());
}

#[test]
fn write_over_limit_or_field_is_refused_before_any_byte() {
    let cfg = FrameConfig::default().max_frame_len(8);
    let mut w = FrameWriter::with_config(ScriptedWriter::default(), cfg).unwrap();
    w.write_frame(b"12345678").unwrap();
    assert!(matches!(
        w.write_frame(b"123456789"),
        Err(FrameError::TooLarge { len: 9, max: 8 })
    ));
    w.flush().unwrap();
    assert_eq!(w.get_ref().data, reference_encode(&[b"12345678"]));

    let narrow = FrameConfig::default().length_field(LengthField::U16Be);
    let mut w = FrameWriter::with_config(ScriptedWriter::default(), narrow).unwrap();
    let err = w.write_frame(&vec![0; 70_000]).unwrap_err();
    assert!(matches!(
        err,
        FrameError::TooLarge {
            len: 70_000,
            max: 65_535
        }
    ));
    w.flush().unwrap();
    assert!(w.get_ref().data.is_empty(), "the sink stays empty");
    assert!(!w.is_poisoned());
}

#[test]
fn write_offset_and_adjustment_layout() {
    let cfg = FrameConfig::default()
        .length_field(LengthField::U16Le)
        .length_field_offset(1)
        .length_adjustment(-3);
    let mut w = FrameWriter::with_config(Vec::new(), cfg).unwrap();
    w.write_frame(b"hey").unwrap();
    w.flush().unwrap();
    assert_eq!(w.get_ref(), b"\x00\x06\x00hey");
}

#[test]
fn write_drop_without_flush_discards_buffered_frames() {
    let mut sink = Vec::new();
    {
        let mut w = FrameWriter::new(&mut sink);
        w.write_frame(b"lost").unwrap();
        assert_eq!(w.buffer(), reference_encode(&[b"lost"]));
    }
    assert!(sink.is_empty());
}

#[test]
fn write_flush_error_of_inner_is_returned() {
    struct FailingFlush;
    impl io::Write for FailingFlush {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(ErrorKind::Other.into())
        }
    }
    let mut w = FrameWriter::new(FailingFlush);
    w.write_frame(b"x").unwrap();
    assert!(matches!(w.flush(), Err(FrameError::Io(ref e)) if e.kind() == ErrorKind::Other));
}
