//! The subscriber side of one subscription (RFC 6665 §4.1).

use bytes::Bytes;
use sip_msg::{Contact, HeaderName, MessageBuilder, SipMessage};

use super::{Refusal, SubState, TerminationReason, deadline, event_value};
use crate::dialog::{Dialog, DialogId, DialogParts, DialogState};
use crate::error::DialogError;
use crate::ids::{CallId, Tag};

/// What a response to one of our SUBSCRIBEs did
/// ([`ClientSubscription::handle_response`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// A 1xx: nothing changes.
    Provisional,
    /// A 2xx: the subscription lasts `expires` seconds from now (0: the
    /// unsubscribe or fetch was accepted; the final NOTIFY follows, RFC 6665
    /// §4.1.2.3).
    Accepted {
        /// The granted duration (RFC 6665 §4.1.2.1: from the 2xx's Expires;
        /// the requested one when it has none).
        expires: u32,
    },
    /// A 423: retry (with [`ClientSubscription::refresh`]) asking for at
    /// least `min_expires` (RFC 3261 §21.4.17, RFC 6665 §4.2.1.1).
    IntervalTooBrief {
        /// The notifier's Min-Expires.
        min_expires: u32,
    },
    /// A refresh failed with a final status other than 481: RFC 6665
    /// §4.1.2.2 keeps the subscription until its known expiry.
    RefreshFailed {
        /// The status received.
        status: u16,
    },
    /// The initial SUBSCRIBE failed, or a refresh failed with 481
    /// (RFC 6665 §4.1.2.2): the subscription is over.
    Terminated {
        /// The status received.
        status: u16,
    },
}

/// What a received NOTIFY said ([`ClientSubscription::handle_notify`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyInfo {
    /// The state from Subscription-State.
    pub state: SubState,
    /// Its `expires` parameter (ignored with `terminated`, RFC 6665 §4.1.3).
    pub expires: Option<u32>,
    /// The body's Content-Type, when there is a body.
    pub content_type: Option<String>,
    /// The body (empty when none).
    pub body: Bytes,
}

/// Subscriber side of one subscription (RFC 6665 §4.1): used by our client
/// and by test user agents.
///
/// Plain data keyed by the SUBSCRIBE's Call-ID and From tag. The dialog is
/// created by whichever comes first, the 2xx or a NOTIFY (RFC 6665
/// §4.1.2.4). One dialog only: a NOTIFY from another fork of the SUBSCRIBE
/// is refused with 481, which RFC 6665 §4.1.2.4 lets a subscriber do.
#[derive(Debug, Clone)]
pub struct ClientSubscription {
    call_id: CallId,
    local_tag: Tag,
    local_uri: String,
    remote_uri: String,
    request_uri: String,
    /// CSeq of the last SUBSCRIBE we sent outside a dialog.
    local_seq: u32,
    package: String,
    id: Option<String>,
    /// The Expires of the last SUBSCRIBE we sent.
    requested: Option<u32>,
    dialog: Option<Dialog>,
    state: SubState,
    /// When the current grant started and ends (Unix milliseconds).
    granted_at_ms: Option<u64>,
    expires_at_ms: Option<u64>,
}

impl ClientSubscription {
    /// From the initial SUBSCRIBE we sent (built by the caller, with From tag,
    /// Event and Expires). The state is [`SubState::Pending`] until a NOTIFY
    /// says otherwise (RFC 6665 §4.1.2: "NOTIFY wait"). `now_ms` is not used
    /// yet: the expiry starts with the grant.
    pub fn new(req: &SipMessage, now_ms: u64) -> Result<Self, DialogError> {
        let _ = now_ms;
        let from = req.from()?;
        let local_tag = from.tag().ok_or(DialogError::MissingTag("From"))?;
        let event = req.event()?.ok_or(sip_msg::ParseError::new(
            sip_msg::ErrorKind::MissingHeader,
            "Missing Event",
        ))?;
        Ok(ClientSubscription {
            call_id: req.call_id()?.into(),
            local_tag: local_tag.into(),
            local_uri: from.addr.uri.as_str().to_owned(),
            remote_uri: req.to()?.addr.uri.as_str().to_owned(),
            request_uri: req.request_uri_str().unwrap_or_default().to_owned(),
            local_seq: req.cseq()?.seq,
            package: event.event_type.to_owned(),
            id: event.id().map(str::to_owned),
            requested: req.expires()?,
            dialog: None,
            state: SubState::Pending,
            granted_at_ms: None,
            expires_at_ms: None,
        })
    }

