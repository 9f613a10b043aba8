//! `lenframe::tokio` in tokio's idiom: the `Stream` of owned frames and the `Sink` over
//! 127.0.0.1 (`forward`, `StreamExt::next`, `SinkExt::send`), owned frames that keep their
//! buffer and its budget charge, draining buffered requests at shutdown (tokio and blocking
//! readers), taking a reader or writer apart without losing a byte, a completed `WriteFrame`
//! polled again, the shutdown of a poisoned writer, and the conversions the README promises.

use std::future::poll_fn;
use std::io;
use std::pin::{pin, Pin};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use lenframe::tokio::{FrameReader, FrameWriter};
use lenframe::{FrameConfig, FrameError, LengthField, MemoryBudget, Oversize, ReadState};
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::oneshot;

use lenframe_testkit::async_io::{poll_at_most, tokio_tcp_pair, AsyncStep, ScriptedAsyncWriter};
use lenframe_testkit::reference::{payload, reference_stream};

/// Frames of every size class: empty, small, one byte under and over the 64 KiB read step,
/// and large enough to be written with vectored writes and handed over without a copy.
fn mixed_frames() -> Vec<Vec<u8>> {
    [0, 1, 100, 65_535, 65_537, 300_000, 7, 1 << 20, 3]
        .iter()
        .enumerate()
        .map(|(i, &len)| payload(len, i as u8))
        .collect()
}

