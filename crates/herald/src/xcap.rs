//! XCAP (RFC 4825) over the HTTP listeners, under `/xcap-root`: the HTTP
//! side of `simple_xcap` — digest authentication against the SIP users, a
//! user reads and writes only her own documents, global documents are
//! read-only, documents live in the store (`Documents`, compare-and-set),
//! and a write to pres-rules or pidf-manipulation reaches presence at once.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use simple_registrar::{AuthOutcome, Authenticator, DigestRequest, Registrar};
use simple_store::{Document, Precondition};
use simple_xcap::conditional::{Preconditions, TagList, Verdict};
use simple_xcap::edit::XmlDocument;
use simple_xcap::error::XcapError;
use simple_xcap::uri::{Tree, XcapUri};
use simple_xcap::usage::{Usage, UsageError};
use sip_msg::HeaderName;
use sip_net::ServerHandle;

use crate::router::{DocsPoll, Store};

/// The root of every XCAP URI we serve (RFC 4825 §6.1).
pub(crate) const ROOT: &str = "/xcap-root";

/// Largest body (and document) accepted, bytes (413 beyond).
pub(crate) const MAX_BODY: usize = 1024 * 1024;

/// What the handlers share.
pub(crate) struct XcapState<S> {
    registrar: Arc<Registrar<S>>,
    domains: Vec<String>,
    /// Set once the SIP server is bound: wakes the router after writes.
    handle: OnceLock<ServerHandle>,
    auth_enabled: bool,
    /// Parsed documents by (auid, owner, name), with the etag they were
    /// parsed at: a node GET does not parse the whole document again.
    trees: std::sync::Mutex<(TreeCache, usize)>,
    /// Serializes rls-services writes (see `put_once`).
    rls_lock: tokio::sync::Mutex<()>,
}

/// (auid, owner, name) → (etag, parsed document).
type TreeCache = HashMap<(String, String, String), (String, Arc<XmlDocument>)>;

/// Bytes of document text whose parsed trees are kept at most (the cache is
/// emptied when a new tree would pass it; a parsed tree is several times its
/// text, so this bounds the cache at a few hundred MB worst case).
const TREE_CACHE_BYTES: usize = 32 * 1024 * 1024;

impl<S> XcapState<S> {
    pub(crate) fn new(registrar: Arc<Registrar<S>>, domains: Vec<String>, auth: bool) -> Self {
        XcapState {
            registrar,
            domains,
            handle: OnceLock::new(),
            auth_enabled: auth,
            trees: std::sync::Mutex::new((HashMap::new(), 0)),
            rls_lock: tokio::sync::Mutex::new(()),
        }
    }

    pub(crate) fn set_handle(&self, h: ServerHandle) {
        let _ = self.handle.set(h);
    }

    /// A stored document parsed, with its tree and the place of each
    /// element in its text (from the cache when its etag matches).
    fn tree(&self, doc: &Document) -> Option<Arc<XmlDocument>> {
        let key = (doc.auid.clone(), doc.owner.clone(), doc.name.clone());
        if let Ok(c) = self.trees.lock()
            && let Some((etag, t)) = c.0.get(&key)
            && *etag == doc.etag
        {
            return Some(t.clone());
        }
        let t = Arc::new(XmlDocument::parse(&doc.content).ok()?);
        self.remember(key, &doc.etag, t.clone());
        Some(t)
    }

    /// Caches a parsed document under its etag (after a write, the next
    /// request finds the version it made without parsing it again).
    fn remember(&self, key: (String, String, String), etag: &str, t: Arc<XmlDocument>) {
        let len = t.text().len();
        if len <= TREE_CACHE_BYTES / 8
            && let Ok(mut c) = self.trees.lock()
        {
            if c.1 + len > TREE_CACHE_BYTES {
                c.0.clear();
                c.1 = 0;
            }
            c.1 += len;
            c.0.insert(key, (etag.to_owned(), t));
        }
    }
}

