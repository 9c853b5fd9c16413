//! Extra HTTP routes (XCAP, later) share the WebSocket listener: they answer
//! their paths, and SIP upgrades still work everywhere else.

mod common;

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use common::*;
use sip_proto::Transport;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

#[tokio::test]
async fn http_routes_and_sip_upgrades_share_the_listener() {
    let srv = start(&[Transport::Ws], |c| {
        c.http_routes =
            Some(Router::new().route("/xcap-root/{*rest}", get(|| async { "xcap here" })));
    })
    .await;
    let addr = srv.addr(Transport::Ws);

    let mut conn = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "GET /xcap-root/pres-rules/users HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    );
    write_all(&mut conn, req.as_bytes()).await;
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), conn.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.ends_with("xcap here"), "{text}");

    let tcp = TcpStream::connect(addr).await.unwrap();
    let local = tcp.local_addr().unwrap();
    let (mut ws, _) = ws_handshake(tcp, &format!("ws://{addr}/sip"), Some("sip"))
        .await
        .unwrap();
    ws_send(&mut ws, &options("WS", local, "merged@test", "z9hG4bKm1")).await;
    assert_answers(&ws_recv(&mut ws).await, 200, "merged@test", "z9hG4bKm1");
    srv.stop().await;
}
