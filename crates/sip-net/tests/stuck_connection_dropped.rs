//! A peer that stops reading cannot stall the server: once its connection's
//! write queue is full the connection is dropped and the transactions whose
//! messages were lost get transport errors (RFC 3261 §18.4).

// Helpers below unwrap like the tests they serve.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use common::*;
use sip_msg::SipMessage;
use sip_net::NetStats;
use sip_proto::Transport;
use tokio::net::TcpSocket;

fn big_message(client: SocketAddr, n: u32) -> SipMessage {
    let body = "x".repeat(60_000);
    let raw = format!(
        "MESSAGE sip:client@{client} SIP/2.0\r\n\
Via: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKstuck{n}\r\n\
Max-Forwards: 70\r\n\
From: <sip:server@127.0.0.1>;tag=s1\r\n\
To: <sip:client@127.0.0.1>\r\n\
Call-ID: stuck-{n}@test\r\n\
CSeq: 1 MESSAGE\r\n\
Content-Type: text/plain\r\n\
Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    SipMessage::parse(Bytes::from(raw)).unwrap()
}

#[tokio::test]
async fn full_write_queue_drops_the_connection() {
    let mut srv = start(&[Transport::Tcp], |c| {
        c.connection_queue = 2;
        // The requests written before the drop wait for Timer F; do not let
        // the final drain wait for them.
        c.drain_timeout = Duration::from_millis(200);
    })
    .await;
    let sock = TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    let mut conn = sock.connect(srv.addr(Transport::Tcp)).await.unwrap();
    let local = conn.local_addr().unwrap();
    write_all(
        &mut conn,
        request("REGISTER", "TCP", local, "stuck@test", "z9hG4bKsreg").as_bytes(),
    )
    .await;
    let mut buf = BytesMut::new();
    assert_answers(
        &read_message(&mut conn, &mut buf).await,
        200,
        "stuck@test",
        "z9hG4bKsreg",
    );
    let (_, _, peer) = srv.next_request().await;

    // Now the client reads nothing. Keep sending until the server gives up.
    let mut sent = Vec::new();
    for n in 0..1000 {
        match srv.handle.send_request(big_message(local, n), peer).await {
            Ok(key) => sent.push(key),
            Err(_) => break, // the flow is gone
        }
        if NetStats::get(&srv.stats.queue_overflows) > 0 {
            break;
        }
    }
    assert_eq!(
        NetStats::get(&srv.stats.queue_overflows),
        1,
        "sent {}",
        sent.len()
    );
    let failed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Seen::TransportError(k) = srv.next_seen().await {
                return k;
            }
        }
    })
    .await
    .unwrap();
    assert!(sent.contains(&failed));
    expect_closed(&mut conn, Duration::from_secs(5)).await;
    srv.stop().await;
}
