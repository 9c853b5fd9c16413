//! A clock that only moves when the test says so.

use std::time::{Duration, Instant};

/// A virtual clock: a fixed `Instant` base plus an offset the test advances.
///
/// Protocol cores take time as an argument (`handle_timeout(now)`), so a test
/// passes `clock.now()` and jumps straight to the next deadline instead of
/// sleeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VirtualClock {
    base: Instant,
    offset: Duration,
}

impl Default for VirtualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl VirtualClock {
    /// A clock at offset zero. The base is read once from the system; only
    /// differences from it matter.
    pub fn new() -> Self {
        Self::starting_at(Instant::now())
    }

    /// A clock whose offset zero is `base`.
    pub fn starting_at(base: Instant) -> Self {
        VirtualClock {
            base,
            offset: Duration::ZERO,
        }
    }

    /// The current virtual instant.
    pub fn now(&self) -> Instant {
        self.base + self.offset
    }

    /// The instant at offset zero.
    pub fn base(&self) -> Instant {
        self.base
    }

    /// Time since offset zero.
    pub fn elapsed(&self) -> Duration {
        self.offset
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&mut self, by: Duration) {
        self.offset += by;
    }

    /// Moves the clock to `at`; an instant in the past leaves it where it is
    /// (time never runs backwards).
    pub fn advance_to(&mut self, at: Instant) {
        if at > self.now() {
            self.offset = at - self.base;
        }
    }

    /// The instant `offset` after offset zero; handy for asserting deadlines.
    pub fn at(&self, offset: Duration) -> Instant {
        self.base + offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advances_and_never_goes_back() {
        let mut c = VirtualClock::new();
        let t0 = c.now();
        c.advance(Duration::from_millis(500));
        assert_eq!(c.now() - t0, Duration::from_millis(500));
        c.advance_to(t0 + Duration::from_secs(2));
        assert_eq!(c.elapsed(), Duration::from_secs(2));
        c.advance_to(t0);
        assert_eq!(c.elapsed(), Duration::from_secs(2));
        assert_eq!(c.at(Duration::from_secs(1)), t0 + Duration::from_secs(1));
    }
}
