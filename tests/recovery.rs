//! `valid_prefix`: at every cut of a small log, and after every flipped byte, the exact
//! prefix of whole valid frames, and nothing damaged inside it.

use lenframe::{
    valid_prefix, Checksum, FrameConfig, FrameEncoder, Frames, LengthField, Oversize, Stop,
};
use lenframe_testkit::reference::encode_frame;

const PAYLOADS: [&[u8]; 5] = [b"alpha", b"", b"a longer third record", b"4", b"fifth"];

/// The log, and the offset where each frame ends.
fn log(cfg: FrameConfig) -> (Vec<u8>, Vec<usize>) {
    let enc = FrameEncoder::new(cfg).unwrap();
    let mut wire = Vec::new();
    let mut ends = Vec::new();
    for p in PAYLOADS {
        encode_frame(&enc, p, &mut wire);
        ends.push(wire.len());
    }
    (wire, ends)
}

fn layouts() -> [FrameConfig; 4] {
    let crc = FrameConfig::default().checksum(Checksum::Crc32c);
    [
        FrameConfig::default(),
        crc,
        crc.length_field(LengthField::Varint),
        crc.length_field(LengthField::U16Le)
            .length_field_offset(2)
            .oversize(Oversize::Skip),
    ]
}

#[test]
fn recover_every_cut_of_a_log() {
    for cfg in layouts() {
        let (wire, ends) = log(cfg);
        for cut in 0..=wire.len() {
            let found = valid_prefix(&wire[..cut], cfg).unwrap();
            // The whole frames that fit before the cut.
            let whole = ends.iter().take_while(|&&e| e <= cut).count();
            let valid_len = if whole == 0 { 0 } else { ends[whole - 1] };
            assert_eq!(found.valid_len, valid_len, "{cfg:?} cut at {cut}");
            assert_eq!(found.frames, whole as u64, "{cfg:?} cut at {cut}");
            if cut == valid_len {
                assert_eq!(found.stop, Stop::End, "{cfg:?} cut at {cut}");
            } else {
                let frame_len = ends[whole] - valid_len;
                let received = (cut - valid_len) as u64;
                let Stop::Truncated {
                    expected,
                    received: r,
                } = found.stop
                else {
                    panic!("{cfg:?} cut at {cut}: {:?}", found.stop);
                };
                assert_eq!(r, received, "{cfg:?} cut at {cut}");
                // Inside the header only the fewest bytes that could complete it are known.
                assert!(expected > r && expected <= frame_len as u64);
                if received >= (frame_len - PAYLOADS[whole].len() - cfg.get_checksum().len()) as u64
                {
                    assert_eq!(expected, frame_len as u64, "{cfg:?} cut at {cut}");
                }
            }
        }
    }
}

#[test]
fn recover_after_every_flipped_byte() {
    for cfg in layouts().into_iter().skip(1) {
        let (wire, ends) = log(cfg);
        for at in 0..wire.len() {
            let mut damaged = wire.clone();
            damaged[at] ^= 0x5a;
            let found = valid_prefix(&damaged, cfg).unwrap();
            // Every frame before the damaged one is kept, and the damaged one is not.
            let first_damaged = ends.iter().take_while(|&&e| e <= at).count();
            let keep = if first_damaged == 0 {
                0
            } else {
                ends[first_damaged - 1]
            };
            assert_eq!(found.valid_len, keep, "{cfg:?} byte {at}");
            assert_eq!(found.frames, first_damaged as u64, "{cfg:?} byte {at}");
            assert_ne!(found.stop, Stop::End, "{cfg:?} byte {at}");
            // The prefix decodes cleanly to exactly the frames written.
            let frames: Vec<&[u8]> = Frames::new(&damaged[..found.valid_len], cfg)
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(frames, PAYLOADS[..first_damaged], "{cfg:?} byte {at}");
        }
    }
}

#[test]
fn recover_reports_why_it_stopped() {
    let crc = FrameConfig::default().checksum(Checksum::Crc32c);
    let (mut wire, ends) = log(crc);
    wire[ends[0] + 1] = 0xff; // the second frame's length: far over the 8 MiB limit
    let found = valid_prefix(&wire, crc).unwrap();
    assert_eq!((found.valid_len, found.frames), (ends[0], 1));
    assert_eq!(
        found.stop,
        Stop::TooLarge {
            len: 0x00ff_0000,
            max: 8 * 1024 * 1024
        }
    );
    // Oversized is damage under Oversize::Skip too: the prefix stops there.
    let skip = valid_prefix(&wire, crc.oversize(Oversize::Skip)).unwrap();
    assert_eq!(skip, found);

    let varint = crc.length_field(LengthField::Varint);
    let mut bad = log(varint).0;
    bad.extend_from_slice(b"\x80\x00");
    let found = valid_prefix(&bad, varint).unwrap();
    assert_eq!(found.frames, 5);
    assert!(matches!(found.stop, Stop::InvalidHeader(_)));

    let (mut wire, ends) = log(crc);
    wire[ends[1] - 1] ^= 1; // the second frame's trailer
    let found = valid_prefix(&wire, crc).unwrap();
    assert_eq!((found.valid_len, found.frames), (ends[0], 1));
    let Stop::ChecksumMismatch { expected, computed } = found.stop else {
        panic!("{:?}", found.stop);
    };
    assert_eq!(expected ^ computed, 1 << 24);
}
