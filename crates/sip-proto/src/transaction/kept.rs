//! What a Completed non-INVITE server transaction keeps of its final
//! response for the 64·T1 of Timer J (RFC 3261 §17.2.2: every
//! retransmission of the request is answered with it).
//!
//! Most of a response is copied from its request (§8.2.6.2: Via, From, To,
//! Call-ID, CSeq), and a retransmitted request carries those same header
//! fields again. So when the response begins with exactly the lines
//! [`response_builder`](crate::response_builder) writes from the request,
//! only the rest is kept — the status line, the To tag we added, the lines
//! after CSeq — with a hash of the copied lines, and a retransmission gets
//! the response rebuilt from its own header fields: byte for byte the
//! original, which the hash checks. A request that matches the transaction
//! (branch, sent-by, method) without repeating those fields exactly — a
//! client reusing a branch, a resend whose source changed so its Via got
//! another `received`/`rport` — gets nothing: it is not a retransmission,
//! and the original response went to the original source anyway. At 2,000
//! SUBSCRIBEs a second Timer J holds 64,000 of these, and the copied lines
//! are about two thirds of each.
//!
//! Kept form: `[status-line length: u16 LE][tag length: u8][hash: u64 LE]
//! [status line][tag][rest of the response]`. A response that does not
//! begin with the copied lines (a proxied one, one built by hand) is kept
//! whole instead.

use std::hash::{BuildHasher, Hasher};

use bytes::{Bytes, BytesMut};
use sip_msg::{HeaderName, SipMessage};

/// Calls `piece` with each piece of the header lines a response to `req`
/// copies from it, in the order and the form `response_builder` writes
/// them, with `;tag=` and `tag` after To when the request's To has no tag.
/// Stops at the first `false`; returns whether every piece was accepted
/// (`false` too when the request lacks one of the header fields).
fn copied_pieces(req: &SipMessage, tag: &str, mut piece: impl FnMut(&[u8]) -> bool) -> bool {
    let (Some(from), Some(to), Some(call_id), Some(cseq)) = (
        req.header(HeaderName::From),
        req.header(HeaderName::To),
        req.header(HeaderName::CallId),
        req.header(HeaderName::CSeq),
    ) else {
        return false;
    };
    let to_has_tag = matches!(req.to_tag(), Ok(Some(_)));
    for via in req.header_lines(HeaderName::Via) {
        if !(piece(b"Via: ") && piece(via.as_bytes()) && piece(b"\r\n")) {
            return false;
        }
    }
    piece(b"From: ")
        && piece(from.as_bytes())
        && piece(b"\r\nTo: ")
        && piece(to.as_bytes())
        && (to_has_tag || (piece(b";tag=") && piece(tag.as_bytes())))
        && piece(b"\r\nCall-ID: ")
        && piece(call_id.as_bytes())
        && piece(b"\r\nCSeq: ")
        && piece(cseq.as_bytes())
        && piece(b"\r\n")
}

/// The hasher of the copied lines: fixed within the process (the kept
/// hash and the retransmission's are computed by the same code, the same
/// run), and fast.
fn hasher() -> impl Hasher {
    foldhash::fast::FixedState::with_seed(0x5349_5032_3030).build_hasher()
}

/// A response cut down by [`delta`]: its parts, borrowed.
pub(super) struct Delta<'a> {
    head: [u8; 11],
    status: &'a [u8],
    tag: &'a str,
    rest: &'a [u8],
}

impl Delta<'_> {
    /// The pieces of the kept form, in order.
    pub(super) fn parts(&self) -> [&[u8]; 4] {
        [&self.head, self.status, self.tag.as_bytes(), self.rest]
    }
}

/// `resp` (a final response to `req`, `wire` as sent) cut down, or `None`
/// when it does not begin with the lines copied from `req`.
pub(super) fn delta<'a>(
    req: &SipMessage,
    resp: &'a SipMessage,
    wire: &'a [u8],
) -> Option<Delta<'a>> {
    let status_end = memchr::memchr(b'\n', wire)? + 1;
    if wire.get(status_end.checked_sub(2)?) != Some(&b'\r') {
        return None;
    }
    // The tag we added: what follows the request's To in the response's
    // (the whole response is compared and hashed below, so reading it off
    // the text needs no parse).
    let tag = if matches!(req.to_tag(), Ok(Some(_))) {
        ""
    } else {
        resp.header(HeaderName::To)?
            .strip_prefix(req.header(HeaderName::To)?)?
            .strip_prefix(";tag=")?
    };
    let status_len = u16::try_from(status_end).ok()?;
    let tag_len = u8::try_from(tag.len()).ok()?;
    let mut at = status_end;
    let mut h = hasher();
    let matched = copied_pieces(req, tag, |p| {
        let ok = wire.get(at..at + p.len()) == Some(p);
        at += p.len();
        h.write(p);
        ok
    });
    if !matched {
        return None;
    }
    let mut head = [0u8; 11];
    head[..2].copy_from_slice(&status_len.to_le_bytes());
    head[2] = tag_len;
    head[3..].copy_from_slice(&h.finish().to_le_bytes());
    Some(Delta {
        head,
        status: &wire[..status_end],
        tag,
        rest: &wire[at..],
    })
}

