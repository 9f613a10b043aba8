//! Connected stream pairs over real transports: TCP on 127.0.0.1 (an ephemeral port), Unix
//! sockets bound in a temporary directory, and OS pipes; blocking here, tokio in
//! `async_io` (feature `tokio`).
//!
//! [`pair`] gives the two ends of one direction: a [`WriteEnd`] that can close the stream
//! with an orderly end or, for sockets, with a reset at any byte, and a reading end.
//!
//! ```
//! use std::io::{Read, Write};
//! use lenframe_testkit::sockets::{pair, Transport};
//!
//! for &transport in Transport::ALL {
//!     let (mut w, mut r) = pair(transport);
//!     w.write_all(b"ping")?;
//!     drop(w); // the end of the stream
//!     let mut got = Vec::new();
//!     r.read_to_end(&mut got)?;
//!     assert_eq!(got, b"ping");
//! }
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
#[cfg(unix)]
use std::os::unix::net::{UnixListener, UnixStream};

/// The transports every socket-level property runs over.
///
/// ```
/// use lenframe_testkit::sockets::Transport;
/// assert!(Transport::ALL.contains(&Transport::Pipe));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// TCP over 127.0.0.1 on an ephemeral port.
    Tcp,
    /// A Unix domain socket bound to a path in a temporary directory.
    Unix,
    /// An anonymous OS pipe.
    Pipe,
}

impl Transport {
    /// Every transport available on this platform.
    #[cfg(unix)]
    pub const ALL: &'static [Transport] = &[Transport::Tcp, Transport::Unix, Transport::Pipe];
    /// Every transport available on this platform.
    #[cfg(not(unix))]
    pub const ALL: &'static [Transport] = &[Transport::Tcp, Transport::Pipe];
}

/// A connected TCP pair on 127.0.0.1: `(client, server)`.
///
/// ```
/// use std::io::{Read, Write};
/// let (mut client, mut server) = lenframe_testkit::sockets::tcp_pair();
/// client.write_all(b"x")?;
/// let mut byte = [0];
/// server.read_exact(&mut byte)?;
/// assert_eq!(&byte, b"x");
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Panics
///
/// If the loopback interface refuses to bind, connect or accept.
pub fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let client = TcpStream::connect(listener.local_addr().unwrap()).expect("connect");
    let (server, _) = listener.accept().expect("accept");
    (client, server)
}

/// A connected Unix socket pair whose listening path lives in a temporary directory that is
/// removed before returning (the connected sockets outlive the path): `(client, server)`.
///
/// ```
/// use std::io::{Read, Write};
/// let (mut client, mut server) = lenframe_testkit::sockets::unix_pair();
/// client.write_all(b"x")?;
/// let mut byte = [0];
/// server.read_exact(&mut byte)?;
/// assert_eq!(&byte, b"x");
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Panics
///
/// If the temporary directory or the socket cannot be made.
#[cfg(unix)]
pub fn unix_pair() -> (UnixStream, UnixStream) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("lenframe.sock");
    let listener = UnixListener::bind(&path).expect("bind unix socket");
    let client = UnixStream::connect(&path).expect("connect unix socket");
    let (server, _) = listener.accept().expect("accept unix socket");
    drop(listener);
    dir.close()
        .expect("remove the socket's temporary directory");
    (client, server)
}

/// The byte each socket [`pair`] leaves unread in its writing end's receive queue: closing a
/// socket with unread data makes the kernel send a reset instead of an orderly end, which is
/// how [`WriteEnd::reset`] resets; an orderly close reads it first.
const PRIMER: u8 = 0xa5;

#[derive(Debug)]
enum Inner {
    Tcp(TcpStream),
    #[cfg(unix)]
    Unix(UnixStream),
    Pipe(io::PipeWriter),
}

/// The writing end of a [`pair`]. Dropping it ends the stream for the reader, after every
/// byte written; [`reset`](Resettable::reset) cuts it with a connection reset instead (on a
/// pipe, which has no reset, it ends the stream).
///
/// ```
/// use std::io::{ErrorKind, Read, Write};
/// use lenframe_testkit::sockets::{pair, Resettable, Transport};
///
/// let (mut w, mut r) = pair(Transport::Tcp);
/// w.write_all(b"half a fra")?;
/// w.reset();
/// let mut got = [0; 10];
/// r.read_exact(&mut got)?; // what was sent arrives...
/// assert_eq!(r.read(&mut got).unwrap_err().kind(), ErrorKind::ConnectionReset); // ...then the reset
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct WriteEnd {
    inner: Option<Inner>,
}

/// A stream end that can be closed with a reset instead of an orderly end.
///
/// ```
/// use lenframe_testkit::sockets::{pair, Resettable, Transport};
/// let (w, _r) = pair(Transport::Unix);
/// w.reset();
/// ```
pub trait Resettable {
    /// Closes the stream with a reset: the peer reads what was sent, then
    /// `ConnectionReset`.
    fn reset(self);
}

impl Resettable for WriteEnd {
    fn reset(mut self) {
        // Dropped with the primer unread: the kernel resets the connection.
        drop(self.inner.take());
    }
}

