//! Transport errors (RFC 3261 §17.1.4, §17.2.4, RFC 6026 §7.1): client and
//! non-INVITE server transactions inform the TU and terminate; an INVITE
//! server transaction informs the TU and stays, to absorb retransmissions.
//! And the TU's own give-up (`Input::Abandon`, RFC 3261 §9.1 / §16.8): a
//! client transaction removed at once, a server transaction refused.

mod common;

use common::*;
use sip_proto::{Input, Output, ProtoError, TransactionState};

fn transport_errors(net: &Net, i: usize) -> usize {
    net.node(i)
        .log
        .iter()
        .filter(|e| matches!(e.output, Output::TransportError { .. }))
        .count()
}

#[test]
fn client_transaction_terminates() {
    let mut net = Net::udp();
    let msg = request_from(&net, A, "INVITE", "z9hG4bKte1");
    let key = net.send_request(A, B, msg);
    net.input(A, Input::TransportError { key }).unwrap();
    assert_eq!(transport_errors(&net, A), 1);
    assert_eq!(net.node(A).terminated_at(key), Some(ms(0)));
    // The key is dead now.
    assert_eq!(
        net.input(A, Input::TransportError { key }).unwrap_err(),
        ProtoError::UnknownTransaction(key)
    );
}

#[test]
fn invite_server_stays_non_invite_server_goes() {
    let mut net = Net::udp();
    let invite = request_from(&net, A, "INVITE", "z9hG4bKte2");
    net.send_request(A, B, invite.clone());
    let options = request_from(&net, A, "OPTIONS", "z9hG4bKte3");
    net.send_request(A, B, options);
    net.run_for(ms(10));
    let reqs = net.node(B).requests();
    let (ikey, ireq) = reqs[0].clone();
    let (okey, _) = reqs[1].clone();
    net.respond(B, ikey, response(&ireq, 486));
    net.input(B, Input::TransportError { key: ikey }).unwrap();
    net.input(B, Input::TransportError { key: okey }).unwrap();
    assert_eq!(transport_errors(&net, B), 2);
    assert_eq!(
        net.node(B).layer.state(ikey),
        Some(TransactionState::Completed)
    );
    assert_eq!(net.node(B).layer.state(okey), None);
    // The INVITE transaction still absorbs a retransmission (answering it).
    let peer = net.peer(A);
    let before = net.node(B).sent_at("SIP/2.0 486").len();
    net.input(B, Input::Received { msg: invite, peer }).unwrap();
    assert_eq!(net.node(B).sent_at("SIP/2.0 486").len(), before + 1);
    assert_eq!(net.node(B).requests().len(), 2);
}

#[test]
fn abandoned_invite_client_in_proceeding_goes_and_later_responses_are_stray() {
    let mut net = Net::udp();
    let invite = request_from(&net, A, "INVITE", "z9hG4bKab1");
    let key = net.send_request(A, B, invite);
    net.run_for(ms(10));
    let (bkey, breq) = net.node(B).requests()[0].clone();
    net.respond(B, bkey, response(&breq, 180));
    net.run_for(ms(10));
    assert_eq!(
        net.node(A).layer.state(key),
        Some(TransactionState::Proceeding)
    );
    // The TU gives up: gone at once, Terminated reported, nothing sent.
    let sent_before = net.node(A).sent_at("").len();
    net.input(A, Input::Abandon { key }).unwrap();
    assert_eq!(net.node(A).layer.state(key), None);
    assert!(net.node(A).terminated_at(key).is_some());
    assert_eq!(net.node(A).sent_at("").len(), sent_before);
    // A final response now matches nothing: it is not handed to the TU.
    assert_eq!(net.node(A).responses(key), vec![180]);
    net.respond(B, bkey, response(&breq, 486));
    net.run_for(ms(50));
    assert_eq!(net.node(A).responses(key), vec![180]);
    // No ACK either: the 486 matched no transaction.
    assert_eq!(net.node(A).sent_at("ACK").len(), 0);
    assert_eq!(
        net.input(A, Input::Abandon { key }).unwrap_err(),
        ProtoError::UnknownTransaction(key)
    );
    // A server transaction is not the TU's to abandon.
    assert_eq!(
        net.input(B, Input::Abandon { key: bkey }).unwrap_err(),
        ProtoError::NotAClientTransaction(bkey)
    );
    assert_eq!(
        net.node(B).layer.state(bkey),
        Some(TransactionState::Completed)
    );
}
