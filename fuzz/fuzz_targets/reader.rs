//! `FrameReader` over a `Read` that returns short counts, `Interrupted` and `WouldBlock` as
//! the fuzzer scripts: the same frames and errors as the sans-IO decoder on the whole input,
//! and a buffer that never outgrows the bytes received plus one step.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use lenframe::{FrameError, FrameReader, Oversize};
use lenframe_fuzz::{drive, ArbConfig, End, Event, Feed, ReadOp, ScheduledRead, MAX_FAULTS};
use libfuzzer_sys::fuzz_target;

fn parse(data: &[u8]) -> arbitrary::Result<(ArbConfig, usize, Vec<ReadOp>, &[u8])> {
    let mut u = Unstructured::new(data);
    let cfg = ArbConfig::arbitrary(&mut u)?;
    let step = 1 + usize::from(u8::arbitrary(&mut u)? % 64);
    let count = u8::arbitrary(&mut u)? % 33;
    let mut script = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        script.push(ReadOp::arbitrary(&mut u)?);
    }
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

    let frame_bound = (config.max_header_len() as u128) + config.get_max_frame_len() as u128;
    let mut reader = FrameReader::with_capacity(ScheduledRead::new(wire, &script), config, step)
        .expect("validated");
    assert_eq!(reader.capacity_step(), step);
    let mut events = Vec::new();
    let bound = 2 * wire.len() + MAX_FAULTS + 4;
    let mut end = None;
    for _ in 0..bound {
        let result = reader.read_frame().map(|f| f.map(<[u8]>::to_vec));
        let received = reader.get_ref().received() as u128;
        let limit = received.min(frame_bound) + step as u128;
        assert!(
            reader.capacity() as u128 <= limit,
            "capacity {} over {limit} after {received} bytes",
            reader.capacity()
        );
        match result {
            Ok(Some(frame)) => events.push(Event::Frame(frame)),
            Ok(None) => {
                end = Some(End::Clean);
                break;
            }
            Err(e) if e.is_would_block() => {}
            Err(e @ FrameError::TooLarge { .. }) if config.get_oversize() == Oversize::Skip => {
                events.push(Event::Skipped(e.to_string()));
            }
            Err(e @ FrameError::Truncated { .. }) => {
                end = Some(End::Truncated(e.to_string()));
                break;
            }
            Err(e) => {
                let msg = e.to_string();
                let again = reader.read_frame().expect_err("fatal error did not stick");
                assert_eq!(again.to_string(), msg);
                end = Some(End::Fatal(msg));
                break;
            }
        }
    }
    let end = end.unwrap_or_else(|| panic!("reader not done after {bound} calls"));
    assert!(reader.get_ref().faults() <= MAX_FAULTS);
    assert_eq!(events, expected.events);
    assert_eq!(end, expected.end);
    assert_eq!(reader.stats(), expected.stats);
});
