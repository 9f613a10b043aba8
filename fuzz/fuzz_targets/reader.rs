//! `FrameReader` over a `Read` that returns short counts, `Interrupted` and `WouldBlock` as
//! the fuzzer scripts: the same frames and errors as the sans-IO decoder on the whole input,
//! and a buffer that never outgrows the bytes received plus one step.
#![no_main]

use arbitrary::Unstructured;
use lenframe::FrameReader;
use lenframe_fuzz::{
    check_capacity, drive, reader_input, ArbConfig, Delivered, Feed, ReadOp, ScheduledRead,
    MAX_FAULTS,
};
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
    let expected = drive(config, wire, Feed::Whole);

    let mut reader = FrameReader::with_capacity(ScheduledRead::new(wire, &script), config, step)
        .expect("validated");
    assert_eq!(reader.capacity_step(), step);
    let mut delivered = Delivered::default();
    let bound = 2 * wire.len() + MAX_FAULTS + 4;
    for _ in 0..bound {
        let result = reader.read_frame().map(|f| f.map(<[u8]>::to_vec));
        check_capacity(
            &config,
            step,
            reader.capacity(),
            reader.get_ref().received(),
        );
        match result {
            Err(e) if e.is_would_block() => {}
            result => {
                if let Some(msg) = delivered.record(result, config.get_oversize()) {
                    let again = reader.read_frame().expect_err("fatal error did not stick");
                    assert_eq!(again.to_string(), msg);
                }
                if delivered.end.is_some() {
                    break;
                }
            }
        }
    }
    delivered.check(&expected, reader.stats(), reader.get_ref().faults(), bound);
});
