//! Page-mode instant messaging (RFC 3428) with baresip (Debian
//! `baresip-core` 1.0.0, libre's SIP stack: an independent implementation)
//! as receiver and as sender, through `herald serve`, over UDP and over
//! TCP, with non-ASCII UTF-8 bodies compared byte for byte. The other end is
//! the raw UDP user agent of `tests/ua`.
//!
//! - baresip as bob: a MESSAGE alice sends while bob has no binding is
//!   stored (202) and reaches baresip when it registers; one sent while it
//!   is registered is answered 200 by baresip. baresip prints every MESSAGE
//!   it receives as `PEER: "BODY"` (its `menu` module, through the `stdio`
//!   UI); that line must carry alice's AOR and exactly the bytes sent, once.
//! - baresip as alice: its `contact` module's `/message TEXT` command sends
//!   a MESSAGE to the current contact (bob's AOR, the only entry of its
//!   contacts file), answering the 407 with its own digest code. While bob
//!   has no binding the server answers 202 (seen in baresip's own SIP trace,
//!   `-s`); bob then registers and gets it, From alice, Content-Type
//!   text/plain, the body byte for byte; a second one sent while bob is
//!   registered reaches him and baresip sees his 200.
//!
//! How baresip 1.0 is driven: no audio, SIP on 127.0.0.1 with an ephemeral
//! port, the server as outbound proxy, modules `account`, `contact`, `menu`
//! and `stdio`. The `stdio` UI needs a stdin that epoll accepts (a pipe; not
//! /dev/null: "epoll_ctl: EPOLL_CTL_ADD: fd=0 (Operation not permitted)" and
//! the module fails to load), and warns "could not setup terminal" on a pipe,
//! which is harmless: commands written to the pipe are executed, and
//! `ui_output` (which the `menu` module uses to show an incoming MESSAGE)
//! reaches stdout. Without a UI module baresip still answers 200 but shows
//! nothing. `-e "/message ..."` works too but runs before the REGISTER, so the
//! commands go through the pipe once baresip shows it is registered.
//!
//! The server offers MD5 only, as in `register_baresip.rs`: libre 1.x gives
//! up on a 401/407 as soon as one challenge names another algorithm.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;
mod ua;

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{Server, TempFile, add_user};
use sip_msg::{HeaderName, SipMessage};
use ua::Ua;

const PACKAGE: &str = "baresip (Debian package baresip-core)";
const BOB: &str = "sip:bob@example.test";
/// baresip's own bound (`-t`): it quits by itself after this.
const BARESIP_SECS: u64 = 40;
const WAIT: Duration = Duration::from_secs(15);

fn md5_only() -> TempFile {
    TempFile::new("md5.toml", "[auth]\nalgorithms = [\"MD5\"]\n")
}

fn server() -> (Server, TempFile) {
    let cfg = md5_only();
    let s = Server::start(&["--config", cfg.0.to_str().unwrap()]);
    add_user(&s.data_dir, "alice@example.test", "secret");
    add_user(&s.data_dir, "bob@example.test", "secret");
    (s, cfg)
}

/// A running baresip with a temporary config dir: stdin is a pipe for
/// commands, stdout and stderr come line by line, as bytes. Killed (by its
/// pid) and its dir removed when dropped.
struct Baresip {
    child: Child,
    stdin: ChildStdin,
    rx: mpsc::Receiver<Vec<u8>>,
    /// Every line so far, ANSI colour codes left in.
    lines: Vec<Vec<u8>>,
    dir: PathBuf,
}

