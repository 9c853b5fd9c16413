//! The notifier side of one subscription (RFC 6665 §4.2).

use std::sync::Arc;

use bytes::Bytes;
use sip_msg::{HeaderName, MessageBuilder, SipMessage};

use super::{
    EventRegistry, Refusal, SubState, SubscribeParams, TerminationReason, deadline, event_value,
    remaining_secs,
};
use crate::dialog::{Dialog, DialogId};
use crate::error::DialogError;

/// Notifier side of one subscription (RFC 6665 §4.2).
///
/// Plain data: the caller persists it and feeds it the in-dialog SUBSCRIBEs
/// it receives ([`ServerSubscription::handle_refresh`]); it builds the
/// NOTIFYs ([`ServerSubscription::notify`]). Expiry is a deadline in Unix
/// milliseconds the caller watches ([`ServerSubscription::is_expired`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSubscription {
    /// The dialog the SUBSCRIBE created (we are its UAS).
    pub dialog: Dialog,
    /// The event type.
    pub package: Arc<str>,
    /// The Event `id` parameter, echoed in every NOTIFY (RFC 6665 §8.2.1).
    pub id: Option<Box<str>>,
    /// Pending, active or terminated.
    pub state: SubState,
    /// When the subscription expires, Unix milliseconds.
    pub expires_at_ms: u64,
    /// The media type of NOTIFY bodies, negotiated from Accept.
    pub content_type: Arc<str>,
}

impl ServerSubscription {
    /// From the initial SUBSCRIBE and the 2xx we answer it with (carrying our
    /// To tag): the dialog is built as its UAS (RFC 6665 §4.2.1.1, RFC 3261
    /// §12.1.1); it expires `params.expires` seconds from `now_ms`.
    pub fn new(
        req: &SipMessage,
        resp: &SipMessage,
        params: &SubscribeParams,
        state: SubState,
        now_ms: u64,
    ) -> Result<Self, DialogError> {
        Ok(ServerSubscription {
            dialog: Dialog::uas(req, resp)?,
            package: params.package.clone(),
            id: params.id.as_deref().map(Box::from),
            state,
            expires_at_ms: deadline(now_ms, params.expires),
            content_type: params.content_type.clone(),
        })
    }

    /// An in-dialog SUBSCRIBE: a refresh, or with Expires 0 an unsubscribe.
    ///
    /// - It must belong to this dialog, and the subscription must not have
    ///   ended: 481 otherwise (RFC 6665 §4.2.1.4 refreshes an existing
    ///   subscription only).
    /// - CSeq lower than the last one → 500 (RFC 3261 §12.2.2).
    /// - The [`EventRegistry::check_subscribe`] checks (489, 406, 423, 400).
    /// - Event type and id must be this subscription's: RFC 6665 §4.1.2.1 has
    ///   the subscriber repeat them in a refresh, and §4.5.2 deprecates a
    ///   second subscription within one dialog, so a different one names no
    ///   subscription here → 481.
    /// - SUBSCRIBE is a target refresh request (RFC 6665 §3.1): its Contact,
    ///   when present, becomes the remote target.
    /// - Expires 0 ends the subscription with reason `timeout`: RFC 6665
    ///   §4.1.3 gives that reason for a subscription ended by an unsubscribe
    ///   or fetch (see also §4.4.3); the caller sends the final NOTIFY.
    ///
    /// Returns what was granted; the 2xx carries `expires` in its Expires
    /// (RFC 6665 §4.2.1.4).
    pub fn handle_refresh(
        &mut self,
        reg: &EventRegistry,
        req: &SipMessage,
        now_ms: u64,
    ) -> Result<SubscribeParams, Refusal> {
        let no_subscription = || Refusal::new(481, "Subscription Does Not Exist");
        if !DialogId::of_received_request(req)?.is_some_and(|id| self.dialog.has_id(&id)) {
            return Err(no_subscription());
        }
        // RFC 3261 §12.2.2: the CSeq check belongs to the dialog, whatever
        // becomes of the request afterwards.
        self.dialog.check_remote_cseq(req)?;
        if self.state.is_terminated() {
            return Err(no_subscription());
        }
        let params = reg.check_subscribe(req)?;
        if params.package != self.package || params.id.as_deref() != self.id.as_deref() {
            return Err(no_subscription());
        }
        self.dialog.refresh_target(req)?;
        self.content_type.clone_from(&params.content_type);
        self.expires_at_ms = deadline(now_ms, params.expires);
        if params.expires == 0 {
            self.state = SubState::Terminated {
                reason: Some(TerminationReason::Timeout),
                retry_after: None,
            };
        }
        Ok(params)
    }

    /// The Subscription-State value now (RFC 6665 §8.2.3):
    /// `active;expires=N` or `pending;expires=N` with N the seconds left,
    /// rounded up and never negative (§4.2.2 makes `expires` mandatory), or
    /// `terminated[;reason=R][;retry-after=N]` (§4.1.3: no `expires`).
    pub fn subscription_state(&self, now_ms: u64) -> String {
        let left = remaining_secs(self.expires_at_ms, now_ms);
        match &self.state {
            SubState::Active => format!("active;expires={left}"),
            SubState::Pending => format!("pending;expires={left}"),
            SubState::Terminated {
                reason,
                retry_after,
            } => {
                let mut s = String::from("terminated");
                if let Some(r) = reason {
                    s.push_str(";reason=");
                    s.push_str(r.token());
                }
                if let Some(n) = retry_after {
                    s.push_str(&format!(";retry-after={n}"));
                }
                s
            }
        }
    }

    /// Starts the next NOTIFY in the dialog (RFC 6665 §4.2.2; the local CSeq
    /// increases, RFC 3261 §12.2.1.1): Event with the subscription's id,
    /// Subscription-State as of `now_ms`, Contact (NOTIFY is a target refresh
    /// request, RFC 6665 §3.2), Max-Forwards 70, and the body with its
    /// Content-Type when given. The caller adds Via and builds it.
    pub fn notify(
        &mut self,
        now_ms: u64,
        contact: &str,
        body: Option<(&str, &[u8])>,
    ) -> Result<MessageBuilder, DialogError> {
        let state = self.subscription_state(now_ms);
        let contact = if contact.starts_with('<') {
            contact.to_owned()
        } else {
            format!("<{contact}>")
        };
        let b = self
            .dialog
            .next_request("NOTIFY")?
            .header(HeaderName::MaxForwards, "70")
            .header(
                HeaderName::Event,
                &event_value(&self.package, self.id.as_deref()),
            )
            .header(HeaderName::SubscriptionState, &state)
            .header(HeaderName::Contact, &contact);
        Ok(match body {
            Some((ct, bytes)) => b.body(ct, Bytes::copy_from_slice(bytes)),
            None => b,
        })
    }

    /// True once `now_ms` reaches the expiry (RFC 6665 §4.2.2: the notifier
    /// then ends the subscription with reason `timeout` and a final NOTIFY).
    pub fn is_expired(&self, now_ms: u64) -> bool {
        now_ms >= self.expires_at_ms
    }

    /// Ends the subscription; the next NOTIFY carries `terminated`.
    pub fn terminate(&mut self, reason: TerminationReason, retry_after: Option<u32>) {
        self.state = SubState::Terminated {
            reason: Some(reason),
            retry_after,
        };
    }

    /// Authorization granted (RFC 6665 §4.2.1.3): pending becomes active. Does
    /// nothing in another state.
    pub fn activate(&mut self) {
        if self.state == SubState::Pending {
            self.state = SubState::Active;
        }
    }
}
