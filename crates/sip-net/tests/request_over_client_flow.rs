//! A request the TU sends to a client goes over the connection the client
//! opened (its flow: RFC 5626, RFC 7118 for WebSocket), and the client's
//! response on that connection reaches the TU.

// Helpers below unwrap like the tests they serve.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;

use bytes::{Bytes, BytesMut};
use common::*;
use sip_msg::{Method, SipMessage};
use sip_proto::Transport;
use tokio::net::TcpStream;

fn message_to(
    client: SocketAddr,
    via_transport: &str,
    server: SocketAddr,
    branch: &str,
) -> SipMessage {
    let raw = format!(
        "MESSAGE sip:client@{client} SIP/2.0\r\n\
Via: SIP/2.0/{via_transport} {server};branch={branch}\r\n\
Max-Forwards: 70\r\n\
From: <sip:server@127.0.0.1>;tag=s1\r\n\
To: <sip:client@127.0.0.1>\r\n\
Call-ID: back-{branch}@test\r\n\
CSeq: 1 MESSAGE\r\n\
Content-Type: text/plain\r\n\
Content-Length: 5\r\n\r\nhello"
    );
    SipMessage::parse(Bytes::from(raw)).unwrap()
}

#[tokio::test]
async fn request_reaches_client_over_its_tcp_flow() {
    let mut srv = start(&[Transport::Tcp], |_| {}).await;
    let server = srv.addr(Transport::Tcp);
    let mut conn = TcpStream::connect(server).await.unwrap();
    let local = conn.local_addr().unwrap();
    let mut buf = BytesMut::new();
    write_all(
        &mut conn,
        request("REGISTER", "TCP", local, "reg@test", "z9hG4bKreg").as_bytes(),
    )
    .await;
    assert_answers(
        &read_message(&mut conn, &mut buf).await,
        200,
        "reg@test",
        "z9hG4bKreg",
    );
    let (_, _, peer) = srv.next_request().await;

    let key = srv
        .handle
        .send_request(message_to(local, "TCP", server, "z9hG4bKback1"), peer)
        .await
        .unwrap();
    let req = read_message(&mut conn, &mut buf).await;
    assert_eq!(req.method(), Some(Method::Message));
    assert_eq!(&req.body()[..], b"hello");
    write_all(&mut conn, &answer(&req, 200)).await;
    loop {
        if let Seen::Response { key: k, msg } = srv.next_seen().await {
            assert_eq!(k, key);
            assert_eq!(msg.status(), Some(200));
            break;
        }
    }
    srv.stop().await;
}

#[tokio::test]
async fn request_reaches_client_over_its_websocket_flow() {
    let mut srv = start(&[Transport::Ws], |_| {}).await;
    let server = srv.addr(Transport::Ws);
    let tcp = TcpStream::connect(server).await.unwrap();
    let local = tcp.local_addr().unwrap();
    let (mut ws, _) = ws_handshake(tcp, &format!("ws://{server}/"), Some("sip"))
        .await
        .unwrap();
    ws_send(
        &mut ws,
        &request("REGISTER", "WS", local, "wsreg@test", "z9hG4bKwsreg"),
    )
    .await;
    assert_answers(&ws_recv(&mut ws).await, 200, "wsreg@test", "z9hG4bKwsreg");
    let (_, _, peer) = srv.next_request().await;

    let key = srv
        .handle
        .send_request(message_to(local, "WS", server, "z9hG4bKback2"), peer)
        .await
        .unwrap();
    let req = ws_recv(&mut ws).await;
    assert_eq!(req.method(), Some(Method::Message));
    ws_send(&mut ws, std::str::from_utf8(&answer(&req, 200)).unwrap()).await;
    loop {
        if let Seen::Response { key: k, msg } = srv.next_seen().await {
            assert_eq!(k, key);
            assert_eq!(msg.status(), Some(200));
            break;
        }
    }
    // Once the client is gone its flow is dead: sending fails at once.
    drop(ws);
    loop {
        if let Seen::FlowClosed(p) = srv.next_seen().await {
            assert_eq!(p.flow, peer.flow);
            break;
        }
    }
    let err = srv
        .handle
        .send_request(message_to(local, "WS", server, "z9hG4bKback3"), peer)
        .await
        .unwrap_err();
    assert!(matches!(err, sip_net::NetError::FlowClosed(_)), "{err}");
    srv.stop().await;
}
