//! RFC 5626 §3.5.1: a double-CRLF ping on a stream is answered with a single
//! CRLF pong, and the connection carries SIP afterwards.

mod common;

use std::time::Duration;

use bytes::BytesMut;
use common::*;
use sip_net::NetStats;
use sip_proto::Transport;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

#[tokio::test]
async fn crlfcrlf_ping_gets_crlf_pong() {
    let srv = start(&[Transport::Tcp], |_| {}).await;
    let mut conn = TcpStream::connect(srv.addr(Transport::Tcp)).await.unwrap();
    write_all(&mut conn, b"\r\n\r\n").await;
    let mut pong = [0u8; 2];
    tokio::time::timeout(Duration::from_secs(5), conn.read_exact(&mut pong))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&pong, b"\r\n");
    // Exactly one CRLF: nothing else follows.
    let mut more = [0u8; 1];
    assert!(
        tokio::time::timeout(Duration::from_millis(100), conn.read(&mut more))
            .await
            .is_err()
    );
    assert_eq!(NetStats::get(&srv.stats.keepalives), 1);

    let local = conn.local_addr().unwrap();
    write_all(
        &mut conn,
        options("TCP", local, "after-ping@test", "z9hG4bKp1").as_bytes(),
    )
    .await;
    let mut buf = BytesMut::new();
    let resp = read_message(&mut conn, &mut buf).await;
    assert_answers(&resp, 200, "after-ping@test", "z9hG4bKp1");
    srv.stop().await;
}
