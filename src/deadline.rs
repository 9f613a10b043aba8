//! `FrameDeadline`: how long a frame may take from its first byte to its last, fixed or
//! earned by progress at a minimum rate.

use core::fmt;
use core::time::Duration;
#[cfg(feature = "std")]
use std::time::Instant;

/// How long a frame may take to arrive, counted from its first byte to its last.
///
/// - [`fixed`](Self::fixed): every frame gets the same time, whatever its size.
/// - [`with_rate`](Self::with_rate): a frame gets an initial time, plus one second for every
///   `min_rate` bytes that arrive, up to a cap on the whole frame (ntex's
///   `set_frame_read_rate`, Apache's `mod_reqtimeout` `MinRate`). A slow but steady peer can
///   send a large frame; a peer that trickles, or that sends fast and then stalls, is cut off
///   when the time it earned runs out.
///
/// Time between frames is never counted: a quiet connection is not cut off.
///
/// # Examples
///
/// ```
/// use core::time::Duration;
/// use lenframe::FrameDeadline;
///
/// // One second to start, one more per MB received, never more than 30 s in all.
/// let d = FrameDeadline::with_rate(Duration::from_secs(1), 1_000_000, Duration::from_secs(30));
/// assert_eq!(d.allowed(0), Duration::from_secs(1));
/// assert_eq!(d.allowed(500_000), Duration::from_millis(1500));
/// assert_eq!(d.allowed(2_000_000), Duration::from_secs(3));
/// assert_eq!(d.allowed(u64::MAX), Duration::from_secs(30));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameDeadline {
    initial: Duration,
    min_rate: u64,
    cap: Duration,
}

impl FrameDeadline {
    /// The same time for every frame: what [`FrameReader::set_frame_timeout`] sets.
    ///
    /// [`FrameReader::set_frame_timeout`]: crate::FrameReader::set_frame_timeout
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use lenframe::FrameDeadline;
    ///
    /// let d = FrameDeadline::fixed(Duration::from_millis(500));
    /// assert_eq!(d.allowed(0), d.allowed(1 << 20));
    /// ```
    pub fn fixed(limit: Duration) -> Self {
        FrameDeadline {
            initial: limit,
            min_rate: 0,
            cap: limit,
        }
    }

    /// `initial` time for a frame, one more second per `min_rate` bytes received (bytes per
    /// second), and never more than `cap` in all. A `cap` below `initial` is raised to it; a
    /// `min_rate` of zero earns nothing, as [`fixed`](Self::fixed).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use lenframe::FrameDeadline;
    ///
    /// let d = FrameDeadline::with_rate(Duration::from_secs(1), 500, Duration::from_secs(10));
    /// assert_eq!(d.allowed(250), Duration::from_millis(1500));
    /// ```
    pub fn with_rate(initial: Duration, min_rate: u64, cap: Duration) -> Self {
        FrameDeadline {
            initial,
            min_rate,
            cap: cap.max(initial),
        }
    }

    /// The time a frame starts with.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use lenframe::FrameDeadline;
    ///
    /// let d = FrameDeadline::fixed(Duration::from_secs(2));
    /// assert_eq!(d.initial(), Duration::from_secs(2));
    /// ```
    pub fn initial(&self) -> Duration {
        self.initial
    }

    /// The bytes per second that earn one more second; zero when the deadline is fixed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use lenframe::FrameDeadline;
    ///
    /// let d = FrameDeadline::with_rate(Duration::ZERO, 4096, Duration::from_secs(9));
    /// assert_eq!(d.min_rate(), 4096);
    /// ```
    pub fn min_rate(&self) -> u64 {
        self.min_rate
    }

    /// The most time any frame gets.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use lenframe::FrameDeadline;
    ///
    /// let d = FrameDeadline::with_rate(Duration::from_secs(5), 1, Duration::from_secs(1));
    /// assert_eq!(d.cap(), Duration::from_secs(5)); // never below the initial time
    /// ```
    pub fn cap(&self) -> Duration {
        self.cap
    }

    /// The time a frame has once `received` of its bytes have arrived.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use lenframe::FrameDeadline;
    ///
    /// let d = FrameDeadline::with_rate(Duration::ZERO, 1000, Duration::from_secs(60));
    /// assert_eq!(d.allowed(1), Duration::from_millis(1));
    /// ```
    pub fn allowed(&self, received: u64) -> Duration {
        if self.min_rate == 0 {
            return self.initial;
        }
        let earned_nanos = u128::from(received) * 1_000_000_000 / u128::from(self.min_rate);
        let earned = Duration::from_nanos(u64::try_from(earned_nanos).unwrap_or(u64::MAX));
        self.initial.saturating_add(earned).min(self.cap)
    }

    /// When a frame whose first byte arrived at `started` times out, once `received` of its
    /// bytes have arrived.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use lenframe::FrameDeadline;
    ///
    /// let start = Instant::now();
    /// let d = FrameDeadline::fixed(Duration::from_secs(1));
    /// assert_eq!(d.deadline(start, 99), start + Duration::from_secs(1));
    /// ```
    #[cfg(feature = "std")]
    pub fn deadline(&self, started: Instant, received: u64) -> Instant {
        // An `Instant` that cannot be represented is as good as never.
        started
            .checked_add(self.allowed(received))
            .unwrap_or_else(|| started + Duration::from_secs(86_400 * 365 * 100))
    }

