//! The little SDP (RFC 4566) a chat room focus needs: read an offer's media
//! sections, pick its MSRP stream (RFC 4975 §8), and write the answer
//! (RFC 3264 §6: one m-line per offered one, the others refused with port
//! 0). Pure; unit-tested here.

use msrp::MsrpUri;

/// One media section of an offer: its m-line and its attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Media {
    pub(super) media: String,
    pub(super) port: String,
    pub(super) proto: String,
    pub(super) formats: String,
    /// `a=name:value` (value empty for a flag), in order.
    pub(super) attrs: Vec<(String, String)>,
}

impl Media {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a space-separated list attribute (accept-types).
    fn list(&self, name: &str) -> Vec<String> {
        self.attrs
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split_ascii_whitespace().map(str::to_owned))
            .collect()
    }
}

/// The media sections of an SDP body; `None` when it is not SDP (no `v=`
/// line first, or a line without `x=`).
pub(super) fn parse(body: &str) -> Option<Vec<Media>> {
    let mut lines = body
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .filter(|l| !l.is_empty());
    if !lines.next()?.starts_with("v=") {
        return None;
    }
    let mut out: Vec<Media> = Vec::new();
    for l in lines {
        let (kind, value) = l.split_once('=')?;
        match kind {
            "m" => {
                let mut f = value.split_ascii_whitespace();
                let media = f.next()?.to_owned();
                let port = f.next()?.to_owned();
                let proto = f.next()?.to_owned();
                let formats = f.collect::<Vec<_>>().join(" ");
                out.push(Media {
                    media,
                    port,
                    proto,
                    formats,
                    attrs: Vec::new(),
                });
            }
            "a" => {
                if let Some(m) = out.last_mut() {
                    let (n, v) = value.split_once(':').unwrap_or((value, ""));
                    m.attrs.push((n.trim().to_owned(), v.trim().to_owned()));
                }
            }
            _ => {}
        }
    }
    Some(out)
}

/// The MSRP stream of an offer the focus takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct MsrpOffer {
    /// Which media section.
    pub(super) index: usize,
    /// `TCP/TLS/MSRP`: `msrps` URIs (RFC 4975 §8.1).
    pub(super) secure: bool,
    /// The participant's path (RFC 4975 §8.2): its relays, then itself.
    pub(super) path: Vec<MsrpUri>,
    /// What it takes (RFC 4975 §8.6): accept-types and accept-wrapped-types.
    pub(super) takes: Vec<String>,
    /// It offered `a=setup` (RFC 6135), so the answer says who connects.
    pub(super) setup: bool,
}

/// Picks the first MSRP stream of `media` (port not 0); `tls` says whether
/// `TCP/TLS/MSRP` can be taken (an msrps listener). The error is the reason
/// phrase of the 488.
pub(super) fn msrp_offer(media: &[Media], tls: bool) -> Result<MsrpOffer, &'static str> {
    let mut saw_tls = false;
    for (index, m) in media.iter().enumerate() {
        let secure = if m.proto.eq_ignore_ascii_case("TCP/MSRP") {
            false
        } else if m.proto.eq_ignore_ascii_case("TCP/TLS/MSRP") {
            saw_tls = true;
            true
        } else {
            continue;
        };
        if !m.media.eq_ignore_ascii_case("message") || m.port == "0" || (secure && !tls) {
            continue;
        }
        // RFC 4975 §8.2: the path, every URI with its port, the last one
        // (the participant) with a session-id.
        let path: Vec<MsrpUri> = match m.attr("path").map(msrp::parse_path) {
            Some(Ok(p)) if !p.is_empty() => p,
            _ => return Err("Not Acceptable Here: MSRP stream without a valid a=path"),
        };
        if path.iter().any(|u| u.port().is_none())
            || path.last().is_none_or(|u| u.session_id().is_none())
        {
            return Err("Not Acceptable Here: MSRP stream without a valid a=path");
        }
        let accept = m.list("accept-types");
        if accept.is_empty() {
            // RFC 4975 §8.6: an MSRP media line MUST carry accept-types.
            return Err("Not Acceptable Here: MSRP stream without a=accept-types");
        }
        // RFC 7701 §5.2: a focus sends only message/cpim.
        let cpim = accept.iter().any(|t| {
            t == "*"
                || t.eq_ignore_ascii_case("message/cpim")
                || t.eq_ignore_ascii_case("message/*")
        });
        if !cpim {
            return Err("Not Acceptable Here: the chat room sends message/cpim (RFC 7701)");
        }
        // RFC 6135: the offerer is active unless it says otherwise; the
        // focus never connects out.
        let setup = m.attr("setup");
        if setup.is_some_and(|s| s.eq_ignore_ascii_case("passive")) {
            return Err("Not Acceptable Here: the chat room does not connect to participants");
        }
        let mut takes = accept;
        takes.extend(m.list("accept-wrapped-types"));
        return Ok(MsrpOffer {
            index,
            secure,
            path,
            takes,
            setup: setup.is_some(),
        });
    }
    Err(if saw_tls {
        "Not Acceptable Here: no MSRP over TLS here (no msrps listener)"
    } else {
        "Not Acceptable Here: no MSRP stream (m=message TCP/MSRP) offered"
    })
}

