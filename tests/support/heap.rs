//! A counting global allocator over the whole process, counting only the threads that opt in
//! with [`track_this_thread`]: a server's threads (or its runtime's workers), not the clients
//! running in the same process. A binary opts in with
//! `#[global_allocator] static ALLOC: heap::Counting = heap::Counting;`.
#![allow(unsafe_code)] // a GlobalAlloc cannot be written without it
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};

/// Forwards to the system allocator and counts the tracked threads' live and peak bytes.
pub struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);
static BASE: AtomicIsize = AtomicIsize::new(0);

thread_local! {
    static TRACKED: Cell<bool> = const { Cell::new(false) };
}

fn tracked() -> bool {
    // `try_with`: the allocator also runs while thread-locals are being torn down.
    TRACKED.try_with(Cell::get).unwrap_or(false)
}

fn add(delta: isize) {
    if tracked() {
        let live = LIVE.fetch_add(delta, Relaxed) + delta;
        PEAK.fetch_max(live, Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the
// bookkeeping touches only atomics and a const-initialised thread-local, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as isize);
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as isize);
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add(-(layout.size() as isize));
        // SAFETY: `ptr` was allocated by `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        add(new_size as isize - layout.size() as isize);
        // SAFETY: forwarded unchanged; `ptr` and `layout` come from `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Counts this thread's allocations from now on.
pub fn track_this_thread() {
    TRACKED.with(|t| t.set(true));
}

/// Starts a new peak from the bytes live now.
pub fn reset_peak() {
    let live = LIVE.load(Relaxed);
    BASE.store(live, Relaxed);
    PEAK.store(live, Relaxed);
}

/// The most bytes the tracked threads held at once since [`reset_peak`], above what they
/// held then.
pub fn peak() -> usize {
    (PEAK.load(Relaxed) - BASE.load(Relaxed)).max(0) as usize
}
