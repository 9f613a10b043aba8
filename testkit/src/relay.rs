//! The re-cutting relay: it sits between the two ends of real connections and forwards the
//! byte stream in exactly the pieces a schedule ([`Cuts`]) gives: one byte at a time, cuts
//! through every header and payload, many frames in one write, pauses. It can end or reset
//! the stream at any byte ([`Stop`]), and reports what it forwarded ([`RelayReport`]).
//!
//! A reader that is right over the relay is right over any network: the kernel may cut a
//! stream anywhere, and the relay makes it cut where the test says, on real sockets.
//!
//! ```
//! use lenframe::{FrameReader, FrameWriter};
//! use lenframe_testkit::relay::{through_relay, Cuts};
//! use lenframe_testkit::sockets::Transport;
//!
//! let cuts = Cuts::new(vec![1, 3]); // 1 byte, 3 bytes, 1 byte, ...
//! let (wrote, report, got) = through_relay(
//!     Transport::Unix,
//!     &cuts,
//!     None,
//!     |out| {
//!         let mut w = FrameWriter::new(out);
//!         w.write_frame(b"hello")?;
//!         w.write_frame(b"")?;
//!         w.flush()
//!     },
//!     |input| {
//!         let mut r = FrameReader::new(input);
//!         let first = r.read_frame().map(|f| f.map(<[u8]>::to_vec));
//!         (first, r.read_frame().map(|f| f.map(<[u8]>::to_vec)), r.read_frame().map(|f| f.is_none()))
//!     },
//! );
//! wrote?;
//! assert_eq!(got.0?, Some(b"hello".to_vec()));
//! assert_eq!(got.1?, Some(Vec::new()));
//! assert!(got.2?);
//! let report = report?;
//! assert_eq!((report.forwarded, report.pieces), (13, 7));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::{self, Read, Write};
use std::thread;
use std::time::Duration;

use crate::sockets::{pair, ReadEnd, Resettable, Transport, WriteEnd};

/// How a byte stream is cut into pieces: every piece's size is taken in turn from `sizes`
/// (cycling), so one schedule covers one byte at a time, random cuts through headers and
/// payloads, and many frames coalesced into one piece. Made by hand or by
/// [`crate::strategies::cuts`].
///
/// ```
/// use lenframe_testkit::relay::Cuts;
/// let cuts = Cuts::new(vec![2, 1]);
/// assert_eq!(cuts.split(b"abcdef"), [&b"ab"[..], b"c", b"de", b"f"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cuts {
    /// Piece sizes, each taken as at least 1, used in turn.
    pub sizes: Vec<usize>,
    /// Pause (microseconds) after the piece with the same index (cycling), if any: only to
    /// vary timing, never to order anything.
    pub pauses: Vec<u16>,
}

impl Cuts {
    /// Pieces of `sizes` in turn, without pauses.
    ///
    /// ```
    /// let one_at_a_time = lenframe_testkit::relay::Cuts::new(vec![1]);
    /// assert_eq!(one_at_a_time.size(7), 1);
    /// ```
    ///
    /// # Panics
    ///
    /// If `sizes` is empty.
    pub fn new(sizes: Vec<usize>) -> Self {
        assert!(!sizes.is_empty(), "no piece sizes");
        Cuts {
            sizes,
            pauses: Vec::new(),
        }
    }

    /// Splits `bytes` into pieces following the sizes.
    ///
    /// ```
    /// use lenframe_testkit::relay::Cuts;
    /// assert_eq!(Cuts::new(vec![usize::MAX]).split(b"abc"), [b"abc"]);
    /// ```
    pub fn split<'a>(&self, bytes: &'a [u8]) -> Vec<&'a [u8]> {
        let mut out = Vec::new();
        let mut rest = bytes;
        let mut i = 0;
        while !rest.is_empty() {
            let n = self.size(i).min(rest.len());
            out.push(&rest[..n]);
            rest = &rest[n..];
            i += 1;
        }
        out
    }

    /// The size of piece `i`.
    ///
    /// ```
    /// use lenframe_testkit::relay::Cuts;
    /// assert_eq!(Cuts::new(vec![0, 5]).size(2), 1); // a zero counts as one
    /// ```
    pub fn size(&self, i: usize) -> usize {
        self.sizes[i % self.sizes.len()].max(1)
    }

    /// The pause after piece `i`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lenframe_testkit::relay::Cuts;
    /// let cuts = Cuts { sizes: vec![1], pauses: vec![0, 50] };
    /// assert_eq!(cuts.pause(3), Duration::from_micros(50));
    /// ```
    pub fn pause(&self, i: usize) -> Duration {
        let us = if self.pauses.is_empty() {
            0
        } else {
            self.pauses[i % self.pauses.len()]
        };
        Duration::from_micros(u64::from(us))
    }
}

