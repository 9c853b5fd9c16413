//! A slow receiver slows its sender down instead of filling the relay's
//! memory: while bob reads nothing, alice can push only a bounded amount
//! through the relay (its per-connection send queue is bounded, and the
//! relay stops reading from alice once bob's queue is full), the relay's
//! memory stays bounded; once bob reads, everything alice wrote arrives and
//! she can write again.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use std::io::{ErrorKind, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use common::msrp::{MsrpConn, relay_with_users};
use msrp::{MessageId, Method};

const CHUNK: usize = 256 * 1024;

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

#[test]
fn a_receiver_that_does_not_read_stops_its_sender() {
    let s = relay_with_users();
    let mut alice = MsrpConn::connect(s.msrp.unwrap());
    let ua = alice.auth_ok("alice", "secret");
    let mut bob = MsrpConn::connect(s.msrp.unwrap());
    let ub = bob.auth_ok("bob", "secret");
    let to_bob = [ua, ub, bob.me.clone()];
    let rss_before = rss_kb(s.pid());

    // Alice's 200s are read on the side, so only bob's silence can stop her.
    let mut side = alice.stream.try_clone().unwrap();
    side.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let oks = Arc::new(AtomicU64::new(0));
    let oks2 = oks.clone();
    std::thread::spawn(move || {
        let mut buf = bytes::BytesMut::new();
        let mut dec = msrp::Decoder::new(msrp::Limits::default());
        let mut chunk = [0u8; 8192];
        while let Ok(n) = side.read(&mut chunk) {
            if n == 0 {
                return;
            }
            buf.extend_from_slice(&chunk[..n]);
            while let Ok(Some(f)) = dec.decode(&mut buf) {
                if f.status() == Some(200) {
                    oks2.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    });

    let body = Bytes::from(vec![b'z'; CHUNK]);
    let frame = |alice: &MsrpConn| {
        msrp::Frame::builder(Method::Send)
            .to_path(&to_bob)
            .from_path(std::slice::from_ref(&alice.me))
            .message_id(&MessageId::random())
            .body("application/octet-stream", body.clone())
            .build()
            .unwrap()
            .to_bytes()
    };
    let mut w = alice.stream.try_clone().unwrap();
    w.set_write_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    let mut frames = 0usize;
    let limit = 400; // 100 MB: far more than queues and socket buffers hold
    'push: while frames < limit {
        let bytes = frame(&alice);
        let mut at = 0;
        while at < bytes.len() {
            match w.write(&bytes[at..]) {
                Ok(n) => at += n,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    if at == 0 {
                        break 'push;
                    }
                    // Stuck mid-frame: that is the backpressure too; the rest
                    // goes out once bob reads.
                    w.set_write_timeout(None).unwrap();
                    let rest = bytes.slice(at..);
                    let mut w2 = w.try_clone().unwrap();
                    std::thread::spawn(move || w2.write_all(&rest).unwrap());
                    frames += 1;
                    break 'push;
                }
                Err(e) => panic!("write: {e}"),
            }
        }
        frames += 1;
    }
    assert!(
        frames < limit,
        "alice wrote {} MB while bob read nothing",
        (frames * CHUNK) >> 20
    );
    let grown_mb = rss_kb(s.pid()).saturating_sub(rss_before) / 1024;
    eprintln!(
        "alice got {} MB out before blocking; relay RSS grew {grown_mb} MB",
        (frames * CHUNK) >> 20
    );
    assert!(grown_mb < 64, "relay grew by {grown_mb} MB");

    // Bob reads: every frame alice got out arrives, and is answered.
    let mut got = 0;
    while got < frames {
        let f = bob.recv().expect("a SEND alice wrote");
        assert_eq!(f.body().unwrap().len(), CHUNK);
        bob.send(&f.response(200, Some("OK")).unwrap());
        got += 1;
    }
    // Alice can write again.
    w.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    w.write_all(&frame(&alice)).unwrap();
    let f = bob.recv().unwrap();
    assert_eq!(f.body().unwrap().len(), CHUNK);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(oks.load(Ordering::Relaxed) as usize, frames + 1);
}
