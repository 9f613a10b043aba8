//! The CPU time one thread has used, as Linux counts it in `/proc/thread-self`: time on a
//! CPU in nanoseconds (`schedstat`, the scheduler's own sum) and its split into user and
//! system time in clock ticks (`stat`, sampled at each tick, so only a sum over runs of a
//! second or more says much). Elsewhere, or where the files cannot be read, there is none.
//!
//! Throughput says how fast the slower side went; the CPU time of each side says which side
//! that was (the busy one used about as much CPU time as the run took) and what each frame
//! cost it, in the kernel and outside it, without the waiting in between.

use std::fs;
use std::ops::Sub;

/// Counters of the calling thread at one moment.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cpu {
    /// Time on a CPU, nanoseconds.
    pub on_cpu_ns: u64,
    /// User and system time, clock ticks.
    pub user_ticks: u64,
    pub sys_ticks: u64,
}

impl Cpu {
    /// The calling thread's counters, or `None` where `/proc/thread-self` is not there.
    pub fn now() -> Option<Cpu> {
        let schedstat = fs::read_to_string("/proc/thread-self/schedstat").ok()?;
        let on_cpu_ns = schedstat.split_whitespace().next()?.parse().ok()?;
        let stat = fs::read_to_string("/proc/thread-self/stat").ok()?;
        // The command name, in parentheses, may hold spaces: fields count from after it.
        // After it come state (field 3) .. utime (14) and stime (15).
        let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
        let user_ticks = fields.next()?.parse().ok()?;
        let sys_ticks = fields.next()?.parse().ok()?;
        Some(Cpu {
            on_cpu_ns,
            user_ticks,
            sys_ticks,
        })
    }

    /// Runs `f` and returns its result with the CPU time the calling thread used in it.
    pub fn measure<T>(f: impl FnOnce() -> T) -> (T, Option<Cpu>) {
        let before = Cpu::now();
        let out = f();
        let used = Cpu::now().zip(before).map(|(after, before)| after - before);
        (out, used)
    }
}

impl Sub for Cpu {
    type Output = Cpu;

    fn sub(self, earlier: Cpu) -> Cpu {
        Cpu {
            on_cpu_ns: self.on_cpu_ns.saturating_sub(earlier.on_cpu_ns),
            user_ticks: self.user_ticks.saturating_sub(earlier.user_ticks),
            sys_ticks: self.sys_ticks.saturating_sub(earlier.sys_ticks),
        }
    }
}
