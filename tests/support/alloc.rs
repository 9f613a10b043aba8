//! A counting global allocator, per thread, so that tests running in parallel do not see each
//! other's allocations. A test binary opts in with
//! `#[global_allocator] static ALLOC: support::alloc::Counting = support::alloc::Counting;`.
#![allow(unsafe_code)] // a GlobalAlloc cannot be written without it

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Forwards to the system allocator and counts the current thread's allocations.
pub struct Counting;

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
    static CALLS: Cell<u64> = const { Cell::new(0) };
}

fn grew(old: usize, new: usize) {
    // `try_with`: the allocator also runs while thread-locals are being torn down.
    let _ = LIVE.try_with(|live| {
        let now = live.get().saturating_sub(old) + new;
        live.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
    let _ = LARGEST.try_with(|l| l.set(l.get().max(new)));
    let _ = CALLS.try_with(|c| c.set(c.get() + 1));
}

fn freed(size: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get().saturating_sub(size)));
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the
// bookkeeping touches only const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(0, layout.size());
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(0, layout.size());
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        freed(layout.size());
        // SAFETY: `ptr` was allocated by `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        grew(layout.size(), new_size);
        // SAFETY: forwarded unchanged; `ptr` and `layout` come from `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// What one measured closure allocated on the current thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// The most bytes live at once, above what was live when the measurement began.
    pub peak: usize,
    /// The largest single allocation (or reallocation's new size).
    pub largest: usize,
    /// Allocation and reallocation calls.
    pub calls: u64,
}

/// Allocation and reallocation calls made by this thread so far.
pub fn calls() -> u64 {
    CALLS.with(Cell::get)
}

/// Bytes this thread has allocated and not freed (frees of memory allocated on other
/// threads are subtracted here, down to zero).
pub fn live() -> usize {
    LIVE.with(Cell::get)
}

/// Runs `f` and reports what it allocated on this thread.
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, Usage) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    LARGEST.with(|l| l.set(0));
    let calls = CALLS.with(Cell::get);
    let out = f();
    let usage = Usage {
        peak: PEAK.with(Cell::get) - base,
        largest: LARGEST.with(Cell::get),
        calls: CALLS.with(Cell::get) - calls,
    };
    (out, usage)
}
