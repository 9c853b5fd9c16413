//! A request to a TCP or TLS peer with no open flow makes the server connect
//! (client side); a refused connect is a transport error for the
//! transaction (RFC 3261 §18.4, §8.1.3.1).

// Helpers below unwrap like the tests they serve.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use common::*;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sip_msg::{Method, SipMessage};
use sip_net::NO_FLOW;
use sip_proto::{Peer, Transport};
use tokio::net::TcpListener;

fn message(target: SocketAddr, transport: &str, branch: &str) -> SipMessage {
    let raw = format!(
        "MESSAGE sip:peer@{target} SIP/2.0\r\n\
Via: SIP/2.0/{transport} 127.0.0.1;branch={branch}\r\n\
Max-Forwards: 70\r\n\
From: <sip:server@127.0.0.1>;tag=s1\r\n\
To: <sip:peer@127.0.0.1>\r\n\
Call-ID: out-{branch}@test\r\n\
CSeq: 1 MESSAGE\r\n\
Content-Length: 0\r\n\r\n"
    );
    SipMessage::parse(Bytes::from(raw)).unwrap()
}

async fn expect_response(srv: &mut Running, key: sip_proto::TransactionKey) {
    loop {
        if let Seen::Response { key: k, msg } = srv.next_seen().await {
            assert_eq!(k, key);
            assert_eq!(msg.status(), Some(200));
            return;
        }
    }
}

#[tokio::test]
async fn request_to_tcp_peer_opens_a_connection() {
    let mut srv = start(&[Transport::Tcp], |_| {}).await;
    let peer_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = peer_listener.local_addr().unwrap();
    let key = srv
        .handle
        .send_request(
            message(target, "TCP", "z9hG4bKo1"),
            Peer::new(Transport::Tcp, target, NO_FLOW),
        )
        .await
        .unwrap();
    let (mut conn, _) = peer_listener.accept().await.unwrap();
    let mut buf = BytesMut::new();
    let req = read_message(&mut conn, &mut buf).await;
    assert_eq!(req.method(), Some(Method::Message));
    write_all(&mut conn, &answer(&req, 200)).await;
    expect_response(&mut srv, key).await;

    // A second request to the same address reuses the connection (§18.1.1).
    let key = srv
        .handle
        .send_request(
            message(target, "TCP", "z9hG4bKo2"),
            Peer::new(Transport::Tcp, target, NO_FLOW),
        )
        .await
        .unwrap();
    let req = read_message(&mut conn, &mut buf).await;
    write_all(&mut conn, &answer(&req, 200)).await;
    expect_response(&mut srv, key).await;
    srv.stop().await;
}

#[tokio::test]
async fn request_to_tls_peer_opens_a_tls_connection() {
    let mut srv = start(&[Transport::Tls], |_| {}).await;
    let certs = CertificateDer::pem_slice_iter(&srv.cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(&srv.key_pem).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let peer_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = peer_listener.local_addr().unwrap();
    let key = srv
        .handle
        .send_request(
            message(target, "TLS", "z9hG4bKt1"),
            Peer::new(Transport::Tls, target, NO_FLOW),
        )
        .await
        .unwrap();
    let (tcp, _) = peer_listener.accept().await.unwrap();
    let mut conn = acceptor.accept(tcp).await.unwrap();
    let mut buf = BytesMut::new();
    let req = read_message(&mut conn, &mut buf).await;
    assert_eq!(req.method(), Some(Method::Message));
    write_all(&mut conn, &answer(&req, 200)).await;
    expect_response(&mut srv, key).await;
    srv.stop().await;
}

#[tokio::test]
async fn refused_connect_is_a_transport_error() {
    let mut srv = start(&[Transport::Tcp], |_| {}).await;
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap()
    };
    let key = srv
        .handle
        .send_request(
            message(closed, "TCP", "z9hG4bKr1"),
            Peer::new(Transport::Tcp, closed, NO_FLOW),
        )
        .await
        .unwrap();
    loop {
        if let Seen::TransportError(k) = srv.next_seen().await {
            assert_eq!(k, key);
            break;
        }
    }
    srv.stop().await;
}
