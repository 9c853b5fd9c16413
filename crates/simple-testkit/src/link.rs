//! A simulated link: what is sent now arrives later, maybe twice, maybe never.

use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::rng::SimRng;

/// Which packets the link loses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Loss {
    /// Every packet arrives.
    #[default]
    None,
    /// The first `n` packets sent over the link are lost, the rest arrive.
    FirstN(u32),
    /// Every `n`-th packet (the `n`-th, `2n`-th, ...) is lost.
    EveryNth(u32),
    /// Each packet is lost with probability `per_mille / 1000`, drawn from the
    /// link's seeded PRNG.
    Random {
        /// Loss probability in thousandths.
        per_mille: u32,
    },
}

/// How a [`SimLink`] behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkConfig {
    /// One-way delay of every packet.
    pub delay: Duration,
    /// Extra delay drawn uniformly from `0..=jitter` per packet; non-zero
    /// jitter reorders packets.
    pub jitter: Duration,
    /// Which packets are lost.
    pub loss: Loss,
    /// Probability in thousandths that a delivered packet arrives twice (the
    /// copy one `delay` later).
    pub duplicate_per_mille: u32,
    /// Seed of the PRNG behind `Random` loss, jitter and duplication.
    pub seed: u64,
}

impl Default for LinkConfig {
    /// 10 ms one way, no jitter, no loss, no duplication.
    fn default() -> Self {
        LinkConfig {
            delay: Duration::from_millis(10),
            jitter: Duration::ZERO,
            loss: Loss::None,
            duplicate_per_mille: 0,
            seed: 1,
        }
    }
}

/// A packet leaving the link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery<T> {
    /// When it arrives.
    pub at: Instant,
    /// Who sent it.
    pub from: SocketAddr,
    /// Who receives it.
    pub to: SocketAddr,
    /// What was sent.
    pub payload: T,
}

/// Counters of what happened on a link.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Packets handed to [`SimLink::send`].
    pub sent: u64,
    /// Packets lost.
    pub dropped: u64,
    /// Extra copies created.
    pub duplicated: u64,
    /// Packets (copies included) returned by [`SimLink::poll_delivery`].
    pub delivered: u64,
}

type DropFilter<T> = Box<dyn FnMut(&T) -> bool>;

/// A deterministic lossy link between any number of addresses.
///
/// `send` puts a packet in flight; `next_delivery` says when the earliest one
/// lands; `poll_delivery(now)` hands out every packet due by `now`, earliest
/// first (ties in send order). Loss, jitter and duplication come from a seeded
/// PRNG, so a run repeats exactly.
pub struct SimLink<T> {
    config: LinkConfig,
    rng: SimRng,
    in_flight: Vec<(u64, Delivery<T>)>,
    seq: u64,
    drop_next: u32,
    filter: Option<DropFilter<T>>,
    stats: LinkStats,
}

impl<T> fmt::Debug for SimLink<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimLink")
            .field("config", &self.config)
            .field("in_flight", &self.in_flight.len())
            .field("stats", &self.stats)
            .finish()
    }
}

