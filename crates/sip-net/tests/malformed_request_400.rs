//! A request that fails the core checks is answered statelessly with the
//! parse error's status and reason (RFC 3261 §8.2.6, §21.4.1), and over TCP
//! the connection stays usable.

mod common;

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use common::*;
use sip_msg::SipMessage;
use sip_net::NetStats;
use sip_proto::Transport;
use tokio::net::{TcpStream, UdpSocket};

fn without_call_id(transport: &str, local: std::net::SocketAddr, branch: &str) -> String {
    options(transport, local, "gone@test", branch).replace("Call-ID: gone@test\r\n", "")
}

#[tokio::test]
async fn missing_call_id_over_udp_gets_400_with_reason() {
    let srv = start(&[Transport::Udp], |_| {}).await;
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let local = client.local_addr().unwrap();
    client
        .send_to(
            without_call_id("UDP", local, "z9hG4bKbad1").as_bytes(),
            srv.addr(Transport::Udp),
        )
        .await
        .unwrap();
    let mut buf = vec![0u8; 65535];
    let n = tokio::time::timeout(Duration::from_secs(5), client.recv(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let resp = SipMessage::parse(Bytes::copy_from_slice(&buf[..n])).unwrap();
    assert_eq!(resp.status(), Some(400));
    assert_eq!(resp.reason(), Some("Missing Call-ID"));
    assert_eq!(resp.via().unwrap().branch(), Some("z9hG4bKbad1"));
    assert_eq!(top_via_rport(&resp), Some(local.port()));
    assert!(resp.to().unwrap().tag().is_some(), "§8.2.6.2: To tag added");
    assert_eq!(NetStats::get(&srv.stats.answered_400), 1);
    assert_eq!(
        NetStats::get(&srv.stats.received),
        0,
        "never reached the TU"
    );
    srv.stop().await;
}

#[tokio::test]
async fn broken_request_over_tcp_gets_400_and_the_connection_stays() {
    let mut srv = start(&[Transport::Tcp], |_| {}).await;
    let mut conn = TcpStream::connect(srv.addr(Transport::Tcp)).await.unwrap();
    let local = conn.local_addr().unwrap();
    let mut buf = BytesMut::new();

    write_all(
        &mut conn,
        without_call_id("TCP", local, "z9hG4bKbad2").as_bytes(),
    )
    .await;
    let resp = read_message(&mut conn, &mut buf).await;
    assert_eq!(resp.status(), Some(400));
    assert_eq!(resp.reason(), Some("Missing Call-ID"));

    // A header line the parser refuses (no colon): the frame is still
    // delimited by Content-Length, so the stream stays in step.
    let broken = options("TCP", local, "broken@test", "z9hG4bKbad3")
        .replace("Max-Forwards: 70\r\n", "This line is broken\r\n");
    write_all(&mut conn, broken.as_bytes()).await;
    let resp = read_message(&mut conn, &mut buf).await;
    assert_eq!(resp.status(), Some(400));
    assert_eq!(resp.call_id().unwrap(), "broken@test");
    assert!(resp.reason().unwrap().contains("colon"), "{resp}");

    write_all(
        &mut conn,
        options("TCP", local, "good@test", "z9hG4bKgood").as_bytes(),
    )
    .await;
    let resp = read_message(&mut conn, &mut buf).await;
    assert_answers(&resp, 200, "good@test", "z9hG4bKgood");
    let (_, msg, _) = srv.next_request().await;
    assert_eq!(msg.call_id().unwrap(), "good@test");
    srv.stop().await;
}
