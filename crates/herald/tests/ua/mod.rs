//! A minimal SIP user agent over UDP for behaviour tests: REGISTER with
//! digest (through `sip-auth`'s client side), send requests, receive and
//! answer what the server forwards. Raw text in, raw text out: the server
//! is the thing under test, so nothing here reuses its code paths beyond
//! the digest arithmetic.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::Command;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sip_msg::{HeaderName, SipMessage};

pub struct Ua {
    pub sock: UdpSocket,
    pub server: SocketAddr,
    next: std::cell::Cell<u32>,
}

pub fn add_user(data_dir: &std::path::Path, user: &str, password: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(["user", "add", user, "--password", password])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "user add: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Ua {
    pub fn new(server: SocketAddr) -> Ua {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        Ua {
            sock,
            server,
            next: std::cell::Cell::new(1),
        }
    }

    /// `user@example.test` with password "secret", added to the server's
    /// data dir, registered from this socket (contact = its address).
    pub fn register_new_user(&self, data_dir: &std::path::Path, user: &str) {
        add_user(data_dir, &format!("{user}@example.test"), "secret");
        self.register_as(user);
    }

    /// Registers the existing `user@example.test` (password "secret") from
    /// this socket (contact = its address).
    pub fn register_as(&self, user: &str) {
        let contact = format!("<sip:{user}@{}>", self.addr());
        let mut cseq = 1;
        let r = self.register(
            user,
            "secret",
            &format!("reg-{user}"),
            &mut cseq,
            Some(&contact),
            "",
        );
        assert_eq!(r.status(), Some(200), "REGISTER {user}");
    }

    /// The same socket, talking to another server (a restarted one).
    pub fn toward(&self, server: SocketAddr) -> Ua {
        Ua {
            sock: self.sock.try_clone().unwrap(),
            server,
            next: std::cell::Cell::new(self.next.get() + 1000),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.sock.local_addr().unwrap()
    }

    fn branch(&self) -> String {
        let n = self.next.get();
        self.next.set(n + 1);
        format!("z9hG4bKua{}x{n}", self.addr().port())
    }

    pub fn send(&self, raw: &str) {
        self.sock.send_to(raw.as_bytes(), self.server).unwrap();
    }

    /// Any message within `timeout`.
    pub fn recv(&self, timeout: Duration) -> Option<SipMessage> {
        let end = Instant::now() + timeout;
        let mut buf = vec![0u8; 65536];
        while Instant::now() < end {
            if let Ok((n, _)) = self.sock.recv_from(&mut buf)
                && let Ok(m) = SipMessage::parse(Bytes::copy_from_slice(&buf[..n]))
            {
                return Some(m);
            }
        }
        None
    }

    /// The first final response with this Call-ID (provisionals skipped).
    pub fn final_for(&self, call_id: &str) -> SipMessage {
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if let Some(m) = self.recv(Duration::from_millis(500))
                && m.status().is_some_and(|s| s >= 200)
                && m.call_id().ok() == Some(call_id)
            {
                return m;
            }
        }
        panic!("no final response for {call_id}");
    }

    /// The next request of `method` (responses and others skipped).
    pub fn request(&self, method: &str, timeout: Duration) -> Option<SipMessage> {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if let Some(m) = self.recv(Duration::from_millis(200))
                && m.method_str() == Some(method)
            {
                return Some(m);
            }
        }
        None
    }

    /// Answers a request received from the server (copied Vias, To-tag).
    pub fn answer(&self, req: &SipMessage, status: u16, reason: &str, extra: &str) {
        let mut out = format!("SIP/2.0 {status} {reason}\r\n");
        for v in req.header_lines(HeaderName::Via) {
            out.push_str(&format!("Via: {v}\r\n"));
        }
        let to = req.header(HeaderName::To).unwrap();
        let to = if to.contains("tag=") {
            to.to_owned()
        } else {
            format!("{to};tag=ua{}", self.addr().port())
        };
        out.push_str(&format!(
            "From: {}\r\nTo: {to}\r\nCall-ID: {}\r\nCSeq: {}\r\n{extra}Content-Length: 0\r\n\r\n",
            req.header(HeaderName::From).unwrap(),
            req.header(HeaderName::CallId).unwrap(),
            req.header(HeaderName::CSeq).unwrap(),
        ));
        // Responses go to the top Via's sent-by (RFC 3261 §18.2.2): the
        // proxy that forwarded the request.
        let via = req.via().unwrap();
        let to: SocketAddr = format!("{}:{}", via.host, via.port.unwrap_or(5060))
            .parse()
            .unwrap_or(self.server);
        self.sock.send_to(out.as_bytes(), to).unwrap();
    }

    /// A REGISTER for `user@example.test` with this contact header value
    /// and extra headers; `auth` is an Authorization value.
    pub fn register_raw(
        &self,
        user: &str,
        call_id: &str,
        cseq: u32,
        contact: Option<&str>,
        extra: &str,
        auth: Option<&str>,
    ) -> String {
        let me = self.addr();
        let mut s = format!(
            "REGISTER sip:example.test SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch={};rport\r\n\
From: <sip:{user}@example.test>;tag=f{cseq}\r\nTo: <sip:{user}@example.test>\r\n\
Call-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\nMax-Forwards: 70\r\n",
            self.branch()
        );
        if let Some(c) = contact {
            s.push_str(&format!("Contact: {c}\r\n"));
        }
        if let Some(a) = auth {
            s.push_str(&format!("Authorization: {a}\r\n"));
        }
        s.push_str(extra);
        s.push_str("Content-Length: 0\r\n\r\n");
        s
    }

    /// REGISTER, answering a 401 once with `password` (digest over the
    /// first challenge offered, or the one for `algorithm`). Returns the
    /// final response; `cseq` is advanced.
    pub fn register(
        &self,
        user: &str,
        password: &str,
        call_id: &str,
        cseq: &mut u32,
        contact: Option<&str>,
        extra: &str,
    ) -> SipMessage {
        self.send(&self.register_raw(user, call_id, *cseq, contact, extra, None));
        let r = self.final_for(call_id);
        *cseq += 1;
        if r.status() != Some(401) {
            return r;
        }
        let auth = authorization(&r, user, password, "REGISTER", "sip:example.test", None);
        self.send(&self.register_raw(user, call_id, *cseq, contact, extra, Some(&auth)));
        let r = self.final_for(call_id);
        *cseq += 1;
        r
    }

    /// Sends a request from `user` to `to_uri` and answers one 407 with
    /// `password` (digest over the first challenge); returns the final
    /// response, `cseq` advanced past what was sent.
    #[allow(clippy::too_many_arguments)]
    pub fn request_authed(
        &self,
        method: &str,
        user: &str,
        password: &str,
        to_uri: &str,
        call_id: &str,
        cseq: &mut u32,
        extra: &str,
        body: &str,
    ) -> SipMessage {
        self.send(&self.request_raw(method, user, to_uri, call_id, *cseq, extra, body));
        let r = self.final_for(call_id);
        *cseq += 1;
        if r.status() != Some(407) {
            return r;
        }
        let auth = authorization(&r, user, password, method, to_uri, None);
        let extra = format!("{extra}Proxy-Authorization: {auth}\r\n");
        self.send(&self.request_raw(method, user, to_uri, call_id, *cseq, &extra, body));
        let r = self.final_for(call_id);
        *cseq += 1;
        r
    }

    /// A request (MESSAGE, INVITE, ...) from `from_user` to `to_uri`.
    #[allow(clippy::too_many_arguments)]
    pub fn request_raw(
        &self,
        method: &str,
        from_user: &str,
        to_uri: &str,
        call_id: &str,
        cseq: u32,
        extra: &str,
        body: &str,
    ) -> String {
        let me = self.addr();
        format!(
            "{method} {to_uri} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch={};rport\r\n\
From: <sip:{from_user}@example.test>;tag=m{cseq}\r\nTo: <{to_uri}>\r\nCall-ID: {call_id}\r\n\
CSeq: {cseq} {method}\r\nMax-Forwards: 70\r\nContact: <sip:{from_user}@{me}>\r\n{extra}\
Content-Length: {}\r\n\r\n{body}",
            self.branch(),
            body.len()
        )
    }
}

