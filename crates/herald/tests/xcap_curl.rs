//! XCAP with curl, an independent HTTP client and digest implementation:
//! it answers the server's challenge (SHA-256 first, RFC 7616) to PUT and
//! GET a pres-rules document; a wrong password stays at 401.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Server, TempFile, add_user, run_bounded};

const RULES: &str = "<cr:ruleset xmlns=\"urn:ietf:params:xml:ns:pres-rules\" xmlns:cr=\"urn:ietf:params:xml:ns:common-policy\"><cr:rule id=\"a\"><cr:conditions/><cr:actions><sub-handling>confirm</sub-handling></cr:actions><cr:transformations/></cr:rule></cr:ruleset>";

fn curl(args: &[&str]) -> (String, String) {
    let run = run_bounded(
        Command::new("curl")
            .args(["-s", "-w", "\n%{http_code}"])
            .args(args),
        Duration::from_secs(20),
        "curl (Debian package curl)",
    );
    assert!(!run.timed_out);
    let out = run.stdout;
    let (body, code) = out.rsplit_once('\n').unwrap();
    (code.to_owned(), body.to_owned())
}

#[test]
fn curl_puts_and_gets_with_digest() {
    let s = Server::start(&[]);
    add_user(&s.data_dir, "alice@example.test", "pw");
    let url = format!(
        "http://{}/xcap-root/pres-rules/users/sip:alice@example.test/index",
        s.ws.unwrap()
    );
    let file = TempFile::new("rules.xml", RULES);
    let body = format!("@{}", file.0.display());
    let (code, _) = curl(&[
        "--digest",
        "-u",
        "alice:pw",
        "-X",
        "PUT",
        "-H",
        "Content-Type: application/auth-policy+xml",
        "--data-binary",
        &body,
        &url,
    ]);
    assert_eq!(code, "201");
    let (code, got) = curl(&["--digest", "-u", "alice:pw", &url]);
    assert_eq!(code, "200");
    assert_eq!(got, RULES);
    let (code, _) = curl(&["--digest", "-u", "alice:wrong", &url]);
    assert_eq!(code, "401");
}