/// The axum routes for the HTTP listeners.
pub(crate) fn routes<S: Store>(state: Arc<XcapState<S>>) -> Router {
    Router::new()
        .route(&format!("{ROOT}/{{*path}}"), any(handle::<S>))
        // Refused before being buffered whole (413), not after.
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

fn plain(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{text}\n"),
    )
        .into_response()
}

fn xcap_error(e: &XcapError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::CONFLICT);
    if status == StatusCode::METHOD_NOT_ALLOWED {
        // RFC 4825 §7.10: namespace bindings are only read.
        let mut r = plain(status, &e.to_string());
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET"));
        return r;
    }
    match e.body() {
        Some(body) => (
            status,
            [(header::CONTENT_TYPE, simple_xcap::error::ERROR_MEDIA_TYPE)],
            body,
        )
            .into_response(),
        None => plain(status, &e.to_string()),
    }
}

fn usage_error(e: UsageError) -> XcapError {
    match e {
        UsageError::Schema(r) => XcapError::SchemaValidation(r),
        UsageError::Uniqueness { field, alt_values } => {
            XcapError::UniquenessFailure { field, alt_values }
        }
        UsageError::Constraint(r) => XcapError::ConstraintFailure(r),
        other => XcapError::ConstraintFailure(other.to_string()),
    }
}

/// The owner key of an XUI's documents (the same one `herald rules`
/// writes) and its domain.
fn owner_of(xui: &str) -> Option<(String, String)> {
    let (user, domain) = crate::users::split(xui).ok()?;
    Some((
        crate::rules::owner(&user, &domain),
        domain.to_ascii_lowercase(),
    ))
}

fn now_ms() -> u64 {
    u64::try_from(simple_registrar::now_ms()).unwrap_or(0)
}

