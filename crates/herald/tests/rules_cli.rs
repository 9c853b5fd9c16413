//! `herald rules get|set|remove`: a valid pres-rules document is stored and
//! read back; a bad one is refused with the parser's reason and changes
//! nothing; remove restores "no rules". Works on the data dir without a
//! running server.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use std::process::{Command, Output};

use common::TempFile;

fn herald(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap()
}

const GOOD: &str = "<cr:ruleset xmlns=\"urn:ietf:params:xml:ns:pres-rules\" xmlns:cr=\"urn:ietf:params:xml:ns:common-policy\"><cr:rule id=\"a\"><cr:conditions/><cr:actions><sub-handling>confirm</sub-handling></cr:actions><cr:transformations/></cr:rule></cr:ruleset>";

#[test]
fn set_get_refuse_remove() {
    let dir = std::env::temp_dir().join(format!("herald-rules-cli-{}", std::process::id()));
    let good = TempFile::new("good.xml", GOOD);
    let out = herald(
        &dir,
        &[
            "rules",
            "set",
            "alice@example.test",
            good.0.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = herald(&dir, &["rules", "get", "alice@example.test"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), GOOD);

    // Unknown sub-handling value: refused, with the reason; nothing changes.
    let bad = TempFile::new("bad.xml", &GOOD.replace("confirm", "maybe"));
    let out = herald(
        &dir,
        &[
            "rules",
            "set",
            "alice@example.test",
            bad.0.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("rules refused") && err.contains("maybe"),
        "{err}"
    );
    let out = herald(&dir, &["rules", "get", "alice@example.test"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), GOOD, "unchanged");

    let out = herald(&dir, &["rules", "remove", "alice@example.test"]);
    assert!(out.status.success());
    let out = herald(&dir, &["rules", "get", "alice@example.test"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no presence rules"));
    let _ = std::fs::remove_dir_all(&dir);
}
