//! REGISTER with digest authentication against the real server (RFC 3261
//! §22, RFC 7616, RFC 8760): challenges offered SHA-256 first then MD5,
//! success with either, a wrong password never reaches 200, a replayed
//! nonce-count is refused, a stale nonce gets `stale=true`, and an
//! authenticated user cannot register someone else's AOR.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;
mod ua;

use std::time::Duration;

use common::Server;
use sip_msg::HeaderName;
use ua::{Ua, add_user, authorization};

#[test]
fn digest_register_success_failure_replay_and_ownership() {
    let s = Server::start(&[]);
    add_user(&s.data_dir, "alice@example.test", "wonderland");
    add_user(&s.data_dir, "bob@example.test", "builder");
    let ua = Ua::new(s.udp.unwrap());
    let contact = format!("<sip:alice@{}>", ua.addr());

    // No credentials: 401 with SHA-256 first, then MD5 (RFC 8760 §2.4).
    ua.send(&ua.register_raw("alice", "c1", 1, Some(&contact), "", None));
    let r = ua.final_for("c1");
    assert_eq!(r.status(), Some(401));
    let algs: Vec<String> = r
        .header_lines(HeaderName::WwwAuthenticate)
        .map(|l| {
            sip_msg::auth::Challenge::parse(l)
                .unwrap()
                .algorithm()
                .unwrap()
                .as_str()
                .to_owned()
        })
        .collect();
    assert_eq!(algs, ["SHA-256", "MD5"]);

    // SHA-256 answer: 200 with the binding and Authentication-Info.
    let auth = authorization(
        &r,
        "alice",
        "wonderland",
        "REGISTER",
        "sip:example.test",
        Some("SHA-256"),
    );
    ua.send(&ua.register_raw("alice", "c1", 2, Some(&contact), "", Some(&auth)));
    let ok = ua.final_for("c1");
    assert_eq!(ok.status(), Some(200), "{ok}");
    let c = ok.contact().unwrap().unwrap();
    assert!(c.expires().is_some_and(|e| e > 3500 && e <= 3600), "{ok}");
    assert!(ok.header(HeaderName::AuthenticationInfo).is_some());

    // The same credentials again (same nonce, same nc): a replay, refused.
    ua.send(&ua.register_raw("alice", "c1", 3, Some(&contact), "", Some(&auth)));
    assert_eq!(ua.final_for("c1").status(), Some(401));

    // MD5 answer works too (old phones).
    ua.send(&ua.register_raw("alice", "c2", 1, Some(&contact), "", None));
    let r = ua.final_for("c2");
    let auth = authorization(
        &r,
        "alice",
        "wonderland",
        "REGISTER",
        "sip:example.test",
        Some("MD5"),
    );
    ua.send(&ua.register_raw("alice", "c2", 2, Some(&contact), "", Some(&auth)));
    assert_eq!(ua.final_for("c2").status(), Some(200));

    // Wrong password: challenged again, never 200.
    for alg in ["SHA-256", "MD5"] {
        ua.send(&ua.register_raw("alice", "c3", 1, Some(&contact), "", None));
        let r = ua.final_for("c3");
        let auth = authorization(
            &r,
            "alice",
            "wrong",
            "REGISTER",
            "sip:example.test",
            Some(alg),
        );
        ua.send(&ua.register_raw("alice", "c3", 2, Some(&contact), "", Some(&auth)));
        assert_eq!(ua.final_for("c3").status(), Some(401), "{alg}");
    }

    // A digest uri other than the Request-URI: 400 (RFC 7616 §3.4.6), not a
    // new challenge the client would answer the same way.
    ua.send(&ua.register_raw("alice", "c6", 1, Some(&contact), "", None));
    let r = ua.final_for("c6");
    let auth = authorization(&r, "alice", "wonderland", "REGISTER", "sip:127.0.0.1", None);
    ua.send(&ua.register_raw("alice", "c6", 2, Some(&contact), "", Some(&auth)));
    let bad = ua.final_for("c6");
    assert_eq!(bad.status(), Some(400), "{bad}");
    assert!(bad.reason().unwrap().contains("uri"), "{bad}");

    // An unknown user: challenged, never 200 (and indistinguishable).
    ua.send(&ua.register_raw("mallory", "c4", 1, None, "", None));
    let r = ua.final_for("c4");
    let auth = authorization(&r, "mallory", "x", "REGISTER", "sip:example.test", None);
    ua.send(&ua.register_raw("mallory", "c4", 2, None, "", Some(&auth)));
    assert_eq!(ua.final_for("c4").status(), Some(401));

    // Bob, correctly authenticated, registering alice's AOR: 403.
    let bob_contact = format!("<sip:bob@{}>", ua.addr());
    let me = ua.addr();
    let raw = |cseq: u32, auth: Option<&str>| {
        let mut m = ua.register_raw("alice", "c5", cseq, Some(&bob_contact), "", auth);
        let _ = me;
        m = m.replacen("From: <sip:alice@", "From: <sip:bob@", 1);
        m
    };
    ua.send(&raw(1, None));
    let r = ua.final_for("c5");
    let auth = authorization(&r, "bob", "builder", "REGISTER", "sip:example.test", None);
    ua.send(&raw(2, Some(&auth)));
    let f = ua.final_for("c5");
    assert_eq!(f.status(), Some(403), "{f}");
    assert!(f.reason().unwrap().contains("owner"));
    assert_eq!(s.stop(), Some(0));
}

