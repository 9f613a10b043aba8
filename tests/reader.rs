//! FrameReader over in-memory and scripted readers: exact frames, errors and resumption.

use std::io::{self, ErrorKind};

use lenframe::{
    ConfigError, FrameConfig, FrameError, FrameReader, HeaderError, LengthField, Oversize,
};
use lenframe_testkit::reference::reference_encode;
use lenframe_testkit::scripted::{ScriptedReader, Step};

fn frames_of(reader: &mut FrameReader<impl io::Read>) -> Result<Vec<Vec<u8>>, FrameError> {
    let mut out = Vec::new();
    while let Some(frame) = reader.read_frame()? {
        out.push(frame.to_vec());
    }
    Ok(out)
}

#[test]
fn read_zero_length_frames_are_not_eof() {
    let wire = reference_encode(&[b"", b"", b"x", b""]);
    let mut reader = FrameReader::new(&wire[..]);
    assert_eq!(
        frames_of(&mut reader).unwrap(),
        vec![vec![], vec![], b"x".to_vec(), vec![]]
    );
}

#[test]
fn read_million_empty_frames() {
    let wire = vec![0u8; 4 * 1_000_000];
    let mut reader = FrameReader::new(&wire[..]);
    let mut n = 0u32;
    while let Some(frame) = reader.read_frame().unwrap() {
        assert!(frame.is_empty());
        n += 1;
    }
    assert_eq!(n, 1_000_000);
    assert_eq!(reader.stats().frames, 1_000_000);
    // Small frames never grow the buffer past its first step.
    assert_eq!(reader.capacity(), reader.capacity_step());
}

#[test]
fn read_one_byte_per_call_delivers_same_frames() {
    let frames: Vec<Vec<u8>> = (0..40).map(|i| vec![i as u8; i * 13]).collect();
    let refs: Vec<&[u8]> = frames.iter().map(|f| &f[..]).collect();
    let wire = reference_encode(&refs);
    let calls = wire.len();
    let src = ScriptedReader::new(wire, std::iter::repeat_n(Step::Bytes(1), calls));
    let mut reader = FrameReader::with_capacity(src, FrameConfig::default(), 16).unwrap();
    assert_eq!(frames_of(&mut reader).unwrap(), frames);
}

#[test]
fn read_interrupted_is_retried() {
    let wire = reference_encode(&[b"abc", b"defg"]);
    let script = [
        Step::Fail(ErrorKind::Interrupted),
        Step::Bytes(2),
        Step::Fail(ErrorKind::Interrupted),
        Step::Fail(ErrorKind::Interrupted),
        Step::Bytes(5),
    ];
    let mut reader = FrameReader::new(ScriptedReader::new(wire, script));
    assert_eq!(
        frames_of(&mut reader).unwrap(),
        vec![b"abc".to_vec(), b"defg".to_vec()]
    );
    assert_eq!(reader.get_ref().errors, 3);
}

#[test]
fn read_would_block_in_header_and_payload_resumes_exactly() {
    let wire = reference_encode(&[b"hello", b"world!"]);
    let script = [
        Step::Bytes(2), // half a header
        Step::Fail(ErrorKind::WouldBlock),
        Step::Bytes(5), // rest of header, 3 payload bytes
        Step::Fail(ErrorKind::TimedOut),
        Step::Bytes(4), // rest of payload, 2 bytes of the next header
        Step::Fail(ErrorKind::WouldBlock),
    ];
    let mut reader = FrameReader::new(ScriptedReader::new(wire, script));
    for _ in 0..2 {
        let err = reader.read_frame().unwrap_err();
        assert!(err.is_would_block(), "{err:?}");
    }
    assert_eq!(reader.read_buffer(), b"\x00\x00\x00\x05hel");
    assert_eq!(reader.read_frame().unwrap(), Some(&b"hello"[..]));
    assert!(reader.read_frame().unwrap_err().is_would_block());
    assert_eq!(reader.read_frame().unwrap(), Some(&b"world!"[..]));
    assert_eq!(reader.read_frame().unwrap(), None);
}

