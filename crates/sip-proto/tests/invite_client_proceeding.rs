//! INVITE client transaction, Proceeding (RFC 3261 §17.1.1.2): a provisional
//! goes to the TU and stops retransmissions and Timer B; the transaction then
//! waits for a final response without a transaction timeout.

mod common;

use common::*;
use sip_proto::TransactionState;

#[test]
fn provisional_stops_retransmission_and_timer_b() {
    let mut net = Net::udp();
    let invite = request_from(&net, A, "INVITE", "z9hG4bKp1");
    let key = net.send_request(A, B, invite);
    // B's TU stays silent: its transaction sends 100 Trying at 200 ms, which
    // reaches A at 210 ms, before Timer A (500 ms).
    net.run_until(ms(300));
    assert_eq!(net.node(A).responses(key), [100]);
    assert_eq!(
        net.node(A).layer.state(key),
        Some(TransactionState::Proceeding)
    );
    let (skey, sreq) = only_request(&net, B);
    let ringing = response(&sreq, 180);
    net.respond(B, skey, ringing);
    // Long past Timer B: no retransmission, no timeout.
    net.run_until(secs(120));
    assert_eq!(net.node(A).sent_at("INVITE"), [ms(0)]);
    assert!(net.node(A).timeouts().is_empty());
    assert_eq!(net.node(A).responses(key), [100, 180]);
    assert_eq!(
        net.node(A).layer.state(key),
        Some(TransactionState::Proceeding)
    );
    // The final response still completes it.
    net.respond(B, skey, response(&sreq, 486));
    net.run_for(ms(50));
    assert_eq!(net.node(A).responses(key), [100, 180, 486]);
    assert_eq!(
        net.node(A).layer.state(key),
        Some(TransactionState::Completed)
    );
}
