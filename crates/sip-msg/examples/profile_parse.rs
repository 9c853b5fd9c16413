//! Profiling driver: parse + access of a benchmark message N times, for
//! `valgrind --tool=callgrind` (instruction counts do not depend on load).
//!
//! `cargo run --release -p sip-msg --example profile_parse -- [subscribe|invite] [N]`
//! (the 573-byte SUBSCRIBE or the 3.5 KB INVITE of the parse benchmark).
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use sip_msg::SipMessage;

#[allow(dead_code)]
#[path = "../benches/support/messages.rs"]
mod messages;
use messages::{invite, subscribe};

fn main() {
    let mut args = std::env::args().skip(1);
    let raw = match args.next().as_deref() {
        Some("invite") => Bytes::from(invite()),
        Some("subscribe") | None => Bytes::from(subscribe()),
        Some(other) => panic!("message: subscribe or invite, not {other}"),
    };
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let mut sum = 0usize;
    for _ in 0..n {
        let m = SipMessage::parse(raw.clone()).unwrap();
        sum += m.via().unwrap().port.unwrap_or(0) as usize;
        sum += m.from().unwrap().tag().map_or(0, str::len);
        sum += m.to().unwrap().tag().map_or(0, str::len);
        sum += m.call_id().unwrap().len();
        sum += m.cseq().unwrap().seq as usize;
        sum += m
            .contact()
            .unwrap()
            .map_or(0, |c| c.expires().unwrap_or(1) as usize);
        sum += m.event().unwrap().map_or(0, |e| e.event_type.len());
    }
    println!("{sum}");
}
