//! Where messages go: transports, flows and peers. The driver owns sockets; this
//! crate only names them.

use std::fmt;
use std::net::SocketAddr;

/// A SIP transport (RFC 3261 §18, RFC 7118 for WebSocket).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP: unreliable, so the transaction layer retransmits.
    Udp,
    /// TCP.
    Tcp,
    /// TLS over TCP.
    Tls,
    /// WebSocket (RFC 7118).
    Ws,
    /// Secure WebSocket (RFC 7118).
    Wss,
}

impl Transport {
    /// Is the transport reliable? Reliable transports carry no retransmissions
    /// and run the "wait for stray retransmissions" timers (D, I, J, K) at zero
    /// (RFC 3261 §17, Table 4).
    pub fn is_reliable(self) -> bool {
        !matches!(self, Transport::Udp)
    }

    /// The transport token of a Via header (RFC 3261 §20.42, RFC 7118 §5.1).
    pub fn via_token(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
            Transport::Ws => "WS",
            Transport::Wss => "WSS",
        }
    }

    /// Classifies a Via transport token (case-insensitive); `None` for one we
    /// do not speak (SCTP, extensions).
    pub fn from_via_token(token: &str) -> Option<Transport> {
        [
            Transport::Udp,
            Transport::Tcp,
            Transport::Tls,
            Transport::Ws,
            Transport::Wss,
        ]
        .into_iter()
        .find(|t| t.via_token().eq_ignore_ascii_case(token))
    }

    /// The port used when a sent-by has none: 5060, 5061 for TLS (RFC 3261
    /// §18.1.1 / §19.1.2), 80 and 443 for WS and WSS (RFC 7118 §5.1 uses the
    /// HTTP ports).
    pub fn default_port(self) -> u16 {
        match self {
            Transport::Udp | Transport::Tcp => 5060,
            Transport::Tls => 5061,
            Transport::Ws => 80,
            Transport::Wss => 443,
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.via_token())
    }
}

/// A flow, chosen by the driver: one connection for TCP/TLS/WS, one local
/// socket for UDP. Opaque to this crate, handed back on every transmit so the
/// driver can reuse the connection a request came on (RFC 3261 §18.2.2, RFC
/// 5626 flows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowId(pub u64);

/// The other end of a message: transport, remote address and flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    /// The transport.
    pub transport: Transport,
    /// The remote address (source of a received message, destination of a
    /// sent one).
    pub remote: SocketAddr,
    /// The flow the message came on or should leave by.
    pub flow: FlowId,
}

impl Peer {
    /// A peer.
    pub fn new(transport: Transport, remote: SocketAddr, flow: FlowId) -> Self {
        Peer {
            transport,
            remote,
            flow,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_ports() {
        assert_eq!(Transport::from_via_token("udp"), Some(Transport::Udp));
        assert_eq!(Transport::from_via_token("WSS"), Some(Transport::Wss));
        assert_eq!(Transport::from_via_token("SCTP"), None);
        assert!(!Transport::Udp.is_reliable());
        assert!(Transport::Tls.is_reliable() && Transport::Ws.is_reliable());
        assert_eq!(Transport::Tls.default_port(), 5061);
        assert_eq!(Transport::Tcp.to_string(), "TCP");
    }
}
