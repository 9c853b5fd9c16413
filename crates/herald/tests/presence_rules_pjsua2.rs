//! Presence authorization end to end (RFC 5025 with RFC 3857 watcher
//! info): alice's rules, set with `herald rules set` while the server runs,
//! say confirm for bob; bob (pjsua2, an independent stack) subscribes to
//! her; alice's `presence.winfo` subscription shows bob pending; alice's
//! rules change to allow bob, and bob sees her presence (online, her note)
//! at once, while her winfo shows him active/approved.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;
mod ua;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{Server, TempFile};
use sip_msg::{HeaderName, SipMessage};
use ua::{Ua, add_user};

const ALICE: &str = "sip:alice@example.test";
const PACKAGE: &str = "python3 with the pjsua2 module (pip install pjsua2-python)";

fn rules(handling: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<cr:ruleset xmlns=\"urn:ietf:params:xml:ns:pres-rules\" \
xmlns:cr=\"urn:ietf:params:xml:ns:common-policy\"><cr:rule id=\"bob\"><cr:conditions><cr:identity>\
<cr:one id=\"sip:bob@example.test\"/></cr:identity></cr:conditions><cr:actions><sub-handling>{handling}</sub-handling>\
</cr:actions><cr:transformations><provide-services><all-services/></provide-services>\
<provide-persons><all-persons/></provide-persons><provide-note>true</provide-note></cr:transformations></cr:rule></cr:ruleset>\n"
    )
}

fn set_rules(s: &Server, handling: &str) {
    let f = TempFile::new("rules.xml", &rules(handling));
    let out = Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("--data-dir")
        .arg(&s.data_dir)
        .args(["rules", "set", "alice@example.test"])
        .arg(&f.0)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "rules set: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Alice's or bob's request to alice, answering the 407 (password "secret").
fn authed(
    ua: &Ua,
    user: &str,
    method: &str,
    call_id: &str,
    cseq: &mut u32,
    extra: &str,
    body: &str,
) -> SipMessage {
    ua.request_authed(method, user, "secret", ALICE, call_id, cseq, extra, body)
}

/// Alice's winfo NOTIFYs (answered) until one names bob with `status`.
fn winfo_until(alice: &Ua, status: &str, limit: Duration) -> String {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if let Some(n) = alice.request("NOTIFY", Duration::from_millis(300)) {
            alice.answer(&n, 200, "OK", "");
            let body = String::from_utf8_lossy(n.body()).into_owned();
            if n.header(HeaderName::Event) == Some("presence.winfo")
                && body.contains("sip:bob@example.test")
                && body.contains(&format!("status=\"{status}\""))
            {
                return body;
            }
        }
    }
    panic!("alice's winfo never showed bob {status}");
}

#[test]
fn confirm_then_allow_with_pjsua2_and_winfo() {
    let check = common::run_bounded(
        Command::new("python3").args(["-c", "import pjsua2"]),
        Duration::from_secs(30),
        PACKAGE,
    );
    assert!(
        check.status.is_some_and(|s| s.success()),
        "install {PACKAGE}"
    );
    let s = Server::start(&[]);
    add_user(&s.data_dir, "alice@example.test", "secret");
    add_user(&s.data_dir, "bob@example.test", "secret");
    set_rules(&s, "confirm");
    let alice = Ua::new(s.udp.unwrap());
    // Alice registers (registration feeds presence) and publishes.
    let mut rc = 1;
    let contact = format!("<sip:alice@{}>", alice.addr());
    let r = alice.register(
        "alice",
        "secret",
        "rules-reg@127.0.0.1",
        &mut rc,
        Some(&contact),
        "",
    );
    assert_eq!(r.status(), Some(200));
    let note = "in the garden";
    let pidf = format!(
        "<?xml version=\"1.0\"?><presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"{ALICE}\">\
<tuple id=\"a1\"><status><basic>open</basic></status><note>{note}</note></tuple></presence>"
    );
    let mut c = 1;
    let r = authed(
        &alice,
        "alice",
        "PUBLISH",
        "rules-pub@127.0.0.1",
        &mut c,
        "Event: presence\r\nContent-Type: application/pidf+xml\r\n",
        &pidf,
    );
    assert_eq!(r.status(), Some(200), "{:?}", r.reason());
    // Her watcher info: full state, nobody yet.
    let mut wc = 1;
    let r = authed(
        &alice,
        "alice",
        "SUBSCRIBE",
        "rules-winfo@127.0.0.1",
        &mut wc,
        "Event: presence.winfo\r\nAccept: application/watcherinfo+xml\r\nExpires: 600\r\n",
        "",
    );
    assert_eq!(r.status(), Some(200), "{:?}", r.reason());
    // The rules set before are in force (the server polls once a second).
    std::thread::sleep(Duration::from_millis(1500));

    // Bob (pjsua2) subscribes: pending.
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/pjsua2_watch.py");
    let addr = s.udp.unwrap().to_string();
    // Ended (by its pid) and reaped whatever happens below.
    struct Reap(std::process::Child);
    impl Drop for Reap {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Reap(
        Command::new("python3")
            .arg(script)
            .args([
                &addr,
                "udp",
                "example.test",
                "bob",
                "secret",
                ALICE,
                note,
                "30",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3"),
    );
    let out = child.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    let pending = winfo_until(&alice, "pending", Duration::from_secs(15));
    assert!(pending.contains("state=\"partial\""), "{pending}");
    let mut lines = Vec::new();
    while let Ok(l) = rx.try_recv() {
        lines.push(l);
    }
    assert!(
        !lines.iter().any(|l| l.contains(note)),
        "bob must not see alice's note while pending: {lines:?}"
    );

    // Alice allows bob: he sees her at once, her winfo says approved.
    let t = Instant::now();
    set_rules(&s, "allow");
    let approved = winfo_until(&alice, "active", Duration::from_secs(10));
    assert!(approved.contains("event=\"approved\""), "{approved}");
    let end = Instant::now() + Duration::from_secs(30);
    let mut status = None;
    while Instant::now() < end {
        if let Ok(Some(st)) = child.0.try_wait() {
            status = Some(st);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    while let Ok(l) = rx.try_recv() {
        lines.push(l);
    }
    let mut err = String::new();
    let _ = std::io::Read::read_to_string(&mut child.0.stderr.take().unwrap(), &mut err);
    assert!(
        status.is_some_and(|s| s.success()),
        "bob did not see alice: {lines:?}\n{err}"
    );
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "allowed within the poll period, not {:?}",
        t.elapsed()
    );
}
