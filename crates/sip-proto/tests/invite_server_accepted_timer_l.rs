//! INVITE server transaction, Accepted (RFC 6026 §7.1, §8.7): after a 2xx the
//! transaction absorbs INVITE retransmissions without answering them, passes
//! the TU's 2xx retransmissions to the wire, hands every ACK to the TU, and
//! ends with Timer L = 64*T1 on every transport.

mod common;

use common::*;
use sip_msg::{HeaderName, MessageBuilder};
use sip_proto::{Input, TransactionState, Transport};

#[test]
fn accepted_absorbs_invites_passes_2xx_and_acks() {
    let mut net = Net::udp();
    let invite = request_from(&net, A, "INVITE", "z9hG4bKl1");
    net.send_request(A, B, invite.clone());
    net.run_for(ms(10));
    let (skey, sreq) = only_request(&net, B);
    let ok = response(&sreq, 200);
    net.respond(B, skey, ok.clone());
    assert_eq!(
        net.node(B).layer.state(skey),
        Some(TransactionState::Accepted)
    );
    // A retransmitted INVITE (a proxy behind which the 2xx got lost, say) is
    // absorbed: no new request for the TU, nothing re-sent.
    let peer = net.peer(A);
    let sent_before = net.node(B).transmits().len();
    let r = net.input(B, Input::Received { msg: invite, peer }).unwrap();
    assert_eq!(r, Some(skey));
    assert_eq!(net.node(B).transmits().len(), sent_before);
    assert_eq!(net.node(B).requests().len(), 1);
    // The TU's own 2xx retransmission goes out.
    net.run_until(ms(510));
    net.respond(B, skey, ok.clone());
    assert_eq!(net.node(B).sent_at("SIP/2.0 200"), [ms(10), ms(510)]);
    // A's TU acknowledges the 2xx with an ACK in a new transaction (new
    // branch, §13.2.2.4), sent statelessly: B's TU gets it.
    let ack = MessageBuilder::request("ACK", "sip:bob@192.0.2.2:5060")
        .header(
            HeaderName::Via,
            "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKack2",
        )
        .header(HeaderName::MaxForwards, "70")
        .header(HeaderName::From, "<sip:alice@example.test>;tag=alice1")
        .header(HeaderName::To, "<sip:bob@example.test>;tag=bob1")
        .header(HeaderName::CallId, "call-z9hG4bKl1")
        .header(HeaderName::CSeq, "1 ACK")
        .build()
        .unwrap();
    let to_b = net.peer(B);
    net.input(
        A,
        Input::SendStateless {
            msg: ack,
            peer: to_b,
        },
    )
    .unwrap();
    net.run_for(ms(10));
    assert_eq!(net.node(B).acks().len(), 1);
    // An ACK reusing the INVITE's branch matches the transaction; in
    // Accepted it too goes to the TU, not absorbed.
    let same_branch = MessageBuilder::request("ACK", "sip:bob@example.test")
        .header(
            HeaderName::Via,
            "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKl1",
        )
        .header(HeaderName::From, "<sip:alice@example.test>;tag=alice1")
        .header(HeaderName::To, "<sip:bob@example.test>;tag=bob1")
        .header(HeaderName::CallId, "call-z9hG4bKl1")
        .header(HeaderName::CSeq, "1 ACK")
        .build()
        .unwrap();
    let peer = net.peer(A);
    let r = net
        .input(
            B,
            Input::Received {
                msg: same_branch,
                peer,
            },
        )
        .unwrap();
    assert_eq!(r, Some(skey));
    assert_eq!(net.node(B).acks().len(), 2);
    // A non-2xx is refused in Accepted.
    assert!(
        net.input(
            B,
            Input::SendResponse {
                key: skey,
                msg: response(&sreq, 500)
            }
        )
        .is_err()
    );
    // Timer L: 64*T1 after the 2xx (10 ms).
    net.settle();
    assert_eq!(net.node(B).terminated_at(skey), Some(ms(32_010)));
}

#[test]
fn timer_l_runs_on_tcp_too() {
    let mut net = Net::new(Transport::Tcp, Default::default());
    let invite = request_from(&net, A, "INVITE", "z9hG4bKl2");
    net.send_request(A, B, invite);
    net.run_for(ms(10));
    let (skey, sreq) = only_request(&net, B);
    net.respond(B, skey, response(&sreq, 200));
    net.settle();
    assert_eq!(net.node(B).terminated_at(skey), Some(ms(32_010)));
}
