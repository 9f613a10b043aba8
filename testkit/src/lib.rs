//! Test machinery for protocols built on [lenframe]: the adversities lenframe itself is tested
//! against, as a public API for the tests of your own handlers.
//!
//! - [`sockets`]: connected pairs over TCP on 127.0.0.1 (port 0), Unix sockets in a
//!   temporary directory and OS pipes, whose writing end can end or reset the stream;
//! - [`relay`]: the re-cutting relay between two real connections: it forwards the stream in
//!   the pieces a schedule gives (one byte at a time, cuts through every header and payload,
//!   many frames in one write, pauses), ends or resets it at any byte, and reports what it
//!   forwarded;
//! - [`scripted`]: `Read` and `Write` that follow a script of short counts, `Interrupted`,
//!   `WouldBlock`, errors and the end of the stream;
//! - `async_io` (feature `tokio`): all of the above for tokio, and `async_io::poll_at_most`,
//!   which polls a future k times and drops it, to test cancel safety;
//! - [`strategies`]: proptest strategies for layouts (with and without checksums), frame
//!   sizes around the limits, relay schedules, and hostile streams with the events a reader
//!   must report for them ([`events`]);
//! - [`crowd`]: the hostile peers (trickle, declare and stall, over the limit, cut and
//!   close, overlong varint, silence, reset) as reusable clients with the outcome each must
//!   get, and an echo server under a crowd of them;
//! - [`fuzz`]: a fuzz driver from a fuzzer's `&[u8]` to an I/O schedule and frame bytes,
//!   read into your handler with lenframe's invariants checked;
//! - [`reference`](mod@reference): every layout's wire bytes written plainly, independent of lenframe.
//!
//! A property over real sockets, through the relay, in a few lines:
//!
//! ```
//! # #[cfg(feature = "std")] {
//! use lenframe::{FrameReader, FrameWriter};
//! use lenframe_testkit::relay::through_relay;
//! use lenframe_testkit::sockets::Transport;
//! use lenframe_testkit::strategies::cuts;
//! use proptest::prelude::*;
//!
//! proptest!(ProptestConfig::with_cases(16), |(cuts in cuts(), n in 0usize..20)| {
//!     let (wrote, relay, got) = through_relay(Transport::Unix, &cuts, None,
//!         move |out| {
//!             let mut w = FrameWriter::new(out);
//!             (0..n).try_for_each(|i| w.write_frame(&i.to_be_bytes()))?;
//!             w.flush()
//!         },
//!         |input| {
//!             let mut r = FrameReader::new(input);
//!             let mut got = Vec::new();
//!             while let Some(frame) = r.read_frame().unwrap() {
//!                 got.push(usize::from_be_bytes(frame.try_into().unwrap()));
//!             }
//!             got
//!         });
//!     wrote.unwrap();
//!     relay.unwrap();
//!     prop_assert_eq!(got, (0..n).collect::<Vec<_>>());
//! });
//! # }
//! ```
//!
//! # A companion crate, not a feature
//!
//! The kit is a crate of its own, `lenframe-testkit`, in lenframe's Cargo workspace, rather
//! than a `testing` feature of lenframe: it brings proptest, tempfile, arbitrary and
//! tokio's networking, which a normal build must never see, and a dev-dependency is the one
//! place where cargo keeps them out of it on its own. A feature would let them into any
//! build that turned it on by feature unification, and would need lenframe's own tests to
//! turn on a feature of the crate under test. As a crate, the kit uses lenframe only through
//! its public API, as a user's tests do; lenframe's integration tests dev-depend on it.
//!
//! Add it where your tests are:
//!
//! ```toml
//! [dev-dependencies]
//! lenframe-testkit = { version = "0.1", features = ["tokio"] }
//! ```
//!
//! # Features
//!
//! - `std` (default): everything but [`reference`](mod@reference), which works with lenframe's core alone;
//! - `tokio`: `async_io`, the tokio crowd server, and the tokio read of the fuzz driver.
//!
//! [lenframe]: https://docs.rs/lenframe
#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

#[cfg(feature = "tokio")]
pub mod async_io;
#[cfg(feature = "std")]
pub mod crowd;
#[cfg(feature = "std")]
pub mod events;
#[cfg(feature = "std")]
pub mod fuzz;
pub mod reference;
#[cfg(feature = "std")]
pub mod relay;
#[cfg(feature = "std")]
pub mod scripted;
#[cfg(feature = "std")]
pub mod sockets;
#[cfg(feature = "std")]
pub mod strategies;