#[tokio::test]
async fn stream_forward_into_sink_delivers_every_frame_over_tcp() {
    let frames = mixed_frames();
    let (client, relay_in) = tokio_tcp_pair().await;
    let (relay_out, server) = tokio_tcp_pair().await;

    // The client sends through the Sink, one `send` (a flush) per frame, then closes.
    let sent = frames.clone();
    let client = tokio::spawn(async move {
        let mut sink = FrameWriter::new(client);
        for frame in sent {
            sink.send(Bytes::from(frame)).await?;
        }
        sink.close().await
    });
    // The relay forwards the Stream of owned frames into the Sink of the next connection;
    // `forward` flushes and closes it at the end.
    let relay = tokio::spawn(async move {
        FrameReader::new(relay_in)
            .forward(FrameWriter::new(relay_out))
            .await
    });
    let mut stream = FrameReader::new(server);
    let mut got = Vec::new();
    while let Some(frame) = stream.next().await {
        got.push(frame.unwrap());
    }
    client.await.unwrap().unwrap();
    relay.await.unwrap().unwrap();
    assert_eq!(got.len(), frames.len());
    for (i, (got, sent)) in got.iter().zip(&frames).enumerate() {
        assert!(got[..] == sent[..], "frame {i} differs");
    }
    // The stream is over, and stays over.
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn sink_batches_until_flushed() {
    let mut sink = FrameWriter::new(ScriptedAsyncWriter::new([]));
    sink.feed(Bytes::from_static(b"a")).await.unwrap();
    sink.feed(Bytes::from_static(b"bc")).await.unwrap();
    assert!(sink.get_ref().data.is_empty()); // gathered, not yet written
    SinkExt::flush(&mut sink).await.unwrap();
    assert_eq!(sink.get_ref().data, b"\x00\x00\x00\x01a\x00\x00\x00\x02bc");
    assert_eq!(sink.get_ref().flushes, 1);
}

#[tokio::test]
async fn sink_writes_large_frames_across_pending_and_short_writes() {
    let cfg = FrameConfig::default();
    let script = (0..200).map(|i| match i % 3 {
        0 => AsyncStep::Pending,
        1 => AsyncStep::Bytes(7),
        _ => AsyncStep::Bytes(1),
    });
    let mut sink = FrameWriter::with_capacity(ScriptedAsyncWriter::new(script), cfg, 16).unwrap();
    let frames: Vec<Vec<u8>> = [40, 3, 100, 0, 17]
        .iter()
        .map(|&n| payload(n, n as u8))
        .collect();
    for frame in &frames {
        sink.feed(Bytes::from(frame.clone())).await.unwrap();
    }
    sink.close().await.unwrap();
    assert_eq!(sink.get_ref().data, reference_stream(&cfg, &frames));
    assert_eq!(sink.frames_accepted(), 5);
}

#[tokio::test]
async fn sink_refuses_a_frame_over_the_limit_and_writes_nothing() {
    let cfg = FrameConfig::default().max_frame_len(4);
    let mut sink = FrameWriter::with_config(ScriptedAsyncWriter::new([]), cfg).unwrap();
    let err = sink.send(Bytes::from_static(b"12345")).await.unwrap_err();
    assert!(matches!(err, FrameError::TooLarge { len: 5, max: 4 }));
    sink.send(Bytes::from_static(b"1234")).await.unwrap();
    assert_eq!(sink.get_ref().data, b"\x00\x00\x00\x041234");
}

#[tokio::test]
async fn stream_ends_after_a_fatal_error() {
    let mut wire = b"\x00\x00\x00\x02ok".to_vec();
    wire.extend_from_slice(b"\x00\x00\x00\x09more than four");
    let cfg = FrameConfig::default().max_frame_len(4);
    let mut stream = FrameReader::with_config(&wire[..], cfg).unwrap();
    assert_eq!(stream.next().await.unwrap().unwrap(), &b"ok"[..]);
    assert!(matches!(
        stream.next().await,
        Some(Err(FrameError::TooLarge { len: 9, max: 4 }))
    ));
    assert!(stream.next().await.is_none());
    assert!(futures_core::FusedStream::is_terminated(&stream));
}

#[tokio::test]
async fn stream_goes_on_after_a_skipped_frame() {
    let mut wire = b"\x00\x00\x00\x09too long!".to_vec();
    wire.extend_from_slice(b"\x00\x00\x00\x02ok");
    let cfg = FrameConfig::default()
        .max_frame_len(4)
        .oversize(Oversize::Skip);
    let stream = FrameReader::with_config(&wire[..], cfg).unwrap();
    let items: Vec<_> = stream.collect().await;
    assert_eq!(items.len(), 2);
    assert!(matches!(
        items[0],
        Err(FrameError::TooLarge { len: 9, max: 4 })
    ));
    assert_eq!(items[1].as_ref().unwrap(), &b"ok"[..]);
}

#[tokio::test]
async fn read_owned_hands_over_a_large_frame_with_its_charge() {
    let step = lenframe::DEFAULT_READ_CAPACITY;
    let large = payload(4 * step, 1);
    let wire = reference_stream(&FrameConfig::default(), &[&large[..], b"tail"]);
    let budget = MemoryBudget::new(1 << 30);
    let mut reader = FrameReader::new(&wire[..]);
    reader.set_budget(Some(budget.clone())).unwrap();

    let frame = reader.read_frame_owned().await.unwrap().unwrap();
    assert!(frame[..] == large[..]);
    // The buffer went with the frame: the reader holds at most a fresh first step, and the
    // frame's memory is still charged, until the frame is dropped.
    assert!(reader.capacity() <= step, "{}", reader.capacity());
    let charged = budget.in_use();
    assert!(charged >= 3 * step, "{charged}");
    let tail = reader.read_frame_owned().await.unwrap().unwrap();
    assert_eq!(tail, &b"tail"[..]);
    assert_eq!(budget.in_use(), charged);
    let worker = tokio::spawn(async move { frame.len() });
    assert_eq!(worker.await.unwrap(), 4 * step);
    assert_eq!(budget.in_use(), 0);
    assert_eq!(reader.read_frame_owned().await.unwrap(), None);
}

#[tokio::test]
async fn read_owned_copies_a_small_frame_and_keeps_the_buffer() {
    let wire = reference_stream(&FrameConfig::default(), &[b"one", b"two"]);
    let mut reader = FrameReader::new(&wire[..]);
    let one = reader.read_frame_owned().await.unwrap().unwrap();
    let capacity = reader.capacity();
    let two = reader.read_frame_owned().await.unwrap().unwrap();
    assert_eq!(
        (one, two),
        (Bytes::from_static(b"one"), Bytes::from_static(b"two"))
    );
    assert_eq!(reader.capacity(), capacity);
}

/// A server loop as the README shows it: `select!` between the next request and a
/// shutdown signal, then the drain. The client pipelines five requests in one write; the
/// server handles one, is told to stop, and must still handle the four buffered ones.
#[tokio::test]
async fn read_drain_handles_every_buffered_request_at_shutdown() {
    let (mut client, server) = tokio_tcp_pair().await;
    let requests: Vec<Vec<u8>> = (0..5).map(|i| payload(10 + i, i as u8)).collect();
    let wire = reference_stream(&FrameConfig::default(), &requests);
    client.write_all(&wire).await.unwrap();

    // Every request is in the socket before the server reads, so that the first read
    // buffers all five (the loop gives the kernel's loopback its turn; one 80-byte write
    // arrives whole).
    let mut peek = vec![0; wire.len()];
    let mut arrived = 0;
    for _ in 0..10_000 {
        arrived = server.peek(&mut peek).await.unwrap();
        if arrived == wire.len() {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(arrived, wire.len());
    let mut reader = FrameReader::new(server);
    let (stop, mut stopped) = oneshot::channel::<()>();
    let mut stop = Some(stop);
    let mut handled = Vec::new();
    for _ in 0..10 {
        tokio::select! {
            biased;
            _ = &mut stopped => break,
            frame = reader.read_frame() => {
                handled.push(frame.unwrap().unwrap().to_vec());
                // The handler decides to shut down, with requests still buffered.
                if let Some(stop) = stop.take() {
                    stop.send(()).unwrap();
                }
            }
        }
    }
    assert_eq!(handled.len(), 1);
    assert!(reader.has_frame());
    while let Some(frame) = reader.next_buffered().unwrap() {
        handled.push(frame.to_vec());
    }
    assert_eq!(handled, requests);
    assert!(!reader.has_frame());
    drop(client);
}

#[test]
fn blocking_read_drain_handles_every_buffered_request() {
    let requests: Vec<Vec<u8>> = (0..5).map(|i| payload(10 + i, i as u8)).collect();
    let mut wire = reference_stream(&FrameConfig::default(), &requests);
    wire.extend_from_slice(b"\x00\x00\x00\x09half"); // a sixth, cut short
    let mut reader = lenframe::FrameReader::new(&wire[..]);
    let mut handled = vec![reader.read_frame().unwrap().unwrap().to_vec()];
    assert!(reader.has_frame());
    while let Some(frame) = reader.next_buffered().unwrap() {
        handled.push(frame.to_vec());
    }
    assert_eq!(handled, requests);
    assert!(!reader.has_frame());
    assert_eq!(reader.read_buffer(), b"\x00\x00\x00\x09half");
    assert_eq!(reader.state().read_buffer(), reader.read_buffer());
}

#[test]
fn has_frame_is_exact_under_every_layout_state() {
    // A frame being skipped, then a whole one: has_frame looks past the skipped bytes.
    let cfg = FrameConfig::default()
        .max_frame_len(4)
        .oversize(Oversize::Skip);
    let mut state = ReadState::with_capacity(cfg, 16).unwrap();
    let wire = b"\x00\x00\x00\x09too long!\x00\x00\x00\x01k";
    // Only the header of the long frame first: decode starts discarding.
    let fill = |state: &mut ReadState, bytes: &[u8]| {
        state.read_buf().unwrap()[..bytes.len()].copy_from_slice(bytes);
        state.filled(bytes.len(), std::time::Instant::now);
    };
    fill(&mut state, &wire[..6]);
    assert!(!state.has_frame());
    assert!(matches!(state.decode(), Err(FrameError::TooLarge { .. })));
    assert!(!state.has_frame());
    assert_eq!(state.decode().unwrap(), None); // the 6 bytes are skipped
    fill(&mut state, &wire[6..12]);
    assert!(!state.has_frame()); // the rest of the long frame, then 5 bytes to come
    fill(&mut state, &wire[12..]);
    assert!(state.has_frame());
    let range = state.decode().unwrap().unwrap();
    assert_eq!(state.frame(range), b"k");
    assert!(!state.has_frame());
    // A varint layout, its header arriving a byte at a time.
    let cfg = FrameConfig::default().length_field(LengthField::Varint);
    let mut state = ReadState::with_capacity(cfg, 16).unwrap();
    let mut wire = vec![0x81, 0x01]; // 129
    wire.resize(2 + 129, 5);
    for (i, byte) in wire.iter().enumerate() {
        assert!(!state.has_frame(), "after {i} bytes");
        fill(&mut state, &[*byte]);
        if i + 1 < wire.len() {
            assert_eq!(state.decode().unwrap(), None);
        }
    }
    assert!(state.has_frame());
    // A failed decoder has no frame, whatever is buffered.
    let mut state = ReadState::with_capacity(FrameConfig::default().max_frame_len(4), 16).unwrap();
    fill(&mut state, b"\x00\x00\x00\x09abcd\x00\x00\x00\x01k");
    assert!(state.decode().is_err());
    assert!(!state.has_frame());
}

#[test]
fn frame_with_a_stale_range_gives_the_bytes_now_there() {
    let mut state = ReadState::with_capacity(FrameConfig::default(), 16).unwrap();
    let wire = b"\x00\x00\x00\x01a\x00\x00\x00\x01b";
    state.read_buf().unwrap()[..wire.len()].copy_from_slice(wire);
    state.filled(wire.len(), std::time::Instant::now);
    let first = state.decode().unwrap().unwrap();
    let second = state.decode().unwrap().unwrap();
    assert_eq!(state.frame(second), b"b");
    // As documented: a kept range is no longer the frame, but no panic while in bounds.
    assert_eq!(state.frame(first), b"a");
}

#[test]
fn config_error_converts_to_invalid_input() {
    fn open() -> io::Result<FrameReader<&'static [u8]>> {
        let cfg = FrameConfig::default()
            .length_field(LengthField::U16Be)
            .max_frame_len(100_000);
        Ok(FrameReader::with_config(&b""[..], cfg)?)
    }
    let err = open().unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    let inner = err.into_inner().unwrap();
    assert!(matches!(
        inner.downcast_ref::<lenframe::ConfigError>(),
        Some(lenframe::ConfigError::LimitTooLarge {
            max: 100_000,
            largest: 65535
        })
    ));
}

/// A STARTTLS-style upgrade: a framed handshake, then the connection goes on unframed.
/// The handshake and the first raw bytes come in one write, so the reader has read past
/// the frame; `into_parts` gives those bytes back.
#[tokio::test]
async fn read_into_parts_after_a_handshake_loses_no_byte_over_tcp() {
    let (mut client, server) = tokio_tcp_pair().await;
    let raw: Vec<u8> = payload(200_000, 9);
    let mut first = reference_stream(&FrameConfig::default(), &[b"STARTTLS"]);
    first.extend_from_slice(&raw[..1000]);
    let sent = raw.clone();
    let client_task = tokio::spawn(async move {
        client.write_all(&first).await.unwrap();
        client.write_all(&sent[1000..]).await.unwrap();
        client.shutdown().await.unwrap();
    });
    let mut reader = FrameReader::new(server);
    assert_eq!(reader.read_frame().await.unwrap(), Some(&b"STARTTLS"[..]));
    let (mut stream, mut got) = reader.into_parts();
    stream.read_to_end(&mut got).await.unwrap();
    client_task.await.unwrap();
    assert!(got == raw, "{} bytes of {}", got.len(), raw.len());
}

#[tokio::test]
async fn write_into_parts_keeps_every_accepted_byte() {
    // Buffered frames, and a frame given to the Sink that did not fit yet.
    let cfg = FrameConfig::default();
    let mut writer =
        FrameWriter::with_capacity(ScriptedAsyncWriter::new([AsyncStep::Pending; 4]), cfg, 16)
            .unwrap();
    writer.write_frame(b"abc").await.unwrap();
    poll_fn(|cx| writer.poll_ready(cx)).await.unwrap();
    writer.start_send(Bytes::from(payload(40, 1))).unwrap();
    let writer = writer.into_inner().unwrap_err(); // bytes are pending
    let (inner, pending) = writer.into_parts();
    let mut wire = inner.data;
    wire.extend_from_slice(&pending);
    assert_eq!(
        wire,
        reference_stream(&cfg, &[&b"abc"[..], &payload(40, 1)])
    );

    // A large frame given to the Sink, part of it written when the writer is taken apart.
    let mut writer = FrameWriter::with_capacity(
        ScriptedAsyncWriter::new([AsyncStep::Bytes(10), AsyncStep::Pending]),
        cfg,
        16,
    )
    .unwrap();
    writer.start_send(Bytes::from(payload(40, 2))).unwrap();
    let mut ready = pin!(poll_fn(|cx| writer.poll_ready(cx)));
    assert!(poll_at_most(ready.as_mut(), 1).is_none());
    let (inner, pending) = writer.into_parts();
    assert_eq!(inner.data.len(), 10);
    let mut wire = inner.data;
    wire.extend_from_slice(&pending);
    assert_eq!(wire, reference_stream(&cfg, &[&payload(40, 2)]));

    // Nothing pending: into_inner gives the writer.
    let mut writer = FrameWriter::new(Vec::new());
    writer.write_frame(b"x").await.unwrap();
    writer.flush().await.unwrap();
    assert_eq!(writer.into_inner().unwrap(), b"\x00\x00\x00\x01x");
}

#[test]
fn write_frame_polled_again_after_completion_writes_nothing() {
    // Small (buffered), after a flush to make room, and large (vectored) frames.
    let cfg = FrameConfig::default();
    for (capacity, len) in [(64, 3), (8, 3), (8, 100)] {
        let mut writer =
            FrameWriter::with_capacity(ScriptedAsyncWriter::new([]), cfg, capacity).unwrap();
        let first = payload(5, 1);
        let _ = poll_at_most(pin!(writer.write_frame(&first[..])), 1).unwrap();
        let frame = payload(len, 2);
        {
            let mut write = pin!(writer.write_frame(&frame));
            assert!(matches!(poll_at_most(write.as_mut(), 3), Some(Ok(()))));
            for _ in 0..3 {
                assert!(matches!(poll_at_most(write.as_mut(), 1), Some(Ok(()))));
            }
        }
        assert_eq!(writer.frames_accepted(), 2);
        let _ = poll_at_most(pin!(writer.flush()), 1).unwrap();
        assert_eq!(
            writer.get_ref().data,
            reference_stream(&cfg, &[&first[..], &frame[..]]),
            "capacity {capacity}, frame of {len}"
        );
    }
}

/// An `AsyncWrite` that counts its shutdowns.
struct CountingShutdown<W> {
    inner: W,
    shutdowns: usize,
}

impl<W: AsyncWrite + Unpin> AsyncWrite for CountingShutdown<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.shutdowns += 1;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[tokio::test]
async fn write_shutdown_of_a_poisoned_writer_still_closes_the_transport() {
    let script = [
        AsyncStep::Bytes(2),
        AsyncStep::Fail(io::ErrorKind::ConnectionReset),
    ];
    let inner = CountingShutdown {
        inner: ScriptedAsyncWriter::new(script),
        shutdowns: 0,
    };
    let mut writer = FrameWriter::new(inner);
    writer.write_frame(b"hello").await.unwrap();
    assert!(matches!(writer.flush().await, Err(FrameError::Io(_))));
    assert!(writer.state().is_poisoned());
    assert!(matches!(writer.shutdown().await, Err(FrameError::Poisoned)));
    assert_eq!(writer.get_ref().shutdowns, 1);
    assert_eq!(writer.get_ref().inner.data, b"\x00\x00");

    // Over TCP: the peer sees the end of the stream after the poisoned writer's shutdown.
    let (client, mut server) = tokio_tcp_pair().await;
    let mut writer = FrameWriter::new(client);
    let _ = writer.state_mut().accept(b"y").unwrap();
    writer
        .state_mut()
        .record_write(Err(io::ErrorKind::ConnectionReset.into()))
        .unwrap_err();
    assert!(writer.state().is_poisoned());
    assert!(matches!(writer.shutdown().await, Err(FrameError::Poisoned)));
    let mut rest = Vec::new();
    server.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty());
}

/// A peer pipelines a 1-byte frame A and a 4 MiB frame B in one write; the handler for A
/// takes 400 ms with a frame timeout of 150 ms. B's bytes were there all along: the
/// handler's time is not B's.
#[tokio::test(start_paused = true)]
async fn read_handler_time_does_not_count_against_the_next_frame() {
    let b = payload(4 << 20, 2);
    let wire = reference_stream(&FrameConfig::default(), &[&b"A"[..], &b[..]]);
    let (mut peer, ours) = tokio::io::duplex(8 << 20);
    peer.write_all(&wire).await.unwrap();
    let mut reader = FrameReader::new(ours);
    reader.set_frame_timeout(Some(Duration::from_millis(150)));
    assert_eq!(reader.read_frame().await.unwrap(), Some(&b"A"[..]));
    tokio::time::sleep(Duration::from_millis(400)).await; // the handler for A
    let got = reader.read_frame().await.unwrap().unwrap();
    assert!(got == &b[..]);
}

/// A `read_frame` future dropped by a `timeout` after waiting 100 ms of a 150 ms frame
/// timeout; the application then works for 400 ms; the peer sends the rest. Only the
/// 100 ms of waiting count: the frame is read, not cut.
#[tokio::test(start_paused = true)]
async fn read_dropped_future_stops_the_frame_clock() {
    let frame = payload(1000, 3);
    let wire = reference_stream(&FrameConfig::default(), &[&frame]);
    let (mut peer, ours) = tokio::io::duplex(1 << 16);
    let mut reader = FrameReader::new(ours);
    reader.set_frame_timeout(Some(Duration::from_millis(150)));
    peer.write_all(&wire[..500]).await.unwrap();
    let waited = tokio::time::timeout(Duration::from_millis(100), reader.read_frame()).await;
    assert!(waited.is_err());
    tokio::time::sleep(Duration::from_millis(400)).await; // the application's own time
                                                          // The peer sends 300 more bytes now and the rest 20 ms later: within the 50 ms left.
    peer.write_all(&wire[500..800]).await.unwrap();
    let rest = wire[800..].to_vec();
    let late = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        peer.write_all(&rest).await.unwrap();
        peer
    });
    assert_eq!(reader.read_frame().await.unwrap(), Some(&frame[..]));
    let mut peer = late.await.unwrap();

    // The peer that stalls is still cut, counting only the waiting: 100 ms, then 50 more.
    peer.write_all(&wire[..500]).await.unwrap();
    let waited = tokio::time::timeout(Duration::from_millis(100), reader.read_frame()).await;
    assert!(waited.is_err());
    tokio::time::sleep(Duration::from_millis(400)).await;
    let start = tokio::time::Instant::now();
    let err = reader.read_frame().await.unwrap_err();
    assert!(matches!(
        err,
        FrameError::TimedOut { expected: 1004, received: 500, elapsed, .. }
            if elapsed == Duration::from_millis(150)
    ));
    assert_eq!(start.elapsed(), Duration::from_millis(50));
}