/// The response a [`delta`] was made from, rebuilt for the retransmitted
/// request `req`; `None` when `req` does not repeat the copied header
/// fields exactly (or lacks one), or `kept` is malformed.
pub(super) fn rebuild(req: &SipMessage, kept: &[u8]) -> Option<Bytes> {
    let head = kept.get(..11)?;
    let status_len = usize::from(u16::from_le_bytes([head[0], head[1]]));
    let tag_len = usize::from(head[2]);
    let hash = u64::from_le_bytes(head[3..11].try_into().ok()?);
    let body = &kept[11..];
    let status = body.get(..status_len)?;
    let tag = std::str::from_utf8(body.get(status_len..status_len + tag_len)?).ok()?;
    let rest = body.get(status_len + tag_len..)?;
    let mut out = BytesMut::with_capacity(kept.len() + 512);
    out.extend_from_slice(status);
    let mut h = hasher();
    let complete = copied_pieces(req, tag, |p| {
        out.extend_from_slice(p);
        h.write(p);
        true
    });
    if !complete || h.finish() != hash {
        return None;
    }
    out.extend_from_slice(rest);
    Some(out.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Tag, response_builder};

    fn parse(s: &str) -> SipMessage {
        SipMessage::parse(Bytes::copy_from_slice(s.as_bytes())).unwrap()
    }

    fn subscribe(to_tag: &str) -> SipMessage {
        parse(&format!(
            "SUBSCRIBE sip:alice@example.test SIP/2.0\r\n\
             v: SIP/2.0/UDP 192.0.2.1:5061;branch=z9hG4bK-1;rport=5061;received=192.0.2.1\r\n\
             Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK-0, SIP/2.0/TCP 192.0.2.8;branch=z9hG4bK-x\r\n\
             From: \"W\" <sip:w@example.test>;tag=f1\r\n\
             To: <sip:alice@example.test>{to_tag}\r\n\
             Call-ID: c1@192.0.2.1\r\nCSeq: 7 SUBSCRIBE\r\nEvent: presence\r\n\
             Contact: <sip:w@192.0.2.1:5061>\r\nContent-Length: 0\r\n\r\n"
        ))
    }

    fn ok(req: &SipMessage) -> SipMessage {
        response_builder(req, 200, "OK", Some(&Tag::new("hp-tag-1")))
            .unwrap()
            .header(HeaderName::Expires, "3600")
            .header(HeaderName::Contact, "<sip:127.0.0.1:5060>")
            .build()
            .unwrap()
    }

    #[test]
    fn a_built_response_is_kept_small_and_rebuilt_exactly() {
        for to_tag in ["", ";tag=hp-old"] {
            let req = subscribe(to_tag);
            let resp = ok(&req);
            let wire = resp.to_bytes();
            let kept = delta(&req, &resp, &wire).expect("built by response_builder");
            let kept = kept.parts().concat();
            assert!(
                kept.len() * 2 < wire.len(),
                "{} of {}",
                kept.len(),
                wire.len()
            );
            assert_eq!(rebuild(&req, &kept).unwrap(), wire, "To tag {to_tag:?}");
            // The retransmission is a new parse of the same bytes.
            let again = parse(std::str::from_utf8(&req.to_bytes()).unwrap());
            assert_eq!(rebuild(&again, &kept).unwrap(), wire);
        }
    }

    #[test]
    fn a_response_not_built_from_the_request_is_not_cut() {
        let req = subscribe("");
        // Header order of its own: From before Via.
        let resp = parse(
            "SIP/2.0 200 OK\r\nFrom: \"W\" <sip:w@example.test>;tag=f1\r\n\
             Via: SIP/2.0/UDP 192.0.2.1:5061;branch=z9hG4bK-1;rport=5061;received=192.0.2.1\r\n\
             To: <sip:alice@example.test>;tag=t\r\nCall-ID: c1@192.0.2.1\r\n\
             CSeq: 7 SUBSCRIBE\r\nContent-Length: 0\r\n\r\n",
        );
        assert!(delta(&req, &resp, &resp.to_bytes()).is_none());
        // A CSeq that differs from the request's by one digit.
        let built = ok(&req).to_bytes();
        let changed = String::from_utf8(built.to_vec())
            .unwrap()
            .replace("CSeq: 7 SUBSCRIBE", "CSeq: 8 SUBSCRIBE");
        let resp = parse(&changed);
        assert!(delta(&req, &resp, &resp.to_bytes()).is_none());
    }

    #[test]
    fn a_request_not_repeating_the_copied_headers_gets_nothing() {
        let req = subscribe("");
        let resp = ok(&req);
        let wire = resp.to_bytes();
        let kept = delta(&req, &resp, &wire).unwrap().parts().concat();
        // Not a retransmission: another CSeq, or a To that gained a tag.
        let other = parse(
            &String::from_utf8(req.to_bytes().to_vec())
                .unwrap()
                .replace("CSeq: 7", "CSeq: 8"),
        );
        assert!(rebuild(&other, &kept).is_none());
        let tagged = subscribe(";tag=hp-tag-1");
        assert!(rebuild(&tagged, &kept).is_none());
        let bare = parse(
            "SUBSCRIBE sip:alice@example.test SIP/2.0\r\n\
             Via: SIP/2.0/UDP 192.0.2.1:5061;branch=z9hG4bK-1\r\n\
             To: <sip:alice@example.test>\r\nCall-ID: c1@192.0.2.1\r\n\
             CSeq: 7 SUBSCRIBE\r\nContent-Length: 0\r\n\r\n",
        );
        assert!(rebuild(&bare, &kept).is_none());
        assert!(rebuild(&req, &kept[..2]).is_none());
    }
}
