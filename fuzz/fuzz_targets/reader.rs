//! `FrameReader` over a `Read` that returns short counts, `Interrupted` and `WouldBlock` as
//! the fuzzer scripts: the same frames and errors as the sans-IO decoder on the whole input,
//! and a buffer that never outgrows the bytes received plus one step.
#![no_main]

use arbitrary::Unstructured;
use lenframe_testkit::fuzz::{check_reader, reader_input, ArbConfig, ReadOp};
use libfuzzer_sys::fuzz_target;

fn parse(data: &[u8]) -> arbitrary::Result<(ArbConfig, usize, Vec<ReadOp>, &[u8])> {
    let mut u = Unstructured::new(data);
    let (cfg, step, script) = reader_input::<ReadOp>(&mut u)?;
    Ok((cfg, step, script, u.take_rest()))
}

fuzz_target!(|data: &[u8]| {
    let Ok((cfg, step, script, wire)) = parse(data) else {
        return;
    };
    let Some(config) = cfg.valid() else {
        return;
    };
    check_reader(config, step, &script, wire, |_| {});
});