/// The realms a request may authenticate in, preferred first. A user's
/// document: the XUI's domain alone (her HA1 is for that realm). A global
/// document (xcap-caps) is read by the users of every served domain, and a
/// user's HA1 is `H(user:realm:password)` for her own domain, so every
/// served domain is a realm here.
///
/// So a 401 for a global document carries one challenge set per served
/// domain (a realm is a protection space of its own, RFC 7235 §2.2, and
/// one WWW-Authenticate may list several challenges, §4.1). What clients
/// do with several Digest challenges differs: curl (and HTTP libraries
/// like it) answers the first Digest challenge and ignores the others;
/// clients that know their account's realm can pick the matching one. So
/// the order matters: first the served domain the request's `Host` names
/// (`b.test` or a host under it, such as `xcap.b.test`: a client set up
/// for b.test's XCAP server is b.test's), then the others in configured
/// order. Credentials name the realm they answer, and any served domain is
/// accepted.
fn realms_for(
    st_domains: &[String],
    tree: &Tree,
    xui_domain: &str,
    headers: &HeaderMap,
) -> Vec<String> {
    if matches!(tree, Tree::Users(_)) {
        return vec![xui_domain.to_owned()];
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // Without the port.
    let host = host
        .rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(host, |(name, _)| name)
        .to_ascii_lowercase();
    let named = |d: &String| {
        let d = d.to_ascii_lowercase();
        host == d || host.ends_with(&format!(".{d}"))
    };
    let mut out: Vec<String> = st_domains.iter().filter(|d| named(d)).cloned().collect();
    out.extend(st_domains.iter().filter(|d| !named(d)).cloned());
    out
}

/// Digest (RFC 7616, as for SIP) against the SIP users of one of `realms`
/// (preferred first, see [`realms_for`]), and Basic over TLS only
/// (RFC 4825 §5.3: digest MUST, Basic only where the connection is
/// encrypted); the authenticated user's AOR, or the 401 / 400 to send.
#[allow(clippy::too_many_arguments)]
async fn authenticate<S: Store>(
    st: &XcapState<S>,
    headers: &HeaderMap,
    method: &Method,
    target: &str,
    body: &[u8],
    realms: &[String],
    secure: bool,
) -> Result<String, Response> {
    let auth = st.registrar.authenticator();
    let now_secs = now_ms() / 1000;
    let Some(preferred) = realms.first() else {
        return Err(plain(StatusCode::FORBIDDEN, "no domain is served here"));
    };
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if secure && let Some(b64) = basic_token(value) {
        // A Basic user name without `@domain` is of the preferred realm.
        if let Some(aor) = basic(st, b64, preferred).await? {
            return Ok(aor);
        }
        tracing::debug!(realm = %preferred, "basic authentication failed");
    }
    // The credentials answer one of our realms' challenges; that realm is
    // the one to check them in.
    let (realm, creds) = realms
        .iter()
        .find_map(|r| Authenticator::http_credentials(value, r).map(|c| (r.as_str(), Some(c))))
        .unwrap_or((preferred.as_str(), None));
    let claimed = creds
        .as_ref()
        .and_then(|c| c.username())
        .map(|name| crate::users::claimed(&name, realm));
    let user = match &claimed {
        Some((u, d)) => st.registrar.store().get_user(u, d).await.map_err(|e| {
            tracing::error!(error = %e, "user lookup failed");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "store unavailable")
        })?,
        None => None,
    };
    let request = DigestRequest {
        method: method.as_str(),
        uri: target,
        body,
    };
    match auth.check_http(creds, &request, realm, user.as_ref(), now_secs) {
        AuthOutcome::Authenticated { username, .. } => {
            let domain = claimed.map_or_else(|| realm.to_owned(), |(_, d)| d);
            Ok(format!("sip:{username}@{domain}"))
        }
        AuthOutcome::Challenge(reply) => {
            let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::UNAUTHORIZED);
            let mut resp = plain(status, &reply.reason);
            // The realm the client tried (or the preferred one) first, with
            // its stale flag; then a fresh set for each other realm.
            let others = realms
                .iter()
                .filter(|r| !r.eq_ignore_ascii_case(realm))
                .map(|r| auth.challenge(r, false, false, now_secs));
            let mut challenges = reply.headers;
            if status == StatusCode::UNAUTHORIZED {
                challenges.extend(others.flat_map(|r| r.headers));
            }
            for (name, v) in &challenges {
                if *name == HeaderName::WwwAuthenticate
                    && let Ok(hv) = HeaderValue::from_str(v)
                {
                    resp.headers_mut().append(header::WWW_AUTHENTICATE, hv);
                }
            }
            // Digest first (the stronger scheme), then Basic where allowed.
            if secure
                && status == StatusCode::UNAUTHORIZED
                && let Ok(hv) = HeaderValue::from_str(&format!(
                    "Basic realm=\"{preferred}\", charset=\"UTF-8\""
                ))
            {
                resp.headers_mut().append(header::WWW_AUTHENTICATE, hv);
            }
            Err(resp)
        }
    }
}

/// The base64 part of `Basic <token>` (scheme case-insensitive, RFC 7617).
fn basic_token(value: &str) -> Option<&str> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("basic").then(|| rest.trim())
}

/// Basic credentials (RFC 7617) checked against the stored HA1s: the
/// password gives `H(user:realm:password)` for each stored algorithm, and
/// one must match (constant-time). `Ok(None)`: wrong or malformed.
async fn basic<S: Store>(
    st: &XcapState<S>,
    b64: &str,
    realm: &str,
) -> Result<Option<String>, Response> {
    use base64::Engine as _;
    use subtle::ConstantTimeEq as _;
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64) else {
        return Ok(None);
    };
    let Ok(text) = String::from_utf8(raw) else {
        return Ok(None);
    };
    let Some((name, password)) = text.split_once(':') else {
        return Ok(None);
    };
    let (user, domain) = crate::users::claimed(name, realm);
    let stored = st
        .registrar
        .store()
        .get_user(&user, &domain)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "user lookup failed");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "store unavailable")
        })?;
    let Some(stored) = stored else {
        return Ok(None);
    };
    let ok = stored.ha1.iter().any(|h| {
        sip_auth::Algorithm::parse(&h.algorithm).is_some_and(|alg| {
            let mine = sip_auth::ha1(alg, &user, &stored.realm, password);
            bool::from(mine.as_bytes().ct_eq(h.ha1.as_bytes()))
        })
    });
    Ok(ok.then(|| format!("sip:{user}@{domain}")))
}

