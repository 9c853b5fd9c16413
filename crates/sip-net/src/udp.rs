//! SIP over UDP (RFC 3261 §18): one socket per listener, one message per
//! datagram.

use std::io::ErrorKind;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use sip_msg::{Datagram, parse_datagram};
use sip_proto::{FlowId, Peer, Transport};
use tokio::net::UdpSocket;

use crate::inbound::{Event, Shared, Verdict, vet};
use crate::stats::NetStats;

/// Largest UDP payload (RFC 3261 §18.1.1 leaves it to the IP layer).
const MAX_DATAGRAM: usize = 65_535;

/// Receives datagrams until the server stops. Keeps reading while draining:
/// responses and ACKs for live transactions still arrive here.
pub(crate) async fn recv_loop(shared: Arc<Shared>, sock: Arc<UdpSocket>, flow: FlowId) {
    let local = sock.local_addr().ok();
    // One fixed buffer, and each datagram copied out at its own size: the
    // parsed message keeps its bytes alive as long as its transaction (up to
    // 64*T1), so slicing a shared 64 KiB buffer would pin 64 KiB per message.
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        // Batching: a recvmmsg(2) loop (several datagrams per syscall, via
        // socket2 and `UdpSocket::try_io`) would replace this single recv once
        // a benchmark shows the syscall rate matters.
        let r = tokio::select! {
            _ = shared.stop_all.cancelled() => break,
            r = sock.recv_from(&mut buf) => r,
        };
        let (n, source) = match r {
            Ok(x) => x,
            Err(e) => {
                // ICMP errors surface here on some platforms; never spin.
                if !matches!(
                    e.kind(),
                    ErrorKind::ConnectionReset | ErrorKind::ConnectionRefused
                ) {
                    tracing::warn!(local = ?local, error = %e, "UDP receive failed");
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let Some(data) = buf.get(..n) else {
            continue;
        };
        let data = Bytes::copy_from_slice(data);
        let verdict = match parse_datagram(data.clone()) {
            // Bare CRLFs: a NAT keep-alive (RFC 5626 §4.4.1 specifies STUN on
            // UDP; many phones send CRLFs). Nothing to answer.
            Ok(Datagram::KeepAlive) => {
                NetStats::inc(&shared.stats.keepalives);
                continue;
            }
            Ok(Datagram::Message(m)) => vet(Ok(m), &data, source, &shared.stats),
            Err(e) => vet(Err(e), &data, source, &shared.stats),
        };
        match verdict {
            Verdict::Deliver(msg) => {
                let peer = Peer::new(Transport::Udp, source, flow);
                if !shared.emit(Event::Received { msg, peer }).await {
                    break;
                }
            }
            Verdict::Answer(a) => {
                // RFC 3261 §18.2.2 / RFC 3581 §4: to `received` and `rport` of
                // the stamped top Via; the source when the Via is unusable.
                let to = a.route.unwrap_or(source);
                match sock.try_send_to(&a.bytes, to) {
                    Ok(_) => {
                        NetStats::inc(&shared.stats.answered_400);
                        NetStats::inc(&shared.stats.sent);
                    }
                    Err(e) => {
                        NetStats::inc(&shared.stats.send_failures);
                        tracing::debug!(%to, error = %e, "cannot send error response");
                    }
                }
            }
            Verdict::Drop => {}
        }
    }
    tracing::info!(transport = %Transport::Udp, local = ?local, "SIP listener stopped");
}
