//! INVITE server transaction, Completed (RFC 3261 §17.2.1): a 300-699 from the
//! TU is retransmitted by Timer G at T1, 2*T1, ... capped at T2 (UDP only);
//! a retransmitted INVITE re-sends it; Timer H (64*T1, every transport) gives
//! up on the ACK and reports a failure.

// Helpers below unwrap like the tests they serve.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use sip_proto::{Input, TimerName, TransactionState, Transport};

/// An INVITE as if from a UA at a black-hole address, handed to B directly.
fn invite_at_b(net: &mut Net) -> (sip_proto::TransactionKey, sip_msg::SipMessage) {
    let from = net.nowhere();
    let invite = request(
        "INVITE",
        net.transport,
        from.remote,
        "z9hG4bKg1",
        "call-g1",
        1,
        None,
    );
    let key = net
        .input(
            B,
            Input::Received {
                msg: invite.clone(),
                peer: from,
            },
        )
        .unwrap()
        .unwrap();
    (key, invite)
}

#[test]
fn udp_final_retransmitted_capped_at_t2_until_timer_h() {
    let mut net = Net::udp();
    let (key, invite) = invite_at_b(&mut net);
    net.respond(B, key, response(&invite, 486));
    assert_eq!(
        net.node(B).layer.state(key),
        Some(TransactionState::Completed)
    );
    // A retransmitted INVITE at 2 s is answered with the 486 again.
    net.run_until(secs(2));
    let from = net.nowhere();
    net.input(
        B,
        Input::Received {
            msg: invite,
            peer: from,
        },
    )
    .unwrap();
    net.settle();
    // Intervals 0.5, 1, 2, 4, 4, 4, ... (T2 = 4 s); plus the one at 2 s.
    assert_eq!(
        net.node(B).sent_at("SIP/2.0 486"),
        [
            0, 500, 1500, 2000, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500
        ]
        .map(ms)
    );
    assert_eq!(net.node(B).timeouts(), [(secs(32), key, TimerName::H)]);
    assert_eq!(net.node(B).terminated_at(key), Some(secs(32)));
    // The TU saw the INVITE once.
    assert_eq!(net.node(B).requests().len(), 1);
}

#[test]
fn tcp_final_sent_once_and_timer_h_still_runs() {
    let mut net = Net::new(Transport::Tcp, Default::default());
    let (key, invite) = invite_at_b(&mut net);
    net.respond(B, key, response(&invite, 486));
    net.settle();
    assert_eq!(net.node(B).sent_at("SIP/2.0 486"), [ms(0)]);
    assert_eq!(net.node(B).timeouts(), [(secs(32), key, TimerName::H)]);
}