/// A conditional header (RFC 7232 as RFC 4825 §7.11 uses it), every line
/// of it; `None` when the request has none. A line that is not text
/// matches nothing.
fn tag_list(headers: &HeaderMap, name: header::HeaderName) -> Option<TagList> {
    let mut lines = headers.get_all(name).iter().peekable();
    lines.peek()?;
    Some(TagList::parse(
        lines.map(|v| v.to_str().unwrap_or("\"\u{0}\"")),
    ))
}

/// The request's If-Match / If-None-Match.
fn preconditions(headers: &HeaderMap) -> Preconditions {
    Preconditions {
        if_match: tag_list(headers, header::IF_MATCH),
        if_none_match: tag_list(headers, header::IF_NONE_MATCH),
    }
}

/// The answer when the preconditions stop a request: 304 (with the ETag,
/// RFC 7232 §4.1) or 412; `None` to go on.
fn refused(verdict: Verdict, etag: Option<&str>) -> Option<Response> {
    match verdict {
        Verdict::Proceed => None,
        Verdict::NotModified => {
            let r = StatusCode::NOT_MODIFIED.into_response();
            Some(match etag {
                Some(e) => with_etag(r, e),
                None => r,
            })
        }
        Verdict::PreconditionFailed => Some(plain(
            StatusCode::PRECONDITION_FAILED,
            "a precondition (If-Match / If-None-Match) failed",
        )),
    }
}

fn with_etag(mut resp: Response, etag: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!("\"{etag}\"")) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp
}

async fn handle<S: Store>(
    State(st): State<Arc<XcapState<S>>>,
    listener: Option<axum::Extension<sip_net::HttpListener>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().strip_prefix(ROOT).unwrap_or("");
    let x = match simple_xcap::uri::parse(path, uri.query()) {
        Ok(x) => x,
        Err(e) => return plain(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let Some(usage) = simple_xcap::usage::usage(&x.auid) else {
        return plain(StatusCode::NOT_FOUND, "no such application usage");
    };
    let (owner, xui_domain) = match &x.tree {
        Tree::Users(xui) => {
            if usage.global_only {
                return plain(
                    StatusCode::NOT_FOUND,
                    "this usage has only global documents",
                );
            }
            let Some((owner, domain)) = owner_of(xui) else {
                return plain(StatusCode::NOT_FOUND, "the XUI is not a SIP AOR");
            };
            if !st.domains.iter().any(|d| d.eq_ignore_ascii_case(&domain)) {
                return plain(StatusCode::NOT_FOUND, "domain not served here");
            }
            (owner, domain)
        }
        Tree::Global => ("global".to_owned(), String::new()),
    };
    if body.len() > MAX_BODY {
        return plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("bodies are limited to {MAX_BODY} bytes"),
        );
    }
    if st.auth_enabled {
        let target = uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default();
        let secure = listener.is_some_and(|l| l.secure);
        let realms = realms_for(&st.domains, &x.tree, &xui_domain, &headers);
        let who = match authenticate(&st, &headers, &method, &target, &body, &realms, secure).await
        {
            Ok(w) => w,
            Err(resp) => return resp,
        };
        if matches!(x.tree, Tree::Users(_)) && who != owner {
            return plain(
                StatusCode::FORBIDDEN,
                "a user reads and writes only her own documents",
            );
        }
    }
    let reading = method == Method::GET || method == Method::HEAD;
    if matches!(x.tree, Tree::Global) && !reading {
        return plain(StatusCode::FORBIDDEN, "global documents are read-only");
    }
    if usage.read_only && !reading {
        return plain(StatusCode::FORBIDDEN, "this application usage is read-only");
    }
    match method {
        // HEAD is GET without the body (hyper drops it, keeping the
        // headers), RFC 9110 §9.3.2.
        Method::GET | Method::HEAD => get(&st, &x, usage, &owner, &headers).await,
        Method::PUT => put(&st, &x, usage, &owner, &headers, &body).await,
        Method::DELETE => {
            // A lost race is retried on the new version: the preconditions
            // are evaluated again against it.
            for _ in 0..8 {
                match delete(&st, &x, usage, &owner, &headers).await {
                    PutOutcome::Done(r) => return r,
                    PutOutcome::Raced => continue,
                }
            }
            plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "too many concurrent writers; retry",
            )
        }
        _ => {
            let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "GET, PUT and DELETE only");
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, PUT, DELETE"));
            r
        }
    }
}

