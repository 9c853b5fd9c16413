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
///
/// The six strings (Call-ID, the tags, our URI, the peer's URI, the remote
/// target) live in one allocation: a presence server holds one dialog per
/// watcher for hours, 100,000 of them and more, and six separate strings
/// cost six allocations and their rounding each. Read them through the
/// accessors; build a dialog from parts with [`Dialog::new`].
#[derive(Clone, PartialEq, Eq)]
pub struct Dialog {
    /// Call-ID, local tag, remote tag, local URI, remote URI, remote
    /// target, back to back.
    text: Box<str>,
    /// Where each of the first five ends in `text` (the sixth runs to the
    /// end).
    ends: [u32; 5],
    /// Whether the peer sent a tag (RFC 2543 peers may not, §12.1.1).
    has_remote_tag: bool,
    /// Early or confirmed.
    pub state: DialogState,
    /// A SIPS dialog (§12.1.1: the request had a SIPS Request-URI).
    pub secure: bool,
    /// CSeq number of the last request we sent in the dialog; `None` until we
    /// send one (UAS side).
    pub local_seq: Option<u32>,
    /// CSeq number of the last request the peer sent in the dialog; `None`
    /// until it sends one (UAC side).
    pub remote_seq: Option<u32>,
    /// Proxies to traverse, first hop first, each URI with all its parameters.
    pub route_set: Box<[String]>,
}

/// What a [`Dialog`] is made of, borrowed (a dialog restored from storage,
/// or built by hand).
#[derive(Debug, Clone)]
pub struct DialogParts<'a> {
    /// The Call-ID.
    pub call_id: &'a str,
    /// Our tag.
    pub local_tag: &'a str,
    /// The peer's tag (`None`: an RFC 2543 peer sent none).
    pub remote_tag: Option<&'a str>,
    /// Our URI (From of the requests we send).
    pub local_uri: &'a str,
    /// The peer's URI (To of the requests we send).
    pub remote_uri: &'a str,
    /// Where requests go: the peer's Contact URI.
    pub remote_target: &'a str,
    /// Proxies to traverse, first hop first.
    pub route_set: Vec<String>,
    /// Early or confirmed.
    pub state: DialogState,
    /// CSeq number of the last request we sent.
    pub local_seq: Option<u32>,
    /// CSeq number of the last request the peer sent.
    pub remote_seq: Option<u32>,
    /// A SIPS dialog.
    pub secure: bool,
}

impl std::fmt::Debug for Dialog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dialog")
            .field("call_id", &self.call_id())
            .field("local_tag", &self.local_tag())
            .field("remote_tag", &self.remote_tag())
            .field("local_uri", &self.local_uri())
            .field("remote_uri", &self.remote_uri())
            .field("remote_target", &self.remote_target())
            .field("state", &self.state)
            .field("local_seq", &self.local_seq)
            .field("remote_seq", &self.remote_seq)
            .field("route_set", &self.route_set)
            .field("secure", &self.secure)
            .finish()
    }
}

/// Positions in a dialog's text.
const CALL_ID: usize = 0;
const LOCAL_TAG: usize = 1;
const REMOTE_TAG: usize = 2;
const LOCAL_URI: usize = 3;
const REMOTE_URI: usize = 4;
const REMOTE_TARGET: usize = 5;

impl Dialog {
    /// A dialog from its parts.
    pub fn new(p: DialogParts<'_>) -> Dialog {
        let strs = [
            p.call_id,
            p.local_tag,
            p.remote_tag.unwrap_or_default(),
            p.local_uri,
            p.remote_uri,
            p.remote_target,
        ];
        let (text, ends) = pack(&strs);
        Dialog {
            text,
            ends,
            has_remote_tag: p.remote_tag.is_some(),
            state: p.state,
            secure: p.secure,
            local_seq: p.local_seq,
            remote_seq: p.remote_seq,
            route_set: p.route_set.into_boxed_slice(),
        }
    }

    fn part(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        let end = self.ends.get(i).map_or(self.text.len(), |e| *e as usize);
        &self.text[start..end]
    }

    /// The Call-ID.
    pub fn call_id(&self) -> &str {
        self.part(CALL_ID)
    }

