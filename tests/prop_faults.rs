//! Properties under injected I/O faults, against the reference encoding:
//! - writer: short writes (down to 1 byte) and `Interrupted` at any point produce exactly
//!   the reference bytes;
//! - writer: after `WouldBlock`/`TimedOut` at any point, `Err` means the frame was not
//!   accepted and `Ok` means it was; at every step the bytes written plus the bytes
//!   buffered are exactly the encoding of the accepted frames, so `flush` resumes with
//!   nothing lost or repeated;
//! - writer: a hard error (`BrokenPipe`, `ConnectionReset`, `Ok(0)`) that leaves accepted
//!   bytes unwritten poisons the writer (`Poisoned` afterwards, nothing more written); one
//!   that leaves nothing unwritten does not, and writing goes on byte-exact;
//! - reader: short reads, `Interrupted`, `WouldBlock` and `TimedOut` at any point give the
//!   same frames and errors as a clean stream (after `WouldBlock`, the next call resumes),
//!   within the memory bound.

use std::io::{self, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use lenframe::{FrameConfig, FrameError, FrameReader, FrameWriter, Oversize, ReadTimeout};
use proptest::prelude::*;
use proptest::sample::Index;

use lenframe_testkit::events::Event;
use lenframe_testkit::reference::{reference_stream, trailer_len};
use lenframe_testkit::relay::Counting;
use lenframe_testkit::scripted::{ScriptedReader, ScriptedWriter, Step};
use lenframe_testkit::sockets::{tcp_pair, unix_pair};
use lenframe_testkit::strategies::{
    any_config, capacity_step, config_and_payloads, expected_events, frames, frames_with_oversize,
    proptest_config, writer_capacity,
};

/// A script of write or read calls: short counts from 1 byte, and the given faults.
fn script(faults: Vec<io::ErrorKind>) -> impl Strategy<Value = Vec<Step>> {
    let fault = proptest::sample::select(faults).prop_map(Step::Fail);
    proptest::collection::vec(
        prop_oneof![
            2 => Just(Step::Bytes(1)),
            3 => (2usize..=24).prop_map(Step::Bytes),
            1 => (25usize..=4000).prop_map(Step::Bytes),
            2 => fault,
        ],
        0..=120,
    )
}

/// Whether to flush after each frame (cycled).
fn flushes() -> impl Strategy<Value = Vec<bool>> {
    proptest::collection::vec(proptest::bool::weighted(0.25), 1..=6)
}

/// The bytes written plus the bytes still buffered.
fn written_and_buffered(w: &FrameWriter<ScriptedWriter>) -> Vec<u8> {
    let mut all = w.get_ref().data.clone();
    all.extend_from_slice(w.buffer());
    all
}

proptest! {
    #![proptest_config(proptest_config(256, "proptest-regressions/prop_faults.txt"))]

    /// Short writes of any size down to 1 byte and `Interrupted` anywhere: the exact
    /// reference bytes, every frame accepted.
    #[test]
    fn write_short_and_interrupted_gives_reference_bytes(
        (cfg, payloads) in config_and_payloads(),
        capacity in writer_capacity(),
        script in script(vec![io::ErrorKind::Interrupted]),
        flush_after in flushes(),
    ) {
        let mut w = FrameWriter::with_capacity(ScriptedWriter::new(script), cfg, capacity).unwrap();
        for (i, p) in payloads.iter().enumerate() {
            w.write_frame(p).unwrap();
            if flush_after[i % flush_after.len()] {
                w.flush().unwrap();
            }
        }
        w.flush().unwrap();
        prop_assert_eq!(*w.config(), cfg);
        prop_assert!(w.buffer().is_empty());
        prop_assert_eq!(&w.get_ref().data, &reference_stream(&cfg, &payloads));
        prop_assert_eq!(w.stats().frames, payloads.len() as u64);
        let bytes: usize = payloads.iter().map(Vec::len).sum();
        prop_assert_eq!(w.stats().bytes, bytes as u64);
    }

    /// `WouldBlock` and `TimedOut` anywhere: `Err` means not accepted (the frame is written
    /// again), `Ok` means accepted; written plus buffered bytes are always exactly the
    /// accepted frames' encoding, and flushing until `Ok` gives the reference bytes.
    #[test]
    fn write_would_block_resumes_exactly(
        (cfg, payloads) in config_and_payloads(),
        capacity in writer_capacity(),
        script in script(vec![
            io::ErrorKind::WouldBlock,
            io::ErrorKind::TimedOut,
            io::ErrorKind::Interrupted,
        ]),
        flush_after in flushes(),
    ) {
        let tries = script.len() + 2;
        let mut w = FrameWriter::with_capacity(ScriptedWriter::new(script), cfg, capacity).unwrap();
        for (i, p) in payloads.iter().enumerate() {
            let mut accepted = false;
            for _ in 0..tries {
                let result = w.write_frame(p);
                let want = reference_stream(&cfg, &payloads[..i + usize::from(result.is_ok())]);
                prop_assert_eq!(written_and_buffered(&w), want, "after frame {}: {:?}", i, result);
                match result {
                    Ok(()) => {
                        accepted = true;
                        break;
                    }
                    Err(e) => prop_assert!(e.is_would_block(), "{:?}", e),
                }
                prop_assert_eq!(w.stats().frames, i as u64);
            }
            prop_assert!(accepted);
            prop_assert_eq!(w.stats().frames, i as u64 + 1);
            if flush_after[i % flush_after.len()] {
                let result = w.flush();
                prop_assert_eq!(written_and_buffered(&w), reference_stream(&cfg, &payloads[..=i]));
                if let Err(e) = result {
                    prop_assert!(e.is_would_block(), "{:?}", e);
                }
            }
        }
        let mut flushed = false;
        for _ in 0..tries {
            match w.flush() {
                Ok(()) => {
                    flushed = true;
                    break;
                }
                Err(e) => prop_assert!(e.is_would_block(), "{:?}", e),
            }
        }
        prop_assert!(flushed);
        prop_assert!(!w.is_poisoned());
        prop_assert_eq!(&w.get_ref().data, &reference_stream(&cfg, &payloads));
    }

    /// A hard error anywhere. If accepted bytes are left unwritten (part of a frame is
    /// out), the writer is poisoned: every later call is `Poisoned` and writes nothing.
    /// Otherwise the failed frame was not accepted, nothing of it went out, and writing
    /// goes on: the output is exactly the accepted frames' encoding.
    #[test]
    fn write_hard_error_poisons_when_bytes_are_left(
        (cfg, payloads) in config_and_payloads(),
        capacity in writer_capacity(),
        script in script(vec![io::ErrorKind::Interrupted]),
        hard in prop_oneof![
            Just(Step::Fail(io::ErrorKind::BrokenPipe)),
            Just(Step::Fail(io::ErrorKind::ConnectionReset)),
            Just(Step::Bytes(0)),
        ],
        at in any::<Index>(),
        flush_after in flushes(),
    ) {
        let mut script = script;
        let at = at.index(script.len() + 1);
        script.insert(at, hard);
        let mut w = FrameWriter::with_capacity(ScriptedWriter::new(script), cfg, capacity).unwrap();
        let mut accepted: Vec<&[u8]> = Vec::new();
        let mut failed = 0;
        for (i, p) in payloads.iter().enumerate() {
            let mut result = w.write_frame(p).map(|()| accepted.push(p));
            if result.is_ok() && flush_after[i % flush_after.len()] {
                result = w.flush();
            }
            let Err(e) = result else { continue };
            prop_assert!(matches!(e, FrameError::Io(_)), "{:?}", e);
            failed += 1;
            let reference = reference_stream(&cfg, &accepted);
            let data = w.get_ref().data.clone();
            if written_and_buffered(&w) == reference && w.buffer().is_empty() {
                // Nothing accepted is left unwritten: the writer goes on.
                prop_assert!(!w.is_poisoned());
                continue;
            }
            // Part of the accepted stream or of the failed frame is out: poisoned.
            prop_assert!(w.is_poisoned(), "not poisoned with {} of {} bytes out and {} buffered",
                data.len(), reference.len(), w.buffer().len());
            let mut with_failed = accepted.clone();
            with_failed.push(p);
            let prefix = reference_stream(&cfg, &with_failed);
            prop_assert!(prefix.starts_with(&data), "bytes out are not a prefix of the frames");
            prop_assert!(matches!(w.write_frame(b"x"), Err(FrameError::Poisoned)));
            prop_assert!(matches!(w.flush(), Err(FrameError::Poisoned)));
            prop_assert_eq!(&w.get_ref().data, &data, "a poisoned writer wrote");
            return Ok(());
        }
        match w.flush() {
            Ok(()) => {}
            Err(e) => {
                prop_assert!(w.is_poisoned() || w.buffer().is_empty(), "{:?}", e);
                return Ok(());
            }
        }
        prop_assert!(failed <= 1);
        prop_assert_eq!(&w.get_ref().data, &reference_stream(&cfg, &accepted));
    }

    /// Short reads, `Interrupted`, `WouldBlock` and `TimedOut` anywhere, with any capacity
    /// step: the same frames and errors, in order, as the stream read without faults (a
    /// `WouldBlock` is returned and the next call resumes), within the memory bound.
    #[test]
    fn read_faults_resume_with_nothing_lost(
        (cfg, step, payloads) in (
            prop_oneof![any_config(Oversize::Error), any_config(Oversize::Skip)],
            capacity_step(),
        ).prop_flat_map(|(cfg, step)| (Just(cfg), Just(step), frames_with_oversize(&cfg, step, 10, 1))),
        script in script(vec![
            io::ErrorKind::Interrupted,
            io::ErrorKind::WouldBlock,
            io::ErrorKind::TimedOut,
        ]),
        cut in prop_oneof![Just(None), any::<Index>().prop_map(Some)],
    ) {
        let wire = reference_stream(&cfg, &payloads);
        let end = cut.map(|c| c.index(wire.len() + 1));
        let data = wire[..end.unwrap_or(wire.len())].to_vec();
        let want = expected_events(&cfg, &payloads, end);
        let tries = script.len() + want.len() + 2;
        let source = Counting::new(ScriptedReader::new(data.clone(), script));
        let mut r = FrameReader::with_capacity(source, cfg, step).unwrap();
        let frame_cap = (cfg.max_header_len() + cfg.get_max_frame_len() + trailer_len(&cfg)) as u64;
        let mut got = Vec::new();
        let mut blocked = 0;
        for _ in 0..tries {
            let result = r.read_frame();
            let would_block = matches!(&result, Err(e) if e.is_would_block());
            let event = Event::of(result);
            let received = r.get_ref().count;
            prop_assert!(
                r.capacity() as u64 <= (2 * received).min(frame_cap) + step as u64,
                "capacity {} after {} bytes", r.capacity(), received
            );
            if would_block {
                blocked += 1;
                continue;
            }
            let done = matches!(event, Event::End | Event::Truncated { .. } | Event::Other(_))
                || got.len() + 1 == want.len();
            got.push(event);
            if done {
                break;
            }
        }
        prop_assert_eq!(got, want);
        prop_assert!(blocked <= tries);
        if !matches!(cfg.get_oversize(), Oversize::Error) || !payloads.iter().any(|p| p.len() > cfg.get_max_frame_len()) {
            prop_assert_eq!(r.get_ref().count, data.len() as u64);
        }
    }
}

/// A reader that fills the buffer it is given and claims more than its length: a broken
/// `Read`. What it really wrote is the stream; the reader must never take the claim.
struct Overclaiming {
    data: Vec<u8>,
    pos: usize,
}

impl io::Read for Overclaiming {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        // Only a full buffer is overclaimed: the claim is then past the room given.
        Ok(if n == buf.len() { n + 5 } else { n })
    }
}