/// Where the relay stops forwarding.
///
/// ```
/// use lenframe_testkit::relay::Stop;
/// assert_eq!(Stop::Reset(10).at(), 10);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// After this many bytes, end the stream (an orderly close).
    End(u64),
    /// After this many bytes, reset the connection.
    Reset(u64),
}

impl Stop {
    /// The byte offset where the relay stops.
    ///
    /// ```
    /// assert_eq!(lenframe_testkit::relay::Stop::End(3).at(), 3);
    /// ```
    pub fn at(self) -> u64 {
        match self {
            Stop::End(n) | Stop::Reset(n) => n,
        }
    }
}

/// What the relay saw.
///
/// ```
/// use lenframe_testkit::relay::RelayReport;
/// let report = RelayReport::default();
/// assert_eq!((report.received, report.forwarded, report.pieces), (0, 0, 0));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayReport {
    /// Bytes read from the writer's side, up to the end of its stream.
    pub received: u64,
    /// Bytes forwarded to the reader's side.
    pub forwarded: u64,
    /// Write calls made on the reader's side (one per piece).
    pub pieces: u64,
}

/// Forwards `input` to `output` in the pieces `cuts` prescribes, each piece one `write_all`
/// call. A piece is held until it is whole, or `input` ends, or a read of `input` times out
/// (`WouldBlock` or `TimedOut`: give `input` a read timeout so that a request/response
/// protocol, whose peer waits for an answer before it writes more, is never held). With `stop`, only the first [`Stop::at`] bytes are forwarded and `output` is closed
/// or reset there; the rest of `input` is read and dropped, so the writer never blocks.
/// Returns when `input` ends; `output` is closed by then.
///
/// ```
/// use std::io::Read;
/// use lenframe_testkit::relay::{relay, Cuts, Stop};
/// use lenframe_testkit::sockets::{pair, Transport};
///
/// let (out, mut input) = pair(Transport::Pipe);
/// let report = relay(&b"abcdef"[..], out, &Cuts::new(vec![2]), Some(Stop::End(5)))?;
/// assert_eq!((report.received, report.forwarded, report.pieces), (6, 5, 3));
/// let mut got = Vec::new();
/// input.read_to_end(&mut got)?;
/// assert_eq!(got, b"abcde");
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
///
/// The first error reading `input` (other than `Interrupted`) or writing `output`.
pub fn relay<O: Write + Resettable>(
    mut input: impl Read,
    output: O,
    cuts: &Cuts,
    stop: Option<Stop>,
) -> io::Result<RelayReport> {
    let limit = stop.map(Stop::at);
    let mut output = Some(output);
    let mut report = RelayReport::default();
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match input.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                // The writer is quiet: what is held goes out now.
                if let Some(out) = output.as_mut() {
                    send_pieces(out, &mut pending, cuts, &mut report, true)?;
                }
                continue;
            }
            Err(e) => return Err(e),
        };
        if n == 0 {
            break;
        }
        report.received += n as u64;
        let Some(out) = output.as_mut() else {
            continue; // past the limit: drain
        };
        let room = limit.map_or(u64::MAX, |l| l - report.forwarded - pending.len() as u64);
        let take = (n as u64).min(room) as usize;
        pending.extend_from_slice(&buf[..take]);
        let cut_here = limit == Some(report.forwarded + pending.len() as u64);
        send_pieces(out, &mut pending, cuts, &mut report, cut_here)?;
        if cut_here {
            close(output.take(), stop);
        }
    }
    if let Some(mut out) = output {
        send_pieces(&mut out, &mut pending, cuts, &mut report, true)?;
        let at_limit = limit == Some(report.forwarded);
        close(Some(out), stop.filter(|_| at_limit));
    }
    Ok(report)
}

/// Closes `output` as `stop` says: reset, or an orderly end.
fn close<O: Resettable>(output: Option<O>, stop: Option<Stop>) {
    match (output, stop) {
        (Some(out), Some(Stop::Reset(_))) => out.reset(),
        (out, _) => drop(out),
    }
}

/// The size of piece number `index` when `left` bytes wait to be forwarded: `None` when
/// nothing is to be sent now (nothing left, or less than a whole piece unless `all`).
///
/// ```
/// use lenframe_testkit::relay::{piece_len, Cuts};
/// let cuts = Cuts::new(vec![4]);
/// assert_eq!(piece_len(&cuts, 0, 3, false), None);
/// assert_eq!(piece_len(&cuts, 0, 3, true), Some(3));
/// assert_eq!(piece_len(&cuts, 0, 9, false), Some(4));
/// ```
pub fn piece_len(cuts: &Cuts, index: u64, left: usize, all: bool) -> Option<usize> {
    let size = cuts.size(index as usize);
    if left == 0 || (left < size && !all) {
        return None;
    }
    Some(size.min(left))
}