    /// Our tag.
    pub fn local_tag(&self) -> &str {
        self.part(LOCAL_TAG)
    }

    /// The peer's tag; `None` for an RFC 2543 peer that sent none
    /// (§12.1.1, §12.1.2: "null").
    pub fn remote_tag(&self) -> Option<&str> {
        self.has_remote_tag.then(|| self.part(REMOTE_TAG))
    }

    /// Our URI (From of the requests we send).
    pub fn local_uri(&self) -> &str {
        self.part(LOCAL_URI)
    }

    /// The peer's URI (To of the requests we send).
    pub fn remote_uri(&self) -> &str {
        self.part(REMOTE_URI)
    }

    /// Where requests go: the peer's Contact URI.
    pub fn remote_target(&self) -> &str {
        self.part(REMOTE_TARGET)
    }

    /// The dialog's identifier (an owned copy).
    pub fn id(&self) -> DialogId {
        DialogId {
            call_id: self.call_id().into(),
            local_tag: self.local_tag().into(),
            remote_tag: self.remote_tag().map(Tag::from),
        }
    }

    /// Is `id` this dialog's identifier?
    pub fn has_id(&self, id: &DialogId) -> bool {
        self.call_id() == id.call_id.as_str()
            && self.local_tag() == id.local_tag.as_str()
            && self.remote_tag() == id.remote_tag.as_ref().map(Tag::as_str)
    }

    /// Replaces the remote target (a target refresh). The same URI again
    /// (most refreshes) changes nothing, and allocates nothing.
    pub fn set_remote_target(&mut self, uri: &str) {
        if uri == self.remote_target() {
            return;
        }
        let strs = [
            self.call_id(),
            self.local_tag(),
            self.part(REMOTE_TAG),
            self.local_uri(),
            self.remote_uri(),
            uri,
        ];
        let (text, ends) = pack(&strs);
        self.text = text;
        self.ends = ends;
    }
}

