//! OPTIONS over WebSocket (RFC 7118): the upgrade negotiates subprotocol
//! `sip` on any path, and the 200 comes back on the same connection.

mod common;

use common::*;
use sip_proto::Transport;
use tokio::net::TcpStream;

#[tokio::test]
async fn options_over_ws_gets_200_on_the_same_connection() {
    let mut srv = start(&[Transport::Ws], |_| {}).await;
    let addr = srv.addr(Transport::Ws);
    let tcp = TcpStream::connect(addr).await.unwrap();
    let local = tcp.local_addr().unwrap();
    let (mut ws, resp) = ws_handshake(tcp, &format!("ws://{addr}/any/path"), Some("sip"))
        .await
        .unwrap();
    assert_eq!(resp.headers().get("sec-websocket-protocol").unwrap(), "sip");
    for i in 0..2 {
        let (call_id, branch) = (format!("ws-{i}@test"), format!("z9hG4bKws{i}"));
        ws_send(&mut ws, &options("WS", local, &call_id, &branch)).await;
        let resp = ws_recv(&mut ws).await;
        assert_answers(&resp, 200, &call_id, &branch);
        let (_, _, peer) = srv.next_request().await;
        assert_eq!(peer.transport, Transport::Ws);
        assert_eq!(peer.remote, local);
    }
    srv.stop().await;
}
