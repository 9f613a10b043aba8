//! Wire compatibility with real peers over 127.0.0.1 sockets (ephemeral ports), both ways.
//!
//! Peers: tokio-util's `LengthDelimitedCodec` (every fixed-width layout), prost's protobuf
//! delimited streams (varint layout) and a Python 3 peer (`tests/data/echo_peer.py`, default
//! layout). Frames of 0, 1, 1000, 65 536 and 1 MiB bytes, in random orders drawn from a
//! seeded PRNG, so that every run sends the same streams; sizes a layout cannot express are
//! left out of its streams.
//!
//! What matches byte for byte, and what does not:
//!
//! - lenframe's encoders (`FrameWriter`, `FrameCodec`) write what tokio-util's decoder reads
//!   as the same frames for every fixed-width layout, given tokio-util's settings from
//!   [`tokio_codec_for`] (the adjustment differs by `header - num_skip`, because tokio-util
//!   counts the length from the end of the skipped bytes and lenframe from the end of the
//!   header).
//! - tokio-util's encoder writes no offset bytes and uses its own adjustment unchanged: its
//!   bytes equal lenframe's only for layouts without offset whose whole header is skipped
//!   (the `tokio_encodes` layouts below). For the others it is tested one way only, lenframe
//!   to tokio-util; `tests/wire_vectors.rs` pins down exactly what tokio-util writes instead.
//! - tokio-util checks its limit on the raw field, before the adjustment; lenframe on the
//!   payload, after it (`tokio_util_limit_is_checked_before_the_adjustment`).

#[path = "support/python.rs"]
mod python;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener};

use bytes::{Bytes, BytesMut};
use futures_util::{FutureExt, SinkExt, StreamExt};
use lenframe::{
    FrameCodec, FrameConfig, FrameEncoder, FrameError, FrameReader, FrameWriter, LengthField,
    Oversize,
};
use prost::Message;
use python::PythonPeer;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_util::codec::{Decoder, Framed, FramedRead, FramedWrite, LengthDelimitedCodec};

/// The frame sizes every stream is made of.
const SIZES: [usize; 5] = [0, 1, 1000, 65_536, 1 << 20];

/// Random orders per layout and direction.
const ORDERS: u64 = 4;

/// SplitMix64: a small, seeded, deterministic generator for stream orders and contents.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A stream's payload sizes: every size the layout allows once, then three more of the
/// sizes below 1 MiB, in a random order.
fn order(rng: &mut Rng, allowed: &[usize]) -> Vec<usize> {
    let mut sizes = allowed.to_vec();
    let small: Vec<usize> = allowed.iter().copied().filter(|&s| s < 1 << 20).collect();
    for _ in 0..3 {
        sizes.push(small[rng.below(small.len())]);
    }
    for i in (1..sizes.len()).rev() {
        sizes.swap(i, rng.below(i + 1));
    }
    sizes
}

/// Payloads of the given sizes, each with its own pseudo-random contents, so that a frame
/// that is swapped, shifted or cut cannot pass for another.
fn payloads(rng: &mut Rng, sizes: &[usize]) -> Vec<Vec<u8>> {
    sizes
        .iter()
        .map(|&len| {
            let seed = rng.next();
            (0..len)
                .map(|i| ((i as u64).wrapping_mul(seed | 1) >> 13) as u8)
                .collect()
        })
        .collect()
}

/// A stream: the payloads of a random [`order`].
fn stream(rng: &mut Rng, allowed: &[usize]) -> Vec<Vec<u8>> {
    let sizes = order(rng, allowed);
    payloads(rng, &sizes)
}

/// A lenframe layout and how it is named in failure messages.
#[derive(Debug, Clone, Copy)]
struct Layout {
    name: &'static str,
    field: LengthField,
    offset: usize,
    adjustment: isize,
    skip: Option<usize>,
}

const fn layout(name: &'static str, field: LengthField) -> Layout {
    Layout {
        name,
        field,
        offset: 0,
        adjustment: 0,
        skip: None,
    }
}

