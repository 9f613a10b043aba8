//! A relay between a writer and a reader over real transports that re-cuts the byte stream:
//! it forwards exactly the piece sizes it is given (one byte at a time, cuts through headers
//! and payloads, many frames in one write), can end the stream early at any byte offset,
//! and ends when its input ends.

use std::io::{self, Read, Write};
use std::thread;

use super::strategies::{trailer_len, Cuts};
use super::{pair, Transport};

/// What the relay saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayReport {
    /// Bytes read from the writer's side, up to the end of its stream.
    pub received: u64,
    /// Bytes forwarded to the reader's side.
    pub forwarded: u64,
    /// Write calls made on the reader's side (one per piece).
    pub pieces: u64,
}

/// Forwards `input` to `output` in the pieces `cuts` prescribes, each piece one `write_all`
/// call. With `limit`, only the first `limit` bytes are forwarded and `output` is closed
/// there; the rest of `input` is read and dropped, so the writer never blocks. Returns when
/// `input` ends; `output` is closed by then.
pub fn relay(
    mut input: impl Read,
    output: impl Write,
    cuts: &Cuts,
    limit: Option<u64>,
) -> io::Result<RelayReport> {
    let mut output = Some(output);
    let mut report = RelayReport {
        received: 0,
        forwarded: 0,
        pieces: 0,
    };
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match input.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            break;
        }
        report.received += n as u64;
        if output.is_none() {
            continue; // past the limit: drain
        }
        let room = limit.map_or(u64::MAX, |l| l - report.forwarded - pending.len() as u64);
        let take = (n as u64).min(room) as usize;
        pending.extend_from_slice(&buf[..take]);
        let out = output.as_mut().unwrap();
        let cut_here = limit == Some(report.forwarded + pending.len() as u64);
        send_pieces(out, &mut pending, cuts, &mut report, cut_here)?;
        if cut_here {
            output = None; // closes the reader's side at the limit
        }
    }
    if let Some(out) = output.as_mut() {
        send_pieces(out, &mut pending, cuts, &mut report, true)?;
    }
    Ok(report)
}

/// The size of piece number `index` when `left` bytes wait to be forwarded: `None` when
/// nothing is to be sent now (nothing left, or less than a whole piece unless `all`).
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

/// Runs `write` on a thread writing into `transport`, a relay thread re-cutting the stream
/// into a second connection of the same transport, and `read` on the calling thread reading
/// from it. `read` runs to its end, its stream is closed, then both threads are joined: a
/// failing assertion can only come after every thread has finished.
pub fn through_relay<T, U>(
    transport: Transport,
    cuts: &Cuts,
    limit: Option<u64>,
    write: impl FnOnce(Box<dyn Write + Send>) -> T + Send + 'static,
    read: impl FnOnce(Box<dyn Read + Send>) -> U,
) -> (T, io::Result<RelayReport>, U)
where
    T: Send + 'static,
{
    let (w1, r1) = pair(transport);
    let (w2, r2) = pair(transport);
    let writer = thread::spawn(move || write(w1));
    let relay_cuts = cuts.clone();
    let relay = thread::spawn(move || relay(r1, w2, &relay_cuts, limit));
    let got = read(r2);
    let report = relay.join().expect("relay thread panicked");
    let wrote = writer.join().expect("writer thread panicked");
    (wrote, report, got)
}

/// A `Read` that counts the bytes it hands out.
#[derive(Debug)]
pub struct Counting<R> {
    inner: R,
    /// Bytes read so far.
    pub count: u64,
}

impl<R> Counting<R> {
    /// Wraps `inner`.
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

/// One outcome of `FrameReader::read_frame`, in a form tests can compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `Ok(Some(frame))`.
    Frame(Vec<u8>),
    /// `Ok(None)`.
    End,
    /// `Err(TooLarge { len, max })`.
    TooLarge { len: u64, max: usize },
    /// `Err(Truncated { expected, received })`.
    Truncated { expected: u64, received: u64 },
    /// Any other error, by its debug form.
    Other(String),
}

impl Event {
    /// The event for one `read_frame` result.
    pub fn of(result: Result<Option<&[u8]>, lenframe::FrameError>) -> Event {
        match result {
            Ok(Some(frame)) => Event::Frame(frame.to_vec()),
            Ok(None) => Event::End,
            Err(lenframe::FrameError::TooLarge { len, max }) => Event::TooLarge { len, max },
            Err(lenframe::FrameError::Truncated { expected, received }) => {
                Event::Truncated { expected, received }
            }
            Err(e) => Event::Other(format!("{e:?}")),
        }
    }
}

/// Checks `read_frame` outcomes one by one, for the blocking and the async readers alike:
/// keeps the events, checks the reader's capacity after every call against the memory bound
/// `min(2 × bytes received, max_header_len + max_frame_len) + capacity_step` (the first
/// violation is kept as an `Other` event), and says when to stop: at the end, at an error
/// other than `TooLarge`, or at the third `TooLarge` under `Oversize::Error`.
#[derive(Debug)]
pub struct EventLog {
    skip: bool,
    frame_cap: u64,
    repeats: usize,
    /// The events so far.
    pub events: Vec<Event>,
}

impl EventLog {
    /// A log for a reader of `cfg`.
    pub fn new(cfg: &lenframe::FrameConfig) -> Self {
        EventLog {
            skip: cfg.get_oversize() == lenframe::Oversize::Skip,
            frame_cap: (cfg.max_header_len() + cfg.get_max_frame_len() + trailer_len(cfg)) as u64,
            repeats: 0,
            events: Vec::new(),
        }
    }

    /// Records one call's `event`, made when the reader had received `received` bytes and
    /// held `capacity` bytes with capacity step `step`. Returns whether to stop reading.
    pub fn record(&mut self, event: Event, capacity: usize, step: usize, received: u64) -> bool {
        if self.over_bound(capacity, step, received) {
            return true;
        }
        let (stop, repeat) = match &event {
            Event::Frame(_) => (false, false),
            Event::TooLarge { .. } => (false, !self.skip),
            _ => (true, false),
        };
        self.events.push(event);
        if repeat {
            self.repeats += 1;
        }
        stop || self.repeats == 3
    }

    /// Checks the memory bound alone (after a call that returned nothing, such as a
    /// cancelled one); a violation is kept as an `Other` event and `true` returned.
    pub fn over_bound(&mut self, capacity: usize, step: usize, received: u64) -> bool {
        let bound = (2 * received).min(self.frame_cap) + step as u64;
        if capacity as u64 > bound {
            self.events.push(Event::Other(format!(
                "capacity {capacity} over the bound {bound} after {received} bytes"
            )));
            return true;
        }
        false
    }
}

/// Reads frames until the end, an error other than `TooLarge`, or `max_calls` calls; a
/// `TooLarge` under `Oversize::Error` is asked for twice more, to see it repeated. After
/// every call the reader's capacity is checked against the memory bound (see [`EventLog`]);
/// the first violation is returned as an `Other` event.
pub fn read_events<R: Read>(
    reader: &mut lenframe::FrameReader<Counting<R>>,
    max_calls: usize,
) -> Vec<Event> {
    let mut log = EventLog::new(reader.config());
    for _ in 0..max_calls {
        let event = Event::of(reader.read_frame());
        let received = reader.get_ref().count;
        if log.record(event, reader.capacity(), reader.capacity_step(), received) {
            break;
        }
    }
    log.events
}
