//! Client transactions: INVITE (RFC 3261 §17.1.1, Figure 5 as replaced by RFC
//! 6026 §8.4) and non-INVITE (§17.1.2, Figure 6).

use bytes::Bytes;
use sip_msg::{HeaderName, SipMessage};

use super::{Ctx, Output, Step, Transaction, TransactionKind, TransactionState};
use crate::error::ProtoError;
use crate::timers::TimerName;

impl Transaction {
    /// The TU handed us the request: send it and start the timers.
    pub(super) fn client_start(&mut self, cx: &mut Ctx<'_>) {
        cx.transmit(self.peer, self.wire.clone());
        self.set_interval(cx.timers.first_retransmit());
        match self.kind {
            TransactionKind::ClientInvite => {
                // §17.1.1.2: Calling; Timer B = 64*T1 always, Timer A = T1 on
                // unreliable transports only.
                self.state = TransactionState::Calling;
                self.arm(cx, TimerName::B, cx.timers.timeout());
                if !self.reliable() {
                    self.arm(cx, TimerName::A, self.interval());
                }
            }
            _ => {
                // §17.1.2.2: Trying; Timer F = 64*T1, Timer E = T1 unreliable.
                self.state = TransactionState::Trying;
                self.arm(cx, TimerName::F, cx.timers.timeout());
                if !self.reliable() {
                    self.arm(cx, TimerName::E, self.interval());
                }
            }
        }
    }

    /// A response matched this client transaction (§17.1.3).
    pub(super) fn client_on_response(&mut self, cx: &mut Ctx<'_>, msg: SipMessage) -> Step {
        let Some(status) = msg.status() else {
            return Step::Stay;
        };
        match self.kind {
            TransactionKind::ClientInvite => self.invite_on_response(cx, msg, status),
            _ => self.non_invite_on_response(cx, msg, status),
        }
    }

    fn invite_on_response(&mut self, cx: &mut Ctx<'_>, msg: SipMessage, status: u16) -> Step {
        use TransactionState::*;
        let key = cx.key;
        match (self.state, status) {
            (Calling | Proceeding, 100..=199) => {
                // §17.1.1.2: a provisional stops retransmissions (and Timer B:
                // from Proceeding only a final response or the TU's CANCEL
                // ends the transaction).
                self.state = Proceeding;
                self.disarm(cx, TimerName::A);
                self.disarm(cx, TimerName::B);
                cx.emit(Output::Response { key, msg });
                Step::Stay
            }
            (Calling | Proceeding, 200..=299) => {
                // RFC 6026 §8.4: Accepted, Timer M = 64*T1, 2xx to the TU; the
                // TU (not the transaction) sends the ACK.
                self.state = Accepted;
                self.wire = Bytes::new();
                self.disarm(cx, TimerName::A);
                self.disarm(cx, TimerName::B);
                self.arm(cx, TimerName::M, cx.timers.timeout());
                cx.emit(Output::Response { key, msg });
                Step::Stay
            }
            (Calling | Proceeding, _) => {
                // §17.1.1.2: 300-699: response to the TU, ACK sent even on a
                // reliable transport, to where the INVITE went; Completed with
                // Timer D.
                self.state = Completed;
                self.disarm(cx, TimerName::A);
                self.disarm(cx, TimerName::B);
                self.wire = self
                    .request
                    .as_ref()
                    .and_then(|r| ack_for_non_2xx(r, &msg).ok())
                    .map(|m| m.to_bytes())
                    .unwrap_or_default();
                cx.emit(Output::Response { key, msg });
                if let Some(ack) = self.resend() {
                    cx.transmit(self.peer, ack);
                }
                let d = cx.timers.timer_d(self.peer.transport);
                self.arm_or_terminate(cx, TimerName::D, d)
            }
            (Completed, 300..) => {
                // A retransmitted final: re-send the ACK, keep it from the TU.
                if let Some(ack) = self.resend() {
                    cx.transmit(self.peer, ack);
                }
                Step::Stay
            }
            (Accepted, 200..=299) => {
                // RFC 6026 §8.4: every 2xx (retransmission or another fork)
                // goes to the TU.
                cx.emit(Output::Response { key, msg });
                Step::Stay
            }
            // Late provisionals, a non-2xx after a 2xx, a 2xx after a non-2xx:
            // nothing the state machine defines; dropped.
            _ => Step::Stay,
        }
    }

    fn non_invite_on_response(&mut self, cx: &mut Ctx<'_>, msg: SipMessage, status: u16) -> Step {
        use TransactionState::*;
        let key = cx.key;
        match (self.state, status) {
            (Trying | Proceeding, 100..=199) => {
                // §17.1.2.2: to the TU, Proceeding; Timer E keeps running and
                // is reset to T2 when it next fires.
                self.state = Proceeding;
                cx.emit(Output::Response { key, msg });
                Step::Stay
            }
            (Trying | Proceeding, _) => {
                // §17.1.2.2: 200-699: to the TU, Completed with Timer K
                // (which only absorbs response retransmissions).
                self.state = Completed;
                self.request = None;
                self.wire = Bytes::new();
                self.disarm(cx, TimerName::E);
                self.disarm(cx, TimerName::F);
                cx.emit(Output::Response { key, msg });
                let k = cx.timers.timer_k(self.peer.transport);
                self.arm_or_terminate(cx, TimerName::K, k)
            }
            // Completed buffers response retransmissions (§17.1.2.2).
            _ => Step::Stay,
        }
    }

    /// A client timer fired (the layer checked it is still armed).
    pub(super) fn client_on_timer(&mut self, cx: &mut Ctx<'_>, name: TimerName) -> Step {
        use TransactionState::*;
        let key = cx.key;
        match (name, self.state) {
            (TimerName::A, Calling) => {
                // §17.1.1.2: retransmit, double the interval (no T2 cap for
                // INVITE requests).
                cx.transmit(self.peer, self.wire.clone());
                self.set_interval(self.interval() * 2);
                self.arm(cx, TimerName::A, self.interval());
                Step::Stay
            }
            (TimerName::B, Calling) | (TimerName::F, Trying | Proceeding) => {
                cx.emit(Output::Timeout { key, timer: name });
                Step::Terminate
            }
            (TimerName::E, Trying) => {
                // §17.1.2.2: MIN(2*interval, T2).
                cx.transmit(self.peer, self.wire.clone());
                self.set_interval((self.interval() * 2).min(cx.timers.t2));
                self.arm(cx, TimerName::E, self.interval());
                Step::Stay
            }
            (TimerName::E, Proceeding) => {
                // §17.1.2.2: in Proceeding, every T2.
                cx.transmit(self.peer, self.wire.clone());
                self.set_interval(cx.timers.t2);
                self.arm(cx, TimerName::E, self.interval());
                Step::Stay
            }
            (TimerName::D, Completed) | (TimerName::K, Completed) | (TimerName::M, Accepted) => {
                Step::Terminate
            }
            _ => Step::Stay,
        }
    }
}

/// The ACK a client INVITE transaction sends for a non-2xx final (§17.1.1.3):
/// Request-URI, Call-ID, From and the top Via of the INVITE, To of the
/// response, CSeq number of the INVITE with method ACK, and the INVITE's Route
/// header fields.
pub(crate) fn ack_for_non_2xx(
    invite: &SipMessage,
    response: &SipMessage,
) -> Result<SipMessage, ProtoError> {
    let seq = invite.cseq()?.seq;
    crate::cancel::same_hop_request(
        invite,
        "ACK",
        response.header(HeaderName::To).unwrap_or_default(),
        seq,
    )
}
