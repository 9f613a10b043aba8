//! A framed echo server over 127.0.0.1, on threads and on tokio, serving good clients while a
//! hostile crowd comes and goes: trickling, declaring the maximum and stalling, declaring
//! over the limit, cutting a frame and closing, sending an overlong varint, saying nothing,
//! resetting. Every good client gets every frame back intact; every attacker is cut with the
//! error its kind must produce, within its bound; the server's heap stays within its budget
//! plus a fixed cost per connection. The peers' pauses are the faults under test.

mod support;

use std::sync::Mutex;

use lenframe_testkit::crowd::{crowd, run_threaded, table, Kind, Runner, Settings};
use support::heap;

#[global_allocator]
static ALLOC: heap::Counting = heap::Counting;

const GOOD: usize = 32;
const HOSTILE: usize = 64;

/// The heap counters are the whole process's: one crowd at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// What a connection costs the server beyond the shared budget: its reader's first step, its
/// writer's buffer, and its thread's or task's own bookkeeping.
fn per_connection(s: &Settings) -> usize {
    s.step + s.write_capacity + 16 * 1024
}

/// Runs the server without and then with attackers, checks both runs, prints the table.
fn crowd_against(server: &str, run: Runner) {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let s = Settings::new(GOOD);
    let mut runs = Vec::new();
    for hostile in [0, HOSTILE] {
        heap::reset_peak();
        let report = run(&s, &crowd(GOOD, hostile), heap::track_this_thread);
        let peak = heap::peak();
        let mismatches = report.mismatches(&s);
        assert!(
            mismatches.is_empty(),
            "{server}:\n{}",
            mismatches.join("\n")
        );
        let kinds = crowd(GOOD, hostile);
        assert_eq!(report.served.len(), kinds.len());
        for kind in Kind::HOSTILE {
            let count = |of: &mut dyn Iterator<Item = Kind>| of.filter(|&k| k == kind).count();
            assert_eq!(
                count(&mut report.served.iter().map(|(k, _)| *k)),
                count(&mut kinds.iter().copied())
            );
        }
        assert_eq!(report.good_frames, (GOOD * s.frames_per_client) as u64);
        assert!(report.budget_peak <= s.budget);
        let bound = s.budget + (GOOD + hostile) * per_connection(&s);
        assert!(peak <= bound, "{server}: peak heap {peak} over {bound}");
        runs.push((report, peak));
    }
    println!(
        "{}",
        table(server, &s, (&runs[0].0, runs[0].1), (&runs[1].0, runs[1].1))
    );
}

#[test]
fn crowd_threaded_server_cuts_every_attacker_and_serves_every_good_client() {
    crowd_against("threads", run_threaded);
}

#[cfg(feature = "tokio")]
#[test]
fn crowd_tokio_server_cuts_every_attacker_and_serves_every_good_client() {
    crowd_against("tokio", lenframe_testkit::crowd::run_tokio);
}
