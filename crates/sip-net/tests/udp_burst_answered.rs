//! A burst of UDP requests, read several per system call (`recvmmsg` on
//! Linux) and answered several per call (`sendmmsg`), still gets every
//! answer, to the right request: at once, and under sustained load.

// Helpers below unwrap like the tests they serve.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::*;
use sip_msg::SipMessage;
use sip_net::NetStats;
use sip_proto::Transport;
use tokio::net::UdpSocket;

/// A client socket with room for every answer of a burst.
fn client() -> UdpSocket {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).unwrap();
    // Best effort (the kernel caps it at net.core.rmem_max).
    let _ = s.set_recv_buffer_size(4 << 20);
    s.set_nonblocking(true).unwrap();
    s.bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    UdpSocket::from_std(s.into()).unwrap()
}

/// Sends `n` OPTIONS, `per_ms` each millisecond (0: all at once), and
/// checks that each gets its own 200.
async fn burst(n: usize, per_ms: usize) {
    let mut srv = start(&[Transport::Udp], |_| {}).await;
    let server = srv.addr(Transport::Udp);
    let sock = Arc::new(client());
    let local = sock.local_addr().unwrap();
    let rx = Arc::clone(&sock);
    let reader = tokio::spawn(async move {
        let sock = rx;
        let mut buf = vec![0u8; 65535];
        let mut answered = HashSet::new();
        while answered.len() < n {
            let (len, from) =
                tokio::time::timeout(Duration::from_secs(10), sock.recv_from(&mut buf))
                    .await
                    .expect("an answer is missing")
                    .unwrap();
            assert_eq!(from, server);
            let resp = SipMessage::parse(Bytes::copy_from_slice(&buf[..len])).unwrap();
            let call_id = resp.call_id().unwrap().to_owned();
            let i: usize = call_id.strip_prefix("burst-").unwrap().parse().unwrap();
            assert_answers(&resp, 200, &call_id, &format!("z9hG4bKburst{i}"));
            assert!(answered.insert(i), "answered twice: {call_id}");
        }
    });
    let reqs: Vec<String> = (0..n)
        .map(|i| {
            options(
                "UDP",
                local,
                &format!("burst-{i}"),
                &format!("z9hG4bKburst{i}"),
            )
        })
        .collect();
    for (i, req) in reqs.iter().enumerate() {
        sock.send_to(req.as_bytes(), server).await.unwrap();
        if per_ms > 0 && (i + 1) % per_ms == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    reader.await.unwrap();
    assert_eq!(NetStats::get(&srv.stats.received), n as u64);
    assert_eq!(NetStats::get(&srv.stats.sent), n as u64);
    assert_eq!(NetStats::get(&srv.stats.send_failures), 0);
    let mut seen = 0;
    while seen < n {
        srv.next_request().await;
        seen += 1;
    }
    srv.stop().await;
}

#[tokio::test]
async fn a_burst_of_100_gets_100_answers() {
    burst(100, 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sustained_load_loses_nothing() {
    // 3000 at up to 10 a millisecond.
    burst(3000, 10).await;
}