/// The Authorization (or Proxy-Authorization) value answering the first
/// challenge of `resp` (or the first with `algorithm`).
pub fn authorization(
    resp: &SipMessage,
    user: &str,
    password: &str,
    method: &str,
    uri: &str,
    algorithm: Option<&str>,
) -> String {
    let header = if resp.status() == Some(407) {
        HeaderName::ProxyAuthenticate
    } else {
        HeaderName::WwwAuthenticate
    };
    let line = resp
        .header_lines(header)
        .find(|l| {
            algorithm.is_none_or(|a| {
                sip_msg::auth::Challenge::parse(l)
                    .ok()
                    .and_then(|c| c.algorithm().map(|x| x.as_str().eq_ignore_ascii_case(a)))
                    .unwrap_or(false)
            })
        })
        .expect("a challenge");
    let ch = sip_msg::auth::Challenge::parse(line).unwrap();
    sip_auth::authorize(
        &ch,
        &sip_auth::ClientCredentials {
            username: user,
            password,
        },
        method,
        uri,
        b"",
        "0a4f113b",
        1,
    )
    .unwrap()
}

/// One SIP message from a TCP stream (headers, then Content-Length bytes):
/// what the server sends a contact over TCP.
pub fn read_tcp_message(conn: &mut TcpStream) -> SipMessage {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = conn.read(&mut chunk).unwrap();
        assert!(n > 0, "connection closed early");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (n, v) = l.split_once(':')?;
                    (n.trim().eq_ignore_ascii_case("content-length") || n.trim() == "l")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                buf.truncate(end + 4 + len);
                return SipMessage::parse(Bytes::from(buf)).unwrap();
            }
        }
    }
}

