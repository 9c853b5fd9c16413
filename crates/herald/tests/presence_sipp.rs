//! sipp (Debian `sip-tester`, an independent SIP implementation) drives the
//! presence agent of `herald serve` (digest off, domain example.test), over
//! UDP and over TCP, 50 calls each; sipp's exit code 0 means every call
//! passed every check of its scenario:
//!
//! - `tests/sipp/publish.xml`, RFC 3903: initial PUBLISH -> 200 with a
//!   SIP-ETag; body-less refresh with SIP-If-Match -> 200 with a *new*
//!   SIP-ETag; modify (new PIDF) -> 200; remove (Expires: 0) -> 200; the
//!   removed tag again -> 412.
//! - `tests/sipp/subscribe.xml`, RFC 6665 / RFC 3856: SUBSCRIBE -> 200 and a
//!   NOTIFY (Subscription-State: active, a PIDF `<basic>`); a refresh inside
//!   the dialog (to the 200's Contact, with its To tag) -> 200 and a NOTIFY;
//!   unsubscribe -> 200 and a NOTIFY with Subscription-State: terminated.
//! - `tests/sipp/presence_errors.xml`: SUBSCRIBE and PUBLISH with an unknown
//!   event package -> 489 with Allow-Events; with Expires: 5 -> 423 with
//!   Min-Expires.
//!
//! Each scenario names its presentities after the transport and the call
//! number, so the UDP and the TCP run share one server without touching each
//! other's state. On failure the assertion shows sipp's statistics, its
//! error log and the end of its message trace.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::{Server, run_bounded};

const CALLS: usize = 50;

#[test]
fn sipp_publish_refresh_modify_remove_udp_and_tcp() {
    run_both("publish.xml");
}

#[test]
fn sipp_subscribe_refresh_unsubscribe_udp_and_tcp() {
    run_both("subscribe.xml");
}

#[test]
fn sipp_presence_refusals_udp_and_tcp() {
    run_both("presence_errors.xml");
}

/// One server (digest off), then the scenario over UDP and over TCP.
fn run_both(scenario: &str) {
    let s = Server::start(&["--auth", "off"]);
    for (t, addr) in [("u1", s.udp.unwrap()), ("t1", s.tcp.unwrap())] {
        if let Err(report) = sipp(scenario, t, addr) {
            panic!("{scenario} over sipp -t {t}: {report}");
        }
    }
    assert_eq!(s.stop(), Some(0), "herald exits cleanly after {scenario}");
}

/// Runs `tests/sipp/<scenario>` with `CALLS` calls against `addr`, bounded
/// (sipp's own -timeout 20s, killed after 40 s); `Err` carries what to show.
fn sipp(scenario: &str, transport: &str, addr: SocketAddr) -> Result<(), String> {
    let path = format!("{}/tests/sipp/{scenario}", env!("CARGO_MANIFEST_DIR"));
    let work = WorkDir::new(&format!(
        "{}-{transport}",
        scenario.trim_end_matches(".xml")
    ));
    let run = run_bounded(
        Command::new("sipp")
            .args(["-sf", &path, "-t", transport, "-i", "127.0.0.1"])
            .args(["-p", &common::free_port().to_string()])
            .args(["-m", &CALLS.to_string(), "-r", "50"])
            .args(["-timeout", "20s", "-timeout_error"])
            .args(["-max_recv_loops", "100", "-nostdin"])
            .args(["-trace_err", "-trace_msg"])
            .arg(addr.to_string())
            .current_dir(&work.0),
        Duration::from_secs(40),
        "sipp (Debian package sip-tester)",
    );
    if !run.timed_out && run.status.is_some_and(|s| s.success()) {
        return Ok(());
    }
    let errors = read_ending(&work.0, "_errors.log");
    let messages = read_ending(&work.0, "_messages.log");
    Err(format!(
        "{:?}{}\n{}\n{}\nerrors:\n{}\nlast messages:\n{}",
        run.status,
        if run.timed_out {
            " (killed after 40 s)"
        } else {
            ""
        },
        tail(&run.stdout, 30),
        run.stderr,
        errors.chars().take(8000).collect::<String>(),
        last_chars(&messages, 8000),
    ))
}

/// The contents of the files in `dir` whose names end with `suffix`.
fn read_ending(dir: &std::path::Path, suffix: &str) -> String {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().ends_with(suffix))
                .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

/// sipp's working dir (its logs land there), one per run, removed when
/// dropped.
struct WorkDir(PathBuf);

impl WorkDir {
    fn new(name: &str) -> WorkDir {
        let dir = std::env::temp_dir().join(format!(
            "herald-test-sipp-presence-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
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

/// The last `n` characters of `text`.
fn last_chars(text: &str, n: usize) -> String {
    let count = text.chars().count();
    text.chars().skip(count.saturating_sub(n)).collect()
}
