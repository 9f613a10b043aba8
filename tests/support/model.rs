//! Shared pieces of the model-based tests (`model_blocking.rs`, `model_tokio.rs`): frame
//! payloads both sides can recompute, a plain frame parser for the peer, and the memory
//! bounds a reader and a writer are held to after every step, and the model of the stream
//! the peer sends.

use proptest::prelude::*;

/// Frames the application writes.
pub const APP: usize = 0xA5;
/// Frames the peer writes.
pub const PEER: usize = 0x5A;

/// The reader's first buffer and growth step in the models.
pub const STEP: usize = 4096;
/// What the reader's buffer shrinks back to: two steps.
pub const KEEP: usize = 2 * STEP;
/// The writer's capacity in the models: frames larger go out with vectored writes.
pub const WCAP: usize = 4096;
/// What the writer's buffer shrinks back to: two capacities.
pub const WKEEP: usize = 2 * WCAP;

/// The payload of frame `index` from one side (`seed`).
pub fn payload(seed: usize, index: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|j| (j.wrapping_mul(31) ^ index.wrapping_mul(131) ^ seed) as u8)
        .collect()
}

/// The default layout written plainly: a `u32` big-endian length, then the payload.
pub fn wire(payload: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(payload.len()).unwrap().to_be_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

/// How a reader lent the stream gives it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    IntoParts,
    IntoInner,
    Drop,
}

/// The peer's side of the application's frames, parsed plainly from the bytes it reads.
#[derive(Debug, Default)]
pub struct PeerFrames {
    buf: Vec<u8>,
    start: usize,
}

impl PeerFrames {
    /// Takes bytes the peer read; returns the frames they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        self.buf.extend_from_slice(bytes);
        let mut frames = Vec::new();
        while self.buf.len() - self.start >= 4 {
            let at = self.start;
            let len = u32::from_be_bytes(self.buf[at..at + 4].try_into().unwrap()) as usize;
            if self.buf.len() - at < 4 + len {
                break;
            }
            frames.push(self.buf[at + 4..at + 4 + len].to_vec());
            self.start += 4 + len;
        }
        if self.start == self.buf.len() || self.start > 1 << 20 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        frames
    }

    /// Whether the bytes so far end at a frame boundary.
    pub fn at_boundary(&self) -> bool {
        self.start == self.buf.len()
    }
}

/// The largest frame (header included) any byte of which lies in `stream[..sent]`.
fn largest_sent(stream: &[u8], sent: usize) -> usize {
    let (mut at, mut largest) = (0, 0);
    while at < sent {
        let len = u32::from_be_bytes(stream[at..at + 4].try_into().unwrap()) as usize;
        largest = largest.max(4 + len);
        at += 4 + len;
    }
    largest
}

/// What one framed reader received and delivered, for its memory bound.
#[derive(Debug, Default)]
pub struct ReaderMemory {
    /// The largest frame (header included) any byte of which it may have received.
    largest: usize,
    /// Frames larger than `KEEP` delivered, and frames delivered since the last one.
    large: usize,
    since_large: usize,
}

impl ReaderMemory {
    /// After a read: `largest` is the largest frame the peer has begun to send.
    /// The capacity stays within twice the largest frame received plus one step.
    pub fn after_read(&mut self, largest: usize, capacity: usize) {
        self.largest = self.largest.max(largest);
        assert!(
            capacity <= (2 * self.largest + STEP).max(KEEP),
            "reader holds {capacity} bytes, largest frame {}",
            self.largest
        );
    }

    /// After a read delivered a frame of `len` bytes, with `buffered_before` bytes buffered
    /// when it was asked for: memory was due back if no frame grew the buffer past `KEEP`,
    /// or the first that did was delivered before, or the last did 64 frames ago (the most
    /// the hysteresis holds).
    pub fn delivered(&mut self, len: usize, buffered_before: usize, capacity: usize) {
        let due =
            self.large == 0 || (self.large == 1 && self.since_large >= 1) || self.since_large >= 64;
        if 4 + len <= KEEP && buffered_before <= STEP && due {
            assert!(capacity <= KEEP, "reader kept {capacity} bytes");
        }
        if 4 + len > KEEP {
            self.large += 1;
            self.since_large = 0;
        } else {
            self.since_large += 1;
        }
    }
}

