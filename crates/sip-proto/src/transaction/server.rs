//! Server transactions: INVITE (RFC 3261 §17.2.1, Figure 7 as replaced by RFC
//! 6026 §8.6) and non-INVITE (§17.2.2, Figure 8).

use std::time::Duration;

use bytes::Bytes;
use sip_msg::SipMessage;

use super::matching::is_ack;
use super::{Ctx, Output, Step, Transaction, TransactionKind, TransactionState};
use crate::error::ProtoError;
use crate::stateless::response_builder;
use crate::timers::TimerName;
use crate::transport::Peer;

impl Transaction {
    /// A new request made this server transaction; the layer already gave it
    /// to the TU.
    pub(super) fn server_start(&mut self, cx: &mut Ctx<'_>, trying_delay: Option<Duration>) {
        match self.kind {
            TransactionKind::ServerInvite => {
                // §17.2.1: Proceeding; 100 Trying unless the TU answers within
                // 200 ms.
                self.state = TransactionState::Proceeding;
                match trying_delay {
                    Some(d) if d.is_zero() => self.send_trying(cx),
                    Some(d) => self.arm(cx, TimerName::Trying, d),
                    None => {}
                }
            }
            _ => self.state = TransactionState::Trying,
        }
    }

    /// Sends the transaction's own 100 (Trying), built per §8.2.6 without a To
    /// tag (§17.2.1), and remembers it as the last provisional.
    fn send_trying(&mut self, cx: &mut Ctx<'_>) {
        self.disarm(cx, TimerName::Trying);
        let Some(request) = &self.request else {
            return;
        };
        let Ok(trying) = response_builder(request, 100, "Trying", None)
            .and_then(|b| b.build().map_err(ProtoError::Build))
        else {
            return;
        };
        let bytes = trying.to_bytes();
        self.wire = bytes.clone();
        cx.transmit(self.peer, bytes);
    }

    /// A request matched this server transaction (§17.2.3): a retransmission,
    /// or the ACK of an INVITE transaction.
    pub(super) fn server_on_request(
        &mut self,
        cx: &mut Ctx<'_>,
        msg: SipMessage,
        peer: Peer,
    ) -> Step {
        use TransactionState::*;
        if self.kind == TransactionKind::ServerInvite && is_ack(&msg) {
            return match self.state {
                Completed => {
                    // §17.2.1: Confirmed; G and H stop, Timer I absorbs ACK
                    // retransmissions.
                    self.state = Confirmed;
                    self.disarm(cx, TimerName::G);
                    self.disarm(cx, TimerName::H);
                    let i = cx.timers.timer_i(self.peer.transport);
                    self.arm_or_terminate(cx, TimerName::I, i)
                }
                Accepted => {
                    // RFC 6026 §7.1: an ACK in Accepted goes to the TU.
                    cx.emit(Output::Ack { msg, peer });
                    Step::Stay
                }
                // Confirmed absorbs; an ACK before any final is meaningless.
                _ => Step::Stay,
            };
        }
        match self.state {
            Proceeding if self.kind == TransactionKind::ServerInvite => {
                // §17.2.1: re-send the most recent provisional; if none was
                // sent yet, the retransmission says the 200 ms are over.
                match self.resend() {
                    Some(r) => cx.transmit(self.peer, r),
                    None if self.is_armed(TimerName::Trying) => self.send_trying(cx),
                    None => {}
                }
            }
            // §17.2.2: re-send the last provisional (Proceeding) or the final
            // (Completed). §17.2.1: the final in Completed.
            Proceeding | Completed => {
                let again = if self.wire_is_delta {
                    super::kept::rebuild(&msg, &self.wire)
                } else {
                    self.resend()
                };
                if let Some(r) = again {
                    cx.transmit(self.peer, r);
                }
            }
            // Trying (§17.2.2: discarded), Confirmed, Accepted (RFC 6026 §7.1:
            // absorbed, not even answered).
            _ => {}
        }
        Step::Stay
    }

    /// The TU passes a response to this server transaction.
    pub(super) fn server_send_response(
        &mut self,
        cx: &mut Ctx<'_>,
        msg: &SipMessage,
    ) -> Result<Step, ProtoError> {
        let status = msg.status().ok_or(ProtoError::NotAResponse)?;
        let refused = ProtoError::ResponseRefused {
            key: cx.key,
            state: self.state,
            status,
        };
        match self.kind {
            TransactionKind::ServerInvite => self.invite_send(cx, msg, status, refused),
            _ => self.non_invite_send(cx, msg, status, refused),
        }
    }

