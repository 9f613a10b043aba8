//! The bugs of the classic loopback client/server, as regression tests over real TCP
//! connections on 127.0.0.1.
//!
//! That program takes one `read(fd, buf, 1024)` as one whole message, prints the buffer
//! with `%s` although it need not end in NUL, and ignores what `send()` returned. Each test
//! sends what breaks it and asserts the exact messages lenframe delivers instead.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::thread;

use lenframe::{FrameConfig, FrameError, FrameReader, FrameWriter};
use lenframe_testkit::reference::reference_encode;
use lenframe_testkit::relay::{through_relay, Cuts};
use lenframe_testkit::sockets::{tcp_pair, Transport};

/// The article's buffer size.
const BUF: usize = 1024;

/// A stream that counts the calls made on it, and caps the size of each `read` and
/// `write` (a short read, or a `send()` that takes only part of what it was given).
struct Capped<S> {
    inner: S,
    read_cap: usize,
    write_cap: usize,
    reads: Vec<usize>,
    writes: Vec<usize>,
}

impl<S> Capped<S> {
    fn new(inner: S, read_cap: usize, write_cap: usize) -> Self {
        Capped {
            inner,
            read_cap,
            write_cap,
            reads: Vec::new(),
            writes: Vec::new(),
        }
    }
}

impl<S: Read> Read for Capped<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let cap = buf.len().min(self.read_cap);
        let n = self.inner.read(&mut buf[..cap])?;
        self.reads.push(n);
        Ok(n)
    }
}

impl<S: Write> Write for Capped<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let cap = buf.len().min(self.write_cap);
        let n = self.inner.write(&buf[..cap])?;
        self.writes.push(n);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes `frames` from a thread with a default `FrameWriter`, then closes the connection.
fn send_frames(client: TcpStream, frames: Vec<Vec<u8>>) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut w = FrameWriter::new(client);
        for f in &frames {
            w.write_frame(f).unwrap();
        }
        w.flush().unwrap();
    })
}

/// Reads every frame until the clean end of the stream.
fn read_all<R: Read>(reader: &mut FrameReader<R>) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    while let Some(f) = reader.read_frame().unwrap() {
        frames.push(f.to_vec());
        assert!(frames.len() <= 16, "more frames than were sent");
    }
    frames
}

#[test]
fn read_two_messages_sent_back_to_back_as_two_frames() {
    let (client, server) = tcp_pair();
    // Both messages leave in one write call: on the wire they are one run of bytes, and
    // one read may return both, which the article would print as one message.
    let mut w = FrameWriter::new(Capped::new(client, usize::MAX, usize::MAX));
    w.write_frame(b"Hello from client").unwrap();
    w.write_frame(b"hello, world!").unwrap();
    w.flush().unwrap();
    assert_eq!(w.get_ref().writes, [4 + 17 + 4 + 13]);
    drop(w);

    let mut reader = FrameReader::new(server);
    assert_eq!(
        read_all(&mut reader),
        [&b"Hello from client"[..], b"hello, world!"]
    );
    assert_eq!(reader.read_frame().unwrap(), None);
}

#[test]
fn read_message_split_over_two_reads() {
    let (client, server) = tcp_pair();
    let writer = send_frames(client, vec![b"Hello from server".to_vec()]);
    // The first read returns at most 10 of the 21 bytes: the article would take those 10
    // (the header and "Hello ") for the whole message.
    let mut reader = FrameReader::new(Capped::new(server, 10, usize::MAX));
    assert_eq!(
        reader.read_frame().unwrap(),
        Some(&b"Hello from server"[..])
    );
    assert_eq!(reader.read_frame().unwrap(), None);
    writer.join().unwrap();
    let reads = &reader.get_ref().reads;
    assert!(reads[0] <= 10 && reads.iter().filter(|&&n| n > 0).count() >= 3);
    assert_eq!(reads.iter().sum::<usize>(), 21);
}

#[test]
fn read_message_delivered_in_two_pieces_cut_inside_the_header() {
    // A relay between the peers forwards 2 bytes, then the rest: the cut falls inside the
    // length itself.
    let cuts = Cuts {
        sizes: vec![2, usize::MAX],
        pauses: vec![],
    };
    let (wrote, relay, frames) = through_relay(
        Transport::Tcp,
        &cuts,
        None,
        |mut out| out.write_all(&reference_encode(&[b"hello, world!"])),
        |input| read_all(&mut FrameReader::new(input)),
    );
    wrote.unwrap();
    let relay = relay.unwrap();
    assert_eq!((relay.forwarded, relay.pieces), (17, 2));
    assert_eq!(frames, [b"hello, world!".to_vec()]);
}

#[test]
fn read_message_of_exactly_1024_bytes() {
    let (client, server) = tcp_pair();
    let message: Vec<u8> = (0..BUF).map(|i| (i % 251) as u8 + 1).collect();
    let writer = send_frames(client, vec![message.clone(), b"next".to_vec()]);
    // A reader whose buffer grows in steps of the article's 1024 bytes: the frame, 1028
    // bytes with its header, cannot arrive in one such read.
    let cfg = FrameConfig::default();
    let mut reader = FrameReader::with_capacity(server, cfg, BUF).unwrap();
    assert_eq!(reader.read_frame().unwrap(), Some(&message[..]));
    assert!(reader.capacity() <= 4 + BUF + BUF);
    assert_eq!(reader.read_frame().unwrap(), Some(&b"next"[..]));
    assert_eq!(reader.read_frame().unwrap(), None);
    writer.join().unwrap();
}

