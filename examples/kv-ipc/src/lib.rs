//! A small key-value service over a Unix socket, framed with lenframe: typed requests and
//! responses in protobuf (prost), one per frame with a varint length (protobuf's delimited
//! stream), request ids so that a call abandoned at its deadline leaves nothing behind,
//! frame deadlines and an idle timeout on the server, and a graceful shutdown.
//!
//! ```
//! # #[cfg(feature = "std")] {
//! use std::time::Duration;
//! use kv_ipc::{Client, Op, Server, Settings};
//!
//! let dir = std::env::temp_dir().join(format!("kv-ipc-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let server = Server::bind(dir.join("kv.sock"), Settings::default())?;
//! let shutdown = server.shutdown_handle();
//! let running = std::thread::spawn(move || server.run());
//!
//! let mut client = Client::connect(dir.join("kv.sock"), Duration::from_secs(5))?;
//! assert_eq!(client.call(Op::Put(kv_ipc::Put { key: "k".into(), value: b"v".to_vec() }))?, None);
//! assert_eq!(client.call(Op::Get("k".into()))?, Some(b"v".to_vec()));
//! drop(client);
//!
//! shutdown.shutdown()?;
//! let ended = running.join().unwrap()?;
//! assert_eq!(ended.len(), 1);
//! std::fs::remove_dir_all(&dir)?;
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Its tests (`tests/kv.rs`) use only `lenframe-testkit`: a property over real sockets
//! through the re-cutting relay, the client abandoning a call at every byte, and the hostile
//! peers against the server; `fuzz/fuzz_targets/kv_request.rs` fuzzes the request decoder
//! through a reader.
#![cfg(feature = "std")]

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use lenframe::{FrameConfig, FrameDeadline, FrameError, FrameReader, FrameWriter, LengthField};
use prost::Message;

/// The largest message, either way.
pub const MAX_MESSAGE: usize = 64 * 1024;

/// The longest key.
pub const MAX_KEY: usize = 256;

/// The wire layout: a varint length (as protobuf's delimited streams), then the message.
///
/// ```
/// assert_eq!(kv_ipc::config().get_max_frame_len(), kv_ipc::MAX_MESSAGE);
/// ```
pub fn config() -> FrameConfig {
    FrameConfig::default()
        .length_field(LengthField::Varint)
        .max_frame_len(MAX_MESSAGE)
}

/// A request: its id (unique on its connection, increasing) and what to do.
///
/// ```
/// use prost::Message;
/// let req = kv_ipc::Request { id: 7, op: Some(kv_ipc::Op::Get("k".into())) };
/// assert_eq!(kv_ipc::decode_request(&req.encode_to_vec()), Ok(req));
/// ```
#[derive(Clone, PartialEq, Message)]
pub struct Request {
    /// Echoed in the response.
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// The operation.
    #[prost(oneof = "Op", tags = "2, 3, 4")]
    pub op: Option<Op>,
}

/// An operation on the store.
///
/// ```
/// let op = kv_ipc::Op::Delete("k".into());
/// assert_eq!(op.key(), "k");
/// ```
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum Op {
    /// The value of a key.
    #[prost(string, tag = "2")]
    Get(String),
    /// Sets a key; answers its previous value.
    #[prost(message, tag = "3")]
    Put(Put),
    /// Removes a key; answers the value removed.
    #[prost(string, tag = "4")]
    Delete(String),
}

impl Op {
    /// The key the operation is about.
    ///
    /// ```
    /// let op = kv_ipc::Op::Put(kv_ipc::Put { key: "a".into(), value: vec![] });
    /// assert_eq!(op.key(), "a");
    /// ```
    pub fn key(&self) -> &str {
        match self {
            Op::Get(key) | Op::Delete(key) => key,
            Op::Put(put) => &put.key,
        }
    }

    /// Applies the operation to `store`; returns the value it answers with.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use kv_ipc::{Op, Put};
    /// let mut store = HashMap::new();
    /// assert_eq!(Op::Put(Put { key: "a".into(), value: vec![1] }).apply(&mut store), None);
    /// assert_eq!(Op::Delete("a".into()).apply(&mut store), Some(vec![1]));
    /// ```
    pub fn apply(self, store: &mut HashMap<String, Vec<u8>>) -> Option<Vec<u8>> {
        match self {
            Op::Get(key) => store.get(&key).cloned(),
            Op::Put(Put { key, value }) => store.insert(key, value),
            Op::Delete(key) => store.remove(&key),
        }
    }
}

