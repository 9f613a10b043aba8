//! Arbitrary bytes through the sans-IO decoder, with the default layout and with a layout
//! coded in the input's first bytes: every answer stays inside the buffer, every call makes
//! progress or asks for more, frames respect the limit, errors stick, work is linear.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use lenframe::FrameConfig;
use lenframe_testkit::fuzz::{drive, ArbConfig, Feed};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(cfg) = ArbConfig::arbitrary(&mut u) else {
        return;
    };
    let wire = u.take_rest();
    drive(FrameConfig::default(), wire, Feed::Whole);
    if let Some(config) = cfg.valid() {
        drive(config, wire, Feed::Whole);
    }
});
