//! Arbitrary bytes through `valid_prefix`, with a layout coded in the input (with or
//! without a checksum): the prefix it reports decodes cleanly to exactly the frames it
//! counts, and no longer prefix of the bytes is valid.
#![no_main]

use lenframe::{valid_prefix, Oversize, Stop};
use lenframe_testkit::fuzz::{checksummed_input, frames_outcome, End, Event};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((config, wire)) = checksummed_input(data) else {
        return;
    };
    let found = valid_prefix(wire, config).expect("the configuration was validated");
    assert!(found.valid_len <= wire.len());
    assert_eq!(
        found.stop == Stop::End,
        found.valid_len == wire.len(),
        "{found:?}"
    );

    // The prefix decodes cleanly, to as many frames as reported.
    let strict = config.oversize(Oversize::Error);
    let (prefix, _) = frames_outcome(strict, &wire[..found.valid_len]);
    assert_eq!(prefix.end, End::Clean, "{found:?}");
    assert!(prefix.events.iter().all(|e| matches!(e, Event::Frame(_))));
    assert_eq!(prefix.events.len() as u64, found.frames);

    // No longer prefix is valid: the next bytes, one at a time, then all of them.
    let longer = (found.valid_len + 1..=wire.len().min(found.valid_len + 64)).chain([wire.len()]);
    for n in longer.filter(|&n| n > found.valid_len) {
        let again = valid_prefix(&wire[..n], config).unwrap();
        assert_eq!(again.valid_len, found.valid_len, "prefix of {n} bytes");
        assert_ne!(again.stop, Stop::End, "prefix of {n} bytes");
    }
});
