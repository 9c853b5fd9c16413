//! Header names: the ones this crate knows, their compact forms (RFC 3261 §7.3.3
//! and the registries of later RFCs), and case-insensitive classification.

/// A header name. Known names are matched case-insensitively, in full or compact
/// form; anything else is [`HeaderName::Other`] and keeps its text in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum HeaderName {
    Via,
    From,
    To,
    CallId,
    CSeq,
    MaxForwards,
    Contact,
    Expires,
    MinExpires,
    Route,
    RecordRoute,
    Path,
    ContentType,
    ContentLength,
    ContentEncoding,
    Event,
    AllowEvents,
    SubscriptionState,
    SipETag,
    SipIfMatch,
    Accept,
    AcceptEncoding,
    AcceptLanguage,
    Allow,
    Supported,
    Require,
    ProxyRequire,
    Unsupported,
    WwwAuthenticate,
    Authorization,
    ProxyAuthenticate,
    ProxyAuthorization,
    AuthenticationInfo,
    Date,
    RetryAfter,
    UserAgent,
    Server,
    Timestamp,
    Warning,
    Subject,
    ReferTo,
    ReferredBy,
    SessionExpires,
    AcceptContact,
    RejectContact,
    RequestDisposition,
    Identity,
    IdentityInfo,
    ContentDisposition,
    /// Any other header; its name is kept as written.
    Other,
}

/// Number of named (non-`Other`) variants; sizes the message's first-index table.
pub(crate) const KNOWN: usize = HeaderName::Other as usize;

