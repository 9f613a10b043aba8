//! Exact inputs from the fuzz seed corpus (`fuzz/corpus/*/seed-*`), pinned as plain tests
//! with their exact results, so that `cargo test` checks them without a nightly toolchain.

use lenframe::{
    Decoded, FrameConfig, FrameDecoder, FrameError, FrameReader, HeaderError, LengthField, Oversize,
};

fn varint() -> FrameDecoder {
    FrameDecoder::new(FrameConfig::default().length_field(LengthField::Varint)).unwrap()
}

/// `seed-varint-11-bytes`: ten continuation bytes are refused at the tenth, with no
/// eleventh byte waited for; nine are still incomplete.
#[test]
fn eleven_byte_varint_is_refused_at_the_tenth_byte() {
    let mut wire = vec![0x80u8; 10];
    wire.push(0x01);
    assert_eq!(
        varint().decode(&wire[..9]).unwrap(),
        Decoded::Incomplete { needed: 1 }
    );
    for len in [10, 11] {
        let mut dec = varint();
        assert!(matches!(
            dec.decode(&wire[..len]),
            Err(FrameError::InvalidHeader(HeaderError::VarintTooLong))
        ));
        // Fatal: the same error again, even for an empty buffer or at the end.
        assert!(matches!(
            dec.decode(&[]),
            Err(FrameError::InvalidHeader(HeaderError::VarintTooLong))
        ));
        assert!(matches!(
            dec.decode_eof(&[]),
            Err(FrameError::InvalidHeader(HeaderError::VarintTooLong))
        ));
    }
}

/// `seed-varint-10-bytes-overflow` and `seed-varint-u64-max`: the tenth byte may hold bit
/// 63 only.
#[test]
fn ten_byte_varint_overflow_is_refused_and_u64_max_is_too_large() {
    let mut wire = [0xffu8; 10];
    wire[9] = 0x02;
    assert!(matches!(
        varint().decode(&wire),
        Err(FrameError::InvalidHeader(HeaderError::VarintOverflow))
    ));
    wire[9] = 0x01;
    assert!(matches!(
        varint().decode(&wire),
        Err(FrameError::TooLarge {
            len: u64::MAX,
            max: 8_388_608
        })
    ));
}

/// `seed-varint-overlong` and `seed-varint-overlong-3`: a varint ending in a zero byte is
/// not in its shortest form.
#[test]
fn overlong_varints_are_refused_with_their_length() {
    assert!(matches!(
        varint().decode(&[0x80, 0x00]),
        Err(FrameError::InvalidHeader(HeaderError::VarintOverlong {
            len: 2
        }))
    ));
    assert!(matches!(
        varint().decode(&[0x81, 0x80, 0x00, 0x05]),
        Err(FrameError::InvalidHeader(HeaderError::VarintOverlong {
            len: 3
        }))
    ));
}

/// `seed-u32be-huge-limit-declared`: a 1 GiB limit, a header declaring 1 GiB - 1 and ten
/// payload bytes. The reader's buffer holds what arrived plus one step, not the declared
/// length, and the end is a truncation with the exact counts.
#[test]
fn declared_gigabyte_costs_the_bytes_received() {
    let config = FrameConfig::default().max_frame_len(1 << 30);
    let mut wire = ((1u32 << 30) - 1).to_be_bytes().to_vec();
    wire.extend_from_slice(b"0123456789");
    let mut reader = FrameReader::with_capacity(&wire[..], config, 16).unwrap();
    assert!(matches!(
        reader.read_frame(),
        Err(FrameError::Truncated {
            expected: 1_073_741_827,
            received: 14
        })
    ));
    assert!(
        reader.capacity() <= 14 + 16,
        "capacity {}",
        reader.capacity()
    );
}

/// `seed-small-limit-skip`: under `Oversize::Skip` each oversized frame is reported once
/// and discarded; the frames around it come through.
#[test]
fn skip_policy_reports_each_oversized_frame_once() {
    let config = FrameConfig::default()
        .max_frame_len(4)
        .oversize(Oversize::Skip);
    let wire = b"\x00\x00\x00\x0512345\x00\x00\x00\x02ok\x00\x00\x00\x07toolong\x00\x00\x00\x00";
    let mut reader = FrameReader::with_capacity(&wire[..], config, 3).unwrap();
    assert!(matches!(
        reader.read_frame(),
        Err(FrameError::TooLarge { len: 5, max: 4 })
    ));
    assert_eq!(reader.read_frame().unwrap(), Some(&b"ok"[..]));
    assert!(matches!(
        reader.read_frame(),
        Err(FrameError::TooLarge { len: 7, max: 4 })
    ));
    assert_eq!(reader.read_frame().unwrap(), Some(&b""[..]));
    assert_eq!(reader.read_frame().unwrap(), None);
    let stats = reader.stats();
    assert_eq!(
        (
            stats.frames,
            stats.bytes,
            stats.skipped_frames,
            stats.skipped_bytes
        ),
        (2, 2, 2, 20)
    );
}
