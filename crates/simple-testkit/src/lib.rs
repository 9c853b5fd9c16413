//! Dev-only helpers for testing Herald's sans-IO protocol cores faster than real
//! time and deterministically: a virtual clock, a seeded PRNG, and a simulated
//! link that loses, delays and duplicates what is sent over it.
//!
//! Nothing here knows SIP: a [`SimLink`] carries any payload between addresses,
//! so the same link serves transaction tests (payload: datagram bytes) and, later,
//! MSRP or flow tests. Each protocol's tests glue their engine to the link.
//!
//! # Layout
//! - `clock`: [`VirtualClock`], an `Instant` base plus an offset you advance.
//! - `rng`: [`SimRng`], a small SplitMix64 generator; same seed, same run.
//! - `link`: [`SimLink`] with [`LinkConfig`] / [`Loss`]: in-flight packets
//!   ordered by delivery time, with loss, fixed delay, jitter and duplication.
//! - `alloc`: [`CountingAlloc`], a global allocator that counts what is live
//!   (for the memory-measuring examples).

mod alloc;
mod clock;
mod link;
mod rng;

pub use alloc::CountingAlloc;
pub use clock::VirtualClock;
pub use link::{Delivery, LinkConfig, LinkStats, Loss, SimLink};
pub use rng::SimRng;