/// The answer (RFC 3264 §6; RFC 4975 §8; RFC 7701 §5.2): the MSRP stream
/// taken with the focus's URI `me` as its path, what the focus accepts, the
/// chat room attribute (RFC 7701 §8: private messages); every other offered
/// stream refused with port 0. `version` goes in the o-line (RFC 4975 §8.4:
/// the same for an unchanged answer).
pub(super) fn answer(media: &[Media], offer: &MsrpOffer, me: &MsrpUri, version: u64) -> String {
    // RFC 4975 §8.1: c= and the port from the URI in the path.
    let host = me.host_str().trim_start_matches('[').trim_end_matches(']');
    let family = if host.contains(':') { "IP6" } else { "IP4" };
    let port = me.port().unwrap_or(msrp::DEFAULT_PORT);
    let mut s = format!(
        "v=0\r\no=herald {version} {version} IN {family} {host}\r\ns=-\r\nc=IN {family} {host}\r\nt=0 0\r\n"
    );
    for (i, m) in media.iter().enumerate() {
        if i != offer.index {
            let formats = if m.formats.is_empty() {
                "*"
            } else {
                &m.formats
            };
            s.push_str(&format!("m={} 0 {} {formats}\r\n", m.media, m.proto));
            continue;
        }
        s.push_str(&format!("m=message {port} {} *\r\n", m.proto));
        // Plain text is taken too and wrapped by the focus; anything inside
        // CPIM (RFC 4975 §8.6).
        s.push_str("a=accept-types:message/cpim text/plain\r\n");
        s.push_str("a=accept-wrapped-types:*\r\n");
        s.push_str(&format!("a=path:{me}\r\n"));
        s.push_str("a=chatroom:private-messages\r\n");
        if offer.setup {
            s.push_str("a=setup:passive\r\n");
        }
    }
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 4000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\n\
m=message 7654 TCP/MSRP *\r\na=accept-types:message/cpim text/plain\r\n\
a=accept-wrapped-types:text/plain image/*\r\na=path:msrp://127.0.0.1:9/r1;tcp msrp://127.0.0.1:7654/abc;tcp\r\n\
a=setup:actpass\r\n";

    #[test]
    fn the_msrp_stream_is_taken_and_the_others_refused() {
        let media = parse(OFFER).unwrap();
        assert_eq!(media.len(), 2);
        let o = msrp_offer(&media, false).unwrap();
        assert_eq!(o.index, 1);
        assert!(!o.secure && o.setup);
        assert_eq!(o.path.len(), 2);
        assert_eq!(o.path[1].session_id(), Some("abc"));
        assert_eq!(
            o.takes,
            ["message/cpim", "text/plain", "text/plain", "image/*"]
        );
        let me = MsrpUri::parse("msrp://127.0.0.1:2855/focus1;tcp").unwrap();
        let a = answer(&media, &o, &me, 7);
        assert!(
            a.starts_with("v=0\r\no=herald 7 7 IN IP4 127.0.0.1\r\n"),
            "{a}"
        );
        assert!(a.contains("c=IN IP4 127.0.0.1\r\n"));
        assert!(a.contains("m=audio 0 RTP/AVP 0 8\r\nm=message 2855 TCP/MSRP *\r\n"));
        assert!(a.contains("a=accept-types:message/cpim text/plain\r\n"));
        assert!(a.contains("a=path:msrp://127.0.0.1:2855/focus1;tcp\r\n"));
        assert!(a.contains("a=setup:passive\r\n"));
        // The answer is SDP we read back the same way.
        let back = parse(&a).unwrap();
        assert_eq!(back[1].port, "2855");
        assert_eq!(back[0].port, "0");
    }

    #[test]
    fn offers_the_focus_cannot_take() {
        let no_msrp = "v=0\r\no=a 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
        let e = msrp_offer(&parse(no_msrp).unwrap(), true).unwrap_err();
        assert!(e.contains("no MSRP stream"), "{e}");
        let tls = OFFER.replace("TCP/MSRP", "TCP/TLS/MSRP");
        let e = msrp_offer(&parse(&tls).unwrap(), false).unwrap_err();
        assert!(e.contains("TLS"), "{e}");
        assert!(msrp_offer(&parse(&tls).unwrap(), true).unwrap().secure);
        let plain_only = OFFER.replace(
            "a=accept-types:message/cpim text/plain",
            "a=accept-types:text/plain",
        );
        let e = msrp_offer(&parse(&plain_only).unwrap(), false).unwrap_err();
        assert!(e.contains("message/cpim"), "{e}");
        let no_path = OFFER.replace("a=path:", "a=nopath:");
        assert!(msrp_offer(&parse(&no_path).unwrap(), false).is_err());
        let passive = OFFER.replace("actpass", "passive");
        assert!(msrp_offer(&parse(&passive).unwrap(), false).is_err());
        let disabled = OFFER.replace("m=message 7654", "m=message 0");
        assert!(msrp_offer(&parse(&disabled).unwrap(), false).is_err());
        assert!(parse("hello").is_none());
        assert!(parse("").is_none());
    }
}
