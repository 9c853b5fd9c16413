//! sipp (Debian `sip-tester`, an independent SIP implementation) sends OPTIONS
//! to `herald serve` over UDP and over TCP; every call must succeed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use std::process::Command;

use common::Server;

fn sipp(transport: &str, target: std::net::SocketAddr) -> std::process::Output {
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sipp/options.xml");
    Command::new("sipp")
        .args(["-sf", scenario, "-t", transport, "-i", "127.0.0.1"])
        .args(["-p", &common::free_port().to_string()])
        .args(["-m", "50", "-r", "50", "-timeout", "20s", "-timeout_error"])
        .args(["-max_recv_loops", "100", "-nostdin", "-trace_err"])
        .arg(target.to_string())
        .current_dir(std::env::temp_dir())
        .output()
        .expect("sipp is installed (Debian package sip-tester; .ci/run installs it)")
}

#[test]
fn sipp_options_udp_and_tcp() {
    let s = Server::start(&[]);
    for (t, addr) in [("u1", s.udp.unwrap()), ("t1", s.tcp.unwrap())] {
        let out = sipp(t, addr);
        assert!(
            out.status.success(),
            "sipp -t {t}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