    /// The subscription's state.
    pub fn state(&self) -> &SubState {
        &self.state
    }

    /// The dialog, once a 2xx or NOTIFY has created it.
    pub fn dialog(&self) -> Option<&Dialog> {
        self.dialog.as_ref()
    }

    /// When the subscription expires (Unix milliseconds), once granted.
    pub fn expires_at_ms(&self) -> Option<u64> {
        self.expires_at_ms
    }

    /// A response to the initial or a refresh SUBSCRIBE (RFC 6665 §4.1.2):
    ///
    /// - 1xx: nothing.
    /// - 2xx: creates the dialog (RFC 3261 §12.1.2) unless a NOTIFY already
    ///   did, updates the remote target from its Contact, and records the
    ///   granted Expires.
    /// - 423: [`ClientEvent::IntervalTooBrief`] with its Min-Expires.
    /// - 481 to a refresh, or any failure of the initial SUBSCRIBE: over.
    /// - Other failures of a refresh: the subscription lasts until its known
    ///   expiry (RFC 6665 §4.1.2.2).
    ///
    /// A response with another Call-ID or From tag, or a 2xx from a second
    /// fork, is [`DialogError::WrongDialog`].
    pub fn handle_response(
        &mut self,
        resp: &SipMessage,
        now_ms: u64,
    ) -> Result<ClientEvent, DialogError> {
        let id = DialogId::of_received_response(resp)?;
        if id.call_id != self.call_id || id.local_tag != self.local_tag {
            return Err(DialogError::WrongDialog);
        }
        let status = resp.status().unwrap_or(0);
        match status {
            100..=199 => Ok(ClientEvent::Provisional),
            200..=299 => {
                match &mut self.dialog {
                    Some(d) => {
                        if d.remote_tag() != id.remote_tag.as_ref().map(Tag::as_str) {
                            return Err(DialogError::WrongDialog);
                        }
                        d.refresh_target(resp)?;
                        d.state = DialogState::Confirmed;
                    }
                    None => self.dialog = Some(self.dialog_from_2xx(resp)?),
                }
                let expires = resp.expires()?.or(self.requested).unwrap_or(0);
                if !self.state.is_terminated() {
                    self.granted_at_ms = Some(now_ms);
                    self.expires_at_ms = Some(deadline(now_ms, expires));
                }
                Ok(ClientEvent::Accepted { expires })
            }
            423 => match resp.min_expires()? {
                Some(min_expires) => Ok(ClientEvent::IntervalTooBrief { min_expires }),
                // A 423 without Min-Expires gives nothing to retry with.
                None => Ok(self.failed(status)),
            },
            _ => Ok(self.failed(status)),
        }
    }

    /// A final failure (RFC 6665 §4.1.2.2): a refresh survives anything but
    /// 481; an initial SUBSCRIBE does not.
    fn failed(&mut self, status: u16) -> ClientEvent {
        let is_refresh = self.dialog.is_some() && !self.state.is_terminated();
        if is_refresh && status != 481 {
            return ClientEvent::RefreshFailed { status };
        }
        self.state = SubState::Terminated {
            reason: None,
            retry_after: None,
        };
        ClientEvent::Terminated { status }
    }

    /// The dialog from the 2xx to our SUBSCRIBE (RFC 3261 §12.1.2): route set
    /// from its Record-Route reversed, remote target from its Contact.
    fn dialog_from_2xx(&self, resp: &SipMessage) -> Result<Dialog, DialogError> {
        let mut route_set = record_route_uris(resp)?;
        route_set.reverse();
        self.confirmed_dialog(resp, resp.to_tag()?, route_set, None)
    }