/// Writes every whole piece in `pending`; with `all`, the short last one too.
fn send_pieces(
    out: &mut impl Write,
    pending: &mut Vec<u8>,
    cuts: &Cuts,
    report: &mut RelayReport,
    all: bool,
) -> io::Result<()> {
    let mut start = 0;
    while let Some(n) = piece_len(cuts, report.pieces, pending.len() - start, all) {
        out.write_all(&pending[start..start + n])?;
        start += n;
        let pause = cuts.pause(report.pieces as usize);
        report.pieces += 1;
        report.forwarded += n as u64;
        if !pause.is_zero() {
            thread::sleep(pause); // varies timing only
        }
    }
    pending.drain(..start);
    Ok(())
}

/// The relay thread of a [`relayed`] link.
#[derive(Debug)]
pub struct RelayHandle(thread::JoinHandle<io::Result<RelayReport>>);

impl RelayHandle {
    /// Waits for the relay to finish (its input ended) and returns its report.
    ///
    /// ```
    /// use lenframe_testkit::relay::{relayed, Cuts};
    /// use lenframe_testkit::sockets::Transport;
    /// let (w, _r, relay) = relayed(Transport::Tcp, &Cuts::new(vec![1]), None, None);
    /// drop(w);
    /// assert_eq!(relay.join()?.received, 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// What [`relay`] returned.
    ///
    /// # Panics
    ///
    /// If the relay thread panicked.
    pub fn join(self) -> io::Result<RelayReport> {
        self.0.join().expect("relay thread panicked")
    }
}

/// One direction of a connection through the relay: the end to write into, the end to read
/// from, and the relay thread re-cutting what passes between two connections of `transport`.
/// With `quiet`, held bytes go out once the writer has been quiet that long (sockets only):
/// two such links make a duplex link for a request/response protocol. Without it, a piece is
/// held until it is whole or the stream ends: exact cuts for a one-way stream.
///
/// ```
/// use std::io::{Read, Write};
/// use lenframe_testkit::relay::{relayed, Cuts, Stop};
/// use lenframe_testkit::sockets::Transport;
///
/// let (mut w, mut r, relay) = relayed(Transport::Unix, &Cuts::new(vec![1]), Some(Stop::Reset(3)), None);
/// w.write_all(b"abcdef")?;
/// drop(w);
/// let mut got = [0; 3];
/// r.read_exact(&mut got)?;
/// assert_eq!(&got, b"abc");
/// assert_eq!(r.read(&mut got).unwrap_err().kind(), std::io::ErrorKind::ConnectionReset);
/// assert_eq!(relay.join()?.forwarded, 3);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Panics
///
/// If `quiet` is given for a pipe, which has no read timeout.
pub fn relayed(
    transport: Transport,
    cuts: &Cuts,
    stop: Option<Stop>,
    quiet: Option<Duration>,
) -> (WriteEnd, ReadEnd, RelayHandle) {
    let (w1, r1) = pair(transport);
    if quiet.is_some() {
        r1.set_read_timeout(quiet)
            .expect("a read timeout on the relay's input");
    }
    let (w2, r2) = pair(transport);
    let cuts = cuts.clone();
    let relay = thread::spawn(move || relay(r1, w2, &cuts, stop));
    (w1, r2, RelayHandle(relay))
}

/// Runs `write` on a thread writing into `transport`, a relay thread re-cutting the stream
/// into a second connection of the same transport, and `read` on the calling thread reading
/// from it. `read` runs to its end, its stream is closed, then both threads are joined: a
/// failing assertion can only come after every thread has finished.
///
/// See the [module example](self).
///
/// # Panics
///
/// If the writer or the relay thread panicked.
pub fn through_relay<T, U>(
    transport: Transport,
    cuts: &Cuts,
    stop: Option<Stop>,
    write: impl FnOnce(Box<dyn Write + Send>) -> T + Send + 'static,
    read: impl FnOnce(Box<dyn Read + Send>) -> U,
) -> (T, io::Result<RelayReport>, U)
where
    T: Send + 'static,
{
    let (w, r, relay) = relayed(transport, cuts, stop, None);
    let writer = thread::spawn(move || write(Box::new(w)));
    let got = read(Box::new(r));
    let report = relay.join();
    let wrote = writer.join().expect("writer thread panicked");
    (wrote, report, got)
}

/// A `Read` that counts the bytes it hands out.
///
/// ```
/// use std::io::Read;
/// use lenframe_testkit::relay::Counting;
/// let mut r = Counting::new(&b"abc"[..]);
/// r.read_to_end(&mut Vec::new())?;
/// assert_eq!(r.count, 3);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Counting<R> {
    inner: R,
    /// Bytes read so far.
    pub count: u64,
}

impl<R> Counting<R> {
    /// Wraps `inner`.
    ///
    /// ```
    /// assert_eq!(lenframe_testkit::relay::Counting::new(std::io::empty()).count, 0);
    /// ```
    pub fn new(inner: R) -> Self {
        Counting { inner, count: 0 }
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}