/// Every fixed-width field, in both byte orders, and the offset, adjustment and skip cases.
const LAYOUTS: [Layout; 15] = [
    layout("u8", LengthField::U8),
    layout("u16be", LengthField::U16Be),
    layout("u16le", LengthField::U16Le),
    layout("u24be", LengthField::U24Be),
    layout("u24le", LengthField::U24Le),
    layout("u32be", LengthField::U32Be),
    layout("u32le", LengthField::U32Le),
    layout("u64be", LengthField::U64Be),
    layout("u64le", LengthField::U64Le),
    Layout {
        adjustment: -4,
        ..layout("u32be_counts_itself", LengthField::U32Be)
    },
    Layout {
        adjustment: -2,
        ..layout("u16le_counts_itself", LengthField::U16Le)
    },
    Layout {
        offset: 2,
        ..layout("u32be_offset2", LengthField::U32Be)
    },
    Layout {
        offset: 1,
        skip: Some(1),
        ..layout("u16be_offset1_skip1", LengthField::U16Be)
    },
    Layout {
        adjustment: 2,
        skip: Some(0),
        ..layout("u24be_skip0_plus2", LengthField::U24Be)
    },
    Layout {
        offset: 3,
        adjustment: -11,
        ..layout("u64le_offset3_counts_whole_frame", LengthField::U64Le)
    },
];

impl Layout {
    /// The lenframe configuration, with the default limit: 8 MiB, or the most the field can
    /// express.
    fn config(&self) -> FrameConfig {
        let cfg = FrameConfig::default()
            .length_field(self.field)
            .length_field_offset(self.offset)
            .length_adjustment(self.adjustment);
        match self.skip {
            Some(s) => cfg.num_skip(s),
            None => cfg,
        }
    }

    fn header_len(&self) -> usize {
        self.offset + self.field.min_len()
    }

    /// Whether tokio-util's encoder writes lenframe's bytes for this layout.
    fn tokio_encodes(&self) -> bool {
        self.offset == 0 && self.skip.is_none_or(|s| s == self.header_len())
    }

    /// The sizes of [`SIZES`] the layout can express.
    fn sizes(&self) -> Vec<usize> {
        let enc = FrameEncoder::new(self.config()).unwrap();
        SIZES
            .into_iter()
            .filter(|&s| enc.header(s).is_ok())
            .collect()
    }

    /// What a decoder delivers for `payload`: the frame without its first `num_skip` bytes.
    fn deliver(&self, payload: &[u8]) -> Vec<u8> {
        let mut wire = Vec::new();
        FrameEncoder::new(self.config())
            .unwrap()
            .encode(payload, &mut wire)
            .unwrap();
        wire.split_off(self.skip.unwrap_or(self.header_len()))
    }
}

/// tokio-util's codec with the settings that read `layout`: the same offset, width, byte
/// order and skip; the adjustment counted from the end of the skipped bytes; the same limit,
/// which tokio-util applies to the raw field.
fn tokio_codec_for(layout: &Layout) -> LengthDelimitedCodec {
    let width = layout.field.width().expect("a fixed-width field");
    let skip = layout.skip.unwrap_or(layout.header_len());
    let max_payload = layout.config().get_max_frame_len();
    let max_field = (max_payload as i128 - layout.adjustment as i128) as usize;
    let mut b = LengthDelimitedCodec::builder();
    b.length_field_offset(layout.offset)
        .length_field_length(width)
        .length_adjustment(layout.adjustment + layout.header_len() as isize - skip as isize)
        .num_skip(skip)
        .max_frame_length(max_field);
    if matches!(
        layout.field,
        LengthField::U16Le | LengthField::U24Le | LengthField::U32Le | LengthField::U64Le
    ) {
        b.little_endian();
    }
    b.new_codec()
}

/// A connected pair of blocking streams over 127.0.0.1.
fn std_pair() -> (std::net::TcpStream, std::net::TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let connected = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (accepted, _) = listener.accept().unwrap();
    (accepted, connected)
}

/// A connected pair over 127.0.0.1: one end for tokio (registered with `rt`), one blocking.
fn tcp_pair(rt: &tokio::runtime::Runtime) -> (TcpStream, std::net::TcpStream) {
    let (a, b) = std_pair();
    a.set_nonblocking(true).unwrap();
    let _guard = rt.enter();
    (TcpStream::from_std(a).unwrap(), b)
}

