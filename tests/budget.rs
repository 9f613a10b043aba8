//! One `MemoryBudget` shared by many readers on many threads: it is never exceeded, a growth
//! it refuses says why with consistent numbers and loses nothing, and everything charged is
//! given back when the readers are gone.

use std::io::ErrorKind;
use std::thread;

use proptest::prelude::*;

use lenframe::{FrameConfig, FrameError, FrameReader, MemoryBudget};
use lenframe_testkit::reference::{payload, reference_encode};
use lenframe_testkit::scripted::{ScriptedReader, Step};
use lenframe_testkit::strategies::proptest_config;

const KIB: usize = 1024;

/// Checks an `OverBudget` against the budget it came from: the growth it refused would
/// really have passed the limit.
fn check_over_budget(err: &FrameError, budget: &MemoryBudget, step: usize) {
    match *err {
        FrameError::OverBudget {
            requested,
            in_use,
            limit,
        } => {
            assert_eq!(limit, budget.limit());
            assert!(in_use + requested > limit, "{err:?}");
            assert!(in_use <= limit, "{err:?}");
            // A buffer grows by at least one step at a time.
            assert!(requested >= step, "{err:?}");
        }
        ref other => panic!("expected OverBudget, got {other:?}"),
    }
}

#[test]
fn budget_second_reader_is_refused_then_succeeds_after_the_first_drops() {
    const LIMIT: usize = 590_000;
    let budget = MemoryBudget::new(LIMIT);
    // The first reader is 400 KiB into a frame of 1 MiB when its peer goes quiet.
    let mut first_wire = 1u32.checked_shl(20).unwrap().to_be_bytes().to_vec();
    first_wire.resize(4 + 400 * KIB, 1);
    let first_source = ScriptedReader::new(
        first_wire,
        [
            Step::Bytes(usize::MAX),
            Step::Bytes(usize::MAX),
            Step::Bytes(usize::MAX),
            Step::Bytes(usize::MAX),
            Step::Fail(ErrorKind::WouldBlock),
        ],
    );
    let mut first = FrameReader::new(first_source);
    first.set_budget(Some(budget.clone())).unwrap();
    assert!(first.read_frame().unwrap_err().is_would_block());
    // 64, 128, 256, then 512 KiB: all but the first step is charged.
    assert_eq!(first.capacity(), 512 * KIB);
    assert_eq!(budget.in_use(), 448 * KIB);

    let body = payload(200 * KIB, 5);
    let second_wire = reference_encode(&[&body[..]]);
    let mut second = FrameReader::new(&second_wire[..]);
    second.set_budget(Some(budget.clone())).unwrap();
    // 64 to 128 KiB fits (512 KiB in use); growing by the 73,732 bytes the frame still needs
    // would take 598,020.
    match second.read_frame() {
        Err(FrameError::OverBudget {
            requested,
            in_use,
            limit,
        }) => assert_eq!(
            (requested, in_use, limit),
            (73_732, 512 * KIB, LIMIT),
            "exact numbers"
        ),
        other => panic!(
            "expected OverBudget, got {:?}",
            other.map(|f| f.map(<[u8]>::len))
        ),
    }
    assert_eq!(second.read_buffer().len(), 128 * KIB, "nothing lost");
    assert_eq!(budget.in_use(), 512 * KIB);

    drop(first);
    assert_eq!(budget.in_use(), 64 * KIB);
    assert_eq!(second.read_frame().unwrap(), Some(&body[..]));
    assert_eq!(second.read_frame().unwrap(), None);
    // The end-of-stream read gave the grown buffer back down to two steps, one of them
    // charged.
    assert_eq!(second.capacity(), 128 * KIB);
    assert_eq!(budget.in_use(), 64 * KIB);
    drop(second);
    assert_eq!(budget.in_use(), 0);
}

/// One connection: the payload sizes of its frames and how its reads come (short counts and
/// `WouldBlock`s; after the script, everything asked, then the end of the stream).
#[derive(Debug, Clone)]
struct Conn {
    frames: Vec<usize>,
    script: Vec<Step>,
}

/// What a thread does to its readers, in order; reader indexes wrap around.
#[derive(Debug, Clone)]
enum Op {
    /// One `read_frame` call.
    Read(usize),
    /// Changes how far the reader gives memory back after a large frame.
    ShrinkTo(usize, Option<usize>),
    /// Drops the reader (its peer went away).
    Drop(usize),
}

