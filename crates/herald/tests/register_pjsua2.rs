//! pjsua2 (pjproject's SIP stack through its Python bindings, an independent
//! implementation) registers with `herald serve` using digest authentication
//! (RFC 3261 §10, §22; RFC 7616 / RFC 8760), over UDP and over TCP, with a
//! user added by the `herald user add` CLI after the server started. With a
//! wrong password it must never be registered. The client side is
//! `tests/clients/pjsua2_register.py`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use common::{PeerRun, Server, TempFile, add_user, run_bounded};

const PACKAGE: &str = "python3 with the pjsua2 module (pip install pjsua2-python)";

/// python3 must be there and import pjsua2: a missing peer fails the test.
fn require_pjsua2() {
    let run = run_bounded(
        Command::new("python3").args(["-c", "import pjsua2"]),
        Duration::from_secs(30),
        PACKAGE,
    );
    assert!(
        run.status.is_some_and(|s| s.success()),
        "python3 cannot import pjsua2: install {PACKAGE}; .ci/run does\n{}",
        run.stderr
    );
}

fn register(
    server: SocketAddr,
    transport: &str,
    user: &str,
    password: &str,
    expect: &str,
) -> PeerRun {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/pjsua2_register.py"
    );
    run_bounded(
        Command::new("python3").arg(script).args([
            &server.to_string(),
            transport,
            user,
            "example.test",
            password,
            expect,
            "15",
        ]),
        Duration::from_secs(40),
        PACKAGE,
    )
}

fn assert_outcome(run: &PeerRun, what: &str) {
    assert!(
        !run.timed_out && run.status.is_some_and(|s| s.success()),
        "{what}: pjsua2 script {:?}{}\nstdout:\n{}\nstderr:\n{}",
        run.status,
        if run.timed_out {
            " (killed after 40 s)"
        } else {
            ""
        },
        run.stdout,
        run.stderr
    );
}

#[test]
fn pjsua2_registers_with_digest_over_udp_and_tcp() {
    require_pjsua2();
    let s = Server::start(&[]);
    // Added after the server started: it reads users on every authentication.
    add_user(&s.data_dir, "alice@example.test", "secret");
    for (t, addr) in [("udp", s.udp.unwrap()), ("tcp", s.tcp.unwrap())] {
        let run = register(addr, t, "alice", "secret", "ok");
        assert_outcome(
            &run,
            &format!("REGISTER alice over {t} with the right password must get 200"),
        );
    }
}

#[test]
fn pjsua2_wrong_password_is_never_registered() {
    require_pjsua2();
    let s = Server::start(&[]);
    add_user(&s.data_dir, "alice@example.test", "secret");
    for (t, addr) in [("udp", s.udp.unwrap()), ("tcp", s.tcp.unwrap())] {
        // The script passes only if the registration ends in 401/403 and
        // no 200 is ever reported.
        let run = register(addr, t, "alice", "not-the-password", "fail");
        assert_outcome(
            &run,
            &format!("REGISTER alice over {t} with a wrong password must end in 401/403"),
        );
    }
}

/// Each algorithm on its own (RFC 7616 SHA-256, RFC 2617-compatible MD5):
/// whichever the server offers, pjsua2 answers it and is registered.
#[test]
fn pjsua2_registers_with_sha256_only_and_with_md5_only() {
    require_pjsua2();
    for alg in ["SHA-256", "MD5"] {
        let cfg = TempFile::new("alg.toml", &format!("[auth]\nalgorithms = [\"{alg}\"]\n"));
        let s = Server::start(&["--config", cfg.0.to_str().unwrap()]);
        add_user(&s.data_dir, "alice@example.test", "secret");
        let run = register(s.udp.unwrap(), "udp", "alice", "secret", "ok");
        assert_outcome(
            &run,
            &format!("REGISTER alice with a {alg} challenge only must get 200"),
        );
    }
}
