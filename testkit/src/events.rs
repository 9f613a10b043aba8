//! What a reader reports, call after call, as values a test can compare: [`Event`], and
//! [`read_events`], which reads to the end while checking the reader's memory bound after
//! every call. [`crate::strategies::expected_events`] says what the events must be.

use std::io::Read;

use lenframe::{FrameConfig, FrameError, FrameReader, Oversize};

use crate::reference::trailer_len;
use crate::relay::Counting;

/// One outcome of `FrameReader::read_frame`, in a form tests can compare.
///
/// ```
/// use lenframe::FrameError;
/// use lenframe_testkit::events::Event;
/// assert_eq!(Event::of(Ok(Some(&b"x"[..]))), Event::Frame(b"x".to_vec()));
/// assert_eq!(
///     Event::of(Err(FrameError::Truncated { expected: 4, received: 1 })),
///     Event::Truncated { expected: 4, received: 1 },
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `Ok(Some(frame))`.
    Frame(Vec<u8>),
    /// `Ok(None)`.
    End,
    /// `Err(TooLarge { len, max })`.
    TooLarge {
        /// The declared payload length.
        len: u64,
        /// The limit.
        max: usize,
    },
    /// `Err(Truncated { expected, received })`.
    Truncated {
        /// The bytes the frame needed.
        expected: u64,
        /// The bytes of it that arrived.
        received: u64,
    },
    /// Any other error, by its debug form.
    Other(String),
}

impl Event {
    /// The event for one `read_frame` result.
    ///
    /// ```
    /// use lenframe_testkit::events::Event;
    /// assert_eq!(Event::of(Ok(None)), Event::End);
    /// ```
    pub fn of(result: Result<Option<&[u8]>, FrameError>) -> Event {
        match result {
            Ok(Some(frame)) => Event::Frame(frame.to_vec()),
            Ok(None) => Event::End,
            Err(FrameError::TooLarge { len, max }) => Event::TooLarge { len, max },
            Err(FrameError::Truncated { expected, received }) => {
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
///
/// ```
/// use lenframe::FrameConfig;
/// use lenframe_testkit::events::{Event, EventLog};
/// let mut log = EventLog::new(&FrameConfig::default());
/// assert!(!log.record(Event::Frame(vec![1]), 0, 16, 5));
/// assert!(log.record(Event::End, 0, 16, 5)); // stop at the end
/// assert!(log.over_bound(1 << 20, 16, 5)); // a megabyte held for 5 bytes received
/// ```
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
    ///
    /// ```
    /// let log = lenframe_testkit::events::EventLog::new(&lenframe::FrameConfig::default());
    /// assert!(log.events.is_empty());
    /// ```
    pub fn new(cfg: &FrameConfig) -> Self {
        EventLog {
            skip: cfg.get_oversize() == Oversize::Skip,
            frame_cap: (cfg.max_header_len() + cfg.get_max_frame_len() + trailer_len(cfg)) as u64,
            repeats: 0,
            events: Vec::new(),
        }
    }

    /// Records one call's `event`, made when the reader had received `received` bytes and
    /// held `capacity` bytes with capacity step `step`. Returns whether to stop reading.
    ///
    /// ```
    /// use lenframe_testkit::events::{Event, EventLog};
    /// let mut log = EventLog::new(&lenframe::FrameConfig::default());
    /// let big = Event::TooLarge { len: 1 << 30, max: 8 << 20 };
    /// assert!(!log.record(big.clone(), 64, 64, 4));
    /// assert!(!log.record(big.clone(), 64, 64, 4));
    /// assert!(log.record(big, 64, 64, 4)); // the third time: it sticks, stop
    /// ```
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
    ///
    /// ```
    /// let mut log = lenframe_testkit::events::EventLog::new(&lenframe::FrameConfig::default());
    /// assert!(!log.over_bound(100, 64, 18)); // 2 × 18 + 64
    /// assert!(log.over_bound(101, 64, 18));
    /// ```
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
///
/// ```
/// use lenframe::FrameReader;
/// use lenframe_testkit::events::{read_events, Event};
/// use lenframe_testkit::reference::reference_encode;
/// use lenframe_testkit::relay::Counting;
///
/// let mut wire = reference_encode(&[b"ok"]);
/// wire.extend_from_slice(b"\0\0\0\x09cut"); // 9 bytes declared, 3 sent
/// let mut reader = FrameReader::new(Counting::new(&wire[..]));
/// assert_eq!(
///     read_events(&mut reader, 10),
///     [Event::Frame(b"ok".to_vec()), Event::Truncated { expected: 13, received: 7 }],
/// );
/// ```
pub fn read_events<R: Read>(reader: &mut FrameReader<Counting<R>>, max_calls: usize) -> Vec<Event> {
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