/// What one writer accepted, for its memory bound.
#[derive(Debug, Default)]
pub struct WriterMemory {
    /// Bytes (headers included) accepted since its buffer was last empty.
    since_empty: usize,
    /// Times its buffer grew past `WKEEP`, and whether it is past it now.
    crossings: usize,
    over: bool,
    /// Frames accepted when it last grew past `WKEEP`.
    crossed_at: u64,
    /// The capacity it kept when it last emptied, if it did not shrink then (hysteresis).
    held: usize,
}

/// A writer as seen between two calls.
#[derive(Debug, Clone, Copy)]
pub struct WriterView {
    pub pending: usize,
    pub capacity: usize,
    pub frames: u64,
}

impl WriterMemory {
    /// After a call that took the writer from `before` to `after`, having accepted `wire`
    /// bytes: the buffer holds at most two capacities plus what it accepted since it was
    /// last empty, or what it kept when it last emptied; it gives memory back when it
    /// empties after its first large rest, or 64 frames after the last.
    pub fn after(&mut self, before: WriterView, after: WriterView, wire: usize) {
        self.since_empty += wire;
        let cap = after.capacity;
        assert!(
            cap <= self.held.max(WKEEP + self.since_empty),
            "writer holds {cap} bytes, {} accepted since it was last empty, {} kept then",
            self.since_empty,
            self.held
        );
        if before.pending > 0
            && after.pending == 0
            && self.over
            && (self.crossings == 1 || before.frames >= self.crossed_at + 64)
        {
            assert!(
                cap <= WKEEP,
                "writer kept {cap} bytes after its rest went out"
            );
        }
        if after.pending == 0 {
            self.since_empty = 0;
            self.held = if cap > WKEEP { cap } else { 0 };
        }
        let over = cap > WKEEP;
        if over && !self.over {
            self.crossings += 1;
            self.crossed_at = after.frames;
        }
        self.over = over;
    }
}

/// The peer's side of the stream to the application, in the reference model: the frames it
/// queued, how much of them it sent, and how much the application took.
#[derive(Debug, Clone, Default)]
pub struct PeerModel {
    /// Lengths of the frames the peer queued.
    pub lens: Vec<usize>,
    /// Stream bytes the peer queued and sent.
    pub queued: usize,
    pub sent: usize,
    /// Frames the application took, and their bytes.
    pub taken: usize,
    pub pos: usize,
}

impl PeerModel {
    /// Whether the next `n` frames were sent whole.
    pub fn whole(&self, n: usize) -> bool {
        let lens = &self.lens[self.taken.min(self.lens.len())..];
        lens.len() >= n && self.pos + lens[..n].iter().map(|l| l + 4).sum::<usize>() <= self.sent
    }

    /// The next frame: its index and length.
    pub fn next(&self) -> (usize, usize) {
        (self.taken, self.lens[self.taken])
    }

    /// Bytes of frames not taken that were sent: part of the next frame, if it is not whole.
    pub fn partial(&self) -> usize {
        self.sent - self.pos
    }

    /// The counts of a `TimedOut` or `Truncated` for the next frame cut where the peer
    /// stopped: the whole frame, or the header's 4 bytes while it is incomplete.
    pub fn cut(&self) -> (u64, u64) {
        let partial = self.partial();
        let wire = self.lens[self.taken] + 4;
        let expected = if partial >= 4 { wire } else { 4 };
        (expected as u64, partial as u64)
    }

    pub fn take(&mut self, n: usize) {
        for _ in 0..n {
            self.pos += self.lens[self.taken] + 4;
            self.taken += 1;
        }
    }