async fn load<S: Store>(
    st: &XcapState<S>,
    usage: &Usage,
    owner: &str,
    name: &str,
) -> Result<Option<Document>, Response> {
    if usage.auid == "xcap-caps" {
        // RFC 4825 §12.3: the one global document is `index`.
        if name != "index" {
            return Ok(None);
        }
        let content = simple_xcap::usage::xcap_caps_document().into_bytes();
        return Ok(Some(Document {
            auid: usage.auid.to_owned(),
            owner: owner.to_owned(),
            name: name.to_owned(),
            etag: simple_xcap::error::etag_of(&content),
            content_type: usage.mime.to_owned(),
            content,
            updated_ms: 0,
        }));
    }
    st.registrar
        .store()
        .get_document(usage.auid, owner, name)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "document read failed");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "store unavailable")
        })
}

async fn get<S: Store>(
    st: &XcapState<S>,
    x: &XcapUri,
    usage: &Usage,
    owner: &str,
    headers: &HeaderMap,
) -> Response {
    let doc = match load(st, usage, owner, &x.document).await {
        Ok(Some(d)) => d,
        Ok(None) => return plain(StatusCode::NOT_FOUND, "no such document"),
        Err(r) => return r,
    };
    // RFC 7232 §5: a GET that finds nothing is 404 whatever its
    // preconditions; past that the selected resource exists, and If-Match
    // is evaluated before If-None-Match (§6).
    let pre = preconditions(headers);
    let Some(node) = &x.node else {
        if let Some(r) = refused(pre.evaluate(Some(&doc.etag), true), Some(&doc.etag)) {
            return r;
        }
        let resp = (
            StatusCode::OK,
            [(header::CONTENT_TYPE, doc.content_type.clone())],
            doc.content,
        )
            .into_response();
        return with_etag(resp, &doc.etag);
    };
    let Some(tree) = st.tree(&doc) else {
        tracing::warn!("stored document does not parse");
        return plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "stored document is corrupt",
        );
    };
    let (sel, target) =
        match simple_xcap::selector::parse_selector(node, &x.namespaces, usage.default_ns) {
            Ok(s) => s,
            Err(e) => return xcap_error(&e),
        };
    match tree.get(&sel, &target) {
        Ok(selected) => {
            if let Some(r) = refused(pre.evaluate(Some(&doc.etag), true), Some(&doc.etag)) {
                return r;
            }
            let ct = selected.media_type();
            let resp = (
                StatusCode::OK,
                [(header::CONTENT_TYPE, ct)],
                selected.into_body(),
            )
                .into_response();
            with_etag(resp, &doc.etag)
        }
        Err(e) => xcap_error(&e),
    }
}

/// `<no-parent>` with the closest existing ancestor as an absolute HTTP URI
/// (RFC 4825 §11.1): the document itself when `rel` is empty.
fn no_parent(headers: &HeaderMap, x: &XcapUri, rel: &str) -> XcapError {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let mut ancestor = format!("http://{host}{ROOT}{}", x.document_path());
    if !rel.is_empty() {
        ancestor.push_str("/~~/");
        ancestor.push_str(rel);
    }
    XcapError::NoParent { ancestor }
}

/// RFC 4825 §8.2.1: the body of a PUT must carry the media type of what
/// it replaces — the usage's for a document, xcap-el+xml for an element,
/// xcap-att+xml for an attribute — else 415.
fn content_type_ok(headers: &HeaderMap, want: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case(want))
}

