//! Over a lossy, duplicating UDP link, retransmissions still complete the
//! exchanges, and the TUs see each request and each final response once.

// Helpers below unwrap like the tests they serve.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use simple_testkit::{LinkConfig, Loss};
use sip_proto::{Output, Transport};

/// Runs an INVITE rejected with 486 and a MESSAGE answered 200 over `link`;
/// returns whether A's TU got both finals.
fn exchange(link: LinkConfig) -> (Net, bool) {
    let mut net = Net::new(Transport::Udp, link);
    let invite = request_from(&net, A, "INVITE", "z9hG4bKx1");
    let message = request_from(&net, A, "MESSAGE", "z9hG4bKx2");
    let ikey = net.send_request(A, B, invite);
    let mkey = net.send_request(A, B, message);
    // B's TU answers each new request at once.
    let mut answered = 0;
    while net.step() {
        let reqs = net.node(B).requests();
        for (key, req) in reqs.iter().skip(answered) {
            let status = if req.method_str() == Some("INVITE") {
                486
            } else {
                200
            };
            net.respond(B, *key, response(req, status));
        }
        answered = reqs.len();
    }
    let done =
        net.node(A).responses(ikey).contains(&486) && net.node(A).responses(mkey).contains(&200);
    (net, done)
}

#[test]
fn thirty_percent_loss_with_duplicates_still_completes() {
    let mut completed = 0;
    let mut dropped = 0;
    for seed in 1..=20 {
        let (net, done) = exchange(LinkConfig {
            loss: Loss::Random { per_mille: 300 },
            duplicate_per_mille: 200,
            jitter: ms(30),
            seed,
            ..LinkConfig::default()
        });
        if done {
            completed += 1;
            // Each request reached B's TU once; each final reached A's TU once.
            assert_eq!(net.node(B).requests().len(), 2, "seed {seed}");
            let finals = net
                .node(A)
                .log
                .iter()
                .filter(|e| matches!(&e.output, Output::Response { msg, .. } if msg.status().is_some_and(|s| s >= 200)))
                .count();
            assert_eq!(finals, 2, "seed {seed}");
        }
        dropped += net.link.stats().dropped;
        // Everything ended one way or the other.
        assert!(net.node(A).layer.is_empty() && net.node(B).layer.is_empty());
    }
    // Losing all 7 INVITE sends or all 11 MESSAGE sends at 30 % is rare; the
    // 486 needs its ACK, which Timer G's retransmissions provoke again.
    assert_eq!(completed, 20);
    assert!(dropped > 20, "{dropped}");
}

#[test]
fn first_sends_lost_then_retransmission_gets_through() {
    let (net, done) = exchange(LinkConfig {
        loss: Loss::FirstN(4),
        ..LinkConfig::default()
    });
    assert!(done);
    // INVITE at 0 and MESSAGE at 0, then both at 500 ms, were lost: the
    // 1.5 s retransmissions got through.
    assert_eq!(
        net.node(A).sent_at("INVITE")[..3],
        [ms(0), ms(500), ms(1500)]
    );
    assert_eq!(net.node(B).requests().len(), 2);
}
