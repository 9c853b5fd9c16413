//! WebSocket keep-alive is the WebSocket layer's: a Ping frame gets a Pong
//! with the same payload, and SIP goes on over the connection.

mod common;

use std::time::Duration;

use common::*;
use futures_util::{SinkExt, StreamExt};
use sip_proto::Transport;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn ws_ping_gets_pong() {
    let srv = start(&[Transport::Ws], |_| {}).await;
    let addr = srv.addr(Transport::Ws);
    let tcp = TcpStream::connect(addr).await.unwrap();
    let local = tcp.local_addr().unwrap();
    let (mut ws, _) = ws_handshake(tcp, &format!("ws://{addr}/"), Some("sip"))
        .await
        .unwrap();
    ws.send(Message::Ping(bytes::Bytes::from_static(b"ka1")))
        .await
        .unwrap();
    let pong = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(pong, Message::Pong(bytes::Bytes::from_static(b"ka1")));

    ws_send(
        &mut ws,
        &options("WS", local, "after-ping@test", "z9hG4bKwp"),
    )
    .await;
    assert_answers(&ws_recv(&mut ws).await, 200, "after-ping@test", "z9hG4bKwp");
    srv.stop().await;
}
