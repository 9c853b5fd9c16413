//! Two [`msrp_net::Endpoint`]s talk through a real MSRP relay
//! (`msrp_relay::RelayServer` on 127.0.0.1): each AUTHs with digest
//! (RFC 4976 §5.1) and gets a Use-Path, alice sends bob a 1 MB message in
//! 64 KB chunks, which bob receives reassembled byte-exact, and bob answers;
//! a wrong password is refused.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::time::Duration;

use bytes::Bytes;
use msrp::MsrpUri;
use msrp_net::{Endpoint, EndpointError};
use msrp_relay::{AuthBackend, AuthRequest, AuthVerdict, DriverConfig, ListenSpec, RelayServer};
use tokio_util::sync::CancellationToken;

/// Digest against one password for every user, realm "test".
struct OnePassword;

const CHALLENGE: &str = "Digest realm=\"test\", nonce=\"n0nce\", qop=\"auth\", algorithm=SHA-256";

impl AuthBackend for OnePassword {
    async fn verify(&self, req: AuthRequest) -> AuthVerdict {
        let challenge = AuthVerdict::Challenge {
            www_authenticate: vec![CHALLENGE.to_owned()],
        };
        let Some(a) = req.authorization.first() else {
            return challenge;
        };
        let Ok(creds) = sip_msg::auth::Credentials::parse(a) else {
            return challenge;
        };
        let Some(user) = creds.username().map(|u| u.into_owned()) else {
            return challenge;
        };
        let ha1 = sip_auth::ha1(sip_auth::Algorithm::Sha256, &user, "test", "pw");
        match sip_auth::verify(&creds, AuthRequest::METHOD, &req.digest_uri, b"", &ha1) {
            Ok(_) => AuthVerdict::Authenticated {
                user,
                authentication_info: None,
            },
            Err(_) => challenge,
        }
    }
}

fn me(session: &str) -> MsrpUri {
    MsrpUri::parse(&format!("msrp://127.0.0.1:9/{session};tcp")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_endpoints_chat_through_a_relay() {
    let cfg = DriverConfig {
        listeners: vec![ListenSpec {
            addr: "127.0.0.1:0".parse().unwrap(),
            tls: None,
        }],
        ..DriverConfig::default()
    };
    let relay = RelayServer::bind(cfg, OnePassword).await.unwrap();
    let addr = relay.local_addrs()[0].1;
    let relay_uri = relay.uris()[0].clone();
    let stop = CancellationToken::new();
    let running = tokio::spawn(relay.run(stop.clone()));

    let mut alice = Endpoint::connect(addr, me("alice1")).await.unwrap();
    let mut bob = Endpoint::connect(addr, me("bob1")).await.unwrap();
    let ua = alice.auth(&relay_uri, "alice", "pw", None).await.unwrap();
    let ub = bob.auth(&relay_uri, "bob", "pw", Some(600)).await.unwrap();
    assert_eq!(ua.use_path.len(), 1);
    assert_ne!(ua.use_path, ub.use_path, "each session its own token");
    assert!(ub.expires.is_some());

    // A wrong password: refused, no grant.
    let mut mallory = Endpoint::connect(addr, me("m1")).await.unwrap();
    match mallory.auth(&relay_uri, "mallory", "guess", None).await {
        Err(EndpointError::Refused { status, .. }) => assert!(status == 401 || status == 403),
        other => panic!("{other:?}"),
    }

    // alice → bob: her relay session, his path from his SDP (Use-Path, him).
    let to_bob = [
        ua.use_path[0].clone(),
        ub.use_path[0].clone(),
        bob.uri().clone(),
    ];
    let body: Bytes = (0..1_000_000u32)
        .map(|i| (i % 251) as u8)
        .collect::<Vec<u8>>()
        .into();
    let sent = body.clone();
    let sender = tokio::spawn(async move {
        let id = alice
            .send_message(&to_bob, "application/octet-stream", sent, 64 * 1024)
            .await
            .unwrap();
        (alice, id)
    });
    let got = tokio::time::timeout(Duration::from_secs(20), bob.recv_message())
        .await
        .expect("in time")
        .unwrap();
    let (mut alice, id) = sender.await.unwrap();
    assert_eq!(got.message_id, id);
    assert_eq!(got.body, body);
    assert_eq!(
        got.content_type.as_deref(),
        Some("application/octet-stream")
    );

    // bob → alice.
    let to_alice = [
        ub.use_path[0].clone(),
        ua.use_path[0].clone(),
        alice.uri().clone(),
    ];
    bob.send_message(&to_alice, "text/plain", Bytes::from("Grüße ✓"), 2048)
        .await
        .unwrap();
    let back = tokio::time::timeout(Duration::from_secs(10), alice.recv_message())
        .await
        .expect("in time")
        .unwrap();
    assert_eq!(&back.body[..], "Grüße ✓".as_bytes());
    stop.cancel();
    let _ = running.await;
}

/// The same over `msrps:` (RFC 4975 §6, RFC 4976 §9.2): a TLS listener
/// with a test certificate, endpoints trusting it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_over_tls() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let tls = msrp_relay::server_config_from_pem_files(&cert_path, &key_path).unwrap();
    let cfg = DriverConfig {
        listeners: vec![ListenSpec {
            addr: "127.0.0.1:0".parse().unwrap(),
            tls: Some(tls),
        }],
        host: Some("localhost".to_owned()),
        ..DriverConfig::default()
    };
    let relay = RelayServer::bind(cfg, OnePassword).await.unwrap();
    let addr = relay.local_addrs()[0].1;
    let relay_uri = relay.uris()[0].clone();
    assert!(relay_uri.is_secure(), "{relay_uri}");
    let stop = CancellationToken::new();
    let running = tokio::spawn(relay.run(stop.clone()));
    let client = sip_net::client_config_trusting(cert.cert.pem().as_bytes()).unwrap();
    let tls_me = |s: &str| MsrpUri::parse(&format!("msrps://127.0.0.1:9/{s};tcp")).unwrap();
    let mut alice = Endpoint::connect_tls(addr, "localhost", client.clone(), tls_me("a2"))
        .await
        .unwrap();
    let mut bob = Endpoint::connect_tls(addr, "localhost", client, tls_me("b2"))
        .await
        .unwrap();
    let ua = alice.auth(&relay_uri, "alice", "pw", None).await.unwrap();
    let ub = bob.auth(&relay_uri, "bob", "pw", None).await.unwrap();
    assert!(ua.use_path[0].is_secure());
    let to_bob = [
        ua.use_path[0].clone(),
        ub.use_path[0].clone(),
        bob.uri().clone(),
    ];
    let body = Bytes::from(vec![7u8; 200_000]);
    let sent = body.clone();
    let sender = tokio::spawn(async move {
        alice
            .send_message(&to_bob, "application/octet-stream", sent, 16 * 1024)
            .await
            .unwrap()
    });
    let got = tokio::time::timeout(Duration::from_secs(20), bob.recv_message())
        .await
        .expect("in time")
        .unwrap();
    assert_eq!(got.message_id, sender.await.unwrap());
    assert_eq!(got.body, body);
    stop.cancel();
    let _ = running.await;
}