/// Answers `req` on the TCP connection it came over: its Vias, From,
/// To with a tag, Call-ID and CSeq.
pub fn answer_tcp(conn: &mut TcpStream, req: &SipMessage, status: u16, reason: &str) {
    let mut out = format!("SIP/2.0 {status} {reason}\r\n");
    for v in req.header_lines(HeaderName::Via) {
        out.push_str(&format!("Via: {v}\r\n"));
    }
    out.push_str(&format!(
        "From: {}\r\nTo: {};tag=tcp\r\nCall-ID: {}\r\nCSeq: {}\r\nContent-Length: 0\r\n\r\n",
        req.header(HeaderName::From).unwrap(),
        req.header(HeaderName::To).unwrap(),
        req.header(HeaderName::CallId).unwrap(),
        req.header(HeaderName::CSeq).unwrap()
    ));
    conn.write_all(out.as_bytes()).unwrap();
}

/// The next connection on `listener` within `timeout` (a test that waits
/// for a TCP connection fails instead of hanging when none comes).
pub fn accept_within(listener: &std::net::TcpListener, timeout: Duration) -> TcpStream {
    listener.set_nonblocking(true).unwrap();
    let end = Instant::now() + timeout;
    loop {
        match listener.accept() {
            Ok((conn, _)) => {
                conn.set_nonblocking(false).unwrap();
                conn.set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                return conn;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && Instant::now() < end => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("no TCP connection within {timeout:?}: {e}"),
        }
    }
}

/// In a thread: accepts one connection on `listener` (within 10 s), reads
/// one request and answers it `status reason`; joining gives the request.
pub fn serve_one_over_tcp(
    listener: std::net::TcpListener,
    status: u16,
    reason: &'static str,
) -> std::thread::JoinHandle<SipMessage> {
    std::thread::spawn(move || {
        let mut conn = accept_within(&listener, Duration::from_secs(10));
        let m = read_tcp_message(&mut conn);
        answer_tcp(&mut conn, &m, status, reason);
        m
    })
}
