//! RFC 3261 timer values (§17, Table 4 in Appendix A) and RFC 6026 Timers L and M.

use std::time::Duration;

use crate::transport::Transport;

/// The base timer values every other timer derives from (RFC 3261 Table 4).
///
/// - `t1`: RTT estimate, 500 ms by default (§17.1.1.1).
/// - `t2`: longest retransmit interval for non-INVITE requests and INVITE
///   responses, 4 s by default (§17.1.2.2).
/// - `t4`: longest time a message stays in the network, 5 s by default
///   (§17.1.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// T1.
    pub t1: Duration,
    /// T2.
    pub t2: Duration,
    /// T4.
    pub t4: Duration,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

impl Timers {
    /// 64*T1: Timers B, F and H, Timer J on unreliable transports, and RFC
    /// 6026's Timers L and M.
    pub fn timeout(&self) -> Duration {
        self.t1 * 64
    }

    /// Timer A / E / G initial interval: T1.
    pub fn first_retransmit(&self) -> Duration {
        self.t1
    }

    /// Timer D (§17.1.1.2, RFC 6026 §8.4): at least 32 s on unreliable
    /// transports (we take the larger of 32 s and 64*T1, matching Timer H of a
    /// server with our T1), zero on reliable ones.
    pub fn timer_d(&self, transport: Transport) -> Duration {
        if transport.is_reliable() {
            Duration::ZERO
        } else {
            self.timeout().max(Duration::from_secs(32))
        }
    }

    /// Timer I (§17.2.1): T4 on unreliable transports, zero on reliable ones.
    pub fn timer_i(&self, transport: Transport) -> Duration {
        if transport.is_reliable() {
            Duration::ZERO
        } else {
            self.t4
        }
    }

    /// Timer J (§17.2.2): 64*T1 on unreliable transports, zero on reliable ones.
    pub fn timer_j(&self, transport: Transport) -> Duration {
        if transport.is_reliable() {
            Duration::ZERO
        } else {
            self.timeout()
        }
    }

    /// Timer K (§17.1.2.2): T4 on unreliable transports, zero on reliable ones.
    pub fn timer_k(&self, transport: Transport) -> Duration {
        if transport.is_reliable() {
            Duration::ZERO
        } else {
            self.t4
        }
    }
}

/// The name of a transaction timer, as the RFCs call it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TimerName {
    /// INVITE client: request retransmission (§17.1.1.2), unreliable only.
    A,
    /// INVITE client: transaction timeout in Calling (§17.1.1.2).
    B,
    /// INVITE client: wait for final-response retransmissions in Completed.
    D,
    /// Non-INVITE client: request retransmission (§17.1.2.2), unreliable only.
    E,
    /// Non-INVITE client: transaction timeout (§17.1.2.2).
    F,
    /// INVITE server: final-response retransmission (§17.2.1), unreliable only.
    G,
    /// INVITE server: wait for ACK in Completed (§17.2.1).
    H,
    /// INVITE server: absorb ACK retransmissions in Confirmed (§17.2.1).
    I,
    /// Non-INVITE server: absorb request retransmissions in Completed (§17.2.2).
    J,
    /// Non-INVITE client: absorb response retransmissions in Completed.
    K,
    /// INVITE server: absorb INVITE retransmissions in Accepted (RFC 6026 §7.1).
    L,
    /// INVITE client: pass 2xx retransmissions to the TU in Accepted (RFC 6026 §7.2).
    M,
    /// INVITE server: the 200 ms after which the transaction sends 100 Trying
    /// itself if the TU has not responded (§17.2.1). Not a lettered RFC timer.
    Trying,
}

impl TimerName {
    pub(crate) const COUNT: usize = TimerName::Trying as usize + 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_4_defaults() {
        let t = Timers::default();
        assert_eq!(t.timeout(), Duration::from_secs(32));
        assert_eq!(t.timer_d(Transport::Udp), Duration::from_secs(32));
        assert_eq!(t.timer_d(Transport::Tcp), Duration::ZERO);
        assert_eq!(t.timer_i(Transport::Udp), Duration::from_secs(5));
        assert_eq!(t.timer_j(Transport::Udp), Duration::from_secs(32));
        assert_eq!(t.timer_j(Transport::Tls), Duration::ZERO);
        assert_eq!(t.timer_k(Transport::Ws), Duration::ZERO);
        // Timer D never drops below 32 s, even with a small T1.
        let fast = Timers {
            t1: Duration::from_millis(100),
            ..t
        };
        assert_eq!(fast.timer_d(Transport::Udp), Duration::from_secs(32));
        assert_eq!(fast.timeout(), Duration::from_millis(6400));
    }
}
