//! The independent Python echo peer (`tests/data/echo_peer.py`), started as a child process.

use std::io::Read;
use std::process::{Child, Command, Stdio};

/// A running Python echo peer. Dropping it kills and reaps the child on every path, so that a
/// failed assertion leaves no process behind.
pub struct PythonPeer {
    child: Child,
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
}

impl PythonPeer {
    /// Starts the peer and reads the port it printed; `None` (with a message) when python3
    /// is not installed.
    pub fn start() -> Option<PythonPeer> {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/echo_peer.py");
        let child = match Command::new("python3")
            .arg(script)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                println!("SKIPPED: python3 is not installed; the Python peer was not checked");
                return None;
            }
            Err(e) => panic!("starting python3: {e}"),
        };
        let mut peer = PythonPeer { child, port: 0 };
        let mut stdout = peer.child.stdout.take().unwrap();
        // The port is the first line; read byte by byte so as not to wait for more.
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while stdout.read(&mut byte).unwrap() == 1 && byte[0] != b'\n' {
            line.push(byte[0]);
            assert!(line.len() <= 6, "port line too long: {line:?}");
        }
        peer.port = std::str::from_utf8(&line).unwrap().trim().parse().unwrap();
        Some(peer)
    }

    /// Waits for the peer to exit, asserts it succeeded, and returns its report (stderr).
    pub fn finish(mut self) -> String {
        let status = self.child.wait().unwrap();
        let mut report = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut report)
            .unwrap();
        assert!(
            status.success(),
            "python peer exited with {status}: {report}"
        );
        report.trim().to_string()
    }
}

impl Drop for PythonPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
