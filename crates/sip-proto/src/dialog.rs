//! Dialogs (RFC 3261 §12) as plain data and functions: build the state from
//! the request and response that create the dialog, build requests within it,
//! check the CSeq of requests received within it. INVITE sessions and
//! SUBSCRIBE/NOTIFY subscriptions use the same state.
//!
//! URIs are kept as their text (the route set with all URI parameters, as
//! §12.1 requires); the dialog outlives the messages it came from.

use sip_msg::{Contact, HeaderName, MessageBuilder, SipMessage, Uri};

use crate::error::DialogError;
use crate::ids::{CallId, Tag};

/// A dialog identifier (§12): Call-ID, local tag, remote tag. The remote tag
/// is `None` for an RFC 2543 peer that sent no tag (§12.1.1, §12.1.2: "null").
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DialogId {
    /// The Call-ID.
    pub call_id: CallId,
    /// Our tag.
    pub local_tag: Tag,
    /// The peer's tag.
    pub remote_tag: Option<Tag>,
}

impl DialogId {
    /// The dialog a received request belongs to, seen from its UAS (§12.2.2):
    /// local tag from To, remote tag from From. `None` when the To has no tag:
    /// the request is outside any dialog.
    pub fn of_received_request(req: &SipMessage) -> Result<Option<DialogId>, DialogError> {
        let Some(local) = req.to_tag()? else {
            return Ok(None);
        };
        Ok(Some(DialogId {
            call_id: req.call_id()?.into(),
            local_tag: local.into(),
            remote_tag: req.from_tag()?.map(Tag::from),
        }))
    }

    /// The dialog a received response belongs to, seen from the UAC (§12.1.2):
    /// local tag from From, remote tag from To.
    pub fn of_received_response(resp: &SipMessage) -> Result<DialogId, DialogError> {
        let local = resp.from_tag()?.ok_or(DialogError::MissingTag("From"))?;
        Ok(DialogId {
            call_id: resp.call_id()?.into(),
            local_tag: local.into(),
            remote_tag: resp.to_tag()?.map(Tag::from),
        })
    }
}

/// Early (created by a provisional) or confirmed (by a 2xx).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DialogState {
    /// Created by a 1xx with a To tag (§12.1).
    Early,
    /// Created or confirmed by a 2xx.
    Confirmed,
}

/// The state of one dialog (§12.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    /// Call-ID and tags.
    pub id: DialogId,
    /// Early or confirmed.
    pub state: DialogState,
    /// CSeq number of the last request we sent in the dialog; `None` until we
    /// send one (UAS side).
    pub local_seq: Option<u32>,
    /// CSeq number of the last request the peer sent in the dialog; `None`
    /// until it sends one (UAC side).
    pub remote_seq: Option<u32>,
    /// Our URI (From of the requests we send).
    pub local_uri: Box<str>,
    /// The peer's URI (To of the requests we send).
    pub remote_uri: Box<str>,
    /// Where requests go: the peer's Contact URI.
    pub remote_target: Box<str>,
    /// Proxies to traverse, first hop first, each URI with all its parameters.
    pub route_set: Vec<String>,
    /// A SIPS dialog (§12.1.1: the request had a SIPS Request-URI).
    pub secure: bool,
}

