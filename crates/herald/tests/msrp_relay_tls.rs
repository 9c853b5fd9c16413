//! The MSRP relay on an `msrps:` listener (RFC 4976 §9.2: relays act as TLS
//! servers; clients AUTH over TLS): with the server's [tls] certificate,
//! AUTH works over TLS, the Use-Path URI is `msrps:` with the listener's
//! port, and two TLS clients exchange a SEND through it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use common::msrp::MsrpConn;
use common::{Server, TempFile, add_user};

#[test]
fn auth_and_send_over_tls() {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let cert_pem = TempFile::new("cert.pem", &cert.cert.pem());
    let key_pem = TempFile::new("key.pem", &cert.signing_key.serialize_pem());
    let cfg = TempFile::new(
        "tls.toml",
        &format!(
            "[tls]\ncert = \"{}\"\nkey = \"{}\"\n",
            cert_pem.0.display(),
            key_pem.0.display()
        ),
    );
    let s = Server::start(&[
        "--config",
        cfg.0.to_str().unwrap(),
        "--listen",
        "msrps:127.0.0.1:0",
    ]);
    add_user(&s.data_dir, "alice@example.test", "secret");
    add_user(&s.data_dir, "bob@example.test", "secret");
    let relay = s.msrps.expect("an msrps listener");
    let ca = cert.cert.der().clone();

    let mut alice = MsrpConn::connect_tls(relay, &ca);
    let ua = alice.auth_ok("alice", "secret");
    assert!(ua.is_secure(), "{ua}");
    assert_eq!(ua.port(), Some(relay.port()));
    let mut bob = MsrpConn::connect_tls(relay, &ca);
    let ub = bob.auth_ok("bob", "secret");

    let f = alice.send_frame(&[ua, ub, bob.me.clone()], b"over TLS");
    alice.send(&f);
    assert_eq!(alice.recv().unwrap().status(), Some(200));
    let got = bob.recv().unwrap();
    assert_eq!(got.body().unwrap().as_ref(), b"over TLS");
    bob.send(&got.response(200, Some("OK")).unwrap());
    assert_eq!(s.stop(), Some(0), "graceful stop with TLS connections open");
}
