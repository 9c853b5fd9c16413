//! OPTIONS over secure WebSocket: TLS, then the RFC 7118 upgrade, then the
//! 200 on the same connection.

mod common;

use common::*;
use sip_proto::Transport;

#[tokio::test]
async fn options_over_wss_gets_200_on_the_same_connection() {
    let mut srv = start(&[Transport::Wss], |_| {}).await;
    let addr = srv.addr(Transport::Wss);
    let tls = tls_connect(addr, &srv.ca_pem).await;
    let local = tls.get_ref().0.local_addr().unwrap();
    let (mut ws, resp) = ws_handshake(tls, &format!("wss://{addr}/"), Some("sip"))
        .await
        .unwrap();
    assert_eq!(resp.headers().get("sec-websocket-protocol").unwrap(), "sip");
    let (call_id, branch) = ("wss-1@test", "z9hG4bKwss1");
    ws_send(&mut ws, &options("WSS", local, call_id, branch)).await;
    let resp = ws_recv(&mut ws).await;
    assert_answers(&resp, 200, call_id, branch);
    let (_, _, peer) = srv.next_request().await;
    assert_eq!(peer.transport, Transport::Wss);
    srv.stop().await;
}