    fn invite_send(
        &mut self,
        cx: &mut Ctx<'_>,
        msg: &SipMessage,
        status: u16,
        refused: ProtoError,
    ) -> Result<Step, ProtoError> {
        use TransactionState::*;
        let bytes = msg.to_bytes();
        match (self.state, status) {
            (Proceeding, 100..=199) => {
                // §17.2.1: sent as is, not retransmitted by us, remembered for
                // request retransmissions.
                self.disarm(cx, TimerName::Trying);
                self.wire = bytes.clone();
                cx.transmit(self.peer, bytes);
                Ok(Step::Stay)
            }
            (Proceeding, 200..=299) => {
                // RFC 6026 §8.5/§8.7: sent once, Accepted with Timer L = 64*T1
                // on every transport; the TU retransmits the 2xx.
                self.disarm(cx, TimerName::Trying);
                self.note_response_to_tag(msg);
                self.state = Accepted;
                cx.transmit(self.peer, bytes);
                self.arm(cx, TimerName::L, cx.timers.timeout());
                Ok(Step::Stay)
            }
            (Proceeding, 300..) => {
                // §17.2.1: Completed; Timer G = T1 on unreliable transports,
                // Timer H = 64*T1 always.
                self.disarm(cx, TimerName::Trying);
                self.note_response_to_tag(msg);
                self.state = Completed;
                self.wire = cx.keep(&[&bytes]);
                cx.transmit(self.peer, bytes);
                self.set_interval(cx.timers.first_retransmit());
                if !self.reliable() {
                    self.arm(cx, TimerName::G, self.interval());
                }
                self.arm(cx, TimerName::H, cx.timers.timeout());
                Ok(Step::Stay)
            }
            (Accepted, 200..=299) => {
                // RFC 6026 §8.7: the TU's 2xx retransmissions pass through.
                cx.transmit(self.peer, bytes);
                Ok(Step::Stay)
            }
            _ => Err(refused),
        }
    }

    fn non_invite_send(
        &mut self,
        cx: &mut Ctx<'_>,
        msg: &SipMessage,
        status: u16,
        refused: ProtoError,
    ) -> Result<Step, ProtoError> {
        use TransactionState::*;
        let bytes = msg.to_bytes();
        match (self.state, status) {
            (Trying | Proceeding, 100..=199) => {
                self.state = Proceeding;
                self.wire = bytes.clone();
                cx.transmit(self.peer, bytes);
                Ok(Step::Stay)
            }
            (Trying | Proceeding, 200..) => {
                // §17.2.2: Completed with Timer J (64*T1 unreliable, 0
                // reliable). Retransmissions are answered from the bytes.
                self.state = Completed;
                let j = cx.timers.timer_j(self.peer.transport);
                // Reliable: Timer J is zero and nothing is re-sent. Else the
                // response is kept, cut down to what the request does not
                // repeat when it can be (`kept`).
                let delta = if j.is_zero() {
                    None
                } else {
                    self.request
                        .as_deref()
                        .and_then(|req| super::kept::delta(req, msg, &bytes))
                };
                self.wire_is_delta = delta.is_some();
                self.wire = match delta {
                    Some(d) => cx.keep(&d.parts()),
                    None if j.is_zero() => Bytes::new(),
                    None => cx.keep(&[&bytes]),
                };
                self.request = None;
                cx.transmit(self.peer, bytes);
                Ok(self.arm_or_terminate(cx, TimerName::J, j))
            }
            // §17.2.2: other finals in Completed MUST be discarded.
            _ => Err(refused),
        }
    }

    /// A server timer fired (the layer checked it is still armed).
    pub(super) fn server_on_timer(&mut self, cx: &mut Ctx<'_>, name: TimerName) -> Step {
        use TransactionState::*;
        match (name, self.state) {
            (TimerName::Trying, Proceeding) => {
                if self.wire.is_empty() {
                    self.send_trying(cx);
                }
                Step::Stay
            }
            (TimerName::G, Completed) => {
                // §17.2.1: retransmit the final, MIN(2*interval, T2).
                if let Some(r) = self.resend() {
                    cx.transmit(self.peer, r);
                }
                self.set_interval((self.interval() * 2).min(cx.timers.t2));
                self.arm(cx, TimerName::G, self.interval());
                Step::Stay
            }
            (TimerName::H, Completed) => {
                // §17.2.1: no ACK: transaction failure to the TU.
                cx.emit(Output::Timeout {
                    key: cx.key,
                    timer: name,
                });
                Step::Terminate
            }
            (TimerName::I, Confirmed) | (TimerName::J, Completed) | (TimerName::L, Accepted) => {
                Step::Terminate
            }
            _ => Step::Stay,
        }
    }
}
