//! The worked example's request decoder behind a `FrameReader` over a fuzzer-scheduled
//! `Read`, through the test kit's driver: every frame reaches the decoder once, in order,
//! with lenframe's invariants checked; a request it accepts has an id and a key within
//! bounds, and encodes back to a request it accepts again, unchanged.
#![no_main]

use kv_ipc::{config, decode_request, MAX_KEY};
use lenframe_testkit::fuzz::drive_handler;
use libfuzzer_sys::fuzz_target;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let run = drive_handler(config(), data, decode_request);
    assert_eq!(run.results.len(), run.frames);
    for request in run.results.into_iter().flatten() {
        let op = request.op.as_ref().expect("an operation");
        assert!(request.id != 0 && op.key().len() <= MAX_KEY);
        assert_eq!(decode_request(&request.encode_to_vec()), Ok(request));
    }
});
