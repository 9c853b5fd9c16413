//! A TCP connection to a ws: listener that never sends its HTTP request (or
//! never upgrades) is closed after idle_timeout, so it cannot hold one of the
//! max_connections slots for ever; a client that then connects is served.

mod common;

use std::time::{Duration, Instant};

use common::*;
use sip_proto::Transport;
use tokio::net::TcpStream;

#[tokio::test]
async fn silent_http_connection_is_closed_and_frees_its_slot() {
    let idle = Duration::from_millis(300);
    let srv = start(&[Transport::Ws], |c| {
        c.idle_timeout = idle;
        c.max_connections = 1;
    })
    .await;
    let addr = srv.addr(Transport::Ws);
    let t0 = Instant::now();
    let mut silent = TcpStream::connect(addr).await.unwrap();
    expect_closed(&mut silent, Duration::from_secs(5)).await;
    assert!(
        t0.elapsed() >= idle - Duration::from_millis(50),
        "{:?}",
        t0.elapsed()
    );
    // The slot is free again: a WebSocket client gets through.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let stream = TcpStream::connect(addr).await.unwrap();
    let (_ws, resp) = ws_handshake(stream, &format!("ws://{addr}/"), Some("sip"))
        .await
        .expect("upgrade once the slot is free");
    assert_eq!(resp.status(), 101);
    srv.stop().await;
}
