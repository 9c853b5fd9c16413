//! Shutdown drains: listeners close, new requests get 503 (RFC 3261
//! §21.5.4), a transaction still waiting for the TU gets its answer out,
//! then `run` returns `Ok`.

mod common;

use std::time::Duration;

use bytes::BytesMut;
use common::*;
use sip_proto::Transport;
use tokio::net::TcpStream;

#[tokio::test]
async fn shutdown_returns_ok_and_closes_listeners() {
    let srv = start(&[Transport::Udp, Transport::Tcp, Transport::Ws], |_| {}).await;
    let tcp = srv.addr(Transport::Tcp);
    let ws = srv.addr(Transport::Ws);
    let mut conn = TcpStream::connect(tcp).await.unwrap();
    let local = conn.local_addr().unwrap();
    write_all(
        &mut conn,
        options("TCP", local, "s1@test", "z9hG4bKs1").as_bytes(),
    )
    .await;
    let mut buf = BytesMut::new();
    assert_answers(
        &read_message(&mut conn, &mut buf).await,
        200,
        "s1@test",
        "z9hG4bKs1",
    );

    srv.stop().await;
    assert!(
        TcpStream::connect(tcp).await.is_err(),
        "TCP listener still open"
    );
    assert!(
        TcpStream::connect(ws).await.is_err(),
        "WS listener still open"
    );
    expect_closed(&mut conn, Duration::from_secs(2)).await;
}

#[tokio::test]
async fn drain_lets_a_live_transaction_finish() {
    let mut srv = start_with(&[Transport::Tcp], false, |_| {}).await;
    let mut conn = TcpStream::connect(srv.addr(Transport::Tcp)).await.unwrap();
    let local = conn.local_addr().unwrap();
    let mut buf = BytesMut::new();
    write_all(
        &mut conn,
        options("TCP", local, "live@test", "z9hG4bKlive").as_bytes(),
    )
    .await;
    let (key, req, _) = srv.next_request().await;

    srv.shutdown.cancel();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!srv.task.is_finished(), "returned with a live transaction");

    // A new request while draining: 503, not the TU.
    write_all(
        &mut conn,
        options("TCP", local, "new@test", "z9hG4bKnew").as_bytes(),
    )
    .await;
    let resp = read_message(&mut conn, &mut buf).await;
    assert_answers(&resp, 503, "new@test", "z9hG4bKnew");
    assert!(resp.header(sip_msg::HeaderName::RetryAfter).is_some());

    // The TU answers the live one; it goes out, then run returns.
    let ok = sip_proto::stateless_response(&req, 200, Some(&sip_proto::Tag::from("late"))).unwrap();
    srv.handle.respond(key, ok).await.unwrap();
    let resp = read_message(&mut conn, &mut buf).await;
    assert_answers(&resp, 200, "live@test", "z9hG4bKlive");
    let r = tokio::time::timeout(Duration::from_secs(5), srv.task)
        .await
        .expect("run did not return after the drain")
        .unwrap();
    assert!(r.is_ok());
}
