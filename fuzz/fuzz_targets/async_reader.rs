//! `lenframe::tokio::FrameReader` over an `AsyncRead` whose every poll the fuzzer scripts
//! (`Pending`, short reads, `Interrupted`, `ConnectionReset`, full reads), each
//! `read_frame` future polled by hand with a no-op waker and dropped after a fuzzer-chosen
//! number of polls: the same frames and errors as the sans-IO decoder on the whole input,
//! nothing lost or repeated across dropped futures, and a buffer within
//! `min(2 × bytes received, max_header_len + max_frame_len) + capacity_step` after every call.
#![no_main]

use std::future::Future;
use std::io;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use arbitrary::{Arbitrary, Unstructured};
use lenframe::tokio::FrameReader;
use lenframe::FrameError;
use lenframe_testkit::fuzz::{
    check_capacity, drive, reader_input, ArbConfig, AsyncReadOp, Delivered, Feed,
    ScheduledAsyncRead, MAX_FAULTS,
};
use libfuzzer_sys::fuzz_target;

/// Polls per call before the future is dropped, cycled; `None`: until it is ready.
type Schedule = Vec<Option<usize>>;

fn parse(data: &[u8]) -> arbitrary::Result<(ArbConfig, usize, Vec<AsyncReadOp>, Schedule, &[u8])> {
    let mut u = Unstructured::new(data);
    let (cfg, step, script) = reader_input::<AsyncReadOp>(&mut u)?;
    let count = u8::arbitrary(&mut u)? % 17;
    let mut schedule = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        let b = u8::arbitrary(&mut u)?;
        schedule.push((b != 0).then_some(usize::from(b % 4) + 1));
    }
    if schedule.is_empty() {
        schedule.push(None);
    }
    Ok((cfg, step, script, schedule, u.take_rest()))
}

fuzz_target!(|data: &[u8]| {
    let Ok((cfg, step, script, schedule, wire)) = parse(data) else {
        return;
    };
    let Some(config) = cfg.valid() else {
        return;
    };
    let expected = drive(config, wire, Feed::Whole);

    let mut reader =
        FrameReader::with_capacity(ScheduledAsyncRead::new(wire, &script), config, step)
            .expect("validated");
    let mut cx = Context::from_waker(Waker::noop());
    let mut delivered = Delivered::default();
    // Each call delivers an event, or takes a fault (an error, or a `Pending` for every
    // poll but a last one that completes): linear in the input plus the faults.
    let bound = 2 * wire.len() + 2 * MAX_FAULTS + 8;
    for call in 0..bound {
        // Each poll takes a `Pending` or completes: this many always finish.
        let polls = schedule[call % schedule.len()].unwrap_or(MAX_FAULTS + 2);
        let outcome = {
            let mut fut = pin!(reader.read_frame());
            let mut outcome = None;
            for _ in 0..polls {
                if let Poll::Ready(result) = fut.as_mut().poll(&mut cx) {
                    outcome = Some(result.map(|f| f.map(<[u8]>::to_vec)));
                    break;
                }
            }
            outcome
        };
        check_capacity(
            &config,
            step,
            reader.capacity(),
            reader.get_ref().received(),
        );
        match outcome {
            None => {} // dropped while pending: the next call resumes
            Some(Err(FrameError::Io(e))) => {
                assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "{e}");
            }
            Some(result) => {
                if let Some(msg) = delivered.record(result, config.get_oversize()) {
                    assert_eq!(
                        poll_at_once(&mut reader, &mut cx),
                        msg,
                        "fatal error did not stick"
                    );
                }
                if delivered.end.is_some() {
                    break;
                }
            }
        }
    }
    delivered.check(&expected, reader.stats(), reader.get_ref().faults(), bound);
});

/// One more call after a fatal error: it must fail at once; its message.
fn poll_at_once(reader: &mut FrameReader<ScheduledAsyncRead<'_>>, cx: &mut Context<'_>) -> String {
    match pin!(reader.read_frame()).poll(cx) {
        Poll::Ready(Err(e)) => e.to_string(),
        Poll::Ready(Ok(frame)) => panic!("a frame after a fatal error: {frame:?}"),
        Poll::Pending => panic!("pending after a fatal error"),
    }
}
