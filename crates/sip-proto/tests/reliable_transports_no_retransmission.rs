//! Reliable transports (RFC 3261 §17.1.1.2, §17.1.2.2, §17.2.1): no request or
//! response is ever retransmitted by a transaction over TCP, TLS, WS or WSS,
//! and the timers that wait for stray retransmissions are zero.

mod common;

use common::*;
use simple_testkit::LinkConfig;
use sip_proto::{Input, Transport};

#[test]
fn nothing_is_retransmitted_on_any_reliable_transport() {
    for transport in [
        Transport::Tcp,
        Transport::Tls,
        Transport::Ws,
        Transport::Wss,
    ] {
        let mut net = Net::new(transport, LinkConfig::default());
        // Requests into a black hole: one send each, then B and F.
        for (method, branch) in [("INVITE", "z9hG4bKr1"), ("MESSAGE", "z9hG4bKr2")] {
            let msg = request_from(&net, A, method, branch);
            let peer = net.nowhere();
            net.input(A, Input::SendRequest { msg, peer }).unwrap();
        }
        // A server INVITE answered with a non-2xx that is never ACKed.
        let from = net.nowhere();
        let invite = request(
            "INVITE",
            transport,
            from.remote,
            "z9hG4bKr3",
            "call-r3",
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
        net.respond(B, key, response(&invite, 500));
        net.settle();
        assert_eq!(net.node(A).sent_at("INVITE"), [ms(0)], "{transport}");
        assert_eq!(net.node(A).sent_at("MESSAGE"), [ms(0)], "{transport}");
        assert_eq!(net.node(B).sent_at("SIP/2.0 500"), [ms(0)], "{transport}");
        assert_eq!(net.node(A).timeouts().len(), 2);
        assert_eq!(net.node(B).timeouts().len(), 1);
        // And the 100 Trying is not retransmitted either (it never is).
        assert!(net.node(A).layer.is_empty() && net.node(B).layer.is_empty());
    }
}

#[test]
fn completed_states_end_at_once_on_reliable_transports() {
    let mut net = Net::tcp();
    // Non-INVITE: J (server) and K (client) are zero.
    let msg = request_from(&net, A, "MESSAGE", "z9hG4bKr4");
    let ckey = net.send_request(A, B, msg);
    net.run_for(ms(10));
    let (skey, sreq) = only_request(&net, B);
    net.respond(B, skey, response(&sreq, 200));
    assert_eq!(net.node(B).terminated_at(skey), Some(ms(10)));
    net.run_for(ms(10));
    assert_eq!(net.node(A).terminated_at(ckey), Some(ms(20)));
    // INVITE: D (client) and I (server) are zero.
    let invite = request_from(&net, A, "INVITE", "z9hG4bKr5");
    let ikey = net.send_request(A, B, invite);
    net.run_for(ms(10));
    let (skey, sreq) = net.node(B).requests()[1].clone();
    net.respond(B, skey, response(&sreq, 404));
    net.run_for(ms(10));
    assert_eq!(net.node(A).terminated_at(ikey), Some(ms(40)));
    net.run_for(ms(10));
    assert_eq!(net.node(B).terminated_at(skey), Some(ms(50)));
}
