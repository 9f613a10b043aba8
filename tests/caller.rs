//! What callers do between calls, over 127.0.0.1: a handler that takes time while the peer
//! pipelines, a socket lent and taken back, a reader taken apart mid-stream, frames served
//! from the buffer after a large one, a write that times out part-way.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use lenframe::{FrameReader, FrameWriter, ReadTimeout, DEFAULT_READ_CAPACITY};
use lenframe_testkit::sockets::tcp_pair;

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut wire = (payload.len() as u32).to_be_bytes().to_vec();
    wire.extend_from_slice(payload);
    wire
}

#[test]
fn a_slow_handler_does_not_time_out_a_frame_the_peer_pipelined() {
    // 100 KB: all of B is in the kernel when its read starts. 4 MiB: more than the kernel
    // holds, so the peer sends the rest as fast as the reader takes it.
    for len in [100_000, 4 << 20] {
        let (mut client, server) = tcp_pair();
        let b: Vec<u8> = (0..len as u32).map(|i| (i % 251) as u8).collect();
        let mut wire = frame(b"A");
        wire.extend(frame(&b));
        let peer = thread::spawn(move || client.write_all(&wire).map(|()| client));
        let mut reader = FrameReader::new(server);
        reader.set_frame_timeout(Some(Duration::from_millis(150)));
        assert_eq!(reader.read_frame().unwrap(), Some(&b"A"[..]));
        // The first read took A and the start of B. The handler for A takes 400 ms: the
        // application's time, not the peer's.
        thread::sleep(Duration::from_millis(400));
        assert_eq!(reader.read_frame().unwrap(), Some(&b[..]), "{len}");
        drop(peer.join().unwrap().unwrap());
        assert_eq!(reader.read_frame().unwrap(), None);
    }
}

/// A lent socket that reports each read timeout the reader sets on it.
struct Spy<'a> {
    stream: &'a TcpStream,
    armed: mpsc::Sender<Option<Duration>>,
}

impl Read for Spy<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&mut &*self.stream).read(buf)
    }
}

impl ReadTimeout for Spy<'_> {
    fn read_timeout(&self) -> io::Result<Option<Duration>> {
        self.stream.read_timeout()
    }
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        let _ = self.armed.send(timeout);
        self.stream.set_read_timeout(timeout)
    }
}

#[test]
fn a_lent_socket_comes_back_with_its_own_read_timeout() {
    let own = Some(Duration::from_secs(30));
    for take_back in ["drop", "into_inner", "into_parts", "between frames"] {
        let (mut client, server) = tcp_pair();
        server.set_read_timeout(own).unwrap();
        let (armed, armings) = mpsc::channel();
        let wire = frame(b"a handshake that spans two reads");
        let peer = thread::spawn(move || {
            client.write_all(&wire[..10])?;
            // The rest only once the reader waits inside the frame under its deadline.
            while armings.recv().is_ok_and(|t| t == own) {}
            client.write_all(&wire[10..])?;
            Ok::<_, io::Error>(client)
        });
        let mut reader = FrameReader::new(Spy {
            stream: &server,
            armed,
        });
        reader.set_frame_timeout(Some(Duration::from_secs(5)));
        assert_eq!(
            reader.read_frame().unwrap(),
            Some(&b"a handshake that spans two reads"[..])
        );
        match take_back {
            "drop" => drop(reader),
            "into_inner" => drop(reader.into_inner()),
            "into_parts" => assert!(reader.into_parts().1.is_empty()),
            _ => {
                assert_eq!(reader.get_ref().stream.read_timeout().unwrap(), own);
                reader.set_frame_timeout(None);
            }
        }
        assert_eq!(server.read_timeout().unwrap(), own, "{take_back}");
        drop(peer.join().unwrap().unwrap());
    }
}