    /// Which bound a frame that ran out of time with `received` bytes hit.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use lenframe::{FrameDeadline, TimeLimit};
    ///
    /// let d = FrameDeadline::with_rate(Duration::from_secs(1), 1000, Duration::from_secs(3));
    /// assert_eq!(d.limit_hit(10), TimeLimit::MinRate { bytes_per_sec: 1000 });
    /// assert_eq!(d.limit_hit(5000), TimeLimit::Cap(Duration::from_secs(3)));
    /// let f = FrameDeadline::fixed(Duration::from_secs(1));
    /// assert_eq!(f.limit_hit(10), TimeLimit::Fixed(Duration::from_secs(1)));
    /// ```
    pub fn limit_hit(&self, received: u64) -> TimeLimit {
        if self.min_rate == 0 || self.cap == self.initial {
            TimeLimit::Fixed(self.initial)
        } else if self.allowed(received) >= self.cap {
            TimeLimit::Cap(self.cap)
        } else {
            TimeLimit::MinRate {
                bytes_per_sec: self.min_rate,
            }
        }
    }
}

/// The bound a frame hit when it ran out of time, in [`FrameError::TimedOut`].
///
/// [`FrameError::TimedOut`]: crate::FrameError::TimedOut
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use lenframe::TimeLimit;
///
/// assert_eq!(TimeLimit::Fixed(Duration::from_millis(500)).to_string(), "the 500ms frame timeout");
/// assert_eq!(
///     TimeLimit::MinRate { bytes_per_sec: 1000 }.to_string(),
///     "the minimum rate of 1000 bytes/s"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeLimit {
    /// A fixed time per frame ([`FrameDeadline::fixed`]) ran out.
    Fixed(Duration),
    /// The bytes arrived slower than this rate, and the time they earned ran out.
    MinRate {
        /// The rate that was needed.
        bytes_per_sec: u64,
    },
    /// The cap on the whole frame ([`FrameDeadline::cap`]) ran out, however fast its bytes
    /// came.
    Cap(Duration),
}

impl fmt::Display for TimeLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeLimit::Fixed(d) => write!(f, "the {d:?} frame timeout"),
            TimeLimit::MinRate { bytes_per_sec } => {
                write!(f, "the minimum rate of {bytes_per_sec} bytes/s")
            }
            TimeLimit::Cap(d) => write!(f, "the {d:?} cap on a whole frame"),
        }
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    #[test]
    fn rate_earns_time_up_to_the_cap() {
        let d =
            FrameDeadline::with_rate(Duration::from_secs(1), 1_000_000, Duration::from_secs(30));
        assert_eq!(d.allowed(0), Duration::from_secs(1));
        assert_eq!(d.allowed(1), Duration::from_nanos(1_000_001_000));
        assert_eq!(d.allowed(8 << 20), Duration::from_nanos(9_388_608_000));
        assert_eq!(d.allowed(29_000_000), Duration::from_secs(30));
        assert_eq!(d.allowed(29_000_001), Duration::from_secs(30));
        assert_eq!(
            d.limit_hit(28_999_999),
            TimeLimit::MinRate {
                bytes_per_sec: 1_000_000
            }
        );
        assert_eq!(
            d.limit_hit(29_000_000),
            TimeLimit::Cap(Duration::from_secs(30))
        );
    }

    #[test]
    fn zero_rate_or_equal_cap_is_fixed() {
        let start = Instant::now();
        for d in [
            FrameDeadline::with_rate(Duration::from_secs(2), 0, Duration::from_secs(9)),
            FrameDeadline::with_rate(Duration::from_secs(2), 7, Duration::from_secs(2)),
            FrameDeadline::with_rate(Duration::from_secs(2), 7, Duration::from_secs(1)),
        ] {
            assert_eq!(d.deadline(start, 1000), start + Duration::from_secs(2));
            assert_eq!(d.limit_hit(1000), TimeLimit::Fixed(Duration::from_secs(2)));
        }
    }

    #[test]
    fn getters_and_display_report_the_settings() {
        let d = FrameDeadline::with_rate(Duration::from_secs(2), 300, Duration::from_secs(7));
        assert_eq!(
            (d.initial(), d.min_rate(), d.cap()),
            (Duration::from_secs(2), 300, Duration::from_secs(7))
        );
        let f = FrameDeadline::fixed(Duration::from_millis(5));
        assert_eq!(
            (f.initial(), f.min_rate(), f.cap()),
            (Duration::from_millis(5), 0, Duration::from_millis(5))
        );
        assert_eq!(
            TimeLimit::Cap(Duration::from_secs(7)).to_string(),
            "the 7s cap on a whole frame"
        );
        assert_eq!(
            TimeLimit::Fixed(Duration::from_millis(5)).to_string(),
            "the 5ms frame timeout"
        );
        assert_eq!(
            TimeLimit::MinRate { bytes_per_sec: 300 }.to_string(),
            "the minimum rate of 300 bytes/s"
        );
    }

    #[test]
    fn extreme_values_do_not_overflow() {
        let start = Instant::now();
        let d = FrameDeadline::with_rate(Duration::MAX, 1, Duration::MAX);
        assert_eq!(d.allowed(u64::MAX), Duration::MAX);
        // An instant past what the platform holds becomes a hundred years from the start.
        let far = d.deadline(start, u64::MAX);
        assert!(
            far >= start + Duration::from_secs(86_400 * 365 * 99),
            "{far:?}"
        );
    }
}
