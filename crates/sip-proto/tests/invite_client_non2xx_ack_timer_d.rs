//! INVITE client transaction, Completed (RFC 3261 §17.1.1.2, §17.1.1.3 and RFC
//! 6026 §8.4): a 300-699 goes to the TU and the transaction itself sends the
//! ACK (even over TCP); a retransmitted final re-sends the ACK and stays away
//! from the TU; Timer D is 32 s on UDP and zero on TCP.

mod common;

use bytes::Bytes;
use common::*;
use sip_msg::{HeaderName, SipMessage};
use sip_proto::{TransactionState, Transport};

#[test]
fn non_2xx_is_acked_by_the_transaction_and_timer_d_waits_32s() {
    let mut net = Net::udp();
    let invite = request_from(&net, A, "INVITE", "z9hG4bKd1");
    let key = net.send_request(A, B, invite);
    net.run_for(ms(10));
    let (skey, sreq) = only_request(&net, B);
    // Lose A's first ACK, so B's Timer G retransmits the 486 and A must
    // answer the retransmission with the ACK again.
    let mut lost = 0;
    net.link
        .set_drop_filter(move |(_, b): &(Transport, Bytes)| {
            let line = start_line(b);
            if lost < 1 && line.starts_with("ACK") {
                lost += 1;
                return true;
            }
            false
        });
    net.respond(B, skey, response(&sreq, 486));
    net.run_for(ms(20)); // 486 arrives at 20 ms.
    assert_eq!(net.node(A).responses(key), [486]);
    assert_eq!(
        net.node(A).layer.state(key),
        Some(TransactionState::Completed)
    );
    net.run_until(secs(2));
    // Timer G re-sent the 486 at 510 ms; A re-sent the ACK, the TU saw one 486.
    assert_eq!(net.node(A).responses(key), [486]);
    assert_eq!(net.node(A).sent_at("ACK"), [ms(20), ms(520)]);
    assert_eq!(
        net.node(B).layer.state(skey),
        Some(TransactionState::Confirmed)
    );
    // The ACK is built per §17.1.1.3.
    let ack = net
        .node(A)
        .log
        .iter()
        .find_map(|e| match &e.output {
            sip_proto::Output::Transmit(t) if start_line(&t.bytes).starts_with("ACK") => {
                Some(SipMessage::parse(t.bytes.clone()).unwrap())
            }
            _ => None,
        })
        .unwrap();
    assert_eq!(ack.request_uri_str(), Some("sip:bob@example.test"));
    assert_eq!(ack.via().unwrap().branch(), Some("z9hG4bKd1"));
    assert_eq!(ack.header_lines(HeaderName::Via).count(), 1);
    assert_eq!(ack.to().unwrap().tag(), Some("bob1"));
    assert_eq!(ack.from().unwrap().tag(), Some("alice1"));
    assert_eq!(ack.call_id().unwrap(), "call-z9hG4bKd1");
    assert_eq!(ack.header(HeaderName::CSeq), Some("1 ACK"));
    // Timer D: 32 s after entering Completed (at 20 ms).
    net.settle();
    assert_eq!(net.node(A).terminated_at(key), Some(ms(32_020)));
}

#[test]
fn tcp_acks_and_terminates_at_once() {
    let mut net = Net::tcp();
    let invite = request_from(&net, A, "INVITE", "z9hG4bKd2");
    let key = net.send_request(A, B, invite);
    net.run_for(ms(10));
    let (skey, sreq) = only_request(&net, B);
    net.respond(B, skey, response(&sreq, 603));
    net.run_for(ms(10));
    assert_eq!(net.node(A).responses(key), [603]);
    assert_eq!(net.node(A).sent_at("ACK"), [ms(20)]);
    assert_eq!(net.node(A).terminated_at(key), Some(ms(20)));
    // B got the ACK: Confirmed, and Timer I is zero on TCP too.
    net.run_for(ms(10));
    assert_eq!(net.node(B).terminated_at(skey), Some(ms(30)));
}