#[test]
fn into_parts_hands_over_the_bytes_after_a_framed_handshake() {
    let (mut client, server) = tcp_pair();
    let raw: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let mut wire = frame(b"STARTTLS");
    wire.extend(&raw);
    let peer = thread::spawn(move || client.write_all(&wire));
    let mut reader = FrameReader::new(server);
    assert_eq!(reader.read_frame().unwrap(), Some(&b"STARTTLS"[..]));
    let (mut stream, buffered) = reader.into_parts();
    assert!(!buffered.is_empty(), "the first read took raw bytes too");
    let mut got = buffered;
    peer.join().unwrap().unwrap();
    // The peer closed its end when the thread ended.
    stream.read_to_end(&mut got).unwrap();
    assert_eq!(got, raw);
}

#[test]
fn memory_is_given_back_once_frames_are_served_from_the_buffer() {
    let (mut client, server) = tcp_pair();
    let large = vec![7u8; 8 << 20];
    let mut wire = frame(&large);
    for i in 0..100u8 {
        wire.extend(frame(&[i; 10]));
    }
    let peer = thread::spawn(move || client.write_all(&wire));
    let mut reader = FrameReader::new(server);
    assert_eq!(reader.read_frame().unwrap().map(<[u8]>::len), Some(8 << 20));
    assert!(reader.capacity() >= 8 << 20);
    for i in 0..100u8 {
        assert_eq!(reader.read_frame().unwrap(), Some(&[i; 10][..]));
        // The first small frame is asked for with at most a step buffered: two steps kept.
        assert!(reader.capacity() <= 2 * DEFAULT_READ_CAPACITY, "frame {i}");
    }
    peer.join().unwrap().unwrap();
    assert_eq!(reader.read_frame().unwrap(), None);
    assert_eq!(reader.capacity(), 2 * DEFAULT_READ_CAPACITY);
}

#[test]
fn a_write_that_times_out_part_way_is_accepted_once_and_its_memory_given_back() {
    let (client, mut server) = tcp_pair();
    client
        .set_write_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let cfg = lenframe::FrameConfig::default().max_frame_len(64 << 20);
    let mut writer = FrameWriter::with_config(client, cfg).unwrap();
    // More than the kernel's buffers on both ends can take.
    let large: Vec<u8> = (0..(32 << 20) as u32).map(|i| (i % 253) as u8).collect();
    // Nobody reads yet: the kernel takes part of the frame, then the write times out. The
    // rest is buffered and the frame accepted.
    writer.write_frame(&large).unwrap();
    assert_eq!(writer.frames_accepted(), 1);
    let rest = writer.buffer().len();
    assert!(rest > 0 && rest < large.len() + 4, "{rest} bytes left");
    assert!(writer.state().buffer_capacity() >= rest);
    let (tx, rx) = mpsc::channel();
    let peer = thread::spawn(move || {
        let mut reader = FrameReader::with_config(&mut server, cfg).unwrap();
        let mut frames = Vec::new();
        while let Some(frame) = reader.read_frame().unwrap() {
            frames.push(frame.to_vec());
        }
        tx.send(frames).unwrap();
    });
    let mut flushes = 0;
    loop {
        flushes += 1;
        assert!(flushes < 10_000, "flush never finished");
        match writer.flush() {
            Ok(()) => break,
            Err(e) if e.is_would_block() => continue,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(writer.state().buffer_capacity() <= 2 * writer.state().capacity());
    drop(writer.into_inner().expect("flushed"));
    let frames = rx.recv().unwrap();
    peer.join().unwrap();
    assert_eq!(frames.len(), 1, "sent exactly once");
    assert!(frames[0] == large);
}

#[test]
fn a_stalled_frame_is_reported_timed_out_never_would_block() {
    let (mut client, server) = tcp_pair();
    client.write_all(&frame(b"stalled")[..6]).unwrap();
    let mut reader = FrameReader::new(server);
    reader.set_frame_timeout(Some(Duration::from_millis(7)));
    // The kernel's timer may wake a tick before the deadline: each call still ends with
    // the deadline's verdict, and the frame's bytes are kept.
    for _ in 0..20 {
        match reader.read_frame() {
            Err(lenframe::FrameError::TimedOut {
                expected: 11,
                received: 6,
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
    }
    client.write_all(&frame(b"stalled")[6..]).unwrap();
    assert_eq!(reader.read_frame().unwrap(), Some(&b"stalled"[..]));
}
