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
    /// The headers a response copies from its request (RFC 3261 §8.2.6.2):
    /// every Via, From, To, Call-ID and CSeq.
    pub const COPIED_INTO_RESPONSES: [HeaderName; 5] = [
        HeaderName::Via,
        HeaderName::From,
        HeaderName::To,
        HeaderName::CallId,
        HeaderName::CSeq,
    ];

    /// Is this one of [`HeaderName::COPIED_INTO_RESPONSES`]?
    pub fn is_copied_into_responses(self) -> bool {
        Self::COPIED_INTO_RESPONSES.contains(&self)
    }

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
            return compact(name[0]);
        }
        if name.len() > MAX_LEN {
            return Other;
        }
        // A perfect hash of the full names, then one case-insensitive compare.
        let e = &ENTRIES[INDEX[hash(name)] as usize];
        if e.len as usize == name.len() && e.matches(name) {
            e.name
        } else {
            Other
        }
    }

    /// The classification before the perfect hash, to compare against.
    #[cfg(test)]
    fn from_bytes_reference(name: &[u8]) -> HeaderName {
        use HeaderName::*;
        if name.is_empty() {
            return Other;
        }
        if name.len() == 1 {
            return compact(name[0]);
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

/// The full names, lowercase: the [`HeaderName::from_bytes`] table.
const NAMES: [(&[u8], HeaderName); KNOWN] = [
    (b"to", HeaderName::To),
    (b"via", HeaderName::Via),
    (b"cseq", HeaderName::CSeq),
    (b"date", HeaderName::Date),
    (b"from", HeaderName::From),
    (b"path", HeaderName::Path),
    (b"allow", HeaderName::Allow),
    (b"event", HeaderName::Event),
    (b"route", HeaderName::Route),
    (b"accept", HeaderName::Accept),
    (b"server", HeaderName::Server),
    (b"call-id", HeaderName::CallId),
    (b"contact", HeaderName::Contact),
    (b"expires", HeaderName::Expires),
    (b"require", HeaderName::Require),
    (b"subject", HeaderName::Subject),
    (b"warning", HeaderName::Warning),
    (b"identity", HeaderName::Identity),
    (b"refer-to", HeaderName::ReferTo),
    (b"sip-etag", HeaderName::SipETag),
    (b"supported", HeaderName::Supported),
    (b"timestamp", HeaderName::Timestamp),
    (b"user-agent", HeaderName::UserAgent),
    (b"min-expires", HeaderName::MinExpires),
    (b"retry-after", HeaderName::RetryAfter),
    (b"referred-by", HeaderName::ReferredBy),
    (b"unsupported", HeaderName::Unsupported),
    (b"allow-events", HeaderName::AllowEvents),
    (b"content-type", HeaderName::ContentType),
    (b"max-forwards", HeaderName::MaxForwards),
    (b"record-route", HeaderName::RecordRoute),
    (b"sip-if-match", HeaderName::SipIfMatch),
    (b"authorization", HeaderName::Authorization),
    (b"identity-info", HeaderName::IdentityInfo),
    (b"proxy-require", HeaderName::ProxyRequire),
    (b"accept-contact", HeaderName::AcceptContact),
    (b"content-length", HeaderName::ContentLength),
    (b"reject-contact", HeaderName::RejectContact),
    (b"accept-encoding", HeaderName::AcceptEncoding),
    (b"accept-language", HeaderName::AcceptLanguage),
    (b"session-expires", HeaderName::SessionExpires),
    (b"content-encoding", HeaderName::ContentEncoding),
    (b"www-authenticate", HeaderName::WwwAuthenticate),
    (b"proxy-authenticate", HeaderName::ProxyAuthenticate),
    (b"subscription-state", HeaderName::SubscriptionState),
    (b"authentication-info", HeaderName::AuthenticationInfo),
    (b"content-disposition", HeaderName::ContentDisposition),
    (b"proxy-authorization", HeaderName::ProxyAuthorization),
    (b"request-disposition", HeaderName::RequestDisposition),
];

/// The longest full name (`subscription-state` and friends: 19 bytes).
const MAX_LEN: usize = 19;

/// The slot of a name in [`INDEX`]: a perfect hash of the full names over
/// length and the first, last and second-to-last bytes (case folded), found
/// by search; `index_table` checks at compile time that it has no collision.
/// `n` has 2 to [`MAX_LEN`] bytes.
#[inline]
const fn hash(n: &[u8]) -> usize {
    let len = n.len();
    let (first, last, prev) = (n[0] | 0x20, n[len - 1] | 0x20, n[len - 2] | 0x20);
    (len + first as usize * 30 + last as usize * 5 + prev as usize * 12) & 127
}

/// One known name: its bytes lowercase and, per byte, the bit that case
/// folding may flip (0x20 on letters, 0 on `-`), zero-padded to 24 bytes
/// for word-wise compares.
#[derive(Clone, Copy)]
struct Entry {
    lower: [u8; 24],
    fold: [u8; 24],
    len: u8,
    name: HeaderName,
}

impl Entry {
    /// `name` (of this entry's length, at least 2 bytes) equals this entry,
    /// ASCII case ignored: `x | fold == lower` byte-wise, a word at a time
    /// with an overlapping last word.
    #[inline]
    fn matches(&self, name: &[u8]) -> bool {
        let n = name.len();
        let eq = |k: usize, w: usize| -> bool {
            let mut x = [0u8; 8];
            let mut f = [0u8; 8];
            let mut l = [0u8; 8];
            x[..w].copy_from_slice(&name[k..k + w]);
            f[..w].copy_from_slice(&self.fold[k..k + w]);
            l[..w].copy_from_slice(&self.lower[k..k + w]);
            u64::from_le_bytes(x) | u64::from_le_bytes(f) == u64::from_le_bytes(l)
        };
        match n {
            16.. => eq(0, 8) && eq(8, 8) && eq(n - 8, 8),
            8.. => eq(0, 8) && eq(n - 8, 8),
            4.. => eq(0, 4) && eq(n - 4, 4),
            _ => eq(0, 2) && eq(n - 2, 2),
        }
    }
}

/// [`NAMES`] as entries, plus an empty last one (length 0: matches nothing).
const fn entries() -> [Entry; KNOWN + 1] {
    let mut out = [Entry {
        lower: [0; 24],
        fold: [0; 24],
        len: 0,
        name: HeaderName::Other,
    }; KNOWN + 1];
    let mut i = 0;
    while i < NAMES.len() {
        let (n, h) = NAMES[i];
        assert!(n.len() >= 2 && n.len() <= MAX_LEN);
        let mut j = 0;
        while j < n.len() {
            assert!(n[j].is_ascii_lowercase() || n[j] == b'-');
            out[i].lower[j] = n[j];
            out[i].fold[j] = if n[j].is_ascii_lowercase() { 0x20 } else { 0 };
            j += 1;
        }
        out[i].len = n.len() as u8;
        out[i].name = h;
        i += 1;
    }
    out
}

static ENTRIES: [Entry; KNOWN + 1] = entries();

/// [`hash`] slot -> index into [`ENTRIES`] (`KNOWN`: none).
const fn index_table() -> [u8; 128] {
    let mut t = [KNOWN as u8; 128];
    let mut i = 0;
    while i < NAMES.len() {
        let h = hash(NAMES[i].0);
        assert!(t[h] == KNOWN as u8, "header name hash collision");
        t[h] = i as u8;
        i += 1;
    }
    t
}

static INDEX: [u8; 128] = index_table();

/// A one-letter compact form (RFC 3261 §7.3.3 and the IANA registry of
/// compact forms), any case.
fn compact(c: u8) -> HeaderName {
    use HeaderName::*;
    match c.to_ascii_lowercase() {
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

    #[test]
    fn perfect_hash_agrees_with_the_reference() {
        let mut names: Vec<Vec<u8>> = NAMES.iter().map(|(n, _)| n.to_vec()).collect();
        for (n, _) in NAMES {
            names.push(n.to_ascii_uppercase());
            // Every single-byte change, including CR for '-' and the case-fold
            // neighbours ('@' for '`', '\r' for '-').
            for i in 0..n.len() {
                for c in [
                    0u8,
                    b'\r',
                    b'@',
                    b'[',
                    b'`',
                    b'{',
                    b'-',
                    b'a',
                    b'Z',
                    0xc3,
                    n[i] ^ 0x20,
                    n[i] ^ 0x01,
                ] {
                    let mut m = n.to_vec();
                    m[i] = c;
                    names.push(m);
                }
            }
            names.push(n[1..].to_vec());
            names.push([n, b"x"].concat());
        }
        for b in 0..=255u8 {
            names.push(vec![b]);
            names.push(vec![b, b'o']);
            names.push(vec![b'v', b'i', b]);
        }
        for n in names {
            assert_eq!(
                HeaderName::from_bytes(&n),
                HeaderName::from_bytes_reference(&n),
                "{:?}",
                String::from_utf8_lossy(&n)
            );
        }
    }
}
