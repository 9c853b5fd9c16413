//! baresip (Debian `baresip-core`, libre's SIP stack: an independent
//! implementation) registers with `herald serve` using digest authentication
//! (RFC 3261 §10, §22), over UDP and over TCP, with a user added by the
//! `herald user add` CLI after the server started; with a wrong password it
//! must end in 401/403 and never be registered.
//!
//! The server offers MD5 only here: baresip 1.0.0 (libre 1.x, as Debian
//! ships it) gives up on the whole 401 ("Register: Function not implemented",
//! ENOSYS) as soon as one WWW-Authenticate names an algorithm other than MD5,
//! even when an MD5 challenge follows, so it cannot register against the
//! default challenge set (SHA-256, then MD5). Newer libre handles SHA-256.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{Server, TempFile, add_user};

const PACKAGE: &str = "baresip (Debian package baresip-core)";

/// A temporary baresip config dir: no audio, no UI, only the account module,
/// SIP on 127.0.0.1 with an ephemeral port, one account with the server as
/// its outbound proxy.
struct BaresipDir(PathBuf);

impl BaresipDir {
    fn new(
        tag: &str,
        server: SocketAddr,
        transport: &str,
        user: &str,
        password: &str,
    ) -> BaresipDir {
        let dir =
            std::env::temp_dir().join(format!("herald-test-baresip-{}-{tag}", std::process::id()));
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
             module_app\t\taccount.so\n",
        )
        .unwrap();
        // regint: the expiry asked for; mwi/pubint off: REGISTER only.
        std::fs::write(
            dir.join("accounts"),
            format!(
                "<sip:{user}@example.test;transport={transport}>;auth_pass={password};\
                 outbound=\"sip:{server};transport={transport}\";regint=600;mwi=no;pubint=0\n"
            ),
        )
        .unwrap();
        std::fs::write(dir.join("contacts"), "").unwrap();
        BaresipDir(dir)
    }
}

impl Drop for BaresipDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs baresip until its registration outcome shows on stdout (then kills
/// it, by its pid) or `limit` passes. Returns every line it printed and the
/// line with the outcome: `{0/UDP/v4} 200 OK ...` on success,
/// `reg: sip:...: 401 Unauthorized` on failure. With `linger`, keeps reading
/// that long after a failure, to catch a late 200.
fn baresip_register(
    dir: &BaresipDir,
    limit: Duration,
    linger: Duration,
) -> (Vec<String>, Option<String>) {
    let mut child = Command::new("baresip")
        .arg("-f")
        .arg(&dir.0)
        .args(["-t", &(limit.as_secs() + 5).to_string()]) // its own bound, too
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run baresip ({e}): install {PACKAGE}; .ci/run does"));
    let (tx, rx) = mpsc::channel();
    for pipe in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                // Drop the ANSI colour codes baresip puts around errors.
                let clean = line.replace("\x1b[31m", "").replace("\x1b[;m", "");
                if tx.send(clean).is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);
    let mut lines = Vec::new();
    let mut outcome: Option<String> = None;
    let mut deadline = Instant::now() + limit;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) => {
                let ok = line.contains("} 200 OK");
                let failed = line.starts_with("reg: ") || line.contains("Register:");
                if ok || (failed && outcome.is_none()) {
                    outcome = Some(line.clone());
                }
                lines.push(line);
                if ok {
                    break;
                }
                if failed && linger > Duration::ZERO {
                    deadline = deadline.min(Instant::now() + linger);
                } else if failed {
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => break,
            Err(mpsc::RecvTimeoutError::Disconnected) => break, // baresip exited
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    (lines, outcome)
}

fn md5_only() -> TempFile {
    TempFile::new("md5.toml", "[auth]\nalgorithms = [\"MD5\"]\n")
}

#[test]
fn baresip_registers_with_digest_over_udp_and_tcp() {
    let cfg = md5_only();
    let s = Server::start(&["--config", cfg.0.to_str().unwrap()]);
    add_user(&s.data_dir, "alice@example.test", "secret");
    for (t, addr) in [("udp", s.udp.unwrap()), ("tcp", s.tcp.unwrap())] {
        let dir = BaresipDir::new(&format!("ok-{t}"), addr, t, "alice", "secret");
        let (lines, outcome) = baresip_register(&dir, Duration::from_secs(15), Duration::ZERO);
        let want = format!("{{0/{}/v4}} 200 OK", t.to_ascii_uppercase());
        assert!(
            outcome
                .as_deref()
                .is_some_and(|l| l.contains(&want) && l.contains("binding")),
            "baresip over {t}: expected a line with '{want}' and its binding, got {outcome:?}\n{}",
            lines.join("\n")
        );
    }
}

#[test]
fn baresip_wrong_password_is_never_registered() {
    let cfg = md5_only();
    let s = Server::start(&["--config", cfg.0.to_str().unwrap()]);
    add_user(&s.data_dir, "alice@example.test", "secret");
    for (t, addr) in [("udp", s.udp.unwrap()), ("tcp", s.tcp.unwrap())] {
        let dir = BaresipDir::new(&format!("bad-{t}"), addr, t, "alice", "not-the-password");
        let (lines, outcome) =
            baresip_register(&dir, Duration::from_secs(15), Duration::from_secs(1));
        assert!(
            !lines.iter().any(|l| l.contains("} 200 OK")),
            "baresip over {t} with a wrong password was registered:\n{}",
            lines.join("\n")
        );
        assert!(
            outcome
                .as_deref()
                .is_some_and(|l| l.contains(": 401 ") || l.contains(": 403 ")),
            "baresip over {t} with a wrong password: expected a 401/403 failure, got {outcome:?}\n{}",
            lines.join("\n")
        );
    }
}