#[test]
fn read_message_of_1025_bytes() {
    let (client, server) = tcp_pair();
    let message: Vec<u8> = (0..BUF + 1).map(|i| (i % 253) as u8 + 1).collect();
    let writer = send_frames(client, vec![message.clone(), b"next".to_vec()]);
    let cfg = FrameConfig::default();
    let mut reader = FrameReader::with_capacity(server, cfg, BUF).unwrap();
    let got = reader.read_frame().unwrap().unwrap();
    // The article would cut it at 1024 and take the 1025th byte for the next message.
    assert_eq!(got.len(), BUF + 1);
    assert_eq!(got, &message[..]);
    assert_eq!(reader.read_frame().unwrap(), Some(&b"next"[..]));
    assert_eq!(reader.read_frame().unwrap(), None);
    writer.join().unwrap();
}

#[test]
fn read_payload_without_nul_byte_has_its_exact_length() {
    let (client, server) = tcp_pair();
    // No NUL anywhere, and as long as the article's buffer: `printf("%s")` on it would run
    // past the end.
    let message = vec![b'A'; BUF];
    let writer = send_frames(client, vec![message.clone(), b"hello".to_vec()]);
    let mut reader = FrameReader::new(server);
    let got = reader.read_frame().unwrap().unwrap();
    assert_eq!(got.len(), BUF);
    assert!(!got.contains(&0));
    assert_eq!(got, &message[..]);
    assert_eq!(reader.read_frame().unwrap(), Some(&b"hello"[..]));
    assert_eq!(reader.read_frame().unwrap(), None);
    writer.join().unwrap();
}

#[test]
fn read_payload_full_of_nul_bytes_is_not_empty() {
    let (client, server) = tcp_pair();
    // As a C string this is "": every byte must still arrive, and a NUL in the middle must
    // not end the message either.
    let zeros = vec![0u8; BUF];
    let embedded = b"hello\0world\0".to_vec();
    let writer = send_frames(client, vec![zeros.clone(), embedded.clone(), Vec::new()]);
    let mut reader = FrameReader::new(server);
    assert_eq!(read_all(&mut reader), [zeros, embedded, Vec::new()]);
    writer.join().unwrap();
}

#[test]
fn write_every_byte_when_send_takes_only_part() {
    let (client, server) = tcp_pair();
    // Each send() takes at most 3 bytes; the article ignores the count and loses the rest.
    let frames: Vec<Vec<u8>> = vec![b"Hello from client".to_vec(), vec![7; BUF + 1], vec![]];
    let sent = frames.clone();
    let writer = thread::spawn(move || {
        let mut w = FrameWriter::new(Capped::new(client, usize::MAX, 3));
        for f in &sent {
            w.write_frame(f).unwrap();
        }
        w.flush().unwrap();
        let writes = w.get_ref().writes.clone();
        assert!(writes.iter().all(|&n| (1..=3).contains(&n)));
        writes.iter().sum::<usize>()
    });
    let mut reader = FrameReader::new(server);
    assert_eq!(read_all(&mut reader), frames);
    let written = writer.join().unwrap();
    assert_eq!(written, 4 + 17 + 4 + BUF + 1 + 4);
}

#[test]
fn write_to_closed_peer_is_an_error() {
    let (client, server) = tcp_pair();
    drop(server);
    // The article's send() result is ignored; here the failure is returned, not lost.
    let mut w = FrameWriter::new(client);
    let mut failure = None;
    for _ in 0..1000 {
        if let Err(e) = w.write_frame(&[1; 4096]).and_then(|()| w.flush()) {
            failure = Some(e);
            break;
        }
    }
    match failure {
        Some(FrameError::Io(e)) => assert!(
            matches!(
                e.kind(),
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
            ),
            "{e:?}"
        ),
        Some(FrameError::Poisoned) => {}
        other => panic!("writing to a closed peer did not fail: {other:?}"),
    }
}

#[test]
fn request_and_reply_on_one_connection() {
    let (client, server) = tcp_pair();
    let server_thread = thread::spawn(move || {
        let mut reader = FrameReader::new(server.try_clone().unwrap());
        let request = reader.read_frame().unwrap().unwrap().to_vec();
        let mut w = FrameWriter::new(server);
        w.write_frame(b"Hello from server").unwrap();
        w.flush().unwrap();
        w.get_ref().shutdown(Shutdown::Write).unwrap();
        assert_eq!(reader.read_frame().unwrap(), None);
        request
    });
    let mut w = FrameWriter::new(client.try_clone().unwrap());
    w.write_frame(b"Hello from client").unwrap();
    w.flush().unwrap();
    let mut reader = FrameReader::new(client);
    assert_eq!(
        reader.read_frame().unwrap(),
        Some(&b"Hello from server"[..])
    );
    w.get_ref().shutdown(Shutdown::Write).unwrap();
    assert_eq!(reader.read_frame().unwrap(), None);
    assert_eq!(server_thread.join().unwrap(), b"Hello from client");
}
