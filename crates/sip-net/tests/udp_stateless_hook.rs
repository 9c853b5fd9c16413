//! A TU's stateless hook answers UDP requests in the receive loop: the
//! answer goes back to the source (RFC 3581 rport), the driver's
//! `answer_statelessly` and `on_request` never see the request, and what
//! the hook declines still reaches the TU (not asked again). Over TCP the driver asks
//! `answer_statelessly`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use common::*;
use sip_msg::{Method, SipMessage};
use sip_net::{Ctx, ListenerSpec, NetConfig, NetStats, SipServer, StatelessHook, TransactionUser};
use sip_proto::{Peer, Tag, TransactionKey, Transport, stateless_response};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// OPTIONS answered statelessly (the same decision in the hook and in
/// `answer_statelessly`), everything else through transactions.
struct HookTu {
    driver_asked: Arc<AtomicUsize>,
    requests: mpsc::UnboundedSender<SipMessage>,
}

fn decide(m: &SipMessage, tag: &str) -> Option<SipMessage> {
    (m.method() == Some(Method::Options))
        .then(|| stateless_response(m, 200, Some(&Tag::from(tag))).ok())
        .flatten()
}

impl TransactionUser for HookTu {
    fn answer_statelessly(&mut self, msg: &SipMessage, _: &Peer) -> Option<SipMessage> {
        self.driver_asked.fetch_add(1, Ordering::SeqCst);
        // The same decision; the tag says who made it.
        decide(msg, "driver")
    }

    fn stateless_hook(&self) -> Option<StatelessHook> {
        Some(Arc::new(|m: &SipMessage| decide(m, "hook")))
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_>, key: TransactionKey, msg: SipMessage, _: Peer) {
        if msg.method() != Some(Method::Ack) {
            ctx.respond(
                key,
                stateless_response(&msg, 202, Some(&Tag::from("tu"))).unwrap(),
            );
        }
        let _ = self.requests.send(msg);
    }
}

async fn recv(sock: &UdpSocket) -> SipMessage {
    let mut buf = vec![0u8; 65535];
    let (n, _) = tokio::time::timeout(Duration::from_secs(5), sock.recv_from(&mut buf))
        .await
        .expect("an answer in time")
        .unwrap();
    SipMessage::parse(Bytes::copy_from_slice(&buf[..n])).unwrap()
}

#[tokio::test]
async fn udp_requests_the_hook_answers_never_reach_the_driver() {
    let config = NetConfig {
        listeners: vec![
            ListenerSpec::new(Transport::Udp, "127.0.0.1:0".parse().unwrap()),
            ListenerSpec::new(Transport::Tcp, "127.0.0.1:0".parse().unwrap()),
        ],
        ..NetConfig::default()
    };
    let server = SipServer::bind(config).await.unwrap();
    let addrs = server.local_addrs();
    let udp = addrs.iter().find(|a| a.0 == Transport::Udp).unwrap().1;
    let tcp = addrs.iter().find(|a| a.0 == Transport::Tcp).unwrap().1;
    let stats = server.stats();
    let driver_asked = Arc::new(AtomicUsize::new(0));
    let (tx, mut requests) = mpsc::unbounded_channel();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(server.run(
        HookTu {
            driver_asked: Arc::clone(&driver_asked),
            requests: tx,
        },
        shutdown.clone(),
    ));

    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let local = client.local_addr().unwrap();
    // Three OPTIONS in one burst: answered by the hook, to the source port.
    for i in 0..3 {
        let req = options(
            "UDP",
            local,
            &format!("hook-{i}@test"),
            &format!("z9hG4bKh{i}"),
        );
        client.send_to(req.as_bytes(), udp).await.unwrap();
    }
    let mut got = Vec::new();
    for _ in 0..3 {
        let r = recv(&client).await;
        assert_eq!(r.status(), Some(200));
        assert_eq!(r.to_tag().unwrap(), Some("hook"));
        assert_eq!(top_via_rport(&r), Some(local.port()));
        got.push(r.call_id().unwrap().to_owned());
    }
    got.sort();
    assert_eq!(got, ["hook-0@test", "hook-1@test", "hook-2@test"]);
    // A request the hook declines goes through a transaction to the TU.
    let msg = request("MESSAGE", "UDP", local, "tu-1@test", "z9hG4bKm1");
    client.send_to(msg.as_bytes(), udp).await.unwrap();
    let r = recv(&client).await;
    assert_eq!(r.status(), Some(202));
    let seen = tokio::time::timeout(Duration::from_secs(5), requests.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.call_id().unwrap(), "tu-1@test");
    // The hook's decision is final for UDP: the driver was not asked
    // again, not even about the MESSAGE the hook declined.
    assert_eq!(driver_asked.load(Ordering::SeqCst), 0);
    assert_eq!(NetStats::get(&stats.received), 4);
    assert_eq!(NetStats::get(&stats.sent), 4);

    // Over TCP the driver's `answer_statelessly` decides.
    let mut conn = tokio::net::TcpStream::connect(tcp).await.unwrap();
    let tlocal = conn.local_addr().unwrap();
    let req = options("TCP", tlocal, "hook-tcp@test", "z9hG4bKt1");
    tokio::io::AsyncWriteExt::write_all(&mut conn, req.as_bytes())
        .await
        .unwrap();
    let mut rbuf = bytes::BytesMut::new();
    let r = read_message(&mut conn, &mut rbuf).await;
    assert_eq!(r.status(), Some(200));
    assert_eq!(r.to_tag().unwrap(), Some("driver"));
    assert_eq!(driver_asked.load(Ordering::SeqCst), 1);
    assert!(
        requests.try_recv().is_err(),
        "no OPTIONS reached on_request"
    );

    shutdown.cancel();
    let r = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    assert!(r.is_ok(), "{r:?}");
}
