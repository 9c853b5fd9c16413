//! sipp (Debian `sip-tester`, an independent SIP implementation) runs
//! `tests/sipp/register_auth.xml` against `herald serve`, over UDP and over
//! TCP: 20 users, each REGISTER -> 401 with a digest challenge -> REGISTER
//! with credentials -> 200 listing the binding with an expiry -> REGISTER
//! Expires: 0 -> 200 (RFC 3261 §10.2, §10.3, §22). Every call must succeed.
//! The users are added with the `herald user add` CLI after the server
//! started.
//!
//! The server offers MD5 only here: sipp 3.6.1 computes MD5 and AKAv1-MD5
//! digests only and aborts on the first challenge when it names SHA-256
//! ("createAuthHeader: authentication must use MD5 or AKAv1-MD5"), so it
//! cannot answer the default challenge set (SHA-256, then MD5).
//! `-auth_uri example.test` makes sipp put the Request-URI in the digest `uri`
//! (it uses the remote address by default), as RFC 7616 §3.4 requires.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Server, TempFile, add_user, run_bounded};

const USERS: usize = 20;

#[test]
fn sipp_register_with_digest_udp_and_tcp() {
    let cfg = TempFile::new("md5.toml", "[auth]\nalgorithms = [\"MD5\"]\n");
    let s = Server::start(&["--config", cfg.0.to_str().unwrap()]);
    // field0 = user, field1 = the [authentication] keyword sipp expands (it
    // cannot take [fieldN] inside [authentication ...]).
    let mut csv = String::from("SEQUENTIAL\n");
    for i in 0..USERS {
        add_user(
            &s.data_dir,
            &format!("user{i}@example.test"),
            &format!("pw{i}-secret"),
        );
        csv.push_str(&format!(
            "user{i};[authentication username=user{i} password=pw{i}-secret]\n"
        ));
    }
    let users = TempFile::new("users.csv", &csv);
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sipp/register_auth.xml");
    let work = WorkDir::new();
    let work = &work.0;
    for (t, addr) in [("u1", s.udp.unwrap()), ("t1", s.tcp.unwrap())] {
        let run = run_bounded(
            Command::new("sipp")
                .args(["-sf", scenario, "-inf", users.0.to_str().unwrap()])
                .args(["-auth_uri", "example.test", "-t", t, "-i", "127.0.0.1"])
                .args(["-p", &common::free_port().to_string()])
                .args([
                    "-m",
                    &USERS.to_string(),
                    "-r",
                    "20",
                    "-timeout",
                    "20s",
                    "-timeout_error",
                ])
                .args(["-max_recv_loops", "100", "-nostdin", "-trace_err"])
                .arg(addr.to_string())
                .current_dir(work),
            Duration::from_secs(40),
            "sipp (Debian package sip-tester)",
        );
        let errors: String = std::fs::read_dir(work)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with("_errors.log"))
            .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
            .collect();
        let _ = std::fs::remove_dir_all(work);
        std::fs::create_dir_all(work).unwrap();
        assert!(
            !run.timed_out && run.status.is_some_and(|s| s.success()),
            "sipp -t {t}: {:?}{}\n{}\n{}\nerrors:\n{}",
            run.status,
            if run.timed_out {
                " (killed after 40 s)"
            } else {
                ""
            },
            tail(&run.stdout, 30),
            run.stderr,
            errors.chars().take(8000).collect::<String>()
        );
    }
}

/// sipp's working dir (its `*_errors.log` land there), removed when dropped.
struct WorkDir(std::path::PathBuf);

impl WorkDir {
    fn new() -> WorkDir {
        let dir =
            std::env::temp_dir().join(format!("herald-test-sipp-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        WorkDir(dir)
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The last `n` lines of `text` (sipp's final statistics screen).
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