impl HeaderName {
    /// The canonical full name, e.g. `Call-ID`; `None` for [`HeaderName::Other`].
    pub fn as_str(self) -> Option<&'static str> {
        use HeaderName::*;
        Some(match self {
            Via => "Via",
            From => "From",
            To => "To",
            CallId => "Call-ID",
            CSeq => "CSeq",
            MaxForwards => "Max-Forwards",
            Contact => "Contact",
            Expires => "Expires",
            MinExpires => "Min-Expires",
            Route => "Route",
            RecordRoute => "Record-Route",
            Path => "Path",
            ContentType => "Content-Type",
            ContentLength => "Content-Length",
            ContentEncoding => "Content-Encoding",
            Event => "Event",
            AllowEvents => "Allow-Events",
            SubscriptionState => "Subscription-State",
            SipETag => "SIP-ETag",
            SipIfMatch => "SIP-If-Match",
            Accept => "Accept",
            AcceptEncoding => "Accept-Encoding",
            AcceptLanguage => "Accept-Language",
            Allow => "Allow",
            Supported => "Supported",
            Require => "Require",
            ProxyRequire => "Proxy-Require",
            Unsupported => "Unsupported",
            WwwAuthenticate => "WWW-Authenticate",
            Authorization => "Authorization",
            ProxyAuthenticate => "Proxy-Authenticate",
            ProxyAuthorization => "Proxy-Authorization",
            AuthenticationInfo => "Authentication-Info",
            Date => "Date",
            RetryAfter => "Retry-After",
            UserAgent => "User-Agent",
            Server => "Server",
            Timestamp => "Timestamp",
            Warning => "Warning",
            Subject => "Subject",
            ReferTo => "Refer-To",
            ReferredBy => "Referred-By",
            SessionExpires => "Session-Expires",
            AcceptContact => "Accept-Contact",
            RejectContact => "Reject-Contact",
            RequestDisposition => "Request-Disposition",
            Identity => "Identity",
            IdentityInfo => "Identity-Info",
            ContentDisposition => "Content-Disposition",
            Other => return None,
        })
    }

    /// Classifies a header name as written (full or compact form, any case).
    pub fn from_bytes(name: &[u8]) -> HeaderName {
        use HeaderName::*;
        if name.is_empty() {
            return Other;
        }
        if name.len() == 1 {
            // RFC 3261 §7.3.3 and the IANA registry of compact forms.
            return match name[0].to_ascii_lowercase() {
                b'v' => Via,
                b'f' => From,
                b't' => To,
                b'i' => CallId,
                b'm' => Contact,
                b'c' => ContentType,
                b'l' => ContentLength,
                b'e' => ContentEncoding,
                b'o' => Event,
                b'u' => AllowEvents,
                b'k' => Supported,
                b's' => Subject,
                b'r' => ReferTo,
                b'b' => ReferredBy,
                b'x' => SessionExpires,
                b'a' => AcceptContact,
                b'j' => RejectContact,
                b'd' => RequestDisposition,
                b'y' => Identity,
                b'n' => IdentityInfo,
                _ => Other,
            };
        }
        // Dispatch on length and first letter, then one case-insensitive compare.
        let cand: &[(&[u8], HeaderName)] = match (name.len(), name[0].to_ascii_lowercase()) {
            (2, b't') => &[(b"to", To)],
            (3, b'v') => &[(b"via", Via)],
            (4, b'c') => &[(b"cseq", CSeq)],
            (4, b'd') => &[(b"date", Date)],
            (4, b'f') => &[(b"from", From)],
            (4, b'p') => &[(b"path", Path)],
            (5, b'a') => &[(b"allow", Allow)],
            (5, b'e') => &[(b"event", Event)],
            (5, b'r') => &[(b"route", Route)],
            (6, b'a') => &[(b"accept", Accept)],
            (6, b's') => &[(b"server", Server)],
            (7, b'c') => &[(b"call-id", CallId), (b"contact", Contact)],
            (7, b'e') => &[(b"expires", Expires)],
            (7, b'r') => &[(b"require", Require)],
            (7, b's') => &[(b"subject", Subject)],
            (7, b'w') => &[(b"warning", Warning)],
            (8, b'i') => &[(b"identity", Identity)],
            (8, b'r') => &[(b"refer-to", ReferTo)],
            (8, b's') => &[(b"sip-etag", SipETag)],
            (9, b's') => &[(b"supported", Supported)],
            (9, b't') => &[(b"timestamp", Timestamp)],
            (10, b'u') => &[(b"user-agent", UserAgent)],
            (11, b'm') => &[(b"min-expires", MinExpires)],
            (11, b'r') => &[(b"retry-after", RetryAfter), (b"referred-by", ReferredBy)],
            (11, b'u') => &[(b"unsupported", Unsupported)],
            (12, b'a') => &[(b"allow-events", AllowEvents)],
            (12, b'c') => &[(b"content-type", ContentType)],
            (12, b'm') => &[(b"max-forwards", MaxForwards)],
            (12, b'r') => &[(b"record-route", RecordRoute)],
            (12, b's') => &[(b"sip-if-match", SipIfMatch)],
            (13, b'a') => &[(b"authorization", Authorization)],
            (13, b'i') => &[(b"identity-info", IdentityInfo)],
            (13, b'p') => &[(b"proxy-require", ProxyRequire)],
            (14, b'a') => &[(b"accept-contact", AcceptContact)],
            (14, b'c') => &[(b"content-length", ContentLength)],
            (14, b'r') => &[(b"reject-contact", RejectContact)],
            (15, b'a') => &[
                (b"accept-encoding", AcceptEncoding),
                (b"accept-language", AcceptLanguage),
            ],
            (15, b's') => &[(b"session-expires", SessionExpires)],
            (16, b'c') => &[(b"content-encoding", ContentEncoding)],
            (16, b'w') => &[(b"www-authenticate", WwwAuthenticate)],
            (18, b'p') => &[(b"proxy-authenticate", ProxyAuthenticate)],
            (18, b's') => &[(b"subscription-state", SubscriptionState)],
            (19, b'a') => &[(b"authentication-info", AuthenticationInfo)],
            (19, b'c') => &[(b"content-disposition", ContentDisposition)],
            (19, b'p') => &[(b"proxy-authorization", ProxyAuthorization)],
            (19, b'r') => &[(b"request-disposition", RequestDisposition)],
            _ => return Other,
        };
        cand.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map_or(Other, |&(_, h)| h)
    }

    /// May several values of this header share one line, separated by commas
    /// (RFC 3261 §7.3.1)? False for the authentication headers, whose values
    /// contain commas, and for single-valued headers.
    pub fn is_list(self) -> bool {
        use HeaderName::*;
        matches!(
            self,
            Via | Contact
                | Route
                | RecordRoute
                | Path
                | ContentEncoding
                | AllowEvents
                | Accept
                | AcceptEncoding
                | AcceptLanguage
                | Allow
                | Supported
                | Require
                | ProxyRequire
                | Unsupported
                | Warning
                | AcceptContact
                | RejectContact
                | RequestDisposition
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for n in [
            "Via",
            "Call-ID",
            "cseq",
            "SUBSCRIPTION-STATE",
            "sip-etag",
            "WWW-Authenticate",
            "Content-Disposition",
        ] {
            let h = HeaderName::from_bytes(n.as_bytes());
            assert_ne!(h, HeaderName::Other, "{n}");
            assert!(h.as_str().unwrap().eq_ignore_ascii_case(n));
        }
        assert_eq!(HeaderName::from_bytes(b"i"), HeaderName::CallId);
        assert_eq!(HeaderName::from_bytes(b"O"), HeaderName::Event);
        assert_eq!(HeaderName::from_bytes(b"X-Foo"), HeaderName::Other);
        assert_eq!(HeaderName::from_bytes(b""), HeaderName::Other);
        assert_eq!(HeaderName::from_bytes(b"Vib"), HeaderName::Other);
        assert_eq!(
            HeaderName::from_bytes(b"a-very-long-header-name-indeed"),
            HeaderName::Other
        );
    }
}
