//! Profiling driver: parse + access of the benchmark 3.5 KB INVITE N times, for
//! `valgrind --tool=callgrind` (instruction counts do not depend on load).
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use sip_msg::SipMessage;

#[allow(dead_code)]
#[path = "../benches/support/messages.rs"]
mod messages;
use messages::invite;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let raw = Bytes::from(invite());
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