    /// The dialog from a NOTIFY that arrived before the 2xx (RFC 6665
    /// §4.1.2.4): we are the UAS of the NOTIFY, so the route set is its
    /// Record-Route in order (RFC 3261 §12.1.1) and the remote target its
    /// Contact.
    fn dialog_from_notify(&self, req: &SipMessage) -> Result<Dialog, DialogError> {
        let route_set = record_route_uris(req)?;
        self.confirmed_dialog(req, req.from_tag()?, route_set, Some(req.cseq()?.seq))
    }

    /// Our subscription's dialog with the notifier's tag, route set and
    /// remote sequence number, its remote target the Contact of `msg`.
    fn confirmed_dialog(
        &self,
        msg: &SipMessage,
        remote_tag: Option<&str>,
        route_set: Vec<String>,
        remote_seq: Option<u32>,
    ) -> Result<Dialog, DialogError> {
        Ok(Dialog::new(DialogParts {
            call_id: self.call_id.as_str(),
            local_tag: self.local_tag.as_str(),
            remote_tag,
            local_uri: &self.local_uri,
            remote_uri: &self.remote_uri,
            remote_target: &contact_uri(msg)?,
            route_set,
            state: DialogState::Confirmed,
            local_seq: Some(self.local_seq),
            remote_seq,
            secure: is_sips(&self.request_uri),
        }))
    }

    /// A NOTIFY received (RFC 6665 §4.1.3):
    ///
    /// - It must match the subscription: Call-ID, To tag = our From tag, the
    ///   Event type and id of our SUBSCRIBE (RFC 6665 §8.2.1, compared byte by
    ///   byte), and once the dialog exists its From tag; 481 otherwise, and
    ///   481 after the subscription has ended (RFC 6665 §4.1.3).
    /// - No Event → 400 (RFC 6665 §8.2.1: a NOTIFY carries exactly one).
    /// - The first NOTIFY may precede the 2xx and then creates the dialog
    ///   (RFC 6665 §4.1.2.4); later ones pass the CSeq check (500, RFC 3261
    ///   §12.2.2) and refresh the remote target (RFC 6665 §3.2).
    /// - Subscription-State missing, malformed or of an unknown value → 400.
    ///   Its `expires` moves our expiry (RFC 6665 §4.1.3: the notifier may
    ///   shorten the subscription); `terminated` ends the subscription.
    pub fn handle_notify(&mut self, req: &SipMessage, now_ms: u64) -> Result<NotifyInfo, Refusal> {
        let no_subscription = || Refusal::new(481, "Subscription Does Not Exist");
        let Some(id) = DialogId::of_received_request(req)? else {
            return Err(no_subscription());
        };
        if id.call_id != self.call_id || id.local_tag != self.local_tag {
            return Err(no_subscription());
        }
        let event = req
            .event()?
            .ok_or_else(|| Refusal::new(400, "Missing Event header"))?;
        if event.event_type != self.package || event.id() != self.id.as_deref() {
            return Err(no_subscription());
        }
        if self.state.is_terminated() {
            return Err(no_subscription());
        }
        let sub_state = req
            .subscription_state()?
            .ok_or_else(|| Refusal::new(400, "Missing Subscription-State header"))?;
        let expires = sub_state.expires();
        let state = if sub_state.state.eq_ignore_ascii_case("active") {
            SubState::Active
        } else if sub_state.state.eq_ignore_ascii_case("pending") {
            SubState::Pending
        } else if sub_state.state.eq_ignore_ascii_case("terminated") {
            SubState::Terminated {
                reason: sub_state.reason().and_then(TerminationReason::parse),
                retry_after: sub_state.retry_after(),
            }
        } else {
            return Err(Refusal::new(400, "Bad Subscription-State"));
        };
        match &mut self.dialog {
            Some(d) => {
                if d.remote_tag() != id.remote_tag.as_ref().map(Tag::as_str) {
                    return Err(no_subscription());
                }
                d.check_remote_cseq(req)?;
                d.refresh_target(req)?;
            }
            None => self.dialog = Some(self.dialog_from_notify(req)?),
        }
        if let (Some(e), false) = (expires, state.is_terminated()) {
            self.granted_at_ms = Some(now_ms);
            self.expires_at_ms = Some(deadline(now_ms, e));
        }
        self.state = state.clone();
        let content_type = if req.body().is_empty() {
            None
        } else {
            req.header(HeaderName::ContentType)
                .map(|v| v.trim().to_owned())
        };
        Ok(NotifyInfo {
            state,
            expires: if self.state.is_terminated() {
                None
            } else {
                expires
            },
            content_type,
            body: req.body().clone(),
        })
    }