/// A connected pair over 127.0.0.1, both ends for tokio.
fn tokio_pair(rt: &tokio::runtime::Runtime) -> (TcpStream, TcpStream) {
    let (a, b) = tcp_pair(rt);
    b.set_nonblocking(true).unwrap();
    let _guard = rt.enter();
    (a, TcpStream::from_std(b).unwrap())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The stream seed for a layout, a direction and an order: fixed, so every run is the same.
fn seed(layout: usize, direction: u64, order: u64) -> Rng {
    Rng(((layout as u64) << 32) ^ (direction << 16) ^ order)
}

#[test]
fn writer_to_tokio_framed_read_every_layout() {
    let rt = runtime();
    let mut frames = 0;
    for (li, layout) in LAYOUTS.iter().enumerate() {
        for o in 0..ORDERS {
            let mut rng = seed(li, 1, o);
            let sent = stream(&mut rng, &layout.sizes());
            let want: Vec<Vec<u8>> = sent.iter().map(|p| layout.deliver(p)).collect();
            let (async_end, blocking_end) = tcp_pair(&rt);
            let cfg = layout.config();
            let writer = std::thread::spawn(move || {
                let mut w = FrameWriter::with_config(blocking_end, cfg).unwrap();
                for p in &sent {
                    w.write_frame(p).unwrap();
                }
                w.flush().unwrap();
                // Dropping the stream closes it: the reader sees a clean end.
            });
            rt.block_on(async {
                let mut read = FramedRead::new(async_end, tokio_codec_for(layout));
                for (i, want) in want.iter().enumerate() {
                    let got = read.next().await.unwrap().unwrap();
                    assert!(
                        got[..] == want[..],
                        "{} order {o} frame {i}: {} bytes, want {}",
                        layout.name,
                        got.len(),
                        want.len()
                    );
                    frames += 1;
                }
                assert!(read.next().await.is_none(), "{} order {o}", layout.name);
            });
            writer.join().unwrap();
        }
    }
    // Per order: u8 takes 2 sizes (5 frames); the u16 layouts and the +2 adjustment 3 sizes
    // (6 frames, x5); the other 9 layouts all 5 sizes (8 frames).
    assert_eq!(frames, ORDERS as usize * (5 + 5 * 6 + 9 * 8));
}

#[test]
fn tokio_framed_write_to_reader_where_tokio_encodes_the_same_bytes() {
    let rt = runtime();
    let mut layouts = 0;
    for (li, layout) in LAYOUTS.iter().enumerate() {
        if !layout.tokio_encodes() {
            continue;
        }
        layouts += 1;
        for o in 0..ORDERS {
            let mut rng = seed(li, 2, o);
            let sent = stream(&mut rng, &layout.sizes());
            let (async_end, blocking_end) = tcp_pair(&rt);
            let cfg = layout.config();
            let reader = std::thread::spawn(move || {
                let mut r = FrameReader::with_config(blocking_end, cfg).unwrap();
                let mut got = Vec::new();
                while let Some(f) = r.read_frame().unwrap() {
                    got.push(f.to_vec());
                }
                got
            });
            rt.block_on(async {
                let mut write = FramedWrite::new(async_end, tokio_codec_for(layout));
                for p in &sent {
                    // Some frames are flushed alone, others batched with the next ones.
                    if rng.below(2) == 0 {
                        write.send(Bytes::from(p.clone())).await.unwrap();
                    } else {
                        write.feed(Bytes::from(p.clone())).await.unwrap();
                    }
                }
                SinkExt::<Bytes>::close(&mut write).await.unwrap();
            });
            let got = reader.join().unwrap();
            assert_eq!(got.len(), sent.len(), "{} order {o}", layout.name);
            for (i, (got, sent)) in got.iter().zip(&sent).enumerate() {
                assert!(got == sent, "{} order {o} frame {i}", layout.name);
            }
        }
    }
    assert_eq!(layouts, 11);
}

#[test]
fn codec_framed_with_tokio_framed_every_layout() {
    let rt = runtime();
    let mut echoed = 0;
    for (li, layout) in LAYOUTS.iter().enumerate() {
        for o in 0..ORDERS {
            let mut rng = seed(li, 3, o);
            let sent = stream(&mut rng, &layout.sizes());
            let want: Vec<Vec<u8>> = sent.iter().map(|p| layout.deliver(p)).collect();
            let echo = layout.tokio_encodes();
            let (a, b) = tokio_pair(&rt);
            let codec = FrameCodec::with_config(layout.config()).unwrap();
            let peer_codec = tokio_codec_for(layout);
            let name = layout.name;
            rt.block_on(async {
                // tokio-util's side: checks each frame and, where its encoder writes lenframe's
                // bytes, sends it back.
                let peer = tokio::spawn(async move {
                    let mut peer = Framed::new(b, peer_codec);
                    for (i, want) in want.iter().enumerate() {
                        let got = peer.next().await.unwrap().unwrap();
                        assert!(got[..] == want[..], "{name} order {o} frame {i}");
                        if echo {
                            peer.send(got.freeze()).await.unwrap();
                        }
                    }
                    assert!(peer.next().await.is_none(), "{name} order {o}");
                });
                let mut ours = Framed::new(a, codec);
                for (i, p) in sent.iter().enumerate() {
                    if echo {
                        // In lockstep, so that neither side's buffers fill up.
                        ours.send(Bytes::from(p.clone())).await.unwrap();
                        let back = ours.next().await.unwrap().unwrap();
                        assert!(back[..] == p[..], "{name} order {o} echo {i}");
                        echoed += 1;
                    } else {
                        ours.feed(Bytes::from(p.clone())).await.unwrap();
                    }
                }
                SinkExt::<Bytes>::flush(&mut ours).await.unwrap();
                ours.get_mut().shutdown().await.unwrap();
                peer.await.unwrap();
                assert!(ours.next().await.is_none(), "{name} order {o}");
                assert_eq!(
                    ours.codec().stats().frames,
                    if echo { sent.len() } else { 0 } as u64
                );
                assert_eq!(ours.codec().encode_stats().frames, sent.len() as u64);
            });
        }
    }
    // 11 echoing layouts: u8 has 5 frames per stream, the three u16 ones 6, the others 8.
    assert_eq!(echoed, ORDERS as usize * (5 + 3 * 6 + 7 * 8));
}

/// Protobuf's delimited stream format with `Vec<u8>` messages (`google.protobuf.BytesValue`).
fn protobuf_config() -> FrameConfig {
    FrameConfig::default().length_field(LengthField::Varint)
}

#[test]
fn prost_to_reader_varint() {
    for o in 0..ORDERS {
        let mut rng = seed(100, 4, o);
        let messages = stream(&mut rng, &SIZES);
        let (std_end, mut blocking_end) = std_pair();
        let to_send = messages.clone();
        let writer = std::thread::spawn(move || {
            let mut wire = Vec::new();
            for m in &to_send {
                m.encode_length_delimited(&mut wire).unwrap();
            }
            blocking_end.write_all(&wire).unwrap();
        });
        let mut r = FrameReader::with_config(std_end, protobuf_config()).unwrap();
        for (i, m) in messages.iter().enumerate() {
            let frame = r.read_frame().unwrap().unwrap();
            assert!(frame == &m.encode_to_vec()[..], "order {o} frame {i}");
            assert!(
                Vec::<u8>::decode(frame).unwrap() == *m,
                "order {o} message {i}"
            );
        }
        assert!(r.read_frame().unwrap().is_none());
        writer.join().unwrap();
    }
}

#[test]
fn writer_to_prost_varint() {
    for o in 0..ORDERS {
        let mut rng = seed(100, 5, o);
        let messages = stream(&mut rng, &SIZES);
        let (mut std_end, blocking_end) = std_pair();
        let to_send = messages.clone();
        let writer = std::thread::spawn(move || {
            let mut w = FrameWriter::with_config(blocking_end, protobuf_config()).unwrap();
            for m in &to_send {
                w.write_frame(&m.encode_to_vec()).unwrap();
            }
            w.flush().unwrap();
        });
        let mut wire = Vec::new();
        std_end.read_to_end(&mut wire).unwrap();
        writer.join().unwrap();
        let mut rest = &wire[..];
        for (i, m) in messages.iter().enumerate() {
            let got = Vec::<u8>::decode_length_delimited(&mut rest).unwrap();
            assert!(got == *m, "order {o} message {i}");
        }
        assert!(rest.is_empty());
    }
}

#[test]
fn codec_framed_with_prost_both_directions() {
    let rt = runtime();
    for o in 0..ORDERS {
        let mut rng = seed(100, 6, o);
        let messages = stream(&mut rng, &SIZES);
        let (a, mut b) = tokio_pair(&rt);
        rt.block_on(async {
            let to_send = messages.clone();
            // prost's side: reads lenframe's stream to its end, then answers with its own.
            let peer = tokio::spawn(async move {
                let mut wire = Vec::new();
                tokio::io::AsyncReadExt::read_to_end(&mut b, &mut wire)
                    .await
                    .unwrap();
                let mut rest = &wire[..];
                for (i, m) in to_send.iter().enumerate() {
                    let got = Vec::<u8>::decode_length_delimited(&mut rest).unwrap();
                    assert!(got == *m, "order {o} message {i} to prost");
                }
                assert!(rest.is_empty());
                let mut answer = Vec::new();
                for m in to_send.iter().rev() {
                    m.encode_length_delimited(&mut answer).unwrap();
                }
                b.write_all(&answer).await.unwrap();
                b.shutdown().await.unwrap();
            });
            let mut ours = Framed::new(a, FrameCodec::with_config(protobuf_config()).unwrap());
            for m in &messages {
                ours.feed(Bytes::from(m.encode_to_vec())).await.unwrap();
            }
            SinkExt::<Bytes>::flush(&mut ours).await.unwrap();
            ours.get_mut().shutdown().await.unwrap();
            for (i, m) in messages.iter().rev().enumerate() {
                let frame = ours.next().await.unwrap().unwrap();
                assert!(
                    Vec::<u8>::decode(frame).unwrap() == *m,
                    "order {o} message {i} from prost"
                );
            }
            assert!(ours.next().await.is_none());
            peer.await.unwrap();
        });
    }
}

#[test]
fn python_peer_echo_with_writer_and_reader() {
    for o in 0..ORDERS {
        let mut rng = seed(200, 7, o);
        let sent = stream(&mut rng, &SIZES);
        let Some(peer) = PythonPeer::start() else {
            return;
        };
        let stream = std::net::TcpStream::connect(("127.0.0.1", peer.port)).unwrap();
        let to_send = sent.clone();
        let write_end = stream.try_clone().unwrap();
        // Writing and reading at once: the peer echoes while frames are still coming.
        let writer = std::thread::spawn(move || {
            let mut w = FrameWriter::new(write_end);
            for p in &to_send {
                w.write_frame(p).unwrap();
            }
            w.flush().unwrap();
            w.get_ref().shutdown(Shutdown::Write).unwrap();
        });
        let mut r = FrameReader::new(stream);
        for (i, p) in sent.iter().enumerate() {
            let got = r.read_frame().unwrap().unwrap();
            assert!(got == &p[..], "order {o} frame {i}: {} bytes", got.len());
        }
        assert!(r.read_frame().unwrap().is_none(), "order {o}");
        writer.join().unwrap();
        let report = peer.finish();
        let bytes: usize = sent.iter().map(Vec::len).sum();
        assert_eq!(
            report,
            format!("echoed {} frames, {bytes} payload bytes", sent.len())
        );
    }
}

#[test]
fn codec_framed_skip_policy_goes_on_after_too_large() {
    let rt = runtime();
    let (async_end, blocking_end) = tcp_pair(&rt);
    let writer = std::thread::spawn(move || {
        let mut w = FrameWriter::new(blocking_end);
        for len in [10, 65_536, 0, 1000] {
            w.write_frame(&vec![len as u8; len]).unwrap();
        }
        w.flush().unwrap();
    });
    rt.block_on(async {
        let cfg = FrameConfig::default()
            .max_frame_len(1000)
            .oversize(Oversize::Skip);
        let mut framed = Framed::new(async_end, FrameCodec::with_config(cfg).unwrap());
        assert_eq!(framed.next().await.unwrap().unwrap()[..], [10; 10]);
        assert!(matches!(
            framed.next().await,
            Some(Err(FrameError::TooLarge {
                len: 65_536,
                max: 1000
            }))
        ));
        // Framed ends its stream after an error; polled again, it goes on.
        assert!(framed.next().await.is_none());
        assert_eq!(framed.next().await.unwrap().unwrap()[..], []);
        assert_eq!(framed.next().await.unwrap().unwrap()[..], [232; 1000]);
        assert!(framed.next().await.is_none());
        let s = framed.codec().stats();
        assert_eq!(
            (s.frames, s.bytes, s.skipped_frames, s.skipped_bytes),
            (3, 1010, 1, 65_540)
        );
    });
    writer.join().unwrap();
}

#[test]
fn codec_framed_error_policy_stays_failed() {
    let rt = runtime();
    let (async_end, blocking_end) = tcp_pair(&rt);
    let writer = std::thread::spawn(move || {
        let mut w = FrameWriter::new(blocking_end);
        w.write_frame(&[1; 2000]).unwrap();
        w.write_frame(b"never delivered").unwrap();
        w.flush().unwrap();
    });
    rt.block_on(async {
        let cfg = FrameConfig::default().max_frame_len(1000);
        let mut framed = Framed::new(async_end, FrameCodec::with_config(cfg).unwrap());
        for _ in 0..2 {
            assert!(matches!(
                framed.next().await,
                Some(Err(FrameError::TooLarge {
                    len: 2000,
                    max: 1000
                }))
            ));
            assert!(framed.next().await.is_none());
        }
        assert_eq!(framed.codec().stats().frames, 0);
    });
    writer.join().unwrap();
}

#[test]
fn codec_framed_truncated_final_frame_is_an_error_tokio_util_is_vaguer() {
    let rt = runtime();
    for ours in [true, false] {
        let (async_end, mut blocking_end) = tcp_pair(&rt);
        // A whole frame, then a header declaring 1000 bytes and 10 of them.
        let mut wire = b"\x00\x00\x00\x02ok".to_vec();
        wire.extend_from_slice(&1000u32.to_be_bytes());
        wire.extend_from_slice(&[9; 10]);
        blocking_end.write_all(&wire).unwrap();
        drop(blocking_end);
        rt.block_on(async {
            if ours {
                let mut framed = FramedRead::new(async_end, FrameCodec::new());
                assert_eq!(framed.next().await.unwrap().unwrap()[..], *b"ok");
                assert!(matches!(
                    framed.next().await,
                    Some(Err(FrameError::Truncated {
                        expected: 1004,
                        received: 14
                    }))
                ));
                assert!(framed.next().await.is_none());
            } else {
                let mut framed = FramedRead::new(async_end, LengthDelimitedCodec::new());
                assert_eq!(framed.next().await.unwrap().unwrap()[..], *b"ok");
                let err = framed.next().await.unwrap().unwrap_err();
                assert_eq!(err.kind(), std::io::ErrorKind::Other);
                assert_eq!(err.to_string(), "bytes remaining on stream");
            }
        });
    }
}

#[test]
fn codec_framed_memory_after_max_size_header_stays_at_framed_initial_buffer() {
    // A header declaring the 8 MiB limit, then 10 bytes of body, then silence. Framed starts
    // with an 8 KiB buffer; lenframe's codec adds nothing to it, tokio-util's reserves the
    // declared length at once.
    let mut hostile = (8u32 << 20).to_be_bytes().to_vec();
    hostile.extend_from_slice(&[7; 10]);

    let (ours_end, mut ours_peer) = tokio::io::duplex(1 << 16);
    let (theirs_end, mut theirs_peer) = tokio::io::duplex(1 << 16);
    let rt = runtime();
    rt.block_on(async {
        ours_peer.write_all(&hostile).await.unwrap();
        theirs_peer.write_all(&hostile).await.unwrap();

        let mut ours = Framed::new(ours_end, FrameCodec::new());
        assert_eq!(ours.read_buffer().capacity(), 8 * 1024);
        // One poll reads the 14 bytes, decodes nothing and waits for more.
        assert!(ours.next().now_or_never().is_none());
        assert_eq!(ours.read_buffer().len(), 14);
        assert_eq!(ours.read_buffer().capacity(), 8 * 1024);

        let mut theirs = Framed::new(theirs_end, LengthDelimitedCodec::new());
        assert!(theirs.next().now_or_never().is_none());
        // tokio-util has taken the header off and reserved room for the whole payload.
        assert_eq!(theirs.read_buffer().len(), 10);
        assert!(theirs.read_buffer().capacity() >= 8 << 20);
    });
}

#[test]
fn tokio_util_limit_is_checked_before_the_adjustment() {
    // A 4-byte field that counts itself, under a limit of 100.
    let ours_cfg = FrameConfig::default()
        .length_adjustment(-4)
        .max_frame_len(100);
    let mut theirs = LengthDelimitedCodec::builder()
        .length_adjustment(-4)
        .max_frame_length(100)
        .new_codec();
    // Field 104: a 100-byte payload. lenframe accepts it (the limit is on the payload);
    // tokio-util refuses it (its limit is on the raw field).
    let mut wire = 104u32.to_be_bytes().to_vec();
    wire.extend_from_slice(&[5; 100]);
    let mut ours = FrameCodec::with_config(ours_cfg).unwrap();
    let frame = ours
        .decode(&mut BytesMut::from(&wire[..]))
        .unwrap()
        .unwrap();
    assert_eq!(frame.len(), 100);
    let err = theirs.decode(&mut BytesMut::from(&wire[..])).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    // Field 105 (101 bytes) is over for lenframe, with the numbers.
    let mut over = BytesMut::from(&105u32.to_be_bytes()[..]);
    assert!(matches!(
        FrameCodec::with_config(ours_cfg).unwrap().decode(&mut over),
        Err(FrameError::TooLarge { len: 101, max: 100 })
    ));
    // tokio-util's largest frame here is field 100: a 96-byte payload.
    let mut wire = 100u32.to_be_bytes().to_vec();
    wire.extend_from_slice(&[5; 96]);
    assert_eq!(
        theirs
            .decode(&mut BytesMut::from(&wire[..]))
            .unwrap()
            .unwrap()
            .len(),
        96
    );
}

/// A limit of `Framed`, not of the codec: once the transport has ended, an error makes
/// `Framed` stop for good. Two oversized frames among the last bytes under `Oversize::Skip`:
/// the second is reported from `decode_eof`, after which `Framed` never calls the decoder
/// again, and the frame after it is not delivered (the codec itself would deliver it).
#[test]
fn codec_framed_skip_second_error_after_the_end_stops_framed() {
    let mut wire = Vec::new();
    let enc = FrameEncoder::new(FrameConfig::default()).unwrap();
    for p in [&b"a"[..], &[1; 20], &[2; 30], b"z"] {
        enc.encode(p, &mut wire).unwrap();
    }
    let cfg = FrameConfig::default()
        .max_frame_len(10)
        .oversize(Oversize::Skip);

    // The codec alone, at the end of the stream, delivers every frame it can.
    let mut codec = FrameCodec::with_config(cfg).unwrap();
    let mut buf = BytesMut::from(&wire[..]);
    let mut outcomes = Vec::new();
    for _ in 0..6 {
        outcomes.push(match codec.decode_eof(&mut buf) {
            Ok(Some(f)) => format!("frame {:?}", &f[..]),
            Ok(None) => "end".to_string(),
            Err(e) => e.to_string(),
        });
    }
    assert_eq!(
        outcomes,
        [
            "frame [97]",
            "frame of 20 bytes exceeds the limit of 10 bytes",
            "frame of 30 bytes exceeds the limit of 10 bytes",
            "frame [122]",
            "end",
            "end"
        ]
    );

    // Framed reads all of it at once, then the end.
    let rt = runtime();
    rt.block_on(async {
        let (ours, mut peer) = tokio::io::duplex(1 << 16);
        peer.write_all(&wire).await.unwrap();
        drop(peer);
        let mut framed = Framed::new(ours, FrameCodec::with_config(cfg).unwrap());
        assert_eq!(framed.next().await.unwrap().unwrap()[..], *b"a");
        assert!(matches!(
            framed.next().await,
            Some(Err(FrameError::TooLarge { len: 20, max: 10 }))
        ));
        assert!(framed.next().await.is_none());
        assert!(matches!(
            framed.next().await,
            Some(Err(FrameError::TooLarge { len: 30, max: 10 }))
        ));
        assert!(framed.next().await.is_none());
        // The second oversized frame and "z" are still in the read buffer, but Framed has
        // ended: it calls the decoder no more.
        assert!(framed.next().await.is_none());
        assert_eq!(framed.read_buffer().len(), 4 + 30 + 5);
        assert_eq!(framed.read_buffer()[34..], *b"\x00\x00\x00\x01z");
        assert_eq!(framed.codec().stats().frames, 1);
    });
}
