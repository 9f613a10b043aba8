//! The key-value service under the test kit: over real sockets through the re-cutting
//! relay, abandoned at its deadline at every byte, and against every hostile peer.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::sync::atomic::AtomicBool;
use std::thread;
use std::time::Duration;

use kv_ipc::{
    config, serve, serve_unix, CallError, Client, How, Op, Put, Response, Settings, Store,
};
use lenframe::{FrameReader, FrameWriter};
use lenframe_testkit::crowd::{Kind, Outcome, Target};
use lenframe_testkit::reference::reference_stream;
use lenframe_testkit::relay::relayed;
use lenframe_testkit::scripted::{ScriptedReader, Step};
use lenframe_testkit::sockets::{unix_pair, Transport};
use lenframe_testkit::strategies::{cuts, proptest_config};
use proptest::prelude::*;
use prost::Message;

fn op() -> impl Strategy<Value = Op> {
    let key = "[a-c]{1,2}";
    prop_oneof![
        key.prop_map(Op::Get),
        (key, proptest::collection::vec(any::<u8>(), 0..300))
            .prop_map(|(key, value)| Op::Put(Put { key, value })),
        key.prop_map(Op::Delete),
    ]
}

proptest! {
    #![proptest_config(proptest_config(24, "proptest-regressions/kv.txt"))]

    /// Requests pipelined through the relay both ways, cut anywhere: every one answered
    /// exactly once, in order, as a map would.
    #[test]
    fn every_request_answered_once_in_order(
        ops in proptest::collection::vec(op(), 1..24),
        up in cuts(),
        down in cuts(),
    ) {
        // Held bytes go out after 2 ms of quiet: a peer waiting for an answer is never held.
        let quiet = Some(Duration::from_millis(2));
        let (to_server, server_in, up_relay) = relayed(Transport::Unix, &up, None, quiet);
        let (to_client, client_in, down_relay) = relayed(Transport::Unix, &down, None, quiet);
        let server = thread::spawn(move || {
            let reader = FrameReader::with_config(server_in, config()).unwrap();
            let writer = FrameWriter::with_config(to_client, config()).unwrap();
            let stop = AtomicBool::new(false);
            serve(reader, writer, &Store::default(), &Settings::default(), &stop)
        });
        let mut client = Client::new(client_in, to_server);
        for op in &ops {
            client.send(op.clone()).unwrap();
        }
        let answers: Vec<_> = ops.iter().map(|_| client.receive().unwrap()).collect();
        drop(client); // ends the requests: the server ends, then the answers
        let ended = server.join().unwrap();
        let (up, down) = (up_relay.join().unwrap(), down_relay.join().unwrap());

        let mut model = HashMap::new();
        let expected: Vec<_> = (1..).zip(ops.iter().map(|op| op.clone().apply(&mut model))).collect();
        prop_assert_eq!(answers, expected);
        prop_assert!(matches!(ended.how, How::Closed), "{:?}", ended.how);
        prop_assert_eq!(ended.answered, ops.len() as u64);
        prop_assert_eq!((up.received, down.received), (up.forwarded, down.forwarded));
    }
}

/// A call abandoned at its deadline after any number of bytes of its answer: the next call
/// still gets its own answer, and the late one is dropped.
#[test]
fn client_call_abandoned_at_every_byte() {
    let answer = |id, value: &[u8]| Response {
        id,
        value: Some(value.to_vec()),
        error: None,
    };
    let answers = [answer(1, b"late"), answer(2, b"mine")].map(|r| r.encode_to_vec());
    let wire = reference_stream(&config(), &answers);
    let first_len = wire.len() - reference_stream(&config(), &answers[1..]).len();
    for k in 0..first_len {
        let mut script = vec![Step::Bytes(1); k];
        script.push(Step::Fail(ErrorKind::WouldBlock));
        let mut client = Client::new(ScriptedReader::new(wire.clone(), script), Vec::new());
        assert!(
            matches!(client.call(Op::Get("a".into())), Err(CallError::Deadline)),
            "at {k}"
        );
        assert_eq!(
            client.call(Op::Get("b".into())).unwrap(),
            Some(b"mine".to_vec()),
            "at {k}"
        );
    }
}

/// Every hostile peer of the crowd, one at a time, against the server on a Unix socket: each
/// is cut as it must be.
#[test]
fn server_cuts_every_hostile_peer() {
    let request = kv_ipc::Request {
        id: 1,
        op: Some(Op::Get("k".into())),
    }
    .encode_to_vec();
    let target = Target::new(config(), &request);
    for kind in Kind::HOSTILE {
        let (peer, server_end) = unix_pair();
        let target = target.clone();
        let attacker = thread::spawn(move || kind.attack(peer, &target));
        let ended = serve_unix(
            server_end,
            &Store::default(),
            &Settings::default(),
            &AtomicBool::new(false),
        );
        // The attacker's own I/O may fail once it is cut: the server's outcome is the test.
        let _ = attacker.join().unwrap();
        let outcome = match ended.how {
            How::Closed => Outcome::Closed,
            How::Idle => Outcome::Idle,
            How::Cut(e) => Outcome::Cut(e),
            other => panic!("{kind:?}: {other:?}"),
        };
        assert!(
            kind.is_expected(&outcome, &config()),
            "{kind:?}: {outcome:?}"
        );
    }
}