    /// Starts a refresh SUBSCRIBE (RFC 6665 §4.1.2.1), or with `expires` 0 an
    /// unsubscribe (§4.1.2.3): Event (with the id), Expires, Max-Forwards 70.
    /// Within the dialog once it exists; before that (a retry after 423) with
    /// the initial request's Call-ID, From tag and To and the next CSeq
    /// (RFC 3261 §8.1.3.5). The caller adds Via and Contact and builds it.
    pub fn refresh(&mut self, expires: u32) -> Result<MessageBuilder, DialogError> {
        let b = match &mut self.dialog {
            Some(d) => d.next_request("SUBSCRIBE")?,
            None => {
                self.local_seq = self.local_seq.wrapping_add(1);
                MessageBuilder::request("SUBSCRIBE", &self.request_uri)
                    .header(
                        HeaderName::From,
                        &format!("<{}>;tag={}", self.local_uri, self.local_tag),
                    )
                    .header(HeaderName::To, &format!("<{}>", self.remote_uri))
                    .header(HeaderName::CallId, self.call_id.as_str())
                    .header(HeaderName::CSeq, &format!("{} SUBSCRIBE", self.local_seq))
            }
        };
        self.requested = Some(expires);
        Ok(b.header(HeaderName::MaxForwards, "70")
            .header(
                HeaderName::Event,
                &event_value(&self.package, self.id.as_deref()),
            )
            .header(HeaderName::Expires, &expires.to_string()))
    }

    /// When to send the refresh (Unix milliseconds): RFC 6665 §4.1.2.1 asks
    /// for a refresh before the subscription expires and leaves the margin to
    /// us. We take 10 % of the granted interval but at least 5 s, and never
    /// more than half of it, so short grants are not refreshed at once.
    /// `None` before a grant, after a zero grant, and once terminated.
    pub fn refresh_due_ms(&self) -> Option<u64> {
        if self.state.is_terminated() {
            return None;
        }
        let (start, end) = (self.granted_at_ms?, self.expires_at_ms?);
        let interval = end.saturating_sub(start);
        if interval == 0 {
            return None;
        }
        let margin = (interval / 10).max(5_000).min(interval / 2);
        Some(end - margin)
    }
}

/// The Record-Route URIs of `msg`, in order, each with all its parameters.
fn record_route_uris(msg: &SipMessage) -> Result<Vec<String>, DialogError> {
    Ok(msg
        .record_routes()
        .map(|r| r.map(|r| r.addr.uri.as_str().to_owned()))
        .collect::<Result<Vec<_>, _>>()?)
}

/// The URI of the first Contact (the remote target, RFC 3261 §12.1).
fn contact_uri(msg: &SipMessage) -> Result<String, DialogError> {
    match msg.contact()? {
        Some(Contact::Addr { addr, .. }) => Ok(addr.uri.as_str().to_owned()),
        Some(Contact::Wildcard) => Err(DialogError::BadContact),
        None => Err(DialogError::MissingContact),
    }
}

fn is_sips(uri: &str) -> bool {
    uri.get(..5)
        .is_some_and(|s| s.eq_ignore_ascii_case("sips:"))
}