impl Baresip {
    fn start(tag: &str, server: SocketAddr, transport: &str, user: &str) -> Baresip {
        let dir = std::env::temp_dir().join(format!(
            "herald-test-baresip-msg-{}-{tag}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("config"),
            "poll_method\t\tepoll\n\
             sip_listen\t\t127.0.0.1:0\n\
             net_interface\t\t127.0.0.1\n\
             dns_server\t\t127.0.0.1:53\n\
             audio_player\t\taunull,nil\n\
             audio_source\t\taunull,nil\n\
             audio_alert\t\taunull,nil\n\
             module_path\t\t/usr/lib/baresip/modules\n\
             module\t\t\tstdio.so\n\
             module_app\t\taccount.so\n\
             module_app\t\tcontact.so\n\
             module_app\t\tmenu.so\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("accounts"),
            format!(
                "<sip:{user}@example.test;transport={transport}>;auth_pass=secret;\
                 outbound=\"sip:{server};transport={transport}\";regint=600;mwi=no;pubint=0\n"
            ),
        )
        .unwrap();
        // The current contact `/message` sends to: the only one.
        std::fs::write(dir.join("contacts"), format!("\"Bob\" <{BOB}>\n")).unwrap();
        let mut child = Command::new("baresip")
            .arg("-f")
            .arg(&dir)
            .args(["-s", "-t", &BARESIP_SECS.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run baresip ({e}): install {PACKAGE}; .ci/run does")
            });
        let stdin = child.stdin.take().unwrap();
        let (tx, rx) = mpsc::channel();
        for pipe in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).split(b'\n').map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Baresip {
            child,
            stdin,
            rx,
            lines: Vec::new(),
            dir,
        }
    }

    /// The next line within `limit`, appended to `lines` (its index).
    fn next_line(&mut self, limit: Duration) -> Option<usize> {
        let line = self.rx.recv_timeout(limit).ok()?;
        self.lines.push(line);
        Some(self.lines.len() - 1)
    }

    /// The first line, among those already read or arriving within
    /// `limit`, that satisfies `want`. (stdout and stderr are read apart:
    /// the menu's `PEER: "BODY"` on stderr may come before the trace and
    /// registration lines on stdout that caused it.)
    fn wait_for(&mut self, limit: Duration, want: impl Fn(&[u8]) -> bool) -> Option<usize> {
        if let Some(i) = self.lines.iter().position(|l| want(l)) {
            return Some(i);
        }
        let end = Instant::now() + limit;
        loop {
            let i = self.next_line(end.checked_duration_since(Instant::now())?)?;
            if want(&self.lines[i]) {
                return Some(i);
            }
        }
    }