impl Dialog {
    /// The UAS side (§12.1.1): `request` is the dialog-creating request we
    /// received (INVITE, SUBSCRIBE, REFER), `response` the 1xx or 2xx we send
    /// for it, carrying our To tag.
    ///
    /// Route set: the request's Record-Route in order. Remote target: the
    /// request's Contact. Remote sequence number: the request's CSeq.
    pub fn uas(request: &SipMessage, response: &SipMessage) -> Result<Dialog, DialogError> {
        let state = creating_state(response)?;
        let to = response.to()?;
        let local_tag = to.tag().ok_or(DialogError::MissingTag("To"))?;
        let from = request.from()?;
        let route_set = request
            .record_routes()
            .map(|r| r.map(|r| r.addr.uri.as_str().to_owned()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Dialog {
            id: DialogId {
                call_id: request.call_id()?.into(),
                local_tag: local_tag.into(),
                remote_tag: from.tag().map(Tag::from),
            },
            state,
            local_seq: None,
            remote_seq: Some(request.cseq()?.seq),
            local_uri: request.to()?.addr.uri.as_str().into(),
            remote_uri: from.addr.uri.as_str().into(),
            remote_target: contact_uri(request)?.into(),
            route_set,
            secure: is_sips(request.request_uri_str().unwrap_or_default()),
        })
    }

    /// The UAC side (§12.1.2): `request` is the dialog-creating request we
    /// sent, `response` a 2xx or a 1xx with a To tag we received for it.
    ///
    /// Route set: the response's Record-Route in reverse order. Remote target:
    /// the response's Contact. Local sequence number: the request's CSeq.
    pub fn uac(request: &SipMessage, response: &SipMessage) -> Result<Dialog, DialogError> {
        let state = creating_state(response)?;
        let remote_tag = response.to_tag()?.map(Tag::from);
        if state == DialogState::Early && remote_tag.is_none() {
            // A provisional without a To tag creates no early dialog.
            return Err(DialogError::MissingTag("To"));
        }
        let from = request.from()?;
        let local_tag = from.tag().ok_or(DialogError::MissingTag("From"))?;
        Ok(Dialog {
            id: DialogId {
                call_id: request.call_id()?.into(),
                local_tag: local_tag.into(),
                remote_tag,
            },
            state,
            local_seq: Some(request.cseq()?.seq),
            remote_seq: None,
            local_uri: from.addr.uri.as_str().into(),
            remote_uri: request.to()?.addr.uri.as_str().into(),
            remote_target: contact_uri(response)?.into(),
            route_set: reversed_route_set(response)?,
            secure: is_sips(request.request_uri_str().unwrap_or_default()),
        })
    }

    /// UAC: a 2xx arrived for the request that created this early dialog
    /// (§13.2.2.4): the dialog is confirmed, and its route set recomputed
    /// from the 2xx and its remote target updated from the 2xx's Contact.
    pub fn confirm(&mut self, response: &SipMessage) -> Result<(), DialogError> {
        if !matches!(response.status(), Some(200..=299)) {
            return Err(DialogError::NotDialogCreating(
                response.status().unwrap_or(0),
            ));
        }
        if DialogId::of_received_response(response)? != self.id {
            return Err(DialogError::WrongDialog);
        }
        self.route_set = reversed_route_set(response)?;
        self.remote_target = contact_uri(response)?.into();
        self.state = DialogState::Confirmed;
        Ok(())
    }

    /// Starts the next request within the dialog (§12.2.1.1): local sequence
    /// number incremented (1 when we have sent none), Request-URI and Route
    /// from the remote target and route set, From and To with the dialog's
    /// URIs and tags, Call-ID and CSeq. The caller adds Via (with a new
    /// branch), Max-Forwards, Contact for target refreshes, and the body, then
    /// builds it.
    pub fn next_request(&mut self, method: &str) -> Result<MessageBuilder, DialogError> {
        let seq = self.local_seq.map_or(1, |s| s.wrapping_add(1));
        let b = self.request(method, seq)?;
        self.local_seq = Some(seq);
        Ok(b)
    }

    /// Starts the ACK for a 2xx to the INVITE with CSeq number `invite_seq`
    /// (§13.2.2.4): like any request in the dialog but with the INVITE's CSeq
    /// number. The local sequence number does not move.
    pub fn ack(&self, invite_seq: u32) -> Result<MessageBuilder, DialogError> {
        self.request("ACK", invite_seq)
    }

    /// Starts a request within the dialog with CSeq number `seq`, leaving the
    /// local sequence number alone (§12.2.1.1).
    pub fn request(&self, method: &str, seq: u32) -> Result<MessageBuilder, DialogError> {
        let (request_uri, routes) = self.request_uri_and_routes()?;
        let mut b = MessageBuilder::request(method, &request_uri);
        for r in &routes {
            b = b.header(HeaderName::Route, &format!("<{r}>"));
        }
        let from = format!("<{}>;tag={}", self.local_uri, self.id.local_tag);
        let to = match &self.id.remote_tag {
            Some(t) => format!("<{}>;tag={t}", self.remote_uri),
            // §12.2.1.1: a null tag is omitted.
            None => format!("<{}>", self.remote_uri),
        };
        Ok(b.header(HeaderName::From, &from)
            .header(HeaderName::To, &to)
            .header(HeaderName::CallId, self.id.call_id.as_str())
            .header(HeaderName::CSeq, &format!("{seq} {method}")))
    }

    /// §12.2.1.1: the Request-URI and the Route values of a request.
    ///
    /// - Empty route set: the remote target, no Route.
    /// - First route URI has `lr` (a loose router): the remote target, Route =
    ///   the route set.
    /// - Otherwise (a strict router, RFC 2543): the first route URI with the
    ///   parameters a Request-URI may not carry stripped, Route = the rest of
    ///   the route set followed by the remote target.
    pub fn request_uri_and_routes(&self) -> Result<(String, Vec<String>), DialogError> {
        let Some(first) = self.route_set.first() else {
            return Ok((self.remote_target.to_string(), Vec::new()));
        };
        let uri = Uri::parse(first)?;
        let loose = uri.as_sip().is_some_and(|s| s.params.contains("lr"));
        if loose {
            return Ok((self.remote_target.to_string(), self.route_set.clone()));
        }
        let mut routes: Vec<String> = self.route_set[1..].to_vec();
        routes.push(self.remote_target.to_string());
        Ok((strip_for_request_uri(first), routes))
    }

    /// §12.2.2: checks the CSeq of a request received within the dialog and
    /// records it. Lower than the remote sequence number: out of order, answer
    /// 500 ([`DialogError::status`]); higher by any amount: in order (gaps are
    /// normal after authentication challenges).
    pub fn check_remote_cseq(&mut self, request: &SipMessage) -> Result<(), DialogError> {
        let got = request.cseq()?.seq;
        if let Some(remote) = self.remote_seq
            && got < remote
        {
            return Err(DialogError::CSeqOutOfOrder { got, remote });
        }
        self.remote_seq = Some(got);
        Ok(())
    }

    /// A target refresh request received, or a 2xx to one we sent (§12.2.1.2,
    /// §12.2.2): the remote target becomes its Contact, if it has one. Returns
    /// whether it did.
    pub fn refresh_target(&mut self, msg: &SipMessage) -> Result<bool, DialogError> {
        match msg.contact()? {
            None => Ok(false),
            Some(_) => {
                self.remote_target = contact_uri(msg)?.into();
                Ok(true)
            }
        }
    }
}

/// Which dialog state a response creates: 101-199 early, 2xx confirmed. A 100
/// never creates a dialog (it carries no tag from the UAS, §8.2.6.2).
fn creating_state(response: &SipMessage) -> Result<DialogState, DialogError> {
    match response.status() {
        Some(101..=199) => Ok(DialogState::Early),
        Some(200..=299) => Ok(DialogState::Confirmed),
        Some(s) => Err(DialogError::NotDialogCreating(s)),
        None => Err(DialogError::NotDialogCreating(0)),
    }
}

/// The URI of the first Contact.
fn contact_uri(msg: &SipMessage) -> Result<String, DialogError> {
    match msg.contact()? {
        Some(Contact::Addr { addr, .. }) => Ok(addr.uri.as_str().to_owned()),
        Some(Contact::Wildcard) => Err(DialogError::BadContact),
        None => Err(DialogError::MissingContact),
    }
}

/// §12.1.2: the Record-Route URIs of a response, last first.
fn reversed_route_set(response: &SipMessage) -> Result<Vec<String>, DialogError> {
    let mut routes = response
        .record_routes()
        .map(|r| r.map(|r| r.addr.uri.as_str().to_owned()))
        .collect::<Result<Vec<_>, _>>()?;
    routes.reverse();
    Ok(routes)
}

fn is_sips(uri: &str) -> bool {
    uri.get(..5)
        .is_some_and(|s| s.eq_ignore_ascii_case("sips:"))
}

/// A route URI made fit for the Request-URI (§12.2.1.1 "stripping any
/// parameters that are not allowed in a Request-URI"): per §19.1.1 Table 1 the
/// `method` parameter and the headers part may not appear there. Textual: in a
/// SIP URI `?` only starts the headers, and after the host part `;` only
/// separates parameters (the user part may hold `;`, hence the search after the
/// last `@`).
fn strip_for_request_uri(raw: &str) -> String {
    let no_headers = raw.split('?').next().unwrap_or(raw);
    let host_start = match no_headers.rfind('@') {
        Some(at) => at + 1,
        None => no_headers.find(':').map_or(0, |c| c + 1),
    };
    let (base, params) = match no_headers[host_start..].find(';') {
        Some(i) => no_headers.split_at(host_start + i),
        None => (no_headers, ""),
    };
    let mut out = base.to_owned();
    for p in params.split(';').filter(|p| !p.is_empty()) {
        let name = p.split('=').next().unwrap_or(p).trim();
        if !name.eq_ignore_ascii_case("method") {
            out.push(';');
            out.push_str(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_route_uri_loses_method_and_headers() {
        assert_eq!(strip_for_request_uri("sip:proxy1"), "sip:proxy1");
        assert_eq!(
            strip_for_request_uri("sip:p3.middle.com;transport=tcp;method=INVITE?Subject=x"),
            "sip:p3.middle.com;transport=tcp"
        );
        assert_eq!(
            strip_for_request_uri("sip:a;b@proxy;maddr=10.0.0.1;METHOD=BYE"),
            "sip:a;b@proxy;maddr=10.0.0.1"
        );
    }

    #[test]
    fn sips_detection() {
        assert!(is_sips("SIPS:bob@example.test"));
        assert!(!is_sips("sip:bob@example.test"));
    }
}
