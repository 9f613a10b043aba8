//! Properties of the async pair, `lenframe::tokio::FrameWriter` → `lenframe::tokio::FrameReader`,
//! over tokio transports: a `TcpStream` pair on 127.0.0.1, a `UnixStream` pair in a temporary
//! directory, and `tokio::io::duplex` with a drawn buffer size; each directly and through an
//! async relay that re-cuts the byte stream in drawn piece sizes (one byte at a time, cuts
//! through headers and payloads, many frames in one write).
//!
//! Checked against the plainly written reference encoding, for any header layout, frame
//! sizes at the edges, writer capacity and flush pattern, reader capacity step:
//! - round trip: the frames written are read back identical and in order, then `Ok(None)`;
//! - raw streams with frames over the limit, cut after any byte: exactly the events of
//!   `expected_events` (`TooLarge` with its numbers, repeated under `Oversize::Error`; the
//!   other frames under `Oversize::Skip`; `Truncated` with exact counts, or a clean end);
//! - bounded memory: after every call the reader's capacity is at most
//!   `min(2 × bytes received, max_header_len + max_frame_len) + capacity_step`.
//!
//! 32 cases per property (override with `PROPTEST_CASES`), each run over the three
//! transports, directly and through the relay: 192 streams per property.

use std::future::Future;
use std::io;

use lenframe::tokio::{FrameReader, FrameWriter};
use lenframe::{FrameConfig, FrameStats, Oversize};
use proptest::prelude::*;
use proptest::sample::Index;
use tokio::io::AsyncWriteExt;

use lenframe_testkit::async_io::{
    async_pair, read_events_async, relay_async, AsyncTransport, BoxAsyncWrite, CountingAsync,
};
use lenframe_testkit::events::Event;
use lenframe_testkit::reference::{reference_delivered, reference_stream};
use lenframe_testkit::relay::{Cuts, RelayReport};
use lenframe_testkit::strategies::{
    any_config, capacity_step, config_and_frames, cuts, expected_events, frames_with_oversize,
    proptest_config, write_plan, WritePlan,
};

/// What one run gave: the writer's result, the relay's report (when there was one), the
/// reader's events, the bytes it received and its counters.
type Run<T> = (
    T,
    Option<io::Result<RelayReport>>,
    Vec<Event>,
    u64,
    FrameStats,
);

/// Runs `write` in a task on a writing end of `transport`, optionally a relay task re-cutting
/// the stream into a second connection, and an async `FrameReader` of step `step` on the
/// reading end until the end or a fatal error. The reader is dropped (closing its side),
/// then every task is joined.
fn run<T, F, Fut>(
    transport: AsyncTransport,
    relay: Option<&Cuts>,
    cfg: FrameConfig,
    step: usize,
    max_calls: usize,
    write: F,
) -> Run<T>
where
    F: FnOnce(BoxAsyncWrite) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let cuts = relay.cloned();
    rt.block_on(async move {
        let (w, r) = async_pair(transport).await;
        let (r, relay) = match cuts {
            Some(cuts) => {
                let (w2, r2) = async_pair(transport).await;
                (r2, Some(tokio::spawn(relay_async(r, w2, cuts, None, None))))
            }
            None => (r, None),
        };
        let writer = tokio::spawn(write(Box::new(w)));
        let mut reader = FrameReader::with_capacity(CountingAsync::new(r), cfg, step).unwrap();
        let events = read_events_async(&mut reader, max_calls).await;
        let (received, stats) = (reader.get_ref().count, reader.stats());
        drop(reader);
        let relay = match relay {
            Some(task) => Some(task.await.expect("relay task panicked")),
            None => None,
        };
        let wrote = writer.await.expect("writer task panicked");
        (wrote, relay, events, received, stats)
    })
}

/// Writes `payloads` with an async `FrameWriter` following `plan`, then shuts down.
async fn write_frames(
    out: BoxAsyncWrite,
    cfg: FrameConfig,
    payloads: Vec<Vec<u8>>,
    plan: WritePlan,
) -> Result<(), String> {
    let mut w = FrameWriter::with_capacity(out, cfg, plan.capacity).map_err(|e| e.to_string())?;
    for (i, p) in payloads.iter().enumerate() {
        w.write_frame(p)
            .await
            .map_err(|e| format!("write_frame {i}: {e}"))?;
        if plan.flush_after[i % plan.flush_after.len()] {
            w.flush()
                .await
                .map_err(|e| format!("flush after {i}: {e}"))?;
        }
    }
    w.shutdown().await.map_err(|e| format!("shutdown: {e}"))?;
    if w.stats().frames != payloads.len() as u64 {
        return Err(format!("writer counted {:?}", w.stats()));
    }
    Ok(())
}

