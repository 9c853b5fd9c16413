//! `NetConfig::ws_subprotocols`: an upgrade offering another subprotocol
//! (here `msrp`, RFC 7977) is accepted with that subprotocol and handed
//! over whole: each WebSocket message (text or binary) is one item of the
//! stream, each item sent is one message (text when UTF-8, binary
//! otherwise), and the addresses are those of the connection. `sip` still
//! wins when offered too.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::*;
use futures_util::{SinkExt, StreamExt};
use sip_net::{WsConnection, WsSubprotocol};
use sip_proto::Transport;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn other_subprotocol_echoes_whole_messages() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(std::net::SocketAddr, bool)>();
    let echo = WsSubprotocol {
        name: "msrp".to_owned(),
        max_message_size: 1 << 20,
        accept: Arc::new(move |mut c: WsConnection| {
            let _ = tx.send((c.remote, c.secure));
            tokio::spawn(async move {
                while let Some(m) = c.incoming.next().await {
                    if c.outgoing.send(m).await.is_err() {
                        return;
                    }
                }
                let _ = c.outgoing.close().await;
            });
        }),
    };
    let srv = start(&[Transport::Ws], move |c| c.ws_subprotocols.push(echo)).await;
    let addr = srv.addr(Transport::Ws);

    let tcp = TcpStream::connect(addr).await.unwrap();
    let mine = tcp.local_addr().unwrap();
    let (mut ws, resp) = ws_handshake(tcp, &format!("ws://{addr}/any/path"), Some("msrp"))
        .await
        .unwrap();
    assert_eq!(resp.headers()["Sec-WebSocket-Protocol"], "msrp");
    assert_eq!(rx.recv().await.unwrap(), (mine, false));

    let binary = Bytes::from(vec![0u8, 0xff, 0xfe, 1, 2, 3]);
    ws.send(Message::Binary(binary.clone())).await.unwrap();
    ws.send(Message::text("MSRP a SEND\r\n")).await.unwrap();
    let mut got = Vec::new();
    while got.len() < 2 {
        let m = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if matches!(m, Message::Binary(_) | Message::Text(_)) {
            got.push(m);
        }
    }
    assert_eq!(got[0], Message::Binary(binary));
    assert_eq!(got[1], Message::text("MSRP a SEND\r\n"));
    ws.close(None).await.unwrap();

    // Offered together, `sip` is chosen: SIP over WebSocket is unchanged.
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (_, resp) = ws_handshake(tcp, &format!("ws://{addr}/"), Some("msrp, sip"))
        .await
        .unwrap();
    assert_eq!(resp.headers()["Sec-WebSocket-Protocol"], "sip");
    srv.stop().await;
}