impl<T: Clone> SimLink<T> {
    /// A link behaving as `config` says.
    pub fn new(config: LinkConfig) -> Self {
        SimLink {
            rng: SimRng::new(config.seed),
            config,
            in_flight: Vec::new(),
            seq: 0,
            drop_next: 0,
            filter: None,
            stats: LinkStats::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &LinkConfig {
        &self.config
    }

    /// Changes the loss policy from now on (counting for `FirstN`/`EveryNth`
    /// continues from the packets already sent).
    pub fn set_loss(&mut self, loss: Loss) {
        self.config.loss = loss;
    }

    /// Loses the next `n` packets, whatever the policy.
    pub fn drop_next(&mut self, n: u32) {
        self.drop_next += n;
    }

    /// Loses every packet for which `filter` returns true (on top of the
    /// policy), e.g. "the first 200 OK".
    pub fn set_drop_filter(&mut self, filter: impl FnMut(&T) -> bool + 'static) {
        self.filter = Some(Box::new(filter));
    }

    /// Removes the drop filter.
    pub fn clear_drop_filter(&mut self) {
        self.filter = None;
    }

    /// Sends `payload` from `from` to `to` at `now`. Returns false when the
    /// link lost it.
    pub fn send(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, payload: T) -> bool {
        self.stats.sent += 1;
        let n = self.stats.sent;
        let lost = if self.drop_next > 0 {
            self.drop_next -= 1;
            true
        } else if self.filter.as_mut().is_some_and(|f| f(&payload)) {
            true
        } else {
            match self.config.loss {
                Loss::None => false,
                Loss::FirstN(k) => n <= u64::from(k),
                Loss::EveryNth(k) => k > 0 && n.is_multiple_of(u64::from(k)),
                Loss::Random { per_mille } => self.rng.chance(per_mille),
            }
        };
        if lost {
            self.stats.dropped += 1;
            return false;
        }
        let at = now + self.config.delay + self.jitter();
        if self.config.duplicate_per_mille > 0 && self.rng.chance(self.config.duplicate_per_mille) {
            self.stats.duplicated += 1;
            let copy_at = at + self.config.delay.max(Duration::from_millis(1));
            self.push(copy_at, from, to, payload.clone());
        }
        self.push(at, from, to, payload);
        true
    }

    fn jitter(&mut self) -> Duration {
        let j = self.config.jitter.as_micros() as u64;
        if j == 0 {
            Duration::ZERO
        } else {
            Duration::from_micros(self.rng.below(j + 1))
        }
    }

    fn push(&mut self, at: Instant, from: SocketAddr, to: SocketAddr, payload: T) {
        self.seq += 1;
        self.in_flight.push((
            self.seq,
            Delivery {
                at,
                from,
                to,
                payload,
            },
        ));
    }

    /// When the earliest packet in flight arrives.
    pub fn next_delivery(&self) -> Option<Instant> {
        self.in_flight.iter().map(|(_, d)| d.at).min()
    }

    /// The earliest packet due by `now`, if any.
    pub fn poll_delivery(&mut self, now: Instant) -> Option<Delivery<T>> {
        let i = self
            .in_flight
            .iter()
            .enumerate()
            .filter(|(_, (_, d))| d.at <= now)
            .min_by_key(|(_, (seq, d))| (d.at, *seq))
            .map(|(i, _)| i)?;
        self.stats.delivered += 1;
        Some(self.in_flight.remove(i).1)
    }

    /// Packets in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// What happened so far.
    pub fn stats(&self) -> LinkStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn delivers_in_time_order_after_the_delay() {
        let t0 = Instant::now();
        let mut link = SimLink::new(LinkConfig::default());
        link.send(t0, addr(1), addr(2), "a");
        link.send(t0 + Duration::from_millis(1), addr(2), addr(1), "b");
        assert_eq!(link.next_delivery(), Some(t0 + Duration::from_millis(10)));
        assert!(link.poll_delivery(t0 + Duration::from_millis(9)).is_none());
        let d = link.poll_delivery(t0 + Duration::from_secs(1)).unwrap();
        assert_eq!((d.payload, d.from, d.to), ("a", addr(1), addr(2)));
        assert_eq!(
            link.poll_delivery(t0 + Duration::from_secs(1))
                .unwrap()
                .payload,
            "b"
        );
        assert_eq!(link.in_flight(), 0);
        assert_eq!(link.stats().delivered, 2);
    }

    #[test]
    fn first_n_and_every_nth_and_manual_drops() {
        let t0 = Instant::now();
        let mut link = SimLink::new(LinkConfig {
            loss: Loss::FirstN(2),
            ..LinkConfig::default()
        });
        let kept: Vec<bool> = (0..4).map(|i| link.send(t0, addr(1), addr(2), i)).collect();
        assert_eq!(kept, [false, false, true, true]);

        let mut link = SimLink::new(LinkConfig {
            loss: Loss::EveryNth(3),
            ..LinkConfig::default()
        });
        let kept: Vec<bool> = (0..6).map(|i| link.send(t0, addr(1), addr(2), i)).collect();
        assert_eq!(kept, [true, true, false, true, true, false]);

        let mut link = SimLink::new(LinkConfig::default());
        link.drop_next(1);
        link.set_drop_filter(|p: &i32| *p == 7);
        assert!(!link.send(t0, addr(1), addr(2), 1));
        assert!(!link.send(t0, addr(1), addr(2), 7));
        assert!(link.send(t0, addr(1), addr(2), 8));
        assert_eq!(link.stats().dropped, 2);
    }

    #[test]
    fn random_loss_and_duplication_are_reproducible() {
        let run = |seed| {
            let t0 = Instant::now();
            let mut link = SimLink::new(LinkConfig {
                loss: Loss::Random { per_mille: 300 },
                duplicate_per_mille: 200,
                jitter: Duration::from_millis(5),
                seed,
                ..LinkConfig::default()
            });
            let kept: Vec<bool> = (0..50)
                .map(|i| link.send(t0, addr(1), addr(2), i))
                .collect();
            (kept, link.stats())
        };
        assert_eq!(run(9), run(9));
        let (kept, stats) = run(9);
        assert!(kept.iter().any(|k| !k) && kept.iter().any(|k| *k));
        assert!(stats.duplicated > 0);
    }
}