proptest! {
    #![proptest_config(proptest_config(64, "proptest-regressions/prop_faults.txt"))]

    /// A `Read` that returns more than the room it was given is not trusted past that room:
    /// the frames are those of the bytes it really wrote.
    #[test]
    fn read_from_reader_claiming_more_than_its_buffer(
        (cfg, step, payloads) in (any_config(Oversize::Error), capacity_step())
            .prop_flat_map(|(cfg, step)| (Just(cfg), Just(step), frames(&cfg, step, 8))),
    ) {
        let wire = reference_stream(&cfg, &payloads);
        let source = Overclaiming { data: wire, pos: 0 };
        let mut r = FrameReader::with_capacity(source, cfg, step).unwrap();
        let mut got = Vec::new();
        for _ in 0..=payloads.len() {
            got.push(Event::of(r.read_frame()));
        }
        let want = expected_events(&cfg, &payloads, None);
        prop_assert_eq!(got, want);
    }
}

/// The default capacity step is the documented 64 KiB: a reader that has seen only a header
/// declaring 8 MiB (the default limit) and 10 payload bytes holds one step, not 8 MiB.
#[test]
fn read_default_capacity_step_is_64_kib() {
    let mut wire = (8u32 << 20).to_be_bytes().to_vec();
    wire.extend_from_slice(&[1; 10]);
    let mut r = FrameReader::new(&wire[..]);
    assert_eq!(r.capacity_step(), 64 * 1024);
    assert_eq!(lenframe::DEFAULT_READ_CAPACITY, 64 * 1024);
    match r.read_frame() {
        Err(FrameError::Truncated { expected, received }) => {
            assert_eq!((expected, received), (4 + (8 << 20), 14));
        }
        other => panic!("{other:?}"),
    }
    assert!(r.capacity() <= 64 * 1024 + 14, "{}", r.capacity());
}