/// Writes raw bytes, then shuts down. A reader that stops early (after a fatal error)
/// closes its side, so a failed write is not an error here.
async fn write_raw(mut out: BoxAsyncWrite, bytes: Vec<u8>) {
    if out.write_all(&bytes).await.is_ok() {
        let _ = out.shutdown().await;
    }
}

fn transports(duplex: usize) -> [AsyncTransport; 3] {
    [
        AsyncTransport::Tcp,
        AsyncTransport::Unix,
        AsyncTransport::Duplex(duplex),
    ]
}

fn duplex_size() -> impl Strategy<Value = usize> {
    prop_oneof![1usize..=16, 17usize..=4096, Just(64 * 1024)]
}

proptest! {
    #![proptest_config(proptest_config(32, "proptest-regressions/async_roundtrip.txt"))]

    /// Whatever the layout, sizes, writer capacity, flushes, cuts and transport, the async
    /// reader gets the frames the async writer wrote, identical and in order, then
    /// `Ok(None)`, with its memory bounded.
    #[test]
    fn async_roundtrip_over_every_transport(
        (cfg, step, payloads) in config_and_frames(Oversize::Error, 12),
        plan in write_plan(),
        cuts in cuts(),
        duplex in duplex_size(),
    ) {
        let wire_len = reference_stream(&cfg, &payloads).len() as u64;
        let mut want: Vec<Event> = payloads
            .iter()
            .map(|p| Event::Frame(reference_delivered(&cfg, p)))
            .collect();
        want.push(Event::End);
        for transport in transports(duplex) {
            for relay in [None, Some(&cuts)] {
                let (sent, plan) = (payloads.clone(), plan.clone());
                let (wrote, report, events, received, stats) = run(
                    transport, relay, cfg, step, payloads.len() + 2,
                    move |out| write_frames(out, cfg, sent, plan),
                );
                prop_assert_eq!(wrote, Ok(()));
                if let Some(report) = report {
                    let report = report.expect("relay failed");
                    prop_assert_eq!((report.received, report.forwarded), (wire_len, wire_len));
                }
                prop_assert_eq!(&events, &want, "{:?}, relay {}", transport, relay.is_some());
                prop_assert_eq!(received, wire_len);
                prop_assert_eq!(stats.frames, payloads.len() as u64);
                let delivered: usize =
                    payloads.iter().map(|p| reference_delivered(&cfg, p).len()).sum();
                prop_assert_eq!(stats.bytes, delivered as u64);
            }
        }
    }

    /// A raw stream (frames possibly over the limit, under either policy) cut after any
    /// byte: exactly the reference events, within the memory bound.
    #[test]
    fn async_raw_stream_cut_anywhere_gives_the_reference_events(
        (cfg, step, payloads) in (
            prop_oneof![any_config(Oversize::Error), any_config(Oversize::Skip)],
            capacity_step(),
        ).prop_flat_map(|(cfg, step)| {
            (Just(cfg), Just(step), frames_with_oversize(&cfg, step, 10, 3))
        }),
        at in any::<Index>(),
        cuts in cuts(),
        duplex in duplex_size(),
    ) {
        let wire = reference_stream(&cfg, &payloads);
        let cut = at.index(wire.len() + 1);
        let want = expected_events(&cfg, &payloads, Some(cut));
        for transport in transports(duplex) {
            for relay in [None, Some(&cuts)] {
                let bytes = wire[..cut].to_vec();
                let ((), _, events, received, _) = run(
                    transport, relay, cfg, step, payloads.len() + 4,
                    move |out| write_raw(out, bytes),
                );
                prop_assert_eq!(&events, &want, "{:?}, relay {}, cut at {} of {}",
                    transport, relay.is_some(), cut, wire.len());
                prop_assert!(received <= cut as u64);
                if want.last() == Some(&Event::End) || matches!(want.last(), Some(Event::Truncated { .. })) {
                    prop_assert_eq!(received, cut as u64);
                }
            }
        }
    }
}
