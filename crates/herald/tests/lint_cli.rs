//! `herald lint` as an operator runs it: files and stdin, output and exit status.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::io::Write;
use std::process::{Command, Stdio};

const GOOD: &str = "SUBSCRIBE sip:bob@example.test SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKx1\r\nMax-Forwards: 70\r\nFrom: \"Alice\" <sip:alice@example.test>;tag=a1\r\nTo: <sip:bob@example.test>\r\nCall-ID: 1@127.0.0.1\r\nCSeq: 7 SUBSCRIBE\r\nEvent: presence\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n";

fn herald() -> Command {
    Command::new(env!("CARGO_BIN_EXE_herald"))
}

#[test]
fn lint_files_exit_status_and_output() {
    let dir = std::env::temp_dir().join(format!("herald-lint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.sip");
    let bad = dir.join("bad.sip");
    std::fs::write(&good, GOOD).unwrap();
    std::fs::write(
        &bad,
        GOOD.replace("Content-Length: 0", "Content-Length: 10"),
    )
    .unwrap();

    let out = herald().arg("lint").arg(&good).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}: ok\n", good.display())
    );

    let out = herald().arg("lint").arg(&good).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "{}: 400 Content-Length larger than body",
            bad.display()
        )),
        "{text}"
    );

    let out = herald()
        .arg("lint")
        .arg(dir.join("missing.sip"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn lint_stdin() {
    let mut child = herald()
        .arg("lint")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(GOOD.replace("SIP/2.0\r\nVia", "SIP/3.0\r\nVia").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "<stdin>: 505 Version Not Supported\n"
    );
}
