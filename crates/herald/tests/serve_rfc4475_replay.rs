//! Every RFC 4475 / RFC 5118 request from `testdata/`, replayed to a running
//! `herald serve` over UDP and over TCP with our own loopback Via on top (so
//! every answer comes back to 127.0.0.1, RFC 3261 §18.2.2): the invalid ones
//! get 400 (505 for the bad version), the valid ones anything but 400, and the
//! server still answers afterwards. Responses in the set are sent too; a
//! server answers none of them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use std::io::Write;
use std::net::{Shutdown, SocketAddr};
use std::path::PathBuf;

use common::{Server, Tcp, Udp, request, status_line};

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// (file, class) from the manifest.
fn manifest() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(testdata().join("torture.toml")).unwrap();
    let t: toml::Table = text.parse().unwrap();
    t["message"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["file"].as_str().unwrap().to_owned(),
                m["class"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Semantic messages the message layer itself rejects (see sip-msg's torture test).
const SEMANTIC_400: &[&str] = &[
    "rfc4475/insuf.dat",
    "rfc4475/multi01.dat",
    "rfc4475/mcl01.dat",
];

/// Puts `Via: SIP/2.0/<transport> <addr>;branch=...;rport` after the start line.
fn with_our_via(raw: &[u8], addr: SocketAddr, transport: &str, n: usize) -> Vec<u8> {
    let Some(eol) = raw.windows(2).position(|w| w == b"\r\n") else {
        return raw.to_vec();
    };
    let mut out = raw[..eol + 2].to_vec();
    out.extend_from_slice(
        format!("Via: SIP/2.0/{transport} {addr};branch=z9hG4bKreplay{n};rport\r\n").as_bytes(),
    );
    out.extend_from_slice(&raw[eol + 2..]);
    out
}

/// The Call-ID of a raw message, when it has one.
fn call_id_of(raw: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let head = text.split("\r\n\r\n").next()?;
    head.lines().skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        let n = n.trim();
        (n.eq_ignore_ascii_case("call-id") || n.eq_ignore_ascii_case("i"))
            .then(|| v.trim().to_owned())
    })
}

fn has_content_length(raw: &[u8]) -> bool {
    let text = String::from_utf8_lossy(raw).to_ascii_lowercase();
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    head.lines()
        .any(|l| l.starts_with("content-length") || l.starts_with("l:") || l.starts_with("l "))
}

fn expected(file: &str, class: &str) -> Option<u16> {
    match (file, class) {
        ("rfc4475/badvers.dat", _) => Some(505),
        // RFC 5118 erratum: its stated Content-Length exceeds the body shown.
        ("rfc5118/ipv6-in-sdp.dat", _) => Some(400),
        (_, "invalid") => Some(400),
        (f, "semantic") if SEMANTIC_400.contains(&f) => Some(400),
        _ => None, // anything but 400
    }
}

#[test]
fn replay_over_udp() {
    let s = Server::start(&[]);
    let udp = Udp::new(s.udp.unwrap());
    let mut failures = Vec::new();
    for (n, (file, class)) in manifest().into_iter().enumerate() {
        let raw = std::fs::read(testdata().join(&file)).unwrap();
        let msg = with_our_via(&raw, udp.local(), "UDP", n);
        udp.send(&msg);
        if raw.starts_with(b"SIP/") {
            continue; // responses: no answer expected
        }
        let got = match call_id_of(&raw) {
            Some(cid) => udp.recv_final_for(&cid),
            None => udp.recv_final(),
        }
        .map(|r| status_line(&r));
        match (expected(&file, &class), got) {
            // test.dat (an undocumented archive member) has no CSeq: nothing
            // to build an answer from, so the server drops it (and counts it).
            (_, None) if file == "rfc4475/test.dat" => {}
            (_, None) => failures.push(format!("{file}: no answer")),
            (Some(want), Some((code, reason))) if code != want => {
                failures.push(format!("{file}: {code} {reason}, want {want}"))
            }
            (None, Some((400, reason))) => failures.push(format!("{file} ({class}): 400 {reason}")),
            _ => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Still alive and answering.
    let probe = request("OPTIONS", "sip:example.test", udp.local(), "UDP", "");
    udp.send(probe.as_bytes());
    let cid = call_id_of(probe.as_bytes()).unwrap();
    assert_eq!(
        udp.recv_final_for(&cid).map(|r| status_line(&r).0),
        Some(200)
    );
}

#[test]
fn replay_over_tcp() {
    let s = Server::start(&[]);
    let mut failures = Vec::new();
    for (n, (file, class)) in manifest().into_iter().enumerate() {
        let raw = std::fs::read(testdata().join(&file)).unwrap();
        let mut tcp = Tcp::connect(s.tcp.unwrap());
        let local = tcp.local();
        let msg = with_our_via(&raw, local, "TCP", n);
        tcp.send(&msg);
        let _ = tcp.stream.flush();
        // End of input: a frame still incomplete now never will be.
        let _ = tcp.stream.shutdown(Shutdown::Write);
        if raw.starts_with(b"SIP/") {
            continue;
        }
        let got = tcp.recv_final().map(|r| status_line(&r));
        // RFC 3261 §18.3: on a stream, Content-Length is required.
        let want = if has_content_length(&raw) {
            expected(&file, &class)
        } else {
            Some(400)
        };
        // Messages whose stated Content-Length exceeds what follows cannot be
        // framed on a stream: the server waits, then sees EOF and closes
        // without an answer. That is the only case where silence is right.
        let unframeable = matches!(
            file.as_str(),
            "rfc4475/clerr.dat" | "rfc4475/baddn.dat" | "rfc5118/ipv6-in-sdp.dat"
        ) || file == "rfc4475/test.dat";
        match (want, got) {
            (_, None) if unframeable => {}
            (_, None) => failures.push(format!("{file}: no answer over TCP")),
            (Some(w), Some((code, reason))) if code != w => {
                failures.push(format!("{file}: {code} {reason}, want {w}"))
            }
            (None, Some((400, reason))) => failures.push(format!("{file} ({class}): 400 {reason}")),
            _ => {}
        }
    }
    let mut tcp = Tcp::connect(s.tcp.unwrap());
    let local = tcp.local();
    tcp.send(request("OPTIONS", "sip:example.test", local, "TCP", "").as_bytes());
    assert_eq!(tcp.recv_final().map(|r| status_line(&r).0), Some(200));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