fn unsupported(want: &str) -> Response {
    plain(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        &format!("the body must be {want}"),
    )
}

/// Checks a whole new document: UTF-8, well-formed, and valid for the
/// usage (RFC 4825 §8.2.1 order); `owner` is the XUI ("global" for the
/// global tree).
fn check_document(usage: &Usage, content: &[u8], owner: &str) -> Result<(), XcapError> {
    if std::str::from_utf8(content).is_err() {
        return Err(XcapError::NotUtf8);
    }
    let tree = simple_pidf::xml::parse_tree(content)
        .map_err(|e| XcapError::NotWellFormed(e.to_string()))?;
    simple_xcap::usage::validate_parsed(usage, &tree, content, xui(owner)).map_err(usage_error)
}

fn xui(owner: &str) -> Option<&str> {
    (owner != "global").then_some(owner)
}

async fn put<S: Store>(
    st: &XcapState<S>,
    x: &XcapUri,
    usage: &Usage,
    owner: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    // A lost race is ours to retry (read, edit, evaluate the
    // preconditions, compare-and-set again): against the new version a
    // listed ETag no longer matches (412), while `*` is judged afresh.
    for _ in 0..8 {
        match put_once(st, x, usage, owner, headers, body).await {
            PutOutcome::Done(r) => return r,
            PutOutcome::Raced => continue,
        }
    }
    plain(
        StatusCode::SERVICE_UNAVAILABLE,
        "too many concurrent writers; retry",
    )
}

/// One try of a write (PUT or DELETE).
enum PutOutcome {
    /// Answered.
    Done(Response),
    /// The compare-and-set lost to another writer.
    Raced,
}

