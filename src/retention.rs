//! `Retention`: how much of a grown buffer is kept once the large frame that grew it is
//! gone, and when the rest is given back. Shared by the read and write sides.

/// After a shrink, the buffer must stay within the retained size for at most this many
/// frames before another shrink, however often large frames come back.
const MAX_SHRINK_HOLD: u64 = 64;

/// The retained size of a buffer and the hysteresis of its shrinking, counted in frames.
///
/// A buffer larger than the retained size shrinks back to it once `hold` frames have passed
/// since it grew past it. If large frames return soon after a shrink, `hold` doubles (up to
/// [`MAX_SHRINK_HOLD`]), and it halves when they stay away: a stream that alternates large
/// and small frames does not reallocate on every frame.
#[derive(Debug, Clone)]
pub(crate) struct Retention {
    /// The size to shrink back to; `usize::MAX` never shrinks.
    keep: usize,
    hold: u64,
    grown_at: u64,
    shrunk_at: Option<u64>,
}

impl Retention {
    pub(crate) fn new(keep: Option<usize>) -> Self {
        Retention {
            keep: keep.unwrap_or(usize::MAX),
            hold: 1,
            grown_at: 0,
            shrunk_at: None,
        }
    }

    /// The retained size, `usize::MAX` for none: a buffer no larger never shrinks.
    #[inline]
    pub(crate) fn limit(&self) -> usize {
        self.keep
    }

    pub(crate) fn keep(&self) -> Option<usize> {
        (self.keep != usize::MAX).then_some(self.keep)
    }

    pub(crate) fn set_keep(&mut self, keep: Option<usize>) {
        self.keep = keep.unwrap_or(usize::MAX);
    }

    /// The buffer grows from `len` to `new_len` bytes after `frames` frames.
    pub(crate) fn grow(&mut self, len: usize, new_len: usize, frames: u64) {
        if new_len > self.keep && len <= self.keep {
            if self.shrunk_at.is_some_and(|at| frames < at + 2 * self.hold) {
                // Large frames came back soon after a shrink: wait longer next time.
                self.hold = (self.hold * 2).min(MAX_SHRINK_HOLD);
            }
            self.grown_at = frames;
        }
    }

    /// Whether a buffer of `len` bytes is due to shrink after `frames` frames.
    #[inline]
    pub(crate) fn due(&self, len: usize, frames: u64) -> bool {
        len > self.keep && frames >= self.grown_at + self.hold
    }

    /// The buffer shrank back to the retained size after `frames` frames.
    pub(crate) fn shrunk(&mut self, frames: u64) {
        if frames >= self.grown_at + 2 * self.hold {
            // Large frames stayed away for long: shrink sooner next time.
            self.hold = (self.hold / 2).max(1);
        }
        self.shrunk_at = Some(frames);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hold_doubles_when_large_frames_return_and_halves_when_they_stay_away() {
        let mut r = Retention::new(Some(100));
        assert_eq!((r.keep(), r.limit()), (Some(100), 100));
        r.grow(0, 200, 0);
        assert!(!r.due(100, 5)); // not larger than the retained size
        assert!(r.due(200, 1));
        r.shrunk(1);
        r.grow(100, 200, 2); // back within 2 * hold frames
        assert_eq!(r.hold, 2);
        assert!(!r.due(200, 3));
        assert!(r.due(200, 4));
        r.shrunk(10); // 10 >= 2 + 2 * 2
        assert_eq!(r.hold, 1);
        for k in 0..10 {
            r.grow(100, 200, 11 + k);
            r.shrunk(11 + k);
        }
        assert_eq!(r.hold, MAX_SHRINK_HOLD);
        // Growth that stays within the retained size, or starts above it, is no return of
        // large frames.
        let (hold, grown_at) = (r.hold, r.grown_at);
        r.shrunk(30);
        r.grow(10, 100, 31);
        r.grow(200, 400, 31);
        assert_eq!((r.hold, r.grown_at), (hold, grown_at));
        r.set_keep(None);
        assert_eq!((r.keep(), r.limit()), (None, usize::MAX));
        assert!(!r.due(usize::MAX, u64::MAX / 2));
    }

    #[test]
    fn every_bound_is_exact() {
        let mut r = Retention::new(Some(100));
        r.grow(50, 100, 3); // reaching the retained size is no growth past it
        assert_eq!(r.grown_at, 0);
        r.grow(100, 101, 5);
        assert_eq!(r.grown_at, 5);
        assert!(!r.due(101, 5)); // grown at 5, hold 1
        assert!(r.due(101, 6));
        // Large frames back within 2 * hold frames of a shrink double the hold...
        r.shrunk(6);
        r.grow(100, 200, 7);
        assert_eq!((r.hold, r.grown_at), (2, 7));
        assert!(!r.due(200, 8) && r.due(200, 9));
        r.shrunk(9);
        r.grow(100, 200, 12); // 9 + 2 * 2 = 13: still soon
        assert_eq!(r.hold, 4);
        r.shrunk(16);
        // ...and not at exactly 2 * hold frames after it.
        r.grow(100, 200, 24);
        assert_eq!((r.hold, r.grown_at), (4, 24));
        // A shrink 2 * hold frames or more after the growth halves the hold.
        r.shrunk(31); // 24 + 8 = 32: not yet
        assert_eq!(r.hold, 4);
        r.grow(100, 200, 40);
        r.shrunk(48);
        assert_eq!(r.hold, 2);
    }
}
