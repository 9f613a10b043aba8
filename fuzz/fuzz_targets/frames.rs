//! Arbitrary bytes through `Frames` and through `FrameDecoder` driven by hand, with a layout
//! coded in the input (with or without a checksum): the same frames, skip reports and end,
//! the same counters, and a fused iterator whose tail starts inside the buffer.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use lenframe_fuzz::{drive, frames_outcome, valid_with_checksum, ArbConfig, Feed};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let (Ok(cfg), Ok(checksum)) = (ArbConfig::arbitrary(&mut u), u8::arbitrary(&mut u)) else {
        return;
    };
    let wire = u.take_rest();
    if let Some(config) = valid_with_checksum(cfg, checksum) {
        let (outcome, _) = frames_outcome(config, wire);
        assert_eq!(outcome, drive(config, wire, Feed::Whole));
    }
});
