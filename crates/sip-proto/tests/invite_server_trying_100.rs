//! INVITE server transaction, Proceeding (RFC 3261 §17.2.1): the transaction
//! sends 100 Trying unless the TU answers within 200 ms; a retransmitted
//! INVITE re-sends the most recent provisional; the 100 has no To tag.

// Helpers below unwrap like the tests they serve.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use simple_testkit::LinkConfig;
use sip_msg::SipMessage;
use sip_proto::{Input, Output, Timers, TransactionLayer, TransactionState, Transport};

fn sent_messages(net: &Net, i: usize, prefix: &str) -> Vec<SipMessage> {
    net.node(i)
        .log
        .iter()
        .filter_map(|e| match &e.output {
            Output::Transmit(t) if start_line(&t.bytes).starts_with(prefix) => {
                Some(SipMessage::parse(t.bytes.clone()).unwrap())
            }
            _ => None,
        })
        .collect()
}

#[test]
fn silent_tu_gets_a_100_after_200ms_and_retransmissions_repeat_the_last_provisional() {
    let mut net = Net::udp();
    // A never sees B's answers (black hole in one direction): A keeps
    // retransmitting, so B must re-send its last provisional each time.
    net.link
        .set_drop_filter(|(_, b)| start_line(b).starts_with("SIP/2.0"));
    let invite = request_from(&net, A, "INVITE", "z9hG4bKt1");
    net.send_request(A, B, invite);
    net.run_until(ms(300));
    let (skey, sreq) = only_request(&net, B);
    assert_eq!(
        net.node(B).layer.state(skey),
        Some(TransactionState::Proceeding)
    );
    // 100 at 10 ms + 200 ms.
    assert_eq!(net.node(B).sent_at("SIP/2.0 100"), [ms(210)]);
    let trying = &sent_messages(&net, B, "SIP/2.0 100")[0];
    assert_eq!(trying.to().unwrap().tag(), None);
    assert_eq!(trying.via().unwrap().branch(), Some("z9hG4bKt1"));
    // A's retransmission at 500 ms reaches B at 510 ms: the 100 again.
    net.run_until(ms(600));
    assert_eq!(net.node(B).sent_at("SIP/2.0 100"), [ms(210), ms(510)]);
    // After a 180, retransmissions get the 180.
    net.respond(B, skey, response(&sreq, 180));
    net.run_until(ms(1600)); // A retransmits at 1.5 s
    assert_eq!(net.node(B).sent_at("SIP/2.0 180"), [ms(600), ms(1510)]);
    assert_eq!(net.node(B).sent_at("SIP/2.0 100").len(), 2);
    assert_eq!(net.node(B).requests().len(), 1);
}

#[test]
fn tu_answering_within_200ms_suppresses_the_100() {
    let mut net = Net::udp();
    let invite = request_from(&net, A, "INVITE", "z9hG4bKt2");
    net.send_request(A, B, invite);
    net.run_until(ms(100));
    let (skey, sreq) = only_request(&net, B);
    net.respond(B, skey, response(&sreq, 180));
    net.run_until(secs(1));
    assert!(net.node(B).sent_at("SIP/2.0 100").is_empty());
}

#[test]
fn trying_delay_is_configurable() {
    let layers = |d| {
        vec![
            TransactionLayer::new(Timers::default()),
            TransactionLayer::new(Timers::default()).with_trying_delay(d),
        ]
    };
    // At once.
    let mut net = Net::with_layers(Transport::Udp, LinkConfig::default(), layers(Some(ms(0))));
    let invite = request_from(&net, A, "INVITE", "z9hG4bKt3");
    net.send_request(A, B, invite);
    net.run_until(ms(50));
    assert_eq!(net.node(B).sent_at("SIP/2.0 100"), [ms(10)]);
    // Never: the TU takes that duty; retransmissions get no answer either.
    let mut net = Net::with_layers(Transport::Udp, LinkConfig::default(), layers(None));
    let invite = request_from(&net, A, "INVITE", "z9hG4bKt4");
    net.send_request(A, B, invite);
    net.run_until(secs(2));
    assert!(net.node(B).sent_at("SIP/2.0").is_empty());
    let peer = net.peer(A);
    let (_, sreq) = only_request(&net, B);
    net.input(B, Input::Received { msg: sreq, peer }).unwrap();
    assert!(net.node(B).sent_at("SIP/2.0").is_empty());
}
