//! The same bytes decoded whole and in fuzzer-chosen chunks: identical frames, identical
//! errors and the identical end of stream.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use lenframe_testkit::fuzz::{drive, ArbConfig, Feed};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(cfg) = ArbConfig::arbitrary(&mut u) else {
        return;
    };
    let Ok(count) = u8::arbitrary(&mut u) else {
        return;
    };
    let Ok(sizes) = u.bytes(usize::from(count % 33).min(u.len())) else {
        return;
    };
    let wire = u.take_rest();
    let Some(config) = cfg.valid() else {
        return;
    };
    let whole = drive(config, wire, Feed::Whole);
    let split = drive(config, wire, Feed::Chunks(sizes));
    assert_eq!(whole, split, "chunks {sizes:?}");
});
