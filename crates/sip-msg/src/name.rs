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
        if name.len() > 24 {
            return Other;
        }
        let mut lower = [0u8; 24];
        for (d, s) in lower.iter_mut().zip(name) {
            *d = s.to_ascii_lowercase();
        }
        match &lower[..name.len()] {
            b"via" => Via,
            b"from" => From,
            b"to" => To,
            b"call-id" => CallId,
            b"cseq" => CSeq,
            b"max-forwards" => MaxForwards,
            b"contact" => Contact,
            b"expires" => Expires,
            b"min-expires" => MinExpires,
            b"route" => Route,
            b"record-route" => RecordRoute,
            b"path" => Path,
            b"content-type" => ContentType,
            b"content-length" => ContentLength,
            b"content-encoding" => ContentEncoding,
            b"event" => Event,
            b"allow-events" => AllowEvents,
            b"subscription-state" => SubscriptionState,
            b"sip-etag" => SipETag,
            b"sip-if-match" => SipIfMatch,
            b"accept" => Accept,
            b"accept-encoding" => AcceptEncoding,
            b"accept-language" => AcceptLanguage,
            b"allow" => Allow,
            b"supported" => Supported,
            b"require" => Require,
            b"proxy-require" => ProxyRequire,
            b"unsupported" => Unsupported,
            b"www-authenticate" => WwwAuthenticate,
            b"authorization" => Authorization,
            b"proxy-authenticate" => ProxyAuthenticate,
            b"proxy-authorization" => ProxyAuthorization,
            b"authentication-info" => AuthenticationInfo,
            b"date" => Date,
            b"retry-after" => RetryAfter,
            b"user-agent" => UserAgent,
            b"server" => Server,
            b"timestamp" => Timestamp,
            b"warning" => Warning,
            b"subject" => Subject,
            b"refer-to" => ReferTo,
            b"referred-by" => ReferredBy,
            b"session-expires" => SessionExpires,
            b"accept-contact" => AcceptContact,
            b"reject-contact" => RejectContact,
            b"request-disposition" => RequestDisposition,
            b"identity" => Identity,
            b"identity-info" => IdentityInfo,
            b"content-disposition" => ContentDisposition,
            _ => Other,
        }
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
        assert_eq!(
            HeaderName::from_bytes(b"a-very-long-header-name-indeed"),
            HeaderName::Other
        );
    }
}