/// The arguments of [`Op::Put`].
///
/// ```
/// let put = kv_ipc::Put { key: "k".into(), value: b"v".to_vec() };
/// assert_eq!(put.value, b"v");
/// ```
#[derive(Clone, PartialEq, Message)]
pub struct Put {
    /// The key.
    #[prost(string, tag = "1")]
    pub key: String,
    /// The new value.
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
}

/// A response: the request's id, and the value the operation answered, or why the request
/// was refused.
///
/// ```
/// let resp = kv_ipc::Response { id: 1, value: Some(vec![]), error: None };
/// assert!(resp.error.is_none());
/// ```
#[derive(Clone, PartialEq, Message)]
pub struct Response {
    /// The request's id; 0 when the request could not be read.
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// The value answered (none: the key had no value).
    #[prost(bytes = "vec", optional, tag = "2")]
    pub value: Option<Vec<u8>>,
    /// Why the request was refused.
    #[prost(string, optional, tag = "3")]
    pub error: Option<String>,
}

/// Why a frame is not a request.
///
/// ```
/// assert_eq!(kv_ipc::decode_request(b""), Err(kv_ipc::BadRequest::NoOp));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadRequest {
    /// Not a protobuf `Request`.
    Decode(String),
    /// No operation.
    NoOp,
    /// Id 0, which is kept for unreadable requests.
    NoId,
    /// A key over [`MAX_KEY`] bytes.
    KeyTooLong(usize),
}

impl std::fmt::Display for BadRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadRequest::Decode(e) => write!(f, "not a request: {e}"),
            BadRequest::NoOp => f.write_str("no operation"),
            BadRequest::NoId => f.write_str("request id 0"),
            BadRequest::KeyTooLong(n) => write!(f, "key of {n} bytes, over {MAX_KEY}"),
        }
    }
}

impl std::error::Error for BadRequest {}

/// The message decoder the server runs on every frame: a protobuf `Request` with an id, an
/// operation and a key of at most [`MAX_KEY`] bytes.
///
/// # Errors
///
/// [`BadRequest`] for anything else.
///
/// ```
/// use prost::Message;
/// use kv_ipc::{decode_request, BadRequest, Op, Request};
/// let no_id = Request { id: 0, op: Some(Op::Get("k".into())) }.encode_to_vec();
/// assert_eq!(decode_request(&no_id), Err(BadRequest::NoId));
/// assert!(matches!(decode_request(b"\xff"), Err(BadRequest::Decode(_))));
/// ```
pub fn decode_request(frame: &[u8]) -> Result<Request, BadRequest> {
    let req = Request::decode(frame).map_err(|e| BadRequest::Decode(e.to_string()))?;
    let op = req.op.as_ref().ok_or(BadRequest::NoOp)?;
    if req.id == 0 {
        return Err(BadRequest::NoId);
    }
    if op.key().len() > MAX_KEY {
        return Err(BadRequest::KeyTooLong(op.key().len()));
    }
    Ok(req)
}

/// The store all connections share.
pub type Store = Arc<Mutex<HashMap<String, Vec<u8>>>>;

/// The server's bounds.
///
/// ```
/// let s = kv_ipc::Settings::default();
/// assert!(s.poll < s.idle);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// How long a request may take to arrive, from its first byte: 200 ms, more while it
    /// arrives at 1 MB/s or faster, 2 s at most.
    pub deadline: FrameDeadline,
    /// How long a connection may stay quiet between requests: 300 ms.
    pub idle: Duration,
    /// How often a quiet connection looks at the shutdown flag: 50 ms.
    pub poll: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            deadline: FrameDeadline::with_rate(
                Duration::from_millis(200),
                1_000_000,
                Duration::from_secs(2),
            ),
            idle: Duration::from_millis(300),
            poll: Duration::from_millis(50),
        }
    }
}

