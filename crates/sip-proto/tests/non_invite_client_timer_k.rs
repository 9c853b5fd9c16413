//! Non-INVITE client transaction, Completed (RFC 3261 §17.1.2.2): the final
//! response goes to the TU once; retransmissions of it are absorbed; Timer K
//! ends the transaction after T4 on UDP (zero on TCP, see
//! `non_invite_server_timer_j.rs`).

mod common;

use common::*;
use sip_proto::{Input, TransactionState};

#[test]
fn final_once_to_tu_and_timer_k() {
    let mut net = Net::udp();
    let msg = request_from(&net, A, "REGISTER", "z9hG4bKk1");
    let key = net.send_request(A, B, msg);
    net.run_for(ms(10));
    let (skey, sreq) = only_request(&net, B);
    let ok = response(&sreq, 200);
    net.respond(B, skey, ok.clone());
    net.run_for(ms(10));
    assert_eq!(
        net.node(A).layer.state(key),
        Some(TransactionState::Completed)
    );
    // Retransmissions stopped.
    net.run_until(secs(3));
    assert_eq!(net.node(A).sent_at("REGISTER"), [ms(0)]);
    // A retransmitted 200 is absorbed.
    let peer = net.peer(B);
    let r = net.input(A, Input::Received { msg: ok, peer }).unwrap();
    assert_eq!(r, Some(key));
    assert_eq!(net.node(A).responses(key), [200]);
    // Timer K = T4 = 5 s after the 200 arrived (20 ms).
    net.settle();
    assert_eq!(net.node(A).terminated_at(key), Some(ms(5020)));
}