/// Six strings back to back, and where the first five end.
fn pack(strs: &[&str; 6]) -> (Box<str>, [u32; 5]) {
    let mut text = String::with_capacity(strs.iter().map(|s| s.len()).sum());
    let mut ends = [0u32; 5];
    for (i, s) in strs.iter().enumerate() {
        text.push_str(s);
        if let Some(e) = ends.get_mut(i) {
            // A dialog's strings come from one SIP message: far below 4 GB.
            *e = u32::try_from(text.len()).unwrap_or(u32::MAX);
        }
    }
    (text.into_boxed_str(), ends)
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
        let to_req = request.to()?;
        let target = contact_uri(request)?;
        Ok(Dialog::new(DialogParts {
            call_id: request.call_id()?,
            local_tag,
            remote_tag: from.tag(),
            local_uri: to_req.addr.uri.as_str(),
            remote_uri: from.addr.uri.as_str(),
            remote_target: &target,
            route_set,
            state,
            local_seq: None,
            remote_seq: Some(request.cseq()?.seq),
            secure: is_sips(request.request_uri_str().unwrap_or_default()),
        }))
    }

    /// The UAC side (§12.1.2): `request` is the dialog-creating request we
    /// sent, `response` a 2xx or a 1xx with a To tag we received for it.
    ///
    /// Route set: the response's Record-Route in reverse order. Remote target:
    /// the response's Contact. Local sequence number: the request's CSeq.
    pub fn uac(request: &SipMessage, response: &SipMessage) -> Result<Dialog, DialogError> {
        let state = creating_state(response)?;
        let remote_tag = response.to_tag()?;
        if state == DialogState::Early && remote_tag.is_none() {
            // A provisional without a To tag creates no early dialog.
            return Err(DialogError::MissingTag("To"));
        }
        let from = request.from()?;
        let local_tag = from.tag().ok_or(DialogError::MissingTag("From"))?;
        let to_req = request.to()?;
        let target = contact_uri(response)?;
        Ok(Dialog::new(DialogParts {
            call_id: request.call_id()?,
            local_tag,
            remote_tag,
            local_uri: from.addr.uri.as_str(),
            remote_uri: to_req.addr.uri.as_str(),
            remote_target: &target,
            route_set: reversed_route_set(response)?,
            state,
            local_seq: Some(request.cseq()?.seq),
            remote_seq: None,
            secure: is_sips(request.request_uri_str().unwrap_or_default()),
        }))
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
        if !self.has_id(&DialogId::of_received_response(response)?) {
            return Err(DialogError::WrongDialog);
        }
        self.route_set = reversed_route_set(response)?.into_boxed_slice();
        self.set_remote_target(&contact_uri(response)?);
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
        let from = format!("<{}>;tag={}", self.local_uri(), self.local_tag());
        let to = match self.remote_tag() {
            Some(t) => format!("<{}>;tag={t}", self.remote_uri()),
            // §12.2.1.1: a null tag is omitted.
            None => format!("<{}>", self.remote_uri()),
        };
        Ok(b.header(HeaderName::From, &from)
            .header(HeaderName::To, &to)
            .header(HeaderName::CallId, self.call_id())
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
            return Ok((self.remote_target().to_owned(), Vec::new()));
        };
        let uri = Uri::parse(first)?;
        let loose = uri.as_sip().is_some_and(|s| s.params.contains("lr"));
        if loose {
            return Ok((self.remote_target().to_owned(), self.route_set.to_vec()));
        }
        let mut routes: Vec<String> = self.route_set[1..].to_vec();
        routes.push(self.remote_target().to_owned());
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
                self.set_remote_target(&contact_uri(msg)?);
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

    fn parts() -> DialogParts<'static> {
        DialogParts {
            call_id: "c1@example.test",
            local_tag: "l1",
            remote_tag: Some("r1"),
            local_uri: "sip:bob@example.test",
            remote_uri: "sip:alice@example.test",
            remote_target: "sip:alice@192.0.2.1",
            route_set: Vec::new(),
            state: DialogState::Confirmed,
            local_seq: None,
            remote_seq: Some(1),
            secure: false,
        }
    }

    #[test]
    fn packed_strings_read_back_and_survive_replacement() {
        let mut d = Dialog::new(parts());
        assert_eq!(d.call_id(), "c1@example.test");
        assert_eq!(d.local_tag(), "l1");
        assert_eq!(d.remote_tag(), Some("r1"));
        assert_eq!(d.local_uri(), "sip:bob@example.test");
        assert_eq!(d.remote_uri(), "sip:alice@example.test");
        assert_eq!(d.remote_target(), "sip:alice@192.0.2.1");
        d.set_remote_target("sip:alice@192.0.2.9;transport=tcp");
        assert_eq!(d.remote_target(), "sip:alice@192.0.2.9;transport=tcp");
        assert_eq!(d.remote_uri(), "sip:alice@example.test");
        assert_eq!(d.remote_tag(), Some("r1"));
        assert_eq!(d.local_uri(), "sip:bob@example.test");
        // Equal parts, equal dialogs.
        let mut e = Dialog::new(parts());
        assert_ne!(d, e);
        e.set_remote_target("sip:alice@192.0.2.9;transport=tcp");
        assert_eq!(d, e);
        // An empty tag is a tag; no tag is the RFC 2543 null tag.
        let empty = Dialog::new(DialogParts {
            remote_tag: Some(""),
            ..parts()
        });
        assert_eq!(empty.remote_tag(), Some(""));
        let null = Dialog::new(DialogParts {
            remote_tag: None,
            ..parts()
        });
        assert_eq!(null.remote_tag(), None);
        assert_eq!(null.remote_target(), "sip:alice@192.0.2.1");
        assert_ne!(empty, null);
        let id = |remote_tag: Option<&str>| DialogId {
            call_id: "c1@example.test".into(),
            local_tag: "l1".into(),
            remote_tag: remote_tag.map(Tag::from),
        };
        assert!(null.has_id(&id(None)));
        assert!(!null.has_id(&id(Some(""))));
        assert!(empty.has_id(&id(Some(""))));
        assert!(!empty.has_id(&id(None)));
    }

    #[test]
    fn sips_detection() {
        assert!(is_sips("SIPS:bob@example.test"));
        assert!(!is_sips("sip:bob@example.test"));
    }
}