/// How a connection ended, and how many requests it answered.
///
/// ```
/// let ended = kv_ipc::Ended { answered: 0, how: kv_ipc::How::Idle };
/// assert_eq!(ended.answered, 0);
/// ```
#[derive(Debug)]
pub struct Ended {
    /// Requests answered.
    pub answered: u64,
    /// How it ended.
    pub how: How,
}

/// How a connection ended.
///
/// ```
/// let how = kv_ipc::How::Closed;
/// assert!(matches!(how, kv_ipc::How::Closed));
/// ```
#[derive(Debug)]
pub enum How {
    /// The client ended its stream between requests.
    Closed,
    /// Quiet between requests for longer than [`Settings::idle`].
    Idle,
    /// The server shut down, between requests.
    Shutdown,
    /// A request that is not one: answered with the error (id 0), then closed.
    BadRequest(BadRequest),
    /// Cut by a framing or I/O error.
    Cut(FrameError),
}

/// Serves one connection: reads requests, answers each in order, until the client ends its
/// stream, stays quiet for [`Settings::idle`], sends something that is not a request, the
/// reader fails, or `stop` is set between requests. A read that reports `WouldBlock` (the
/// socket's read timeout, [`Settings::poll`]) is a chance to look at the clock and `stop`;
/// a frame's own deadline is the reader's.
///
/// ```
/// use std::sync::atomic::AtomicBool;
/// use lenframe::{FrameReader, FrameWriter};
/// use prost::Message;
/// use kv_ipc::{config, serve, How, Op, Request, Settings, Store};
///
/// let req = Request { id: 1, op: Some(Op::Get("k".into())) }.encode_to_vec();
/// let mut wire = Vec::new();
/// let mut w = FrameWriter::with_config(&mut wire, config())?;
/// w.write_frame(&req)?;
/// w.flush()?;
/// drop(w);
/// let reader = FrameReader::with_config(&wire[..], config())?;
/// let writer = FrameWriter::with_config(Vec::new(), config())?;
/// let ended = serve(reader, writer, &Store::default(), &Settings::default(), &AtomicBool::new(false));
/// assert!(matches!((ended.answered, ended.how), (1, How::Closed)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn serve<R: Read, W: Write>(
    mut reader: FrameReader<R>,
    mut writer: FrameWriter<W>,
    store: &Store,
    settings: &Settings,
    stop: &AtomicBool,
) -> Ended {
    let mut answered = 0;
    let mut quiet_since = Instant::now();
    let how = loop {
        let frame = match reader.read_frame() {
            Ok(Some(frame)) => frame,
            Ok(None) => break How::Closed,
            Err(e) if e.is_would_block() => {
                if reader.read_buffer().is_empty() {
                    if stop.load(Ordering::Relaxed) {
                        break How::Shutdown;
                    }
                    if quiet_since.elapsed() >= settings.idle {
                        break How::Idle;
                    }
                }
                continue;
            }
            Err(e) => break How::Cut(e),
        };
        let response = match decode_request(frame) {
            Ok(Request { id, op: Some(op) }) => {
                let value = op.apply(&mut store.lock().expect("the store"));
                Response {
                    id,
                    value,
                    error: None,
                }
            }
            Ok(Request { op: None, .. }) => unreachable!("decode_request checks the op"),
            Err(bad) => {
                let refusal = Response {
                    id: 0,
                    value: None,
                    error: Some(bad.to_string()),
                };
                let _ = send(&mut writer, &refusal);
                break How::BadRequest(bad);
            }
        };
        if let Err(e) = send(&mut writer, &response) {
            break How::Cut(e);
        }
        answered += 1;
        quiet_since = Instant::now();
        if stop.load(Ordering::Relaxed) {
            break How::Shutdown;
        }
    };
    Ended { answered, how }
}

/// Writes one message as a frame and flushes it.
fn send<W: Write>(writer: &mut FrameWriter<W>, message: &impl Message) -> Result<(), FrameError> {
    writer.write_frame(&message.encode_to_vec())?;
    writer.flush()
}

