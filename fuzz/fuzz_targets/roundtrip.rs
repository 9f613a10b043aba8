//! Fuzzer-chosen frames through `FrameEncoder` and `FrameWriter`, then back through the
//! decoder: exactly the frames come back, and a frame the layout refuses is refused before
//! a byte is written.
#![no_main]

use arbitrary::Arbitrary;
use lenframe::{FrameEncoder, FrameError, FrameWriter};
use lenframe_testkit::fuzz::{drive, ArbConfig, End, Event, Feed};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    cfg: ArbConfig,
    writer_capacity: u16,
    frames: Vec<Vec<u8>>,
}

fuzz_target!(|input: Input| {
    let Some(config) = input.cfg.valid() else {
        return;
    };
    let max = config.get_max_frame_len();
    let adjustment = config.get_length_adjustment();
    let offset = config.get_length_field_offset();
    let enc = FrameEncoder::new(config).expect("validated");
    let capacity = 1 + usize::from(input.writer_capacity % 512);
    let mut writer = FrameWriter::with_capacity(Vec::new(), config, capacity).expect("validated");

    let mut wire = Vec::new();
    let mut expected = Vec::new();
    let mut accepted_bytes = 0u64;
    for payload in &input.frames {
        let len = payload.len();
        let refusal = if len > max {
            Some(format!(
                "{}",
                FrameError::TooLarge {
                    len: len as u64,
                    max
                }
            ))
        } else if (len as i128) < adjustment as i128 {
            Some(format!(
                "{}",
                FrameError::TooShort {
                    len,
                    min: adjustment.unsigned_abs()
                }
            ))
        } else {
            None
        };

        let before = wire.clone();
        let written_before = writer.get_ref().len() + writer.buffer().len();
        let encoded = enc.encode(payload, &mut wire);
        let sent = writer.write_frame(payload);
        match refusal {
            Some(msg) => {
                assert_eq!(encoded.expect_err("encoder accepted").to_string(), msg);
                assert_eq!(sent.expect_err("writer accepted").to_string(), msg);
                assert_eq!(wire, before, "encoder wrote a refused frame");
                assert_eq!(
                    writer.get_ref().len() + writer.buffer().len(),
                    written_before,
                    "writer took bytes of a refused frame"
                );
                assert!(matches!(
                    enc.header(len),
                    Err(FrameError::TooLarge { .. } | FrameError::TooShort { .. })
                ));
            }
            None => {
                encoded.expect("encoder refused a valid frame");
                sent.expect("writer refused a valid frame");
                accepted_bytes += len as u64;
                let header = enc.header(len).expect("valid");
                assert_eq!(header.offset(), offset);
                let mut whole = vec![0u8; offset];
                whole.extend_from_slice(header.field());
                whole.extend_from_slice(payload);
                assert_eq!(whole.len(), header.encoded_len() + len);
                assert_eq!(enc.encoded_len(len).expect("valid"), whole.len());
                assert_eq!(&wire[before.len()..], &whole[..], "encoded bytes");
                let skip = config.get_num_skip().unwrap_or(header.encoded_len());
                expected.push(Event::Frame(whole[skip..].to_vec()));
            }
        }
    }
    writer.flush().expect("a Vec cannot fail");
    assert_eq!(writer.get_ref(), &wire, "writer and encoder disagree");
    assert_eq!(writer.stats().frames, expected.len() as u64);
    assert_eq!(writer.stats().bytes, accepted_bytes);

    let decoded = drive(config, &wire, Feed::Whole);
    assert_eq!(decoded.events, expected);
    assert_eq!(decoded.end, End::Clean);
});
