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

use simple_presence::{PresenceAgent, PresenceConfig, SubscribeAuth};
use simple_testkit::CountingAlloc;
use sip_proto::{FlowId, Peer, TransactionKey, Transport};

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc::new();

#[path = "../../sip-proto/examples/support/sipp_subscribe.rs"]
mod sipp_subscribe;
use sipp_subscribe::subscribe;

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
    let start = GLOBAL.live();
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
    let (b, k) = GLOBAL.per_item_since(start, n);
    println!(
        "{n} subscriptions to {p} presentities: {b:.0} B and {k:.1} blocks live per subscription"
    );
    drop(agent);
}