/// Serves one accepted Unix socket with `settings`: the socket's read timeout is the poll
/// interval, each request has the frame deadline. See [`serve`].
///
/// ```
/// use std::sync::atomic::AtomicBool;
/// use std::os::unix::net::UnixStream;
/// use kv_ipc::{serve_unix, How, Settings, Store};
/// let (client, server) = UnixStream::pair()?;
/// drop(client);
/// let ended = serve_unix(server, &Store::default(), &Settings::default(), &AtomicBool::new(false));
/// assert!(matches!(ended.how, How::Closed));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn serve_unix(
    stream: UnixStream,
    store: &Store,
    settings: &Settings,
    stop: &AtomicBool,
) -> Ended {
    let setup = (|| -> Result<_, FrameError> {
        stream.set_read_timeout(Some(settings.poll))?;
        let writer = FrameWriter::with_config(stream.try_clone()?, config())?;
        let mut reader = FrameReader::with_config(stream, config())?;
        reader.set_frame_deadline(Some(settings.deadline));
        Ok((reader, writer))
    })();
    match setup {
        Ok((reader, writer)) => serve(reader, writer, store, settings, stop),
        Err(e) => Ended {
            answered: 0,
            how: How::Cut(e),
        },
    }
}

/// A key-value server on a Unix socket: one thread per connection, all on one [`Store`].
///
/// See the [crate example](crate).
#[derive(Debug)]
pub struct Server {
    listener: UnixListener,
    path: PathBuf,
    store: Store,
    settings: Settings,
    stop: Arc<AtomicBool>,
}

/// Asks a [`Server`] to shut down.
///
/// See the [crate example](crate).
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    path: PathBuf,
    stop: Arc<AtomicBool>,
}

impl ShutdownHandle {
    /// Shuts the server down gracefully: it accepts no more connections, each connection
    /// finishes the request it is reading and answering and then closes, and
    /// [`Server::run`] returns once all have.
    ///
    /// # Errors
    ///
    /// If the server's socket cannot be reached to wake it.
    pub fn shutdown(&self) -> io::Result<()> {
        self.stop.store(true, Ordering::Relaxed);
        // Wakes the accept loop, which then sees the flag.
        UnixStream::connect(&self.path).map(drop)
    }
}

impl Server {
    /// Binds a server at `path`.
    ///
    /// # Errors
    ///
    /// If the socket cannot be bound.
    pub fn bind(path: impl AsRef<Path>, settings: Settings) -> io::Result<Server> {
        let path = path.as_ref().to_path_buf();
        Ok(Server {
            listener: UnixListener::bind(&path)?,
            path,
            store: Store::default(),
            settings,
            stop: Arc::new(AtomicBool::new(false)),
        })
    }

    /// A handle that shuts the server down.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            path: self.path.clone(),
            stop: Arc::clone(&self.stop),
        }
    }

    /// Accepts and serves connections until shut down; returns how each ended, once all
    /// have. The socket's path is removed.
    ///
    /// # Errors
    ///
    /// If accepting fails.
    pub fn run(self) -> io::Result<Vec<Ended>> {
        let mut connections = Vec::new();
        let result = loop {
            let stream = match self.listener.accept() {
                Ok((stream, _)) => stream,
                Err(e) => break Err(e),
            };
            if self.stop.load(Ordering::Relaxed) {
                break Ok(()); // the wake-up from `shutdown`
            }
            let (store, settings, stop) = (self.store.clone(), self.settings, self.stop.clone());
            connections.push(thread::spawn(move || {
                serve_unix(stream, &store, &settings, &stop)
            }));
        };
        let ended = connections
            .into_iter()
            .map(|c| c.join().expect("a connection thread"))
            .collect();
        std::fs::remove_file(&self.path)?;
        result.map(|()| ended)
    }
}