async fn put_once<S: Store>(
    st: &XcapState<S>,
    x: &XcapUri,
    usage: &Usage,
    owner: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> PutOutcome {
    use PutOutcome::Done;
    let current = match load(st, usage, owner, &x.document).await {
        Ok(d) => d,
        Err(r) => return Done(r),
    };
    let cur_etag = current.as_ref().map(|d| d.etag.as_str());
    // The edit is worked out first (nothing is written before the
    // compare-and-set below): RFC 7232 §5, a PUT that would fail anyway
    // gets that failure rather than 412; and whether it creates tells
    // whether the selected resource existed, which `*` asks (RFC 7232
    // §3.1 / §3.2, see simple_xcap::conditional).
    let (content, created, edited) = match &x.node {
        None => {
            if !content_type_ok(headers, usage.mime) {
                return Done(unsupported(usage.mime));
            }
            if let Err(e) = check_document(usage, body, owner) {
                return Done(xcap_error(&e));
            }
            (body.to_vec(), current.is_none(), None)
        }
        Some(node) => {
            let Some(doc) = &current else {
                // RFC 4825 §8.2.1: the document is the missing parent.
                return Done(xcap_error(&no_parent(headers, x, "")));
            };
            let Some(cached) = st.tree(doc) else {
                return Done(plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "stored document is corrupt",
                ));
            };
            let (sel, target) = match simple_xcap::selector::parse_selector(
                node,
                &x.namespaces,
                usage.default_ns,
            ) {
                Ok(s) => s,
                Err(e) => return Done(xcap_error(&e)),
            };
            // RFC 4825 §8.2.3, §8.4: only the bytes of the node named change
            // in the stored text.
            let edited = match &target {
                simple_xcap::selector::Target::Element => {
                    if !content_type_ok(headers, simple_xcap::error::ELEMENT_MEDIA_TYPE) {
                        return Done(unsupported(simple_xcap::error::ELEMENT_MEDIA_TYPE));
                    }
                    cached.put_element(&sel, body)
                }
                simple_xcap::selector::Target::Attribute(name) => {
                    if !content_type_ok(headers, simple_xcap::error::ATTRIBUTE_MEDIA_TYPE) {
                        return Done(unsupported(simple_xcap::error::ATTRIBUTE_MEDIA_TYPE));
                    }
                    cached.put_attribute(&sel, name, body)
                }
                simple_xcap::selector::Target::Namespaces => {
                    let mut r = plain(
                        StatusCode::METHOD_NOT_ALLOWED,
                        "namespace bindings are read-only",
                    );
                    r.headers_mut()
                        .insert(header::ALLOW, HeaderValue::from_static("GET"));
                    return Done(r);
                }
            };
            let (edited, created) = match edited {
                Ok(e) => e,
                Err(XcapError::NoParent { ancestor }) => {
                    return Done(xcap_error(&no_parent(headers, x, &ancestor)));
                }
                Err(e) => return Done(xcap_error(&e)),
            };
            let content = edited.text().as_bytes().to_vec();
            if let Err(e) =
                simple_xcap::usage::validate_parsed(usage, edited.tree(), &content, xui(owner))
            {
                return Done(xcap_error(&usage_error(e)));
            }
            (content, created, Some(edited))
        }
    };
    if content.len() > MAX_BODY {
        return Done(plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("documents are limited to {MAX_BODY} bytes"),
        ));
    }
    // rls-services: the server-wide uniqueness check and the write happen
    // under one lock, so two users cannot both take a URI (in this
    // process; a second server process on the same store is not covered).
    let _rls_guard = if usage.auid == "rls-services" {
        let guard = st.rls_lock.lock().await;
        if let Err(e) = rls_uris_unique(st, owner, &x.document, &content).await {
            return Done(e);
        }
        Some(guard)
    } else {
        None
    };
    let verdict = preconditions(headers).evaluate(cur_etag, false);
    if let Some(r) = refused(verdict, cur_etag) {
        return Done(r);
    }
    let etag = simple_xcap::error::etag_of(&content);
    let doc = Document {
        auid: usage.auid.to_owned(),
        owner: owner.to_owned(),
        name: x.document.clone(),
        etag: etag.clone(),
        content_type: usage.mime.to_owned(),
        content,
        updated_ms: now_ms(),
    };
    // Atomic against the version read above (RFC 4825 §8.2.3): of two
    // writers that read the same version, one wins.
    let pre = match cur_etag {
        Some(e) => Precondition::IfMatch(e.to_owned()),
        None => Precondition::IfNoneMatch,
    };
    match st.registrar.store().put_document(&doc, pre).await {
        Ok(true) => {}
        Ok(false) => return PutOutcome::Raced,
        Err(e) => {
            tracing::error!(error = %e, "document write failed");
            return Done(plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "store unavailable",
            ));
        }
    }
    if let Some(edited) = edited {
        st.remember((doc.auid, doc.owner, doc.name), &etag, Arc::new(edited));
    }
    written(st, usage).await;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Done(with_etag(status.into_response(), &etag))
}

