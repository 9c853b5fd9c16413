//! XCAP authentication with HTTP Basic (RFC 7617), which RFC 4825 §5.3
//! allows only over TLS: with curl (an independent HTTP client) against an
//! `https:` listener Basic credentials are accepted and checked against the
//! stored HA1s (a wrong password stays at 401, and the 401 offers Basic
//! beside digest); on a plain `http:` listener Basic is never accepted and
//! never offered.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Server, TempFile, add_user, run_bounded};

const RULES: &str = "<cr:ruleset xmlns=\"urn:ietf:params:xml:ns:pres-rules\" xmlns:cr=\"urn:ietf:params:xml:ns:common-policy\"><cr:rule id=\"a\"><cr:conditions/><cr:actions><sub-handling>allow</sub-handling></cr:actions><cr:transformations/></cr:rule></cr:ruleset>";

/// curl's status code, the response headers and body.
fn curl(args: &[&str]) -> (String, String) {
    let run = run_bounded(
        Command::new("curl")
            .args(["-s", "-k", "-D", "-", "-w", "\n%{http_code}"])
            .args(args),
        Duration::from_secs(20),
        "curl (Debian package curl)",
    );
    assert!(!run.timed_out);
    let (out, code) = run.stdout.rsplit_once('\n').unwrap();
    (code.to_owned(), out.to_owned())
}

#[test]
fn basic_is_accepted_over_tls_only() {
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
        "https:127.0.0.1:0",
    ]);
    add_user(&s.data_dir, "alice@example.test", "pw ✓");
    let path = "/xcap-root/pres-rules/users/sip:alice@example.test/index";
    let https = format!("https://{}{path}", s.wss.expect("an https listener"));
    let http = format!("http://{}{path}", s.ws.unwrap());
    let file = TempFile::new("rules.xml", RULES);
    let body = format!("@{}", file.0.display());
    let put = |url: &str, user: &str| {
        curl(&[
            "--basic",
            "-u",
            user,
            "-X",
            "PUT",
            "-H",
            "Content-Type: application/auth-policy+xml",
            "--data-binary",
            &body,
            url,
        ])
    };
    // Over TLS: Basic works, with the password checked.
    let (code, out) = put(&https, "alice@example.test:pw ✓");
    assert_eq!(code, "201", "{out}");
    let (code, out) = curl(&["--basic", "-u", "alice:pw ✓", &https]);
    assert_eq!(code, "200", "{out}");
    assert!(out.contains("sub-handling"), "{out}");
    let (code, out) = put(&https, "alice@example.test:wrong");
    assert_eq!(code, "401", "{out}");
    assert!(
        out.to_ascii_lowercase().contains("www-authenticate: basic"),
        "{out}"
    );
    assert!(
        out.to_ascii_lowercase()
            .contains("www-authenticate: digest"),
        "{out}"
    );
    // Plain HTTP: Basic is neither accepted nor offered.
    let (code, out) = put(&http, "alice@example.test:pw ✓");
    assert_eq!(code, "401", "{out}");
    assert!(
        !out.to_ascii_lowercase().contains("www-authenticate: basic"),
        "{out}"
    );
    // Digest still works over TLS (its username is the user part: the HA1
    // is H(user:realm:password)).
    add_user(&s.data_dir, "bob@example.test", "pw");
    let bob = https.replace("sip:alice@", "sip:bob@");
    let (code, out) = curl(&[
        "--digest",
        "-u",
        "bob:pw",
        "-X",
        "PUT",
        "-H",
        "Content-Type: application/auth-policy+xml",
        "--data-binary",
        &body,
        &bob,
    ]);
    assert_eq!(code, "201", "{out}");
}
