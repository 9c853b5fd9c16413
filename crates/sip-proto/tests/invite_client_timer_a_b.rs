//! INVITE client transaction, Calling state (RFC 3261 §17.1.1.2): Timer A
//! retransmits at T1, 2*T1, 4*T1, ... (no T2 cap) on UDP only; Timer B ends the
//! transaction at 64*T1 with a timeout for the TU.

mod common;

use common::*;
use simple_testkit::LinkConfig;
use sip_proto::{Input, TimerName, Timers, TransactionLayer, TransactionState, Transport};

#[test]
fn udp_retransmits_doubling_then_timer_b_times_out() {
    let mut net = Net::udp();
    let invite = request_from(&net, A, "INVITE", "z9hG4bKa1");
    let peer = net.nowhere();
    let key = net
        .input(A, Input::SendRequest { msg: invite, peer })
        .unwrap()
        .unwrap();
    assert_eq!(
        net.node(A).layer.state(key),
        Some(TransactionState::Calling)
    );
    net.settle();
    // Sends at 0 and after 0.5, 1, 2, 4, 8, 16 s; the next (at 63.5 s) is
    // beyond Timer B.
    assert_eq!(
        net.node(A).sent_at("INVITE"),
        [0, 500, 1500, 3500, 7500, 15500, 31500].map(ms)
    );
    assert_eq!(net.node(A).timeouts(), [(secs(32), key, TimerName::B)]);
    assert_eq!(net.node(A).terminated_at(key), Some(secs(32)));
    assert_eq!(net.node(A).layer.state(key), None);
    assert!(net.node(A).layer.is_empty());
}

#[test]
fn tcp_sends_once_and_timer_b_still_fires() {
    let mut net = Net::tcp();
    let invite = request_from(&net, A, "INVITE", "z9hG4bKa1");
    let peer = net.nowhere();
    let key = net
        .input(A, Input::SendRequest { msg: invite, peer })
        .unwrap()
        .unwrap();
    net.settle();
    assert_eq!(net.node(A).sent_at("INVITE"), [ms(0)]);
    assert_eq!(net.node(A).timeouts(), [(secs(32), key, TimerName::B)]);
}

#[test]
fn timers_follow_a_configured_t1() {
    let timers = Timers {
        t1: ms(100),
        ..Timers::default()
    };
    let mut net = Net::with_layers(
        Transport::Udp,
        LinkConfig::default(),
        vec![TransactionLayer::new(timers), TransactionLayer::new(timers)],
    );
    let invite = request_from(&net, A, "INVITE", "z9hG4bKa1");
    let peer = net.nowhere();
    let key = net
        .input(A, Input::SendRequest { msg: invite, peer })
        .unwrap()
        .unwrap();
    net.settle();
    assert_eq!(
        net.node(A).sent_at("INVITE"),
        [0, 100, 300, 700, 1500, 3100, 6300].map(ms)
    );
    assert_eq!(net.node(A).timeouts(), [(ms(6400), key, TimerName::B)]);
}