// Deadlines under stalled, slow and failing peers. Pauses here play a slow peer or a read
// that blocks past the deadline; what the tests assert holds for any scheduling.

/// The socket's own read timeout: long enough never to fire before a frame deadline, short
/// enough that a reader which failed to arm its deadline returns instead of hanging.
const OWN_TIMEOUT: Duration = Duration::from_secs(3);
const FRAME_TIMEOUT: Duration = Duration::from_millis(100);

/// Reads a 3-byte frame whose last 2 bytes come only after the reader has timed out, and
/// checks the socket's timeout: the socket's own one again whenever `read_frame` has
/// returned, even with a frame in progress (the reader's deadline was on it while it
/// waited, or the read would not have returned before the 3 s own timeout). `timeout_of`
/// reads the socket's timeout directly, not through `ReadTimeout`.
fn deadline_sets_and_restores<R: io::Read + ReadTimeout>(
    mut peer: impl io::Write + Send + 'static,
    stream: R,
    timeout_of: impl Fn(&R) -> Option<Duration>,
) {
    let (go, wait) = mpsc::channel::<()>();
    let writer = thread::spawn(move || {
        peer.write_all(b"\x00\x00\x00\x03a").unwrap();
        wait.recv().unwrap();
        peer.write_all(b"bc").unwrap();
    });
    let mut r = FrameReader::new(stream);
    assert_eq!(r.frame_timeout(), None);
    r.set_frame_timeout(Some(FRAME_TIMEOUT));
    assert_eq!(r.frame_timeout(), Some(FRAME_TIMEOUT));
    match r.read_frame() {
        Err(FrameError::TimedOut {
            expected, received, ..
        }) => assert_eq!((expected, received), (7, 5)),
        other => panic!("expected TimedOut, got {other:?}"),
    }
    assert_eq!(
        timeout_of(r.get_ref()),
        Some(OWN_TIMEOUT),
        "own timeout restored when the call returned inside a frame"
    );
    go.send(()).unwrap();
    let mut frame = None;
    for _ in 0..1000 {
        match r.read_frame() {
            Ok(f) => {
                frame = f.map(<[u8]>::to_vec);
                break;
            }
            Err(FrameError::TimedOut { .. }) => continue,
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(frame.as_deref(), Some(&b"abc"[..]));
    writer.join().unwrap();
    assert_eq!(r.read_frame().unwrap(), None);
    assert_eq!(
        timeout_of(r.get_ref()),
        Some(OWN_TIMEOUT),
        "own timeout restored"
    );
}

#[test]
fn read_deadline_sets_and_restores_socket_timeout_over_unix_and_tcp() {
    let (client, server) = unix_pair();
    server.set_read_timeout(Some(OWN_TIMEOUT)).unwrap();
    deadline_sets_and_restores(client, server, |s| s.read_timeout().unwrap());

    let (client, server) = unix_pair();
    server.set_read_timeout(Some(OWN_TIMEOUT)).unwrap();
    deadline_sets_and_restores(client, &server, |s| UnixStream::read_timeout(s).unwrap());

    let (client, server) = tcp_pair();
    server.set_read_timeout(Some(OWN_TIMEOUT)).unwrap();
    deadline_sets_and_restores(client, &server, |s| TcpStream::read_timeout(s).unwrap());
}

#[test]
fn read_deadline_counts_from_leftover_bytes_of_the_next_frame() {
    let (mut client, server) = tcp_pair();
    server.set_read_timeout(Some(OWN_TIMEOUT)).unwrap();
    let (go, wait) = mpsc::channel::<()>();
    // One frame and the first 2 bytes of the next header in one write, then a stall.
    let writer = thread::spawn(move || {
        client.write_all(b"\x00\x00\x00\x01x\x00\x00").unwrap();
        wait.recv().unwrap();
    });
    let mut r = FrameReader::new(server);
    r.set_frame_timeout(Some(FRAME_TIMEOUT));
    assert_eq!(r.read_frame().unwrap(), Some(&b"x"[..]));
    match r.read_frame() {
        Err(FrameError::TimedOut {
            expected, received, ..
        }) => assert_eq!((expected, received), (4, 2)),
        other => panic!("expected TimedOut, got {other:?}"),
    }
    go.send(()).unwrap();
    writer.join().unwrap();
    match r.read_frame() {
        Err(FrameError::Truncated { expected, received }) => {
            assert_eq!((expected, received), (4, 2));
        }
        other => panic!("expected Truncated, got {other:?}"),
    }
}

#[test]
fn read_deadline_covers_a_skipped_frame_trickled_slowly() {
    let (mut client, server) = tcp_pair();
    server.set_read_timeout(Some(OWN_TIMEOUT)).unwrap();
    // An oversized frame whose 40 payload bytes come 10 ms apart: 400 ms in all, four
    // times the deadline, however each byte's gap compares with it.
    let writer = thread::spawn(move || {
        client.write_all(&40u32.to_be_bytes()).unwrap();
        for _ in 0..40 {
            thread::sleep(Duration::from_millis(10));
            client.write_all(b"z").unwrap();
        }
        client.write_all(b"\x00\x00\x00\x02ok").unwrap();
    });
    let cfg = FrameConfig::default()
        .max_frame_len(4)
        .oversize(Oversize::Skip);
    let mut r = FrameReader::with_config(server, cfg).unwrap();
    r.set_frame_timeout(Some(FRAME_TIMEOUT));
    let mut events = Vec::new();
    let mut timeouts = 0;
    for _ in 0..200 {
        match r.read_frame() {
            Err(FrameError::TimedOut { expected, .. }) => {
                assert_eq!(expected, 44);
                timeouts += 1;
            }
            other => {
                let event = Event::of(other);
                let end = event == Event::End;
                events.push(event);
                if end {
                    break;
                }
            }
        }
    }
    writer.join().unwrap();
    assert_eq!(
        events,
        [
            Event::TooLarge { len: 40, max: 4 },
            Event::Frame(b"ok".to_vec()),
            Event::End
        ]
    );
    assert!(timeouts >= 1, "the slow skipped frame never timed out");
    assert_eq!((r.stats().skipped_frames, r.stats().skipped_bytes), (1, 44));
}

/// A read that blocks past the frame's deadline and then fails hard.
struct FailsLate {
    calls: usize,
}

impl io::Read for FailsLate {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.calls == 1 {
            buf[..5].copy_from_slice(b"\x00\x00\x00\x03a");
            return Ok(5);
        }
        thread::sleep(FRAME_TIMEOUT * 2);
        Err(io::ErrorKind::ConnectionReset.into())
    }
}

impl ReadTimeout for FailsLate {
    fn read_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(None)
    }
    fn set_read_timeout(&self, _: Option<Duration>) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn read_hard_error_after_the_deadline_is_reported_as_itself() {
    let mut r = FrameReader::new(FailsLate { calls: 0 });
    r.set_frame_timeout(Some(FRAME_TIMEOUT));
    match r.read_frame() {
        Err(FrameError::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset),
        other => panic!("expected the reset, got {other:?}"),
    }
}

#[test]
fn read_deadline_does_not_count_idle_time_between_frames() {
    let (mut client, server) = tcp_pair();
    server.set_read_timeout(Some(OWN_TIMEOUT)).unwrap();
    let mut r = FrameReader::new(server);
    // Set while nothing of a frame has arrived: the quiet time that follows is not a
    // frame's time, however long it lasts.
    r.set_frame_timeout(Some(FRAME_TIMEOUT));
    let writer = thread::spawn(move || {
        thread::sleep(FRAME_TIMEOUT * 3);
        client.write_all(b"\x00\x00\x00\x02hi").unwrap();
    });
    assert_eq!(r.read_frame().unwrap(), Some(&b"hi"[..]));
    writer.join().unwrap();
    assert_eq!(r.read_frame().unwrap(), None);
}

#[test]
fn read_deadline_set_inside_a_header_starts_the_clock() {
    let (mut client, server) = unix_pair();
    // The socket's own timeout makes reads return WouldBlock while the peer stalls.
    server
        .set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let (go, wait) = mpsc::channel::<()>();
    let writer = thread::spawn(move || {
        client.write_all(b"\x00\x00").unwrap();
        wait.recv().unwrap();
    });
    let mut r = FrameReader::new(server);
    let mut blocked = false;
    for _ in 0..500 {
        let would_block = match r.read_frame() {
            Err(e) => e.is_would_block(),
            Ok(f) => panic!("{f:?}"),
        };
        assert!(would_block);
        if r.read_buffer().len() == 2 {
            blocked = true;
            break;
        }
    }
    assert!(blocked, "the header's first 2 bytes never arrived");
    // Two bytes of a header are buffered: setting a deadline now starts the frame's clock.
    r.set_frame_timeout(Some(FRAME_TIMEOUT));
    let mut timed_out = None;
    for _ in 0..100 {
        match r.read_frame() {
            Err(FrameError::TimedOut {
                expected, received, ..
            }) => {
                timed_out = Some((expected, received));
                break;
            }
            Err(e) if e.is_would_block() => continue,
            other => panic!("{other:?}"),
        }
    }
    go.send(()).unwrap();
    writer.join().unwrap();
    assert_eq!(timed_out, Some((4, 2)));
}

#[test]
fn read_debug_shows_the_bytes_buffered() {
    let wire: &[u8] = b"\x00\x00\x00\x01x\x00\x00";
    let mut r = FrameReader::new(wire);
    assert_eq!(r.read_frame().unwrap(), Some(&b"x"[..]));
    let shown = format!("{r:?}");
    assert!(shown.starts_with("FrameReader {"), "{shown}");
    assert!(shown.contains("buffered: 2"), "{shown}");
}

#[test]
fn write_default_capacity_gathers_frames_up_to_64_kib() {
    assert_eq!(lenframe::DEFAULT_WRITE_CAPACITY, 64 * 1024);
    let mut w = FrameWriter::new(ScriptedWriter::new([]));
    // 65 532 + 4 header bytes: exactly the capacity, so it waits in the buffer.
    w.write_frame(&vec![5; 64 * 1024 - 4]).unwrap();
    assert!(w.get_ref().writes.is_empty());
    assert_eq!(w.buffer().len(), 64 * 1024);
    w.flush().unwrap();
    assert_eq!(w.get_ref().writes, [64 * 1024]);
}

#[test]
fn write_buffers_frames_until_exactly_full() {
    let cfg = FrameConfig::default();
    let mut w = FrameWriter::with_capacity(ScriptedWriter::new([]), cfg, 20).unwrap();
    // Frames of exactly the capacity, and two that fill it exactly together, are gathered.
    w.write_frame(&[1; 16]).unwrap();
    assert!(w.get_ref().writes.is_empty());
    w.write_frame(&[2; 6]).unwrap();
    assert_eq!(w.get_ref().writes, [20]);
    w.write_frame(&[3; 6]).unwrap();
    assert_eq!(w.get_ref().writes, [20]);
    assert_eq!(w.buffer().len(), 20);
    // One byte more than fits sends the buffer first.
    w.write_frame(&[]).unwrap();
    assert_eq!(w.get_ref().writes, [20, 20]);
    w.flush().unwrap();
    assert_eq!(w.get_ref().writes, [20, 20, 4]);
    assert_eq!(
        w.get_ref().data,
        reference_stream(&cfg, &[&[1u8; 16][..], &[2; 6], &[3; 6], &[]])
    );
}

#[test]
fn write_after_would_block_counts_only_unwritten_bytes_as_buffered() {
    let cfg = FrameConfig::default();
    let script = [Step::Bytes(3), Step::Fail(io::ErrorKind::WouldBlock)];
    let mut w = FrameWriter::with_capacity(ScriptedWriter::new(script), cfg, 20).unwrap();
    w.write_frame(&[1; 6]).unwrap();
    assert!(w.flush().unwrap_err().is_would_block());
    assert_eq!(w.buffer().len(), 7);
    // 7 bytes still buffered plus 10 new ones fit in 20: no write.
    w.write_frame(&[2; 6]).unwrap();
    assert_eq!(w.get_ref().writes, [3]);
    assert_eq!(w.buffer().len(), 17);
    w.flush().unwrap();
    assert_eq!(
        w.get_ref().data,
        reference_stream(&cfg, &[&[1u8; 6][..], &[2; 6]])
    );
}

/// A sink whose `flush` is interrupted a few times before it succeeds.
struct InterruptedFlush {
    data: Vec<u8>,
    interruptions: usize,
    flushes: usize,
}

impl io::Write for InterruptedFlush {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.data.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flushes += 1;
        if self.interruptions > 0 {
            self.interruptions -= 1;
            return Err(io::ErrorKind::Interrupted.into());
        }
        Ok(())
    }
}

