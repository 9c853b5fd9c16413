//! Heap held per UDP non-INVITE server transaction while it waits out
//! Timer J (Completed, 64·T1 = 32 s): N SUBSCRIBEs received and answered
//! 200 the way the presence agent answers, and a counting allocator reports
//! the bytes and blocks still live per transaction. At 2,000 SUBSCRIBEs a
//! second that is 64,000 transactions held at once.
//!
//!     cargo run --release -p sip-proto --example txn_memory -- [N]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::Instant;

use simple_testkit::CountingAlloc;
use sip_msg::HeaderName;
use sip_proto::{
    FlowId, Input, Output, Peer, Tag, Timers, TransactionLayer, Transport, response_builder,
    stamp_received,
};

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc::new();

#[path = "support/sipp_subscribe.rs"]
mod sipp_subscribe;
use sipp_subscribe::subscribe;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(64_000, |a| a.parse().unwrap());
    let mut layer = TransactionLayer::new(Timers::default()).with_max_transactions(n + 1);
    let from: SocketAddr = "127.0.0.1:5061".parse().unwrap();
    let peer = Peer::new(Transport::Udp, from, FlowId(1));
    let now = Instant::now();
    let start = GLOBAL.live();
    for i in 0..n {
        let mut msg = subscribe(i, i % 10_000);
        stamp_received(&mut msg, from).unwrap();
        layer
            .handle_input(now, Input::Received { msg, peer })
            .unwrap();
        while let Some(out) = layer.poll_output() {
            if let Output::Request { key, msg, .. } = out {
                // 16 bytes, like the presence agent's tags.
                let tag = Tag::new(format!("hp{i:014}"));
                let resp = response_builder(&msg, 200, "OK", Some(&tag))
                    .unwrap()
                    .header(HeaderName::Expires, "3600")
                    .header(HeaderName::Contact, "<sip:127.0.0.1:5060>")
                    .build()
                    .unwrap();
                layer
                    .handle_input(now, Input::SendResponse { key, msg: resp })
                    .unwrap();
            }
        }
    }
    assert_eq!(layer.len(), n, "every transaction waits out Timer J");
    let (b, k) = GLOBAL.per_item_since(start, n);
    println!(
        "{n} completed UDP SUBSCRIBE server transactions: {b:.0} B and {k:.1} blocks live per transaction"
    );
    drop(layer);
}