    /// Whatever arrives within `d`.
    fn drain(&mut self, d: Duration) {
        let end = Instant::now() + d;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            if self.next_line(left).is_none() {
                break;
            }
        }
    }

    fn registered(&mut self, transport: &str) {
        let want = format!("{{0/{}/v4}} 200 OK", transport.to_ascii_uppercase());
        let hit = self.wait_for(WAIT, |l| contains(l, want.as_bytes()));
        assert!(
            hit.is_some(),
            "baresip over {transport} never registered ('{want}')\n{}",
            self.log()
        );
    }

    /// A long command through the `stdio` UI, as typed.
    fn command(&mut self, cmd: &str) {
        self.stdin.write_all(b"/").unwrap();
        self.stdin.write_all(cmd.as_bytes()).unwrap();
        self.stdin.write_all(b"\n").unwrap();
        self.stdin.flush().unwrap();
    }

    /// How the `menu` module shows a MESSAGE from `peer`: `PEER: "BODY"`
    /// (after a carriage return), compared as bytes.
    fn shown(peer: &str, body: &str) -> Vec<u8> {
        let mut want = format!("{peer}: \"").into_bytes();
        want.extend_from_slice(body.as_bytes());
        want.push(b'"');
        want
    }

    fn is_shown(line: &[u8], shown: &[u8]) -> bool {
        let line = line.strip_prefix(b"\r").unwrap_or(line);
        line == shown
    }

    /// The status lines of the responses to MESSAGE baresip received, from
    /// its SIP trace (`-s`): blocks of `ESC[36;1m#`, `PROTO SRC -> DST`, the
    /// message, `ESC[;m`.
    fn message_responses(&self, from: SocketAddr) -> Vec<String> {
        let text: Vec<String> = self
            .lines
            .iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect();
        let mut out = Vec::new();
        for (i, l) in text.iter().enumerate() {
            if l != "\x1b[36;1m#" || i + 2 >= text.len() {
                continue;
            }
            let src = format!(" {from} -> ");
            if !text[i + 1].contains(&src) || !text[i + 2].starts_with("SIP/2.0 ") {
                continue;
            }
            let block = text[i + 3..]
                .iter()
                .take_while(|l| !l.contains("\x1b[;m") && !l.is_empty());
            if block
                .filter_map(|l| l.strip_prefix("CSeq:"))
                .any(|c| c.trim().ends_with(" MESSAGE"))
            {
                out.push(text[i + 2].clone());
            }
        }
        out
    }

    /// Waits for the final response (not a 401/407 challenge) to a
    /// MESSAGE baresip sent, beyond the first `skip` responses to MESSAGE in
    /// its trace; its status line.
    fn final_message_response(&mut self, from: SocketAddr, skip: usize) -> Option<String> {
        let end = Instant::now() + WAIT;
        loop {
            let fin = self
                .message_responses(from)
                .into_iter()
                .skip(skip)
                .find(|r| {
                    !r.starts_with("SIP/2.0 1")
                        && !r.starts_with("SIP/2.0 401")
                        && !r.starts_with("SIP/2.0 407")
                });
            if fin.is_some() {
                return fin;
            }
            self.next_line(end.checked_duration_since(Instant::now())?)?;
        }
    }

    fn log(&self) -> String {
        let mut s = String::from("--- baresip output ---\n");
        for l in &self.lines {
            s.push_str(&String::from_utf8_lossy(l));
            s.push('\n');
        }
        s
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// alice (raw UDP) sends `body` to bob, answering the 407.
fn alice_sends(alice: &Ua, call_id: &str, body: &str) -> SipMessage {
    let mut cseq = 1;
    alice.request_authed(
        "MESSAGE",
        "alice",
        "secret",
        BOB,
        call_id,
        &mut cseq,
        "Content-Type: text/plain;charset=UTF-8\r\n",
        body,
    )
}

#[test]
fn baresip_receives_utf8_messages_stored_and_live() {
    for t in ["udp", "tcp"] {
        let (s, _cfg) = server();
        let addr = if t == "udp" { s.udp } else { s.tcp }.unwrap();
        let alice = Ua::new(s.udp.unwrap());
        let stored = format!("gespeichert für baresip: Grüße, 三 ✓ — 😀 ({t})");
        let live = format!("live zu baresip: naïve café, Ελληνικά, 日本語 🎉 ({t})");

        // bob has no binding yet: stored.
        let r = alice_sends(&alice, &format!("bs-stored-{t}"), &stored);
        assert_eq!(r.status(), Some(202), "bob offline over {t}: {r:?}");

        let mut b = Baresip::start(&format!("rx-{t}"), addr, t, "bob");
        b.registered(t);
        let want = Baresip::shown("sip:alice@example.test", &stored);
        let hit = b.wait_for(WAIT, |l| Baresip::is_shown(l, &want));
        assert!(
            hit.is_some(),
            "baresip over {t} never showed the stored MESSAGE {stored:?}\n{}",
            b.log()
        );

        // Registered now: baresip itself answers. (Baresip shows the
        // stored message before its 200 reaches the server; until that 200
        // a new MESSAGE would be stored behind it — 202, in order — so give
        // the 200 a moment.)
        std::thread::sleep(std::time::Duration::from_millis(500));
        let r = alice_sends(&alice, &format!("bs-live-{t}"), &live);
        assert_eq!(r.status(), Some(200), "live MESSAGE over {t}: {r:?}");
        assert!(
            r.header(HeaderName::Server)
                .or_else(|| r.header(HeaderName::UserAgent))
                .is_some_and(|v| v.contains("baresip")),
            "the 200 is baresip's: {r:?}"
        );
        let want_live = Baresip::shown("sip:alice@example.test", &live);
        let hit = b.wait_for(WAIT, |l| Baresip::is_shown(l, &want_live));
        assert!(
            hit.is_some(),
            "baresip over {t} never showed the live MESSAGE {live:?}\n{}",
            b.log()
        );
        // Each exactly once: the stored one is not delivered again.
        b.drain(Duration::from_secs(1));
        for w in [&want, &want_live] {
            let n = b.lines.iter().filter(|l| Baresip::is_shown(l, w)).count();
            assert_eq!(n, 1, "shown {n} times over {t}\n{}", b.log());
        }
        drop(b);
        assert_eq!(s.stop(), Some(0));
    }
}

#[test]
fn baresip_sends_utf8_messages_stored_and_live() {
    for t in ["udp", "tcp"] {
        let (s, _cfg) = server();
        let addr = if t == "udp" { s.udp } else { s.tcp }.unwrap();
        let stored = format!("von baresip, gespeichert: Grüße, 三 ✓ — 😀 ({t})");
        let live = format!("von baresip, live: ¡Hola! Здравствуйте ✓ 🎉 ({t})");

        let mut b = Baresip::start(&format!("tx-{t}"), addr, t, "alice");
        b.registered(t);

        // bob has no binding: the server stores it and answers 202.
        b.command(&format!("message {stored}"));
        let fin = b.final_message_response(addr, 0);
        assert!(
            fin.as_deref().is_some_and(|r| r.starts_with("SIP/2.0 202")),
            "baresip's MESSAGE to offline bob over {t}: expected 202, got {fin:?}\n{}",
            b.log()
        );
        let seen = b.message_responses(addr).len();

        let bob = Ua::new(s.udp.unwrap());
        let contact = format!("<sip:bob@{}>", bob.addr());
        let mut cseq = 1;
        let r = bob.register("bob", "secret", "bs-breg", &mut cseq, Some(&contact), "");
        assert_eq!(r.status(), Some(200), "bob's REGISTER: {r:?}");
        let m = bob
            .request("MESSAGE", WAIT)
            .unwrap_or_else(|| panic!("bob never got baresip's stored MESSAGE over {t}"));
        bob.answer(&m, 200, "OK", "");
        check_from_baresip(&m, &stored, t);
        assert!(
            m.header(HeaderName::Date)
                .is_some_and(|d| d.ends_with(" GMT")),
            "a stored MESSAGE carries the time it was sent: {m:?}"
        );

        b.command(&format!("message {live}"));
        let m = bob
            .request("MESSAGE", WAIT)
            .unwrap_or_else(|| panic!("bob never got baresip's live MESSAGE over {t}"));
        bob.answer(&m, 200, "OK", "");
        check_from_baresip(&m, &live, t);
        assert!(
            m.header(HeaderName::Date).is_none(),
            "a live MESSAGE is relayed as sent: {m:?}"
        );
        let fin = b.final_message_response(addr, seen);
        assert!(
            fin.as_deref().is_some_and(|r| r.starts_with("SIP/2.0 200")),
            "baresip's live MESSAGE over {t}: expected bob's 200, got {fin:?}\n{}",
            b.log()
        );
        // Nothing else for bob: each delivered once.
        assert!(bob.request("MESSAGE", Duration::from_secs(1)).is_none());
        drop(b);
        assert_eq!(s.stop(), Some(0));
    }
}

/// A MESSAGE baresip (alice) sent, as bob received it through the server.
fn check_from_baresip(m: &SipMessage, body: &str, t: &str) {
    assert_eq!(
        &m.body()[..],
        body.as_bytes(),
        "the body byte for byte over {t}"
    );
    assert_eq!(
        m.from().unwrap().addr.uri.to_string(),
        "sip:alice@example.test"
    );
    assert_eq!(m.to().unwrap().addr.uri.to_string(), BOB);
    assert!(
        m.header(HeaderName::ContentType)
            .is_some_and(|c| c.starts_with("text/plain")),
        "{m:?}"
    );
}