#[test]
fn read_eof_inside_header_is_truncated() {
    let mut reader = FrameReader::new(&b"\x00\x00\x01"[..]);
    assert!(matches!(
        reader.read_frame(),
        Err(FrameError::Truncated {
            expected: 4,
            received: 3
        })
    ));
    let varint = FrameConfig::default().length_field(LengthField::Varint);
    let mut reader = FrameReader::with_config(&b"\x02ab\x80\x80"[..], varint).unwrap();
    assert_eq!(reader.read_frame().unwrap(), Some(&b"ab"[..]));
    // Inside a varint, one more byte is the least that could complete it.
    assert!(matches!(
        reader.read_frame(),
        Err(FrameError::Truncated {
            expected: 3,
            received: 2
        })
    ));
}

#[test]
fn read_eof_inside_payload_is_truncated_with_counts() {
    let mut wire = reference_encode(&[b"ok", b"0123456789"]);
    wire.truncate(wire.len() - 1);
    let mut reader = FrameReader::new(&wire[..]);
    assert_eq!(reader.read_frame().unwrap(), Some(&b"ok"[..]));
    assert!(matches!(
        reader.read_frame(),
        Err(FrameError::Truncated {
            expected: 14,
            received: 13
        })
    ));
}

#[test]
fn read_too_large_is_fatal_under_error_policy() {
    let mut wire = reference_encode(&[b"fine"]);
    wire.extend_from_slice(&u32::MAX.to_be_bytes());
    wire.extend_from_slice(&reference_encode(&[b"never delivered"]));
    let cfg = FrameConfig::default().max_frame_len(100);
    let mut reader = FrameReader::with_config(&wire[..], cfg).unwrap();
    assert_eq!(reader.read_frame().unwrap(), Some(&b"fine"[..]));
    for _ in 0..3 {
        assert!(matches!(
            reader.read_frame(),
            Err(FrameError::TooLarge {
                len: 4_294_967_295,
                max: 100
            })
        ));
    }
}

#[test]
fn read_limit_is_inclusive() {
    let cfg = FrameConfig::default().max_frame_len(5);
    let wire = reference_encode(&[b"12345", b"123456"]);
    let mut reader = FrameReader::with_config(&wire[..], cfg).unwrap();
    assert_eq!(reader.read_frame().unwrap(), Some(&b"12345"[..]));
    assert!(matches!(
        reader.read_frame(),
        Err(FrameError::TooLarge { len: 6, max: 5 })
    ));
}