/// The reader's first buffer and growth step: small, so that frames cross it often.
const STEP: usize = 4096;

fn frame_size() -> impl Strategy<Value = usize> {
    prop_oneof![0usize..64, STEP - 64..STEP + 64, STEP + 64..12 * STEP]
}

fn conn() -> impl Strategy<Value = Conn> {
    let step = prop_oneof![
        3 => (1usize..6 * STEP).prop_map(Step::Bytes),
        1 => Just(Step::Fail(ErrorKind::WouldBlock)),
    ];
    (
        prop::collection::vec(frame_size(), 0..5),
        prop::collection::vec(step, 0..12),
    )
        .prop_map(|(frames, script)| Conn { frames, script })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0usize..4).prop_map(Op::Read),
        1 => (0usize..4, prop::option::of(1usize..4)).prop_map(|(i, k)| Op::ShrinkTo(i, k.map(|k| k * STEP))),
        1 => (0usize..4).prop_map(Op::Drop),
    ]
}

fn thread_plan() -> impl Strategy<Value = (Vec<Conn>, Vec<Op>)> {
    (
        prop::collection::vec(conn(), 1..4),
        prop::collection::vec(op(), 0..40),
    )
}

/// A reader on its connection, with the frames it should deliver and how far it got.
struct Live {
    reader: FrameReader<ScriptedReader>,
    expected: Vec<Vec<u8>>,
    next: usize,
}

/// Runs one thread's plan against the shared budget; returns the readers still alive.
fn run_thread(
    budget: &MemoryBudget,
    conns: Vec<Conn>,
    ops: Vec<Op>,
    seed: u8,
) -> Vec<Option<Live>> {
    let mut live: Vec<Option<Live>> = conns
        .into_iter()
        .enumerate()
        .map(|(i, conn)| {
            let expected: Vec<Vec<u8>> = conn
                .frames
                .iter()
                .enumerate()
                .map(|(j, &len)| payload(len, seed ^ (i as u8) ^ ((j as u8) << 3)))
                .collect();
            let source = ScriptedReader::new(
                reference_encode(&expected.iter().map(Vec::as_slice).collect::<Vec<_>>()),
                conn.script,
            );
            let mut reader =
                FrameReader::with_capacity(source, FrameConfig::default(), STEP).unwrap();
            reader.set_budget(Some(budget.clone())).unwrap();
            Some(Live {
                reader,
                expected,
                next: 0,
            })
        })
        .collect();
    let n = live.len();
    for op in ops {
        match op {
            Op::Read(i) => {
                if let Some(conn) = &mut live[i % n] {
                    match conn.reader.read_frame() {
                        Ok(Some(frame)) => {
                            assert_eq!(frame, &conn.expected[conn.next][..]);
                            conn.next += 1;
                        }
                        Ok(None) => assert_eq!(conn.next, conn.expected.len()),
                        Err(e) if e.is_would_block() => {}
                        Err(e) => check_over_budget(&e, budget, STEP),
                    }
                }
            }
            Op::ShrinkTo(i, keep) => {
                if let Some(conn) = &mut live[i % n] {
                    conn.reader.set_shrink_to(keep);
                }
            }
            Op::Drop(i) => live[i % n] = None,
        }
        // Sampled from every thread after every step, while the others run.
        assert!(budget.in_use() <= budget.limit());
    }
    live
}

proptest! {
    #![proptest_config(proptest_config(64, "proptest-regressions/budget.txt"))]

    #[test]
    fn budget_shared_by_threads_is_never_exceeded_and_fully_given_back(
        limit in 2 * STEP..40 * STEP,
        plans in prop::collection::vec(thread_plan(), 2..=4),
    ) {
        let budget = MemoryBudget::new(limit);
        let survivors: Vec<Vec<Option<Live>>> = thread::scope(|s| {
            let handles: Vec<_> = plans
                .into_iter()
                .enumerate()
                .map(|(t, (conns, ops))| {
                    let budget = &budget;
                    s.spawn(move || run_thread(budget, conns, ops, t as u8 * 61))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        // Quiet now: what is charged is exactly every live buffer beyond its first step.
        let held: usize = survivors
            .iter()
            .flatten()
            .flatten()
            .map(|conn| conn.reader.capacity().saturating_sub(STEP))
            .sum();
        prop_assert_eq!(budget.in_use(), held);
        prop_assert!(held <= limit);
        drop(survivors);
        prop_assert_eq!(budget.in_use(), 0);
    }
}