#[test]
fn stale_nonce_gets_stale_true() {
    let dir = std::env::temp_dir().join(format!("herald-stale-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("h.toml");
    std::fs::write(&cfg, "[auth]\nnonce_max_age_secs = 1\n").unwrap();
    let s = Server::start(&["--config", cfg.to_str().unwrap()]);
    add_user(&s.data_dir, "alice@example.test", "wonderland");
    let ua = Ua::new(s.udp.unwrap());
    ua.send(&ua.register_raw("alice", "s1", 1, None, "", None));
    let r = ua.final_for("s1");
    std::thread::sleep(Duration::from_millis(2500));
    let auth = authorization(
        &r,
        "alice",
        "wonderland",
        "REGISTER",
        "sip:example.test",
        None,
    );
    ua.send(&ua.register_raw("alice", "s1", 2, None, "", Some(&auth)));
    let r = ua.final_for("s1");
    assert_eq!(r.status(), Some(401));
    let ch =
        sip_msg::auth::Challenge::parse(r.header(HeaderName::WwwAuthenticate).unwrap()).unwrap();
    assert!(ch.stale(), "{r}");
    // The fresh nonce works at once.
    let auth = authorization(
        &r,
        "alice",
        "wonderland",
        "REGISTER",
        "sip:example.test",
        None,
    );
    ua.send(&ua.register_raw("alice", "s1", 3, None, "", Some(&auth)));
    assert_eq!(ua.final_for("s1").status(), Some(200));
    assert_eq!(s.stop(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_user_added_while_running_can_register_and_removed_cannot() {
    let s = Server::start(&[]);
    let ua = Ua::new(s.udp.unwrap());
    let mut cseq = 1;
    let r = ua.register("carol", "sea", "u1", &mut cseq, None, "");
    assert_eq!(r.status(), Some(401), "no such user yet");
    add_user(&s.data_dir, "carol@example.test", "sea");
    let r = ua.register("carol", "sea", "u1", &mut cseq, None, "");
    assert_eq!(r.status(), Some(200), "{r}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("--data-dir")
        .arg(&s.data_dir)
        .args(["user", "remove", "carol@example.test"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let r = ua.register("carol", "sea", "u1", &mut cseq, None, "");
    assert_eq!(r.status(), Some(401));
    assert_eq!(s.stop(), Some(0));
}

/// Runs `herald --data-dir DIR user add USER` on a pseudo-terminal (Python's
/// `pty`, as an operator at a shell), typing `first` at the first prompt and
/// `second` at the confirmation. Returns the exit code and everything the
/// terminal showed.
fn user_add_on_a_terminal(
    dir: &std::path::Path,
    user: &str,
    first: &str,
    second: &str,
) -> (i32, String) {
    const DRIVER: &str = r#"
import os, pty, select, sys, termios, time
exe, data_dir, user, first, second = sys.argv[1:6]
try:
    pid, fd = pty.fork()
except OSError as e:
    print("no pseudo-terminal: %s" % e)
    sys.exit(77)
if pid == 0:
    os.execv(exe, [exe, "--data-dir", data_dir, "user", "add", user])
seen = b""
def until(token):
    global seen
    while token not in seen:
        r, _, _ = select.select([fd], [], [], 20)
        if not r:
            sys.exit("timed out waiting for %r; saw %r" % (token, seen))
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            return False
        if not chunk:
            return False
        seen += chunk
    return True
def echo_off():
    # Type only once the prompt has turned echo off (it prints first).
    end = time.time() + 20
    while termios.tcgetattr(fd)[3] & termios.ECHO:
        if time.time() > end:
            sys.exit("echo never turned off; saw %r" % seen)
        time.sleep(0.01)
until(b"Password: ")
echo_off()
os.write(fd, first.encode() + b"\n")
if until(b"again: "):
    echo_off()
    os.write(fd, second.encode() + b"\n")
while True:
    r, _, _ = select.select([fd], [], [], 20)
    if not r:
        break
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode("utf-8", "replace"))
sys.exit(os.waitstatus_to_exitcode(status))
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(DRIVER)
        .arg(env!("CARGO_BIN_EXE_herald"))
        .arg(dir)
        .args([user, first, second])
        .output()
        .expect("python3 runs");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// `herald user add` without `--password` on a terminal: the password is
/// asked twice and never echoed; the user can then register with it. Two
/// different entries add nobody.
#[test]
fn user_add_prompts_without_echo_and_confirms() {
    let s = Server::start(&[]);
    let (code, shown) = user_add_on_a_terminal(
        &s.data_dir,
        "dora@example.test",
        "Expl0rer-pw",
        "Expl0rer-pw",
    );
    if code == 77 {
        // The machine offers no pseudo-terminal: nothing to drive.
        eprintln!("skipped: {shown}");
        return;
    }
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("Password again: "), "{shown}");
    assert!(
        !shown.contains("Expl0rer"),
        "the password was echoed: {shown}"
    );
    let ua = Ua::new(s.udp.unwrap());
    let mut cseq = 1;
    let r = ua.register("dora", "Expl0rer-pw", "d1", &mut cseq, None, "");
    assert_eq!(r.status(), Some(200), "{r}");

    let (code, shown) =
        user_add_on_a_terminal(&s.data_dir, "boots@example.test", "one-thing", "another");
    assert_ne!(code, 0, "{shown}");
    assert!(shown.contains("the passwords differ"), "{shown}");
    let r = ua.register("boots", "one-thing", "b1", &mut cseq, None, "");
    assert_eq!(r.status(), Some(401), "nobody was added: {r}");
    assert_eq!(s.stop(), Some(0));
}

/// `herald user import` reads `USER@DOMAIN PASSWORD` lines: a bad line
/// anywhere refuses the whole input before anything is written; a good
/// input is imported and its users can register.
#[test]
fn user_import_checks_every_line_first() {
    let s = Server::start(&[]);
    let import = |input: &str| {
        use std::io::Write;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
            .arg("--data-dir")
            .arg(&s.data_dir)
            .args(["user", "import"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out =
        import("# staff\nfay@example.test f4y-pw\ngus@example.test g-pw\nnot-an-address pw\n");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("line 4"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ua = Ua::new(s.udp.unwrap());
    let mut cseq = 1;
    let r = ua.register("fay", "f4y-pw", "f1", &mut cseq, None, "");
    assert_eq!(r.status(), Some(401), "nothing was imported: {r}");

    let out = import("fay@example.test f4y-pw\n\ngus@example.test g-pw\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "imported 2 users"
    );
    let r = ua.register("fay", "f4y-pw", "f2", &mut cseq, None, "");
    assert_eq!(r.status(), Some(200), "{r}");
    assert_eq!(s.stop(), Some(0));
}
