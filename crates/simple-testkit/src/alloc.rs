//! [`CountingAlloc`]: a global allocator that forwards to the system one and
//! counts the bytes and blocks live, for examples that measure what a data
//! structure holds (`#[global_allocator] static A: CountingAlloc =
//! CountingAlloc::new();`, then [`CountingAlloc::live`] before and after).
// `unsafe impl GlobalAlloc` is the only way to count allocations; every
// method forwards to `System` with the caller's arguments.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};

/// Counts live heap bytes (requested sizes) and blocks.
#[derive(Debug)]
pub struct CountingAlloc {
    bytes: AtomicIsize,
    blocks: AtomicIsize,
}

impl CountingAlloc {
    /// Nothing counted yet.
    pub const fn new() -> Self {
        CountingAlloc {
            bytes: AtomicIsize::new(0),
            blocks: AtomicIsize::new(0),
        }
    }

    /// (bytes, blocks) live now, counted since the program started.
    pub fn live(&self) -> (isize, isize) {
        (self.bytes.load(Relaxed), self.blocks.load(Relaxed))
    }

    /// (bytes, blocks) gained since `start` (a [`live`](Self::live) reading),
    /// per item of `n`.
    #[allow(clippy::cast_precision_loss)]
    pub fn per_item_since(&self, start: (isize, isize), n: usize) -> (f64, f64) {
        let (b, k) = self.live();
        let n = n.max(1) as f64;
        ((b - start.0) as f64 / n, (k - start.1) as f64 / n)
    }

    fn add(&self, bytes: usize, blocks: isize) {
        self.bytes
            .fetch_add(isize::try_from(bytes).unwrap_or(isize::MAX), Relaxed);
        self.blocks.fetch_add(blocks, Relaxed);
    }

    fn sub(&self, bytes: usize, blocks: isize) {
        self.bytes
            .fetch_sub(isize::try_from(bytes).unwrap_or(isize::MAX), Relaxed);
        self.blocks.fetch_sub(blocks, Relaxed);
    }
}

impl Default for CountingAlloc {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: every method forwards to the system allocator with the caller's
// arguments and returns its result; the counters are plain atomics.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: the caller's layout, forwarded.
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            self.add(l.size(), 1);
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        self.sub(l.size(), 1);
        // SAFETY: `p` was allocated by `alloc` with this layout.
        unsafe { System.dealloc(p, l) }
    }

    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() {
            self.add(new, 0);
            self.sub(l.size(), 0);
        }
        q
    }
}
