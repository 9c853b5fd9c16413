//! Heap held by the presence agent per active subscription: N watchers
//! subscribe to P presentities (each NOTIFY answered 200), and a counting
//! allocator reports the bytes and blocks still live per subscription.
//!
//!     cargo run --release -p simple-presence --example sub_memory -- [N] [P]
//!
//! This is the agent's share only (the server adds its store and, until
//! Timer J, the SUBSCRIBE transactions); `tools/bench-presence.sh` measures
//! the whole process.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use bytes::Bytes;
use simple_presence::{PresenceAgent, PresenceConfig, SubscribeAuth};
use simple_testkit::CountingAlloc;
use sip_msg::SipMessage;
use sip_proto::{FlowId, Peer, TransactionKey, Transport};

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc::new();

fn subscribe(i: usize, presentity: usize) -> SipMessage {
    // The shape of the shared harness's subscribe.xml (sipp).
    let text = format!(
        "SUBSCRIBE sip:p{presentity}@example.test SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-{i}-1-0\r\n\
Max-Forwards: 70\r\n\
From: <sip:w{i}@example.test>;tag=4242s{i}\r\n\
To: <sip:p{presentity}@example.test>\r\n\
Call-ID: {i}-4242@127.0.0.1\r\n\
CSeq: 1 SUBSCRIBE\r\n\
Contact: <sip:w{i}@127.0.0.1:5061;transport=UDP>\r\n\
Event: presence\r\n\
Accept: application/pidf+xml\r\n\
Expires: 3600\r\n\
Content-Length: 0\r\n\r\n"
    );
    SipMessage::parse(Bytes::from(text)).unwrap()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(100_000, |a| a.parse().unwrap());
    let p: usize = args.next().map_or(10_000, |a| a.parse().unwrap());
    let mut agent = PresenceAgent::new(
        PresenceConfig::default(),
        vec![(Transport::Udp, "sip:127.0.0.1:5060".to_owned())],
    );
    let peer = Peer::new(
        Transport::Udp,
        "127.0.0.1:5061".parse::<SocketAddr>().unwrap(),
        FlowId(1),
    );
    let now = 1_800_000_000_000u64;
    // Every presentity known, her (registration-fed) document composed,
    // before counting: what is counted is the subscriptions' own share.
    for j in 0..p {
        drop(agent.document(&format!("sip:p{j}@example.test"), now));
    }
    let (b0, k0) = GLOBAL.live();
    let mut next = 0u64;
    for i in 0..n {
        let req = subscribe(i, i % p);
        next += 1;
        let aor = format!("sip:p{}@example.test", i % p);
        let fx = agent.handle_subscribe(
            now,
            TransactionKey::detached(next),
            &req,
            peer,
            &aor,
            SubscribeAuth::Allow,
            true,
        );
        assert_eq!(fx.responses[0].msg.status(), Some(200));
        for nt in fx.notifies {
            next += 1;
            let k = TransactionKey::detached(next);
            agent.notify_sent(&nt.sub, k);
            drop(agent.handle_notify_result(now, k, 200));
        }
        drop(req);
    }
    assert_eq!(agent.subscription_count(), n);
    let (b1, k1) = GLOBAL.live();
    println!(
        "{n} subscriptions to {p} presentities: {:.0} B and {:.1} blocks live per subscription",
        (b1 - b0) as f64 / n as f64,
        (k1 - k0) as f64 / n as f64
    );
    drop(agent);
}
