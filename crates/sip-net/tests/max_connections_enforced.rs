//! Beyond max_connections a new connection is closed at once; once one
//! closes, a new one is served again.

// Helpers below unwrap like the tests they serve.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use bytes::BytesMut;
use common::*;
use sip_net::NetStats;
use sip_proto::Transport;
use tokio::net::TcpStream;

async fn served(conn: &mut TcpStream, n: u32) {
    let local = conn.local_addr().unwrap();
    let (call_id, branch) = (format!("c{n}@test"), format!("z9hG4bKmax{n}"));
    write_all(conn, options("TCP", local, &call_id, &branch).as_bytes()).await;
    let mut buf = BytesMut::new();
    let resp = read_message(conn, &mut buf).await;
    assert_answers(&resp, 200, &call_id, &branch);
}

#[tokio::test]
async fn connections_beyond_the_cap_are_closed() {
    let srv = start(&[Transport::Tcp], |c| c.max_connections = 2).await;
    let addr = srv.addr(Transport::Tcp);
    let mut a = TcpStream::connect(addr).await.unwrap();
    served(&mut a, 1).await;
    let mut b = TcpStream::connect(addr).await.unwrap();
    served(&mut b, 2).await;
    assert_eq!(NetStats::get(&srv.stats.connections_open), 2);

    let mut c = TcpStream::connect(addr).await.unwrap();
    expect_closed(&mut c, Duration::from_secs(5)).await;
    assert_eq!(NetStats::get(&srv.stats.connections_refused), 1);

    drop(a);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while NetStats::get(&srv.stats.connections_open) > 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "closed connection still counted"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut d = TcpStream::connect(addr).await.unwrap();
    served(&mut d, 4).await;
    srv.stop().await;
}
