//! Large messages through the MSRP relay (RFC 4975 §7.1.1: every node takes
//! chunks of any size up to the largest message it accepts): a 10 MB message
//! in many chunks arrives byte-exact (reassembled with `msrp::Reassembler`
//! on the receiving side), every chunk answered 200 hop by hop; a single
//! 1 MB chunk passes whole (Kamailio's msrp module refuses frames of about
//! 14 KB and more); a message declared larger than the relay's limit is 413.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::thread;

use bytes::Bytes;
use common::msrp::{MsrpConn, relay_with_users};
use msrp::{Chunker, MessageId, Reassembler, Reassembly, ReassemblyLimits};

/// Pseudo-random bytes with end-line look-alikes sprinkled in, so the
/// relay's and the receiver's end-line searches are exercised.
fn payload(len: usize, seed: u64) -> Bytes {
    let mut x = seed;
    let mut v: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let fake = b"\r\n-------abcd1234$\r\n";
    let mut at = 1000;
    while at + fake.len() < len {
        v[at..at + fake.len()].copy_from_slice(fake);
        at += 97_531;
    }
    Bytes::from(v)
}

/// Bob's side: reads SENDs, answers each 200, reassembles; returns the
/// message and how many chunks it came in.
fn receive(mut bob: MsrpConn) -> (Bytes, usize) {
    let mut r = Reassembler::new(ReassemblyLimits {
        max_message_size: 64 * 1024 * 1024,
        ..ReassemblyLimits::default()
    });
    let mut chunks = 0;
    loop {
        let f = bob.recv().expect("a chunk from the relay");
        assert!(f.is_request(), "{f:?}");
        bob.send(&f.response(200, Some("OK")).unwrap());
        chunks += 1;
        match r.handle_chunk(&f).unwrap() {
            Reassembly::Complete(m) => return (m.body, chunks),
            Reassembly::Partial { .. } => {}
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn ten_megabytes_in_many_chunks_arrive_byte_exact() {
    let s = relay_with_users();
    let mut alice = MsrpConn::connect(s.msrp.unwrap());
    let ua = alice.auth_ok("alice", "secret");
    let mut bob = MsrpConn::connect(s.msrp.unwrap());
    let ub = bob.auth_ok("bob", "secret");
    let to_bob = [ua, ub, bob.me.clone()];

    let message = payload(10 * 1024 * 1024, 0x9e37_79b9_7f4a_7c15);
    let receiver = thread::spawn(move || receive(bob));
    let mut chunker = Chunker::new(
        &to_bob,
        std::slice::from_ref(&alice.me),
        &MessageId::random(),
        "application/octet-stream",
        message.clone(),
        48 * 1024,
    )
    .unwrap();
    let mut sent = 0;
    let mut tids = Vec::new();
    // The relay's 200s are small: they wait in the socket while alice writes.
    while let Some(chunk) = chunker.next_chunk() {
        tids.push(chunk.transaction_id().clone());
        alice.send(&chunk);
        sent += 1;
    }
    assert!(sent > 200, "{sent} chunks");
    for tid in &tids {
        let ok = alice.recv().expect("200 for every chunk");
        assert_eq!(ok.status(), Some(200));
        assert_eq!(ok.transaction_id(), tid, "in order, one per chunk");
    }
    let (got, chunks) = receiver.join().unwrap();
    assert_eq!(chunks, sent, "the relay forwards chunks as they come");
    assert_eq!(got.len(), message.len());
    assert!(got == message, "byte-exact");
}

#[test]
fn a_single_one_megabyte_chunk_passes_whole() {
    let s = relay_with_users();
    let mut alice = MsrpConn::connect(s.msrp.unwrap());
    let ua = alice.auth_ok("alice", "secret");
    let mut bob = MsrpConn::connect(s.msrp.unwrap());
    let ub = bob.auth_ok("bob", "secret");
    let to_bob = [ua, ub, bob.me.clone()];

    let message = payload(1024 * 1024, 42);
    let receiver = thread::spawn(move || receive(bob));
    let f = alice.send_frame(&to_bob, &message);
    alice.send(&f);
    let ok = alice.recv().unwrap();
    assert_eq!(ok.status(), Some(200), "{ok:?}");
    let (got, chunks) = receiver.join().unwrap();
    assert_eq!(chunks, 1);
    assert!(got == message, "byte-exact");
}

#[test]
fn a_message_larger_than_the_relay_takes_is_413() {
    let s = relay_with_users();
    let mut alice = MsrpConn::connect(s.msrp.unwrap());
    let ua = alice.auth_ok("alice", "secret");
    let mut bob = MsrpConn::connect(s.msrp.unwrap());
    let ub = bob.auth_ok("bob", "secret");
    let mut f = alice.send_frame(&[ua, ub, bob.me.clone()], b"the first of many chunks");
    // 1 GB declared: past the relay's 64 MB default (RFC 4975 §10.5).
    f.set_header("Byte-Range", "1-24/1073741824").unwrap();
    f.set_continuation(msrp::Continuation::More);
    alice.send(&f);
    let r = alice.recv().unwrap();
    assert_eq!(r.status(), Some(413), "{r:?}");
    bob.stream
        .set_read_timeout(Some(std::time::Duration::from_millis(300)))
        .unwrap();
    assert!(bob.recv().is_none(), "nothing forwarded");
}
