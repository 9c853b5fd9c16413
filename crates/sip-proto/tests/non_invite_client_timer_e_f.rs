//! Non-INVITE client transaction, Trying and Proceeding (RFC 3261 §17.1.2.2):
//! Timer E retransmits at T1, 2*T1, ... capped at T2, and every T2 once a
//! provisional arrived; Timer F times out at 64*T1 in either state; on TCP
//! nothing is retransmitted.

mod common;

use common::*;
use sip_proto::{Input, TimerName, TransactionState};

#[test]
fn trying_retransmits_capped_at_t2_then_timer_f() {
    let mut net = Net::udp();
    let msg = request_from(&net, A, "MESSAGE", "z9hG4bKe1");
    let peer = net.nowhere();
    let key = net
        .input(A, Input::SendRequest { msg, peer })
        .unwrap()
        .unwrap();
    assert_eq!(net.node(A).layer.state(key), Some(TransactionState::Trying));
    net.settle();
    assert_eq!(
        net.node(A).sent_at("MESSAGE"),
        [
            0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500
        ]
        .map(ms)
    );
    assert_eq!(net.node(A).timeouts(), [(secs(32), key, TimerName::F)]);
    assert_eq!(net.node(A).terminated_at(key), Some(secs(32)));
}

#[test]
fn proceeding_retransmits_every_t2_and_still_times_out() {
    let mut net = Net::udp();
    let msg = request_from(&net, A, "SUBSCRIBE", "z9hG4bKe2");
    let key = net.send_request(A, B, msg);
    net.run_for(ms(10));
    let (skey, sreq) = only_request(&net, B);
    net.respond(B, skey, response(&sreq, 100));
    net.run_for(ms(10));
    assert_eq!(
        net.node(A).layer.state(key),
        Some(TransactionState::Proceeding)
    );
    net.settle();
    // Timer E was armed for 500 ms; once it fires in Proceeding it is T2.
    assert_eq!(
        net.node(A).sent_at("SUBSCRIBE"),
        [0, 500, 4500, 8500, 12500, 16500, 20500, 24500, 28500].map(ms)
    );
    assert_eq!(net.node(A).timeouts(), [(secs(32), key, TimerName::F)]);
    // B re-sent its 100 for each retransmission it got, and Figure 6 passes
    // every 1xx received in Proceeding to the TU.
    assert_eq!(net.node(B).sent_at("SIP/2.0 100").len(), 9);
    assert_eq!(net.node(A).responses(key), [100; 9]);
}

#[test]
fn tcp_sends_once_and_timer_f_fires() {
    let mut net = Net::tcp();
    let msg = request_from(&net, A, "PUBLISH", "z9hG4bKe3");
    let peer = net.nowhere();
    let key = net
        .input(A, Input::SendRequest { msg, peer })
        .unwrap()
        .unwrap();
    net.settle();
    assert_eq!(net.node(A).sent_at("PUBLISH"), [ms(0)]);
    assert_eq!(net.node(A).timeouts(), [(secs(32), key, TimerName::F)]);
}