#[test]
fn write_flush_retries_an_interrupted_inner_flush() {
    let sink = InterruptedFlush {
        data: Vec::new(),
        interruptions: 3,
        flushes: 0,
    };
    let mut w = FrameWriter::new(sink);
    w.write_frame(b"abc").unwrap();
    w.flush().unwrap();
    assert_eq!(w.get_ref().flushes, 4);
    assert_eq!(w.get_ref().data, b"\x00\x00\x00\x03abc");
}

/// A source that ends (`Ok(0)`) once, then has a frame: a file that grows, say.
struct EndsThenGrows {
    calls: usize,
}

impl io::Read for EndsThenGrows {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.calls += 1;
        match self.calls {
            1 => Ok(0),
            2 => {
                buf[..6].copy_from_slice(b"\x00\x00\x00\x02ok");
                Ok(6)
            }
            _ => Ok(0),
        }
    }
}

impl ReadTimeout for EndsThenGrows {
    fn read_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(None)
    }
    fn set_read_timeout(&self, _: Option<Duration>) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn read_deadline_does_not_start_at_the_end_of_the_stream() {
    let mut r = FrameReader::new(EndsThenGrows { calls: 0 });
    r.set_frame_timeout(Some(FRAME_TIMEOUT));
    assert_eq!(r.read_frame().unwrap(), None);
    // Time passes with no frame in progress: an empty read started none.
    thread::sleep(FRAME_TIMEOUT * 2);
    assert_eq!(r.read_frame().unwrap(), Some(&b"ok"[..]));
    assert_eq!(r.read_frame().unwrap(), None);
}
