//! RFC 7118 §4.1: a WebSocket upgrade without subprotocol `sip` is refused
//! (400), and plain HTTP on a SIP WebSocket path gets 426 Upgrade Required.

// Helpers below unwrap like the tests they serve.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::*;
use sip_proto::Transport;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite;

pub async fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut conn = TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    write_all(&mut conn, req.as_bytes()).await;
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), conn.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn upgrade_without_sip_is_refused() {
    let srv = start(&[Transport::Ws], |_| {}).await;
    let addr = srv.addr(Transport::Ws);
    let tcp = TcpStream::connect(addr).await.unwrap();
    match ws_handshake(tcp, &format!("ws://{addr}/"), None).await {
        Err(tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 400),
        other => panic!("expected HTTP 400, got {other:?}"),
    }
    let tcp = TcpStream::connect(addr).await.unwrap();
    match ws_handshake(tcp, &format!("ws://{addr}/"), Some("msrp")).await {
        Err(tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 400),
        other => panic!("expected HTTP 400, got {other:?}"),
    }
    let plain = http_get(addr, "/").await;
    assert!(plain.starts_with("HTTP/1.1 426"), "{plain}");
    srv.stop().await;
}
