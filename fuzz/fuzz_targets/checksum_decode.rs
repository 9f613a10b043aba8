//! Fuzzer-chosen frames encoded in a checksummed layout coded in the input, then damaged
//! (bytes xored with fuzzer-chosen values) and decoded: no frame that differs from the one
//! written at its place is ever delivered, and damage to a delivered part never passes.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use lenframe::{Checksum, FrameEncoder};
use lenframe_testkit::fuzz::{drive, ArbConfig, End, Event, Feed};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(cfg) = ArbConfig::arbitrary(&mut u) else {
        return;
    };
    let config = cfg.config().checksum(Checksum::Crc32c);
    let Ok(enc) = FrameEncoder::new(config) else {
        return;
    };
    let (Ok(payloads), Ok(damage)) = (
        Vec::<Vec<u8>>::arbitrary(&mut u),
        Vec::<(u16, u8)>::arbitrary(&mut u),
    ) else {
        return;
    };
    let mut wire = Vec::new();
    for p in &payloads {
        // Refused payloads (over the limit, under a positive adjustment) append nothing.
        let _ = enc.encode(p, &mut wire);
    }
    let clean = drive(config, &wire, Feed::Whole);
    assert_eq!(clean.end, End::Clean);
    let mut damaged = wire.clone();
    for &(at, xor) in damage.iter().take(4) {
        if !damaged.is_empty() {
            let at = usize::from(at) % damaged.len();
            damaged[at] ^= xor;
        }
    }
    let hurt = drive(config, &damaged, Feed::Whole);
    let frames = |o: &lenframe_testkit::fuzz::Outcome| -> Vec<Vec<u8>> {
        o.events
            .iter()
            .filter_map(|e| match e {
                Event::Frame(f) => Some(f.clone()),
                Event::Skipped(_) => None,
            })
            .collect()
    };
    let (good, got) = (frames(&clean), frames(&hurt));
    assert!(got.len() <= good.len(), "more frames than written");
    if hurt.events.iter().any(|e| matches!(e, Event::Skipped(_))) {
        // Under Oversize::Skip a length damaged into an oversized one drops that frame, and
        // decoding goes on: the frames delivered are then written frames, in order.
        let mut written = good.iter();
        for f in &got {
            assert!(written.any(|g| g == f), "a damaged frame was delivered");
        }
    } else {
        assert_eq!(got[..], good[..got.len()], "a damaged frame was delivered");
    }
    if damaged != wire && got.len() == good.len() {
        // All frames came through: the damage was in skipped (oversized) frames only.
        assert!(
            hurt.events.iter().any(|e| matches!(e, Event::Skipped(_))) || hurt.end != End::Clean
        );
    }
});
