//! Transaction identifiers: what makes two messages belong to one transaction
//! (RFC 3261 §17.1.3, §17.2.3).

use std::sync::Arc;

use sip_msg::{Method, SipMessage, Via};

use crate::error::ProtoError;
use crate::stateless::{push_sent_by, sent_by};

/// A server transaction created by an RFC 3261 client (branch with the magic
/// cookie), §17.2.3: branch, sent-by and method, with ACK folded onto INVITE.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ServerId {
    /// `branch SP sent-by SP method` (none of the three holds a space),
    /// shared by the index and the transaction: a completed
    /// UDP transaction is kept 32 s (Timer J), so a second copy of its id
    /// would be held that long too.
    id: Arc<str>,
}

impl ServerId {
    /// The id of a request whose top Via is `via`; `None` when the branch lacks
    /// the magic cookie (then the RFC 2543 rules apply).
    pub(crate) fn of_request(via: &Via<'_>, method: &str) -> Option<ServerId> {
        if !via.is_rfc3261_branch() {
            return None;
        }
        Some(Self::with_method(via, method))
    }

    /// The same branch and sent-by with another method: how a CANCEL finds the
    /// INVITE it cancels (§9.2).
    pub(crate) fn with_method(via: &Via<'_>, method: &str) -> ServerId {
        // §17.2.3 rule 3: an ACK matches the INVITE transaction.
        let method = if method == "ACK" { "INVITE" } else { method };
        let branch = via.branch().unwrap_or_default();
        let mut id = String::with_capacity(branch.len() + method.len() + 50);
        id.push_str(branch);
        id.push(' ');
        push_sent_by(&mut id, via);
        id.push(' ');
        id.push_str(method);
        ServerId { id: id.into() }
    }
}

/// A client transaction, §17.1.3: the branch of the top Via and the CSeq
/// method (a CANCEL shares the INVITE's branch but is its own transaction).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ClientId {
    /// `branch SP method` in one allocation.
    id: Box<str>,
}

impl ClientId {
    pub(crate) fn new(branch: &str, method: &str) -> ClientId {
        let mut id = String::with_capacity(branch.len() + method.len() + 1);
        id.push_str(branch);
        id.push(' ');
        id.push_str(method);
        ClientId { id: id.into() }
    }

    /// The id a response belongs to.
    pub(crate) fn of_response(msg: &SipMessage) -> Result<ClientId, ProtoError> {
        let via = msg.via()?;
        let cseq = msg.cseq()?;
        Ok(ClientId::new(
            via.branch().unwrap_or_default(),
            cseq.method_str,
        ))
    }
}

/// The RFC 2543 fallback of §17.2.3, the part every request of the transaction
/// (retransmission, ACK, CANCEL) shares: Request-URI, From tag, Call-ID, CSeq
/// number and top Via. The To tag and the method are checked per candidate
/// ([`LegacyExtra`]), because they differ for ACK and CANCEL.
///
/// Header comparison is textual after normalising what retransmissions may
/// not vary anyway (case of the Via transport and host); a retransmission is a
/// copy of the original.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct LegacyId {
    request_uri: Box<str>,
    from_tag: Option<Box<str>>,
    call_id: Box<str>,
    cseq: u32,
    top_via: Box<str>,
}

/// The per-request part of the RFC 2543 match: the method (CSeq method) and the
/// To tag of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LegacyExtra {
    pub(crate) method: Box<str>,
    pub(crate) to_tag: Option<Box<str>>,
}

impl LegacyId {
    pub(crate) fn of_request(
        msg: &SipMessage,
        via: &Via<'_>,
    ) -> Result<(LegacyId, LegacyExtra), ProtoError> {
        let cseq = msg.cseq()?;
        let id = LegacyId {
            request_uri: msg.request_uri_str().unwrap_or_default().into(),
            from_tag: msg.from_tag()?.map(Into::into),
            call_id: msg.call_id()?.into(),
            cseq: cseq.seq,
            top_via: format!(
                "{}/{}/{} {}{}",
                via.protocol.to_ascii_uppercase(),
                via.version,
                via.transport.to_ascii_uppercase(),
                sent_by(via),
                via.params.as_str()
            )
            .into(),
        };
        let extra = LegacyExtra {
            method: msg.method_str().unwrap_or(cseq.method_str).into(),
            to_tag: msg.to_tag()?.map(Into::into),
        };
        Ok((id, extra))
    }
}

/// Is `msg` an ACK?
pub(crate) fn is_ack(msg: &SipMessage) -> bool {
    msg.method() == Some(Method::Ack)
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn msg(via: &str, method: &str, cseq_method: &str) -> SipMessage {
        SipMessage::parse(Bytes::from(format!(
            "{method} sip:b@example.test SIP/2.0\r\nVia: {via}\r\n\
From: <sip:a@example.test>;tag=f\r\nTo: <sip:b@example.test>\r\n\
Call-ID: x\r\nCSeq: 3 {cseq_method}\r\nContent-Length: 0\r\n\r\n"
        )))
        .unwrap()
    }

    fn server_id(via: &str, method: &str) -> Option<ServerId> {
        let m = msg(via, method, method);
        ServerId::of_request(&m.via().unwrap(), method)
    }

    #[test]
    fn server_id_folds_ack_onto_invite_and_keeps_cancel_apart() {
        let v = "SIP/2.0/UDP Host.Example:5060;branch=z9hG4bK1";
        let invite = server_id(v, "INVITE").unwrap();
        assert_eq!(server_id(v, "ACK"), Some(invite.clone()));
        assert_ne!(server_id(v, "CANCEL"), Some(invite.clone()));
        // sent-by hosts compare case-insensitively; the port is part of it.
        assert_eq!(
            server_id("SIP/2.0/UDP host.example:5060;branch=z9hG4bK1", "INVITE"),
            Some(invite.clone())
        );
        assert_ne!(
            server_id("SIP/2.0/UDP host.example:5070;branch=z9hG4bK1", "INVITE"),
            Some(invite)
        );
        // No magic cookie: no RFC 3261 id.
        assert_eq!(server_id("SIP/2.0/UDP host;branch=abc", "INVITE"), None);
        assert_eq!(server_id("SIP/2.0/UDP host", "INVITE"), None);
    }

    #[test]
    fn client_id_uses_branch_and_cseq_method() {
        let resp = SipMessage::parse(Bytes::from_static(
            b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK9\r\n\
From: <sip:a@example.test>;tag=f\r\nTo: <sip:b@example.test>;tag=t\r\n\
Call-ID: x\r\nCSeq: 3 CANCEL\r\nContent-Length: 0\r\n\r\n",
        ))
        .unwrap();
        assert_eq!(
            ClientId::of_response(&resp).unwrap(),
            ClientId::new("z9hG4bK9", "CANCEL")
        );
        assert_ne!(
            ClientId::of_response(&resp).unwrap(),
            ClientId::new("z9hG4bK9", "INVITE")
        );
    }

    #[test]
    fn legacy_id_ignores_method_and_to_tag() {
        let v = "SIP/2.0/udp 192.0.2.1";
        let invite = msg(v, "INVITE", "INVITE");
        let ack = msg(v, "ACK", "ACK");
        let (a, ea) = LegacyId::of_request(&invite, &invite.via().unwrap()).unwrap();
        let (b, eb) = LegacyId::of_request(&ack, &ack.via().unwrap()).unwrap();
        assert_eq!(a, b);
        assert_eq!(&*ea.method, "INVITE");
        assert_eq!(&*eb.method, "ACK");
        assert!(is_ack(&ack) && !is_ack(&invite));
    }
}
