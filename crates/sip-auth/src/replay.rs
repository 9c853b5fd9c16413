//! Nonce-count replay protection (RFC 7616 §3.4 `nc`, §5.5; RFC 3261 §22.4).

use std::collections::{BTreeMap, HashMap};

use crate::nonce::issued_at;

/// Width of the sliding window of nonce-count values, in counts.
pub const NC_WINDOW: u32 = 64;

/// Which nonce-count values were already used with each nonce, so a replayed
/// request is refused (RFC 7616 §3.4: "if the same nc value is seen twice,
/// then the request is a replay").
///
/// Per nonce it keeps the highest `nc` seen and a 64-bit map of the
/// [`NC_WINDOW`] values at and below it. A higher `nc` moves the window up;
/// a lower one inside the window is accepted once, so requests overtaking
/// each other (several transactions in flight over UDP) still pass; one
/// below the window is refused. `nc = 0` is never valid (counts start at
/// `00000001`).
///
/// Memory is bounded: at most `capacity` nonces are tracked. When a new
/// nonce would exceed that, the oldest-issued one (by the issue time
/// [`NonceKey`](crate::NonceKey) wrote into it, then by first use) is
/// evicted. What happens to nonces not tracked:
///
/// - A nonce never seen is accepted when `nc` lies in the window starting
///   at 1 (`1..=64`): the first requests with a nonce may arrive in any
///   order, but a client cannot start high.
/// - A nonce evicted, or issued no later than any evicted nonce, is
///   refused: it may have been evicted, and forgetting its counts would
///   let an old request be replayed. The server then answers with a new
///   challenge and `stale=true`, and the client retries with a fresh nonce
///   (RFC 7616 §3.3), costing one round trip instead of a replay window.
///   Size `capacity` for the nonces issued within the nonce lifetime so
///   that this stays rare, and call [`NonceCounts::prune`] with the
///   lifetime so expired nonces do not take up room.
///
/// Credentials without `qop` (the RFC 2069 form) carry no `nc`; pass
/// `nc = 1` for them, which makes each such nonce single-use.
///
/// Call this only for credentials that verified, with a nonce
/// [`NonceKey::check`](crate::NonceKey::check) found fresh: otherwise anyone
/// could fill the table. Nonces that do not come from [`NonceKey`](crate::NonceKey)
/// go through [`NonceCounts::accept_issued`] with their own issue time.
#[derive(Debug, Clone)]
pub struct NonceCounts {
    capacity: usize,
    entries: HashMap<Box<str>, Entry>,
    /// (issued, first-use serial) → nonce: eviction order.
    order: BTreeMap<(u64, u64), Box<str>>,
    next_serial: u64,
    /// The latest issue time among evicted or pruned nonces.
    floor: Option<u64>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// The highest nc seen.
    max: u32,
    /// Bit `i` set: `max - i` was seen.
    seen: u64,
}

impl Entry {
    fn accept(&mut self, nc: u32) -> bool {
        if nc > self.max {
            let shift = nc - self.max;
            self.seen = if shift >= NC_WINDOW {
                0
            } else {
                self.seen << shift
            };
            self.seen |= 1;
            self.max = nc;
            return true;
        }
        let back = self.max - nc;
        if back >= NC_WINDOW {
            return false;
        }
        let bit = 1u64 << back;
        if self.seen & bit != 0 {
            return false;
        }
        self.seen |= bit;
        true
    }
}

impl NonceCounts {
    /// Tracks at most `capacity` nonces (at least 1).
    pub fn new(capacity: usize) -> Self {
        NonceCounts {
            capacity: capacity.max(1),
            entries: HashMap::new(),
            order: BTreeMap::new(),
            next_serial: 0,
            floor: None,
        }
    }

    /// Records `nc` for `nonce` (one of [`NonceKey`](crate::NonceKey)'s,
    /// already checked) and says whether it is new: `false` for a replay,
    /// a count below the window, `nc = 0`, or an untracked nonce that cannot
    /// be vouched for (see the type's documentation).
    pub fn accept(&mut self, nonce: &str, nc: u32) -> bool {
        // A nonce not in our format sorts as issued at time 0: the first to
        // be evicted. Such nonces belong in `accept_issued`.
        self.accept_issued(nonce, issued_at(nonce).unwrap_or(0), nc)
    }

    /// [`NonceCounts::accept`] for a nonce issued at `issued` (unix seconds),
    /// for nonces whose issue time is known otherwise.
    pub fn accept_issued(&mut self, nonce: &str, issued: u64, nc: u32) -> bool {
        if nc == 0 {
            return false;
        }
        if let Some(e) = self.entries.get_mut(nonce) {
            return e.accept(nc);
        }
        if self.floor.is_some_and(|f| issued <= f) || nc > NC_WINDOW {
            return false;
        }
        let key = (issued, self.next_serial);
        self.next_serial += 1;
        let name: Box<str> = nonce.into();
        self.entries
            .insert(name.clone(), Entry { max: nc, seen: 1 });
        self.order.insert(key, name);
        let mut kept = true;
        while self.entries.len() > self.capacity {
            let Some((evicted, name)) = self.order.pop_first() else {
                break;
            };
            self.entries.remove(&name);
            self.floor = Some(self.floor.map_or(evicted.0, |f| f.max(evicted.0)));
            // The newcomer itself was the oldest: it cannot be tracked, so
            // it cannot be vouched for either.
            kept &= evicted != key;
        }
        kept
    }

    /// Forgets every nonce issued before `issued_before` (unix seconds) and
    /// refuses such nonces from now on. Call it with `now - max_age`: those
    /// nonces are stale anyway, and their room is better spent on new ones.
    pub fn prune(&mut self, issued_before: u64) {
        let Some(last) = issued_before.checked_sub(1) else {
            return;
        };
        let rest = self.order.split_off(&(issued_before, 0));
        for name in std::mem::replace(&mut self.order, rest).into_values() {
            self.entries.remove(&name);
        }
        self.floor = Some(self.floor.map_or(last, |f| f.max(last)));
    }

    /// How many nonces are tracked.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Is no nonce tracked?
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The most nonces tracked at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_moves() {
        let mut e = Entry { max: 1, seen: 1 };
        assert!(!e.accept(1));
        assert!(e.accept(70));
        // 1..=6 fell out of the window [7, 70]; 7 is its bottom.
        assert!(!e.accept(6));
        assert!(e.accept(7));
        assert!(!e.accept(7));
        assert!(e.accept(u32::MAX));
        assert!(!e.accept(u32::MAX));
        assert!(e.accept(u32::MAX - 63));
        assert!(!e.accept(u32::MAX - 64));
    }

    #[test]
    fn prune_drops_old_and_refuses_them() {
        let mut c = NonceCounts::new(10);
        assert!(c.accept_issued("a", 100, 1));
        assert!(c.accept_issued("b", 200, 1));
        c.prune(150);
        assert_eq!(c.len(), 1);
        assert!(!c.accept_issued("a", 100, 2));
        assert!(!c.accept_issued("c", 149, 1));
        assert!(c.accept_issued("d", 150, 1));
        assert!(c.accept_issued("b", 200, 2));
        c.prune(0);
        assert_eq!(c.len(), 2);
    }
}
