//! Profiling driver: parse + access of the benchmark SUBSCRIBE N times, for
//! `valgrind --tool=callgrind` (instruction counts do not depend on load).
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use sip_msg::SipMessage;

fn subscribe() -> String {
    let m = "SUBSCRIBE sip:bob@example.test SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK776asdhds7b9;rport\r\n\
Max-Forwards: 70\r\n\
From: \"Alice Liddell\" <sip:alice@example.test>;tag=1928301774\r\n\
To: <sip:bob@example.test>\r\n\
Call-ID: a84b4c76e66710@pc33.example.test\r\n\
CSeq: 314159 SUBSCRIBE\r\n\
Contact: <sip:alice@127.0.0.1:5070;transport=udp>;+sip.instance=\"<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>\"\r\n\
Event: presence\r\n\
Accept: application/pidf+xml, application/rlmi+xml, multipart/related\r\n\
Supported: eventlist\r\n\
Expires: 3600\r\n\
User-Agent: Herald-bench/1.0\r\n\
Content-Length: 0\r\n\r\n";
    m.to_string()
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let raw = Bytes::from(subscribe());
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