impl WriteEnd {
    fn with_mut<T>(&mut self, f: impl FnOnce(&mut dyn Write) -> T) -> T {
        match self.inner.as_mut().expect("an open end") {
            Inner::Tcp(s) => f(s),
            #[cfg(unix)]
            Inner::Unix(s) => f(s),
            Inner::Pipe(p) => f(p),
        }
    }
}

impl Write for WriteEnd {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.with_mut(|w| w.write(buf))
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.with_mut(|w| w.write_vectored(bufs))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.with_mut(|w| w.flush())
    }
}

impl Drop for WriteEnd {
    fn drop(&mut self) {
        // An orderly end: take the primer first (it is already queued: see `pair`). A reset
        // from the reader's side may have come first; then there is nothing to take.
        let mut byte = [0u8; 1];
        match self.inner.take() {
            Some(Inner::Tcp(mut s)) => drop(s.read(&mut byte)),
            #[cfg(unix)]
            Some(Inner::Unix(mut s)) => drop(s.read(&mut byte)),
            Some(Inner::Pipe(_)) | None => {}
        }
    }
}

/// The reading end of a [`pair`].
///
/// ```
/// use std::time::Duration;
/// use std::io::{ErrorKind, Read};
/// use lenframe_testkit::sockets::{pair, Transport};
/// let (_w, mut r) = pair(Transport::Tcp);
/// r.set_read_timeout(Some(Duration::from_millis(1)))?;
/// let err = r.read(&mut [0; 4]).unwrap_err();
/// assert!(matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct ReadEnd(ReadInner);

#[derive(Debug)]
enum ReadInner {
    Tcp(TcpStream),
    #[cfg(unix)]
    Unix(UnixStream),
    Pipe(io::PipeReader),
}

impl ReadEnd {
    /// Sets the read timeout of a socket (see `TcpStream::set_read_timeout`).
    ///
    /// # Errors
    ///
    /// `Unsupported` for a pipe, which has no read timeout; else what the socket says.
    pub fn set_read_timeout(&self, timeout: Option<std::time::Duration>) -> io::Result<()> {
        match &self.0 {
            ReadInner::Tcp(s) => s.set_read_timeout(timeout),
            #[cfg(unix)]
            ReadInner::Unix(s) => s.set_read_timeout(timeout),
            ReadInner::Pipe(_) => Err(io::ErrorKind::Unsupported.into()),
        }
    }
}

impl Read for ReadEnd {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.0 {
            ReadInner::Tcp(s) => s.read(buf),
            #[cfg(unix)]
            ReadInner::Unix(s) => s.read(buf),
            ReadInner::Pipe(p) => p.read(buf),
        }
    }
}

/// The writing and the reading end of one direction of `transport`. Dropping the writer
/// ends the stream for the reader; [`Resettable::reset`] resets it.
///
/// ```
/// use std::io::{Read, Write};
/// use lenframe_testkit::sockets::{pair, Transport};
/// let (mut w, mut r) = pair(Transport::Pipe);
/// w.write_all(b"ab")?;
/// drop(w);
/// let mut got = String::new();
/// r.read_to_string(&mut got)?;
/// assert_eq!(got, "ab");
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Panics
///
/// If the transport cannot be set up (or is [`Transport::Unix`] off Unix).
pub fn pair(transport: Transport) -> (WriteEnd, ReadEnd) {
    match transport {
        Transport::Tcp => {
            let (c, mut s) = tcp_pair();
            s.write_all(&[PRIMER]).expect("send the primer");
            s.shutdown(Shutdown::Write).ok();
            // Blocks until the primer is queued, so a reset is a reset from the first byte.
            c.peek(&mut [0u8; 1]).expect("the primer arrives");
            let w = WriteEnd {
                inner: Some(Inner::Tcp(c)),
            };
            (w, ReadEnd(ReadInner::Tcp(s)))
        }
        #[cfg(unix)]
        Transport::Unix => {
            let (c, mut s) = unix_pair();
            // A Unix socket queues what is sent before the call returns.
            s.write_all(&[PRIMER]).expect("send the primer");
            s.shutdown(Shutdown::Write).ok();
            let w = WriteEnd {
                inner: Some(Inner::Unix(c)),
            };
            (w, ReadEnd(ReadInner::Unix(s)))
        }
        #[cfg(not(unix))]
        Transport::Unix => panic!("no Unix sockets on this platform"),
        Transport::Pipe => {
            let (r, w) = io::pipe().expect("pipe");
            let w = WriteEnd {
                inner: Some(Inner::Pipe(w)),
            };
            (w, ReadEnd(ReadInner::Pipe(r)))
        }
    }
}

/// A connected socket whose sending direction can be ended on its own, for peers that end
/// their requests and still read the answers.
///
/// ```
/// use lenframe_testkit::sockets::{tcp_pair, Duplex};
/// let (client, _server) = tcp_pair();
/// client.shutdown_write()?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub trait Duplex: Read + Write + Send + 'static {
    /// Ends the stream this side sends; reading goes on.
    ///
    /// # Errors
    ///
    /// What `shutdown(Shutdown::Write)` returns.
    fn shutdown_write(&self) -> io::Result<()>;
}

impl Duplex for TcpStream {
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

#[cfg(unix)]
impl Duplex for UnixStream {
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}
