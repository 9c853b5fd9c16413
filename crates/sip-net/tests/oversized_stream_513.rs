//! A stream message larger than max_message_size is answered 513 Message
//! Too Large (RFC 3261 §21.5.14) and the connection is closed: the stream
//! cannot be framed past it.

mod common;

use std::time::Duration;

use bytes::BytesMut;
use common::*;
use sip_proto::Transport;
use tokio::net::TcpStream;

#[tokio::test]
async fn oversized_message_gets_513_and_close() {
    let srv = start(&[Transport::Tcp], |c| c.max_message_size = 2048).await;
    let mut conn = TcpStream::connect(srv.addr(Transport::Tcp)).await.unwrap();
    let local = conn.local_addr().unwrap();
    let body = "x".repeat(4000);
    let req = request("MESSAGE", "TCP", local, "big@test", "z9hG4bKbig").replace(
        "Content-Length: 0\r\n\r\n",
        &format!(
            "Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
    write_all(&mut conn, req.as_bytes()).await;
    let mut buf = BytesMut::new();
    let resp = read_message(&mut conn, &mut buf).await;
    assert_answers(&resp, 513, "big@test", "z9hG4bKbig");
    expect_closed(&mut conn, Duration::from_secs(5)).await;
    srv.stop().await;
}
