//! Frames through an OS pipe, as between a parent and a child process.

use std::thread;

use lenframe::{FrameReader, FrameWriter};

#[test]
fn read_frames_through_a_pipe() {
    let (pipe_reader, pipe_writer) = std::io::pipe().unwrap();
    let frames: Vec<Vec<u8>> = (0..50).map(|i| vec![i as u8; i * 1000]).collect();
    let sent = frames.clone();
    let writer = thread::spawn(move || {
        let mut w = FrameWriter::new(pipe_writer);
        for f in &sent {
            w.write_frame(f).unwrap();
        }
        w.flush().unwrap();
        // Dropping the writer closes the pipe: the reader sees a clean end.
    });
    let mut reader = FrameReader::new(pipe_reader);
    for f in &frames {
        assert_eq!(reader.read_frame().unwrap(), Some(&f[..]));
    }
    assert_eq!(reader.read_frame().unwrap(), None);
    writer.join().unwrap();
}

#[test]
fn write_to_closed_pipe_is_an_error_not_process_death() {
    let (pipe_reader, pipe_writer) = std::io::pipe().unwrap();
    drop(pipe_reader);
    let mut w = FrameWriter::new(pipe_writer);
    w.write_frame(b"nobody listens").unwrap();
    // Rust ignores SIGPIPE, so the closed pipe is an error.
    match w.flush() {
        Err(lenframe::FrameError::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe),
        other => panic!("expected BrokenPipe, got {other:?}"),
    }
    assert!(w.is_poisoned());
}