    /// Whether the peer may queue frames of `lens` and hold back `hold` bytes of the last,
    /// leaving at most `max_unread` bytes the application has not taken.
    pub fn can_send(&self, lens: &[usize], hold: usize, max_unread: usize) -> bool {
        let added: usize = lens.iter().map(|l| l + 4).sum();
        hold < lens[lens.len() - 1] + 4 && self.queued + added - self.pos <= max_unread
    }

    pub fn send(&mut self, lens: &[usize], hold: usize) {
        self.lens.extend_from_slice(lens);
        self.queued += lens.iter().map(|l| l + 4).sum::<usize>();
        self.sent = self.queued - hold;
    }

    /// Appends the bytes of the last `lens.len()` frames queued to `stream`.
    pub fn queue_bytes(&self, stream: &mut Vec<u8>, lens: &[usize]) {
        let first = self.lens.len() - lens.len();
        for (k, &len) in lens.iter().enumerate() {
            stream.extend(wire(&payload(PEER, first + k, len)));
        }
        assert_eq!(stream.len(), self.queued);
    }
}

/// Frames the peer sends (1 to 3 of up to 20,000 bytes), and how many bytes of the last it
/// holds back (none two times in three).
pub fn peer_sends() -> impl Strategy<Value = (Vec<usize>, usize)> {
    let len = prop_oneof![4 => 0..64usize, 2 => 64..STEP, 2 => STEP..20_000usize];
    proptest::collection::vec(len, 1..4).prop_flat_map(|lens| {
        let last = lens[lens.len() - 1] + 4;
        (Just(lens), prop_oneof![2 => Just(0), 1 => 1..last])
    })
}

/// What the system under test did with both streams, checked as it goes: the frames the
/// writer accepted and how many of them the peer received, the bytes the peer queued and
/// sent, and the frames the application took.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Indexes and lengths of the frames the writer accepted, in order.
    pub accepted: Vec<(usize, usize)>,
    /// How many of them the peer received, each checked.
    pub peer_got: usize,
    /// Every byte the peer queued, and how many it sent.
    pub peer_stream: Vec<u8>,
    pub peer_sent: usize,
    /// Frames the application took from the peer's stream, and their bytes.
    pub taken: usize,
    pub pos: usize,
}

impl Ledger {
    /// The peer received `frame`: it must be the next accepted one.
    pub fn peer_received(&mut self, frame: &[u8]) {
        let n = self.peer_got;
        let &(index, len) = self
            .accepted
            .get(n)
            .unwrap_or_else(|| panic!("the peer received frame {n} never accepted"));
        assert!(frame == payload(APP, index, len), "peer frame {n} differs");
        self.peer_got += 1;
    }

    /// The peer queues the last frames of `peer` (of `lens`) and sends up to where the
    /// model says: returns the bytes to send now.
    pub fn peer_sends(&mut self, peer: &PeerModel, lens: &[usize]) -> &[u8] {
        peer.queue_bytes(&mut self.peer_stream, lens);
        let from = std::mem::replace(&mut self.peer_sent, peer.sent);
        &self.peer_stream[from..peer.sent]
    }

    /// The application took the next frame, of `len` bytes: its payload.
    pub fn took(&mut self, len: usize) -> Vec<u8> {
        let frame = payload(PEER, self.taken, len);
        self.pos += 4 + len;
        self.taken += 1;
        frame
    }

    /// Bytes a reader handed over, before what the stream still holds, must be exactly the
    /// rest of the peer's stream.
    pub fn check_handed_over<'a>(&self, bytes: impl ExactSizeIterator<Item = &'a u8>) {
        let n = bytes.len();
        assert!(
            self.pos + n <= self.peer_sent,
            "more bytes than the peer sent"
        );
        assert!(
            bytes.eq(self.peer_stream[self.pos..self.pos + n].iter()),
            "handed-over bytes are not the rest of the stream"
        );
    }

    /// The largest frame (header included) any byte of which the peer sent.
    pub fn largest_sent(&self) -> usize {
        largest_sent(&self.peer_stream, self.peer_sent)
    }
}
