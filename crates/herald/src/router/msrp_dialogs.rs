//! MSRP sessions set up over SIP (RFC 4975 §8) end with their dialog: the
//! proxy reads the `a=path` lines of the INVITE's offer and of the 2xx's
//! answer, remembers which of our relay's sessions (RFC 4976 tokens) the
//! dialog uses, and when the dialog ends — BYE, or the INVITE failing
//! (CANCEL's 487 included) — ends those relay sessions that no other live
//! dialog still uses. A client that relays several chats through one AUTH
//! session keeps it as long as one of them is up.

use std::collections::HashMap;

use msrp::MsrpUri;
use sip_msg::{HeaderName, SipMessage};

use super::{Router, Store};

/// The relay as the router sees it.
pub(crate) struct MsrpLink {
    /// Ends the relay session of a token.
    pub(crate) release: Box<dyn Fn(&str) -> bool + Send>,
    /// Is this URI one of the relay's own?
    pub(crate) is_ours: Box<dyn Fn(&MsrpUri) -> bool + Send>,
}

impl std::fmt::Debug for MsrpLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MsrpLink").finish_non_exhaustive()
    }
}

/// At most this many dialogs are remembered (a dialog that never sends
/// BYE — a crashed phone — must not grow the table forever; its relay
/// session still expires in the relay).
const MAX_DIALOGS: usize = 100_000;

/// Relay tokens per dialog (by Call-ID) and how many dialogs use each.
#[derive(Debug, Default)]
pub(crate) struct MsrpDialogs {
    link: Option<MsrpLink>,
    by_call: HashMap<String, Vec<String>>,
    refs: HashMap<String, usize>,
}

impl MsrpDialogs {
    pub(crate) fn new(link: Option<MsrpLink>) -> Self {
        MsrpDialogs {
            link,
            ..Self::default()
        }
    }

    /// The relay tokens in an SDP body's `a=path` lines (RFC 4975 §8.2).
    fn tokens_in(&self, msg: &SipMessage) -> Vec<String> {
        let Some(link) = &self.link else {
            return Vec::new();
        };
        let sdp = msg
            .header(HeaderName::ContentType)
            .is_some_and(|c| c.trim().to_ascii_lowercase().starts_with("application/sdp"));
        if !sdp {
            return Vec::new();
        }
        let Ok(body) = std::str::from_utf8(msg.body()) else {
            return Vec::new();
        };
        body.lines()
            .filter_map(|l| l.trim_end().strip_prefix("a=path:"))
            .flat_map(str::split_whitespace)
            .filter_map(|u| MsrpUri::parse(u).ok())
            .filter(|u| (link.is_ours)(u))
            .filter_map(|u| u.session_id().map(str::to_owned))
            .collect()
    }

    /// An offer or answer passing through: note its tokens for the dialog.
    pub(crate) fn note(&mut self, msg: &SipMessage) {
        let tokens = self.tokens_in(msg);
        if tokens.is_empty() {
            return;
        }
        let Ok(call_id) = msg.call_id() else { return };
        if !self.by_call.contains_key(call_id) && self.by_call.len() >= MAX_DIALOGS {
            return;
        }
        let known = self.by_call.entry(call_id.to_owned()).or_default();
        for t in tokens {
            if !known.contains(&t) {
                *self.refs.entry(t.clone()).or_default() += 1;
                known.push(t);
            }
        }
    }

    /// The dialog of `call_id` ended: release the relay sessions only it used.
    pub(crate) fn ended(&mut self, call_id: &str) {
        let Some(tokens) = self.by_call.remove(call_id) else {
            return;
        };
        for t in tokens {
            let left = self.refs.get_mut(&t).map(|n| {
                *n -= 1;
                *n
            });
            if left == Some(0) {
                self.refs.remove(&t);
                if let Some(link) = &self.link
                    && (link.release)(&t)
                {
                    tracing::debug!(call_id, "MSRP relay session ended with its dialog");
                }
            }
        }
    }
}

impl<S: Store> Router<S> {
    /// A BYE ends its dialog's MSRP relay sessions (INVITE offers are
    /// noted when the proxy forwards them, in `fork`).
    pub(super) fn msrp_request(&mut self, msg: &SipMessage) {
        if msg.method_str() == Some("BYE")
            && let Ok(c) = msg.call_id()
        {
            self.msrp.ended(c);
        }
    }

    /// Final responses to INVITE: a 2xx's answer is noted, a failure ends
    /// what the offer set up.
    pub(super) fn msrp_invite_final(&mut self, resp: &SipMessage, status: u16) {
        if status < 300 {
            self.msrp.note(resp);
        } else if let Ok(c) = resp.call_id() {
            self.msrp.ended(c);
        }
    }
}