#[test]
fn read_skip_policy_discards_and_stays_aligned() {
    let big = vec![7u8; 300];
    let wire = reference_encode(&[b"a", &big, b"b", &big, &big, b"c"]);
    let cfg = FrameConfig::default()
        .max_frame_len(100)
        .oversize(Oversize::Skip);
    // A small step: the discarded frames are larger than the buffer, which never grows.
    let mut reader = FrameReader::with_capacity(&wire[..], cfg, 32).unwrap();
    let mut got = Vec::new();
    let mut too_large = 0;
    for _ in 0..20 {
        match reader.read_frame() {
            Ok(Some(frame)) => got.push(frame.to_vec()),
            Ok(None) => break,
            Err(FrameError::TooLarge { len: 300, max: 100 }) => too_large += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(got, vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
    assert_eq!(too_large, 3);
    let stats = reader.stats();
    assert_eq!((stats.frames, stats.bytes), (3, 3));
    assert_eq!((stats.skipped_frames, stats.skipped_bytes), (3, 3 * 304));
    assert_eq!(reader.capacity(), 32);
}

#[test]
fn read_skip_truncated_inside_discarded_frame() {
    let mut wire = reference_encode(&[&[1u8; 50]]);
    wire.truncate(30);
    let cfg = FrameConfig::default()
        .max_frame_len(10)
        .oversize(Oversize::Skip);
    let mut reader = FrameReader::with_config(&wire[..], cfg).unwrap();
    assert!(matches!(
        reader.read_frame(),
        Err(FrameError::TooLarge { len: 50, max: 10 })
    ));
    assert!(matches!(
        reader.read_frame(),
        Err(FrameError::Truncated {
            expected: 54,
            received: 30
        })
    ));
}

#[test]
fn read_invalid_varint_is_fatal() {
    let cfg = FrameConfig::default().length_field(LengthField::Varint);
    let wire = [0x80u8, 0x80, 0x00, b'x'];
    let mut reader = FrameReader::with_config(&wire[..], cfg).unwrap();
    for _ in 0..2 {
        assert!(matches!(
            reader.read_frame(),
            Err(FrameError::InvalidHeader(HeaderError::VarintOverlong {
                len: 3
            }))
        ));
    }
    let eleven = [0xffu8; 11];
    let mut reader = FrameReader::with_config(&eleven[..], cfg).unwrap();
    assert!(matches!(
        reader.read_frame(),
        Err(FrameError::InvalidHeader(HeaderError::VarintTooLong))
    ));
}

#[test]
fn read_negative_adjusted_length_is_invalid() {
    let cfg = FrameConfig::default().length_adjustment(-4);
    let mut reader = FrameReader::with_config(&b"\x00\x00\x00\x02"[..], cfg).unwrap();
    assert!(matches!(
        reader.read_frame(),
        Err(FrameError::InvalidHeader(HeaderError::NegativeLength {
            field: 2,
            adjustment: -4
        }))
    ));
}

#[test]
fn read_with_invalid_config_is_refused() {
    let cfg = FrameConfig::default()
        .length_field(LengthField::U8)
        .max_frame_len(256);
    assert_eq!(
        FrameReader::with_config(&b""[..], cfg).unwrap_err(),
        ConfigError::LimitTooLarge {
            max: 256,
            largest: 255
        }
    );
    assert_eq!(
        FrameReader::with_capacity(&b""[..], FrameConfig::default(), 0).unwrap_err(),
        ConfigError::ZeroBufferSize
    );
}

#[test]
fn read_error_converts_to_io_error_kinds() {
    let too_large: io::Error = FrameError::TooLarge { len: 9, max: 8 }.into();
    assert_eq!(too_large.kind(), ErrorKind::InvalidData);
    assert_eq!(
        too_large.to_string(),
        "frame of 9 bytes exceeds the limit of 8 bytes"
    );
    let truncated: io::Error = FrameError::Truncated {
        expected: 10,
        received: 3,
    }
    .into();
    assert_eq!(truncated.kind(), ErrorKind::UnexpectedEof);
    assert_eq!(
        truncated.to_string(),
        "stream ended inside a frame: expected 10 bytes, received 3"
    );
    let io: io::Error = FrameError::Io(ErrorKind::WouldBlock.into()).into();
    assert_eq!(io.kind(), ErrorKind::WouldBlock);
    let timed: io::Error = FrameError::TimedOut {
        expected: 8,
        received: 5,
        elapsed: std::time::Duration::from_millis(3),
        limit: lenframe::TimeLimit::Fixed(std::time::Duration::from_millis(3)),
    }
    .into();
    assert_eq!(timed.kind(), ErrorKind::TimedOut);
    assert_eq!(
        timed.to_string(),
        "frame not complete after 3ms: expected 8 bytes, received 5, past the 3ms frame timeout"
    );
    let budget: io::Error = FrameError::OverBudget {
        requested: 65536,
        in_use: 10,
        limit: 100,
    }
    .into();
    assert_eq!(budget.kind(), ErrorKind::OutOfMemory);
    assert_eq!(
        budget.to_string(),
        "buffer growth of 65536 bytes exceeds the memory budget: 10 of 100 bytes in use"
    );
}

#[test]
fn read_every_layout_from_its_own_encoder() {
    for field in LengthField::ALL {
        let cfg = FrameConfig::default()
            .length_field(field)
            .length_field_offset(2)
            .max_frame_len(200);
        let enc = lenframe::FrameEncoder::new(cfg).unwrap();
        let mut wire = Vec::new();
        for len in [0usize, 1, 127, 128, 200] {
            enc.encode(&vec![len as u8; len], &mut wire).unwrap();
        }
        let mut reader = FrameReader::with_config(&wire[..], cfg).unwrap();
        let got = frames_of(&mut reader).unwrap();
        let lens: Vec<usize> = got.iter().map(Vec::len).collect();
        assert_eq!(lens, [0, 1, 127, 128, 200], "{field:?}");
    }
}
