//! Arbitrary bytes through `Frames` and through `FrameDecoder` driven by hand, with a layout
//! coded in the input (with or without a checksum): the same frames, skip reports and end,
//! the same counters, and a fused iterator whose tail starts inside the buffer.
#![no_main]

use lenframe_testkit::fuzz::{checksummed_input, drive, frames_outcome, Feed};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((config, wire)) = checksummed_input(data) {
        let (outcome, _) = frames_outcome(config, wire);
        assert_eq!(outcome, drive(config, wire, Feed::Whole));
    }
});