async fn delete<S: Store>(
    st: &XcapState<S>,
    x: &XcapUri,
    usage: &Usage,
    owner: &str,
    headers: &HeaderMap,
) -> PutOutcome {
    use PutOutcome::Done;
    let doc = match load(st, usage, owner, &x.document).await {
        Ok(Some(d)) => d,
        Ok(None) => return Done(plain(StatusCode::NOT_FOUND, "no such document")),
        Err(r) => return Done(r),
    };
    // RFC 7232 §5: a DELETE of nothing is 404, and one refused (409) is
    // that, whatever the preconditions; they are evaluated once the
    // deletion is known to work, on a selected resource that exists.
    let pre = preconditions(headers);
    let store = st.registrar.store();
    let Some(node) = &x.node else {
        if let Some(r) = refused(pre.evaluate(Some(&doc.etag), false), None) {
            return Done(r);
        }
        let removed = store
            .remove_document(
                usage.auid,
                owner,
                &x.document,
                Precondition::IfMatch(doc.etag),
            )
            .await;
        return match removed {
            Ok(true) => {
                written(st, usage).await;
                Done(StatusCode::OK.into_response())
            }
            Ok(false) => PutOutcome::Raced,
            Err(e) => {
                tracing::error!(error = %e, "document delete failed");
                Done(plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "store unavailable",
                ))
            }
        };
    };
    let Some(cached) = st.tree(&doc) else {
        return Done(plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "stored document is corrupt",
        ));
    };
    let (sel, target) =
        match simple_xcap::selector::parse_selector(node, &x.namespaces, usage.default_ns) {
            Ok(s) => s,
            Err(e) => return Done(xcap_error(&e)),
        };
    // RFC 4825 §8.4: the element or attribute goes, the whitespace around
    // it and the rest of the text stay.
    let edited = match cached.delete(&sel, &target) {
        Ok(d) => d,
        Err(e) => return Done(xcap_error(&e)),
    };
    let content = edited.text().as_bytes().to_vec();
    if let Err(e) = simple_xcap::usage::validate_parsed(usage, edited.tree(), &content, xui(owner))
    {
        return Done(xcap_error(&usage_error(e)));
    }
    if let Some(r) = refused(pre.evaluate(Some(&doc.etag), false), None) {
        return Done(r);
    }
    let etag = simple_xcap::error::etag_of(&content);
    let new = Document {
        etag: etag.clone(),
        content,
        updated_ms: now_ms(),
        ..doc.clone()
    };
    match store
        .put_document(&new, Precondition::IfMatch(doc.etag))
        .await
    {
        Ok(true) => {
            st.remember(
                (new.auid.clone(), new.owner.clone(), new.name.clone()),
                &etag,
                Arc::new(edited),
            );
            written(st, usage).await;
            Done(with_etag(StatusCode::OK.into_response(), &etag))
        }
        Ok(false) => PutOutcome::Raced,
        Err(e) => {
            tracing::error!(error = %e, "document write failed");
            Done(plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "store unavailable",
            ))
        }
    }
}

/// RFC 4826 §4.4.5: a service URI is unique across the whole server, not
/// only within one document: a PUT that would reuse another document's is
/// refused with uniqueness-failure and free alternatives.
async fn rls_uris_unique<S: Store>(
    st: &XcapState<S>,
    owner: &str,
    name: &str,
    content: &[u8],
) -> Result<(), Response> {
    let mine =
        simple_xcap::usage::rls_service_uris(content).map_err(|e| xcap_error(&usage_error(e)))?;
    let others = st
        .registrar
        .store()
        .documents_of_auid("rls-services")
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "rls-services read failed");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "store unavailable")
        })?;
    let mut taken = std::collections::HashSet::new();
    for d in others
        .iter()
        .filter(|d| !(d.owner == owner && d.name == name))
    {
        if let Ok(uris) = simple_xcap::usage::rls_service_uris(&d.content) {
            taken.extend(uris.iter().map(|u| uri_key(u)));
        }
    }
    if let Some(dup) = mine.iter().find(|u| taken.contains(&uri_key(u))) {
        let is_taken =
            |v: &str| taken.contains(&uri_key(v)) || mine.iter().any(|m| uri_key(m) == uri_key(v));
        let alt_values = simple_xcap::usage::alternatives(dup, &is_taken);
        return Err(xcap_error(&XcapError::UniquenessFailure {
            field: "rls-services/service/@uri".to_owned(),
            alt_values,
        }));
    }
    Ok(())
}

/// A service URI as compared for uniqueness: the host part (after `@`)
/// case-insensitively, as SIP compares hosts (RFC 3261 §19.1.4).
fn uri_key(uri: &str) -> String {
    match uri.rsplit_once('@') {
        Some((user, host)) => format!("{user}@{}", host.to_ascii_lowercase()),
        None => uri.to_ascii_lowercase(),
    }
}

/// After a write: presence documents take effect at once (the router
/// polls the store now instead of at its next tick).
async fn written<S>(st: &XcapState<S>, usage: &Usage) {
    if matches!(usage.auid, "pres-rules" | "pidf-manipulation")
        && let Some(h) = st.handle.get()
    {
        let _ = h.wake(DocsPoll).await;
    }
}