/// Why a call failed.
///
/// ```
/// let e = kv_ipc::CallError::Deadline;
/// assert_eq!(e.to_string(), "no answer before the deadline");
/// ```
#[derive(Debug)]
pub enum CallError {
    /// No answer before the deadline: the call is abandoned, and the client stays usable.
    Deadline,
    /// The server refused the request.
    Refused(String),
    /// An answer that is not a response, or out of order.
    Protocol(String),
    /// Framing or I/O.
    Frame(FrameError),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Deadline => f.write_str("no answer before the deadline"),
            CallError::Refused(why) => write!(f, "refused: {why}"),
            CallError::Protocol(why) => write!(f, "protocol error: {why}"),
            CallError::Frame(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for CallError {}

impl From<FrameError> for CallError {
    fn from(e: FrameError) -> Self {
        if e.is_would_block() || matches!(e, FrameError::TimedOut { .. }) {
            CallError::Deadline
        } else {
            CallError::Frame(e)
        }
    }
}

/// A client on any pair of byte streams. Calls are numbered; an answer to a call that was
/// abandoned at its deadline is recognised by its id and dropped when the next call reads,
/// so a late answer never passes for the answer to another call.
///
/// ```
/// use kv_ipc::{Client, Op, Response, config};
/// use lenframe::FrameWriter;
/// use prost::Message;
///
/// // A server's answers, scripted: one to call 1.
/// let mut answers = FrameWriter::with_config(Vec::new(), config())?;
/// answers.write_frame(&Response { id: 1, value: Some(b"v".to_vec()), error: None }.encode_to_vec())?;
/// answers.flush()?;
/// let mut client = Client::new(&answers.get_ref()[..], Vec::new());
/// assert_eq!(client.call(Op::Get("k".into()))?, Some(b"v".to_vec()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Client<R, W: Write> {
    reader: FrameReader<R>,
    writer: FrameWriter<W>,
    last_id: u64,
}

impl Client<UnixStream, UnixStream> {
    /// Connects to the server at `path`; each call must be answered within `deadline`
    /// (the socket's read timeout, and the answer frame's deadline).
    ///
    /// # Errors
    ///
    /// If the socket cannot be connected or set up.
    pub fn connect(path: impl AsRef<Path>, deadline: Duration) -> io::Result<Self> {
        let stream = UnixStream::connect(path)?;
        stream.set_read_timeout(Some(deadline))?;
        let mut client = Client::new(stream.try_clone()?, stream);
        client.reader.set_frame_timeout(Some(deadline));
        Ok(client)
    }
}

impl<R: Read, W: Write> Client<R, W> {
    /// A client reading answers from `reader` and writing requests to `writer`.
    ///
    /// See [`Client`].
    pub fn new(reader: R, writer: W) -> Self {
        Client {
            reader: FrameReader::with_config(reader, config()).expect("a valid layout"),
            writer: FrameWriter::with_config(writer, config()).expect("a valid layout"),
            last_id: 0,
        }
    }

    /// Sends `op` without waiting for its answer; returns its id.
    ///
    /// # Errors
    ///
    /// If the request cannot be written.
    pub fn send(&mut self, op: Op) -> Result<u64, CallError> {
        self.last_id += 1;
        let request = Request {
            id: self.last_id,
            op: Some(op),
        };
        send(&mut self.writer, &request)?;
        Ok(self.last_id)
    }

    /// Reads the next answer: its id and value.
    ///
    /// # Errors
    ///
    /// [`CallError::Deadline`] when the reader times out; the others when the server refused
    /// a request, answered with something else, or ended the stream.
    pub fn receive(&mut self) -> Result<(u64, Option<Vec<u8>>), CallError> {
        let frame = self
            .reader
            .read_frame()?
            .ok_or_else(|| CallError::Protocol("the server ended the stream".into()))?;
        let response = Response::decode(frame).map_err(|e| CallError::Protocol(e.to_string()))?;
        match response.error {
            Some(why) => Err(CallError::Refused(why)),
            None if response.id > self.last_id => Err(CallError::Protocol(format!(
                "an answer to call {}",
                response.id
            ))),
            None => Ok((response.id, response.value)),
        }
    }

    /// Sends `op` and waits for its answer, dropping late answers to earlier calls.
    ///
    /// See [`Client`].
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send) and [`receive`](Self::receive).
    pub fn call(&mut self, op: Op) -> Result<Option<Vec<u8>>, CallError> {
        let id = self.send(op)?;
        // Each pass takes one answer; at most one per call sent so far.
        for _ in 0..id {
            let (answer, value) = self.receive()?;
            if answer == id {
                return Ok(value);
            }
        }
        Err(CallError::Protocol(format!("no answer to call {id}")))
    }
}
