//! INVITE server transaction, Confirmed (RFC 3261 §17.2.1): the ACK for the
//! non-2xx stops Timer G and H and is absorbed (not passed to the TU); so are
//! its retransmissions; Timer I ends the transaction after T4 on UDP, at once
//! on TCP.

mod common;

use common::*;
use sip_proto::{Input, TransactionState};

#[test]
fn ack_confirms_and_timer_i_absorbs_ack_retransmissions() {
    let mut net = Net::udp();
    let invite = request_from(&net, A, "INVITE", "z9hG4bKi1");
    net.send_request(A, B, invite);
    net.run_for(ms(10));
    let (skey, sreq) = only_request(&net, B);
    net.respond(B, skey, response(&sreq, 480));
    net.run_for(ms(20)); // 480 at A at 20 ms, ACK at B at 30 ms.
    assert_eq!(
        net.node(B).layer.state(skey),
        Some(TransactionState::Confirmed)
    );
    // The ACK stopped Timer G: the 480 went out once.
    net.run_until(secs(2));
    assert_eq!(net.node(B).sent_at("SIP/2.0 480"), [ms(10)]);
    // A retransmitted ACK is absorbed: no output for the TU.
    let ack_bytes = net
        .node(A)
        .log
        .iter()
        .find_map(|e| match &e.output {
            sip_proto::Output::Transmit(t) if start_line(&t.bytes).starts_with("ACK") => {
                Some(t.bytes.clone())
            }
            _ => None,
        })
        .unwrap();
    let ack = sip_msg::SipMessage::parse(ack_bytes).unwrap();
    let peer = net.peer(A);
    let before = net.node(B).log.len();
    net.input(B, Input::Received { msg: ack, peer }).unwrap();
    assert_eq!(net.node(B).log.len(), before);
    assert!(net.node(B).acks().is_empty());
    // Timer I = T4 = 5 s after the ACK (30 ms).
    net.settle();
    assert_eq!(net.node(B).terminated_at(skey), Some(ms(5030)));
    assert!(net.node(B).timeouts().is_empty());
}
