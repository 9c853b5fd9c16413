//! Framing: where one message ends and the next begins (RFC 3261 §18.3), and
//! the CRLF keep-alives of RFC 5626 §3.5.1.
//!
//! - Datagrams carry one message each; Content-Length is optional and octets
//!   past it are discarded. A datagram of nothing but CR/LF is a keep-alive.
//! - Streams are decoded incrementally: [`StreamDecoder::decode`] returns
//!   `Ok(None)` and consumes nothing until a whole frame is buffered. A double
//!   CRLF is a keep-alive ping (answer it with a single CRLF, the pong).

use bytes::{Buf, Bytes, BytesMut};

use crate::error::{ErrorKind, ParseError, Result};
use crate::message::{Framing, SipMessage, parse, parse_content_length};
use crate::scan::is_wsp;

/// What one datagram held.
#[allow(clippy::large_enum_variant)] // moved once, right after parsing
#[derive(Debug, Clone)]
pub enum Datagram {
    /// Only CR/LF octets: a NAT keep-alive, not a message (RFC 5626 §4.4.1 uses
    /// STUN on UDP, but many phones send CRLFs).
    KeepAlive,
    /// A SIP message.
    Message(SipMessage),
}

/// Parses one UDP (or other datagram) payload.
pub fn parse_datagram(buf: Bytes) -> Result<Datagram> {
    if buf.iter().all(|&c| c == b'\r' || c == b'\n') {
        return Ok(Datagram::KeepAlive);
    }
    parse(buf, Framing::Datagram).map(Datagram::Message)
}

/// One frame from a stream.
#[allow(clippy::large_enum_variant)] // moved once, right after decoding
#[derive(Debug, Clone)]
pub enum Frame {
    /// A double CRLF: the peer asks for a pong (RFC 5626 §3.5.1).
    Ping,
    /// A single CRLF: the answer to our ping.
    Pong,
    /// A message.
    Message(SipMessage),
    /// A frame whose length was clear (so the stream stays in step) but whose
    /// content did not parse; `raw` is the frame, for logging or a best-effort
    /// answer.
    Invalid {
        /// Why it did not parse.
        error: ParseError,
        /// The frame's bytes.
        raw: Bytes,
    },
}

/// Incremental decoder for SIP over a stream (TCP, TLS; WebSocket messages are
/// whole and use [`parse_datagram`] semantics with Content-Length optional).
#[derive(Debug, Clone)]
pub struct StreamDecoder {
    max_size: usize,
    client: bool,
    /// Bytes at the front of the buffer already searched for the end of the
    /// header section, so a peer trickling bytes costs O(n), not O(n²).
    scanned: usize,
    /// Length of the frame at the front, once its header section is known.
    frame_len: Option<usize>,
}

impl StreamDecoder {
    /// A server-side decoder refusing messages larger than `max_size` bytes.
    pub fn new(max_size: usize) -> Self {
        StreamDecoder {
            max_size,
            client: false,
            scanned: 0,
            frame_len: None,
        }
    }

    /// Client side: a lone CRLF is a pong at once, not the start of a ping.
    pub fn client(mut self) -> Self {
        self.client = true;
        self
    }

    /// Decodes the next frame from the front of `buf`. Call it with the same
    /// buffer each time (bytes appended at the end), as a connection's reader
    /// does: the decoder remembers how far it has looked.
    ///
    /// `Ok(None)`: more bytes are needed, nothing was consumed. `Err`: the
    /// stream cannot be framed any more (oversized, no Content-Length, bad
    /// Content-Length); the connection should be closed after answering if it can.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>> {
        if buf.is_empty() {
            return Ok(None);
        }
        if buf[0] == b'\r' {
            match &buf[..] {
                [b'\r', b'\n', b'\r', b'\n', ..] => {
                    self.scanned = 0;
                    self.frame_len = None;
                    buf.advance(4);
                    return Ok(Some(Frame::Ping));
                }
                [b'\r', b'\n'] if self.client => {
                    self.scanned = 0;
                    self.frame_len = None;
                    buf.advance(2);
                    return Ok(Some(Frame::Pong));
                }
                [b'\r'] | [b'\r', b'\n'] | [b'\r', b'\n', b'\r'] => return Ok(None),
                [b'\r', b'\n', ..] => {
                    self.scanned = 0;
                    self.frame_len = None;
                    buf.advance(2);
                    return Ok(Some(Frame::Pong));
                }
                _ => {}
            }
        }
        if buf.len() < self.scanned {
            // Not the buffer we scanned: start over.
            self.scanned = 0;
            self.frame_len = None;
        }
        let total = match self.frame_len {
            Some(t) => t,
            None => {
                let limit = buf.len().min(self.max_size.saturating_add(4));
                let from = self.scanned.saturating_sub(3).min(limit);
                let Some(rel) = memchr::memmem::find(&buf[from..limit], b"\r\n\r\n") else {
                    if buf.len() > self.max_size {
                        return Err(too_large());
                    }
                    self.scanned = limit;
                    return Ok(None);
                };
                let head = from + rel;
                let body_start = head + 4;
                let cl = match find_content_length(&buf[..head + 2])? {
                    Some(n) => n,
                    None => {
                        return Err(ParseError::new(
                            ErrorKind::ContentLength,
                            "Missing Content-Length on a stream transport",
                        ));
                    }
                };
                let total = body_start.saturating_add(cl);
                if total > self.max_size {
                    return Err(too_large());
                }
                self.scanned = limit;
                self.frame_len = Some(total);
                total
            }
        };
        if buf.len() < total {
            return Ok(None);
        }
        self.scanned = 0;
        self.frame_len = None;
        let raw = buf.split_to(total).freeze();
        Ok(Some(match parse(raw.clone(), Framing::Stream) {
            Ok(m) => Frame::Message(m),
            Err(error) => Frame::Invalid { error, raw },
        }))
    }
}

fn too_large() -> ParseError {
    ParseError::new(ErrorKind::TooLarge, "Message Too Large")
}

/// Finds the Content-Length (full or compact `l`) in a header section without
/// parsing the rest. The full parse checks it again, and that all lines agree.
fn find_content_length(head: &[u8]) -> Result<Option<usize>> {
    let mut found = None;
    for line in head.split(|&c| c == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = memchr::memchr(b':', line) else {
            continue;
        };
        let mut n = &line[..colon];
        while let [rest @ .., c] = n {
            if is_wsp(*c) {
                n = rest;
            } else {
                break;
            }
        }
        if n.eq_ignore_ascii_case(b"content-length") || n.eq_ignore_ascii_case(b"l") {
            let v = std::str::from_utf8(&line[colon + 1..])
                .map_err(|_| ParseError::new(ErrorKind::ContentLength, "Bad Content-Length"))?;
            let n = parse_content_length(v.trim_matches([' ', '\t']))?;
            if found.is_some_and(|f| f != n) {
                return Err(ParseError::new(
                    ErrorKind::ContentLength,
                    "Conflicting Content-Length headers",
                ));
            }
            found = Some(n);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] =
        b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nl: 4\r\n\r\nbody";

    #[test]
    fn stream_needs_more_then_frames() {
        let mut d = StreamDecoder::new(65536);
        let mut buf = BytesMut::new();
        for (i, &b) in MSG.iter().enumerate() {
            buf.extend_from_slice(&[b]);
            let r = d.decode(&mut buf).unwrap();
            if i + 1 < MSG.len() {
                assert!(r.is_none(), "framed early at {i}");
                assert_eq!(buf.len(), i + 1, "consumed bytes while incomplete");
            } else {
                let Some(Frame::Message(m)) = r else {
                    panic!("no message")
                };
                assert_eq!(&m.body()[..], b"body");
                assert!(buf.is_empty());
            }
        }
    }

    #[test]
    fn keepalives() {
        let mut d = StreamDecoder::new(65536);
        let mut buf = BytesMut::from(&b"\r\n\r\n"[..]);
        assert!(matches!(d.decode(&mut buf), Ok(Some(Frame::Ping))));
        let mut buf = BytesMut::from(&b"\r\n"[..]);
        assert!(matches!(d.decode(&mut buf), Ok(None)));
        let mut c = StreamDecoder::new(65536).client();
        assert!(matches!(c.decode(&mut buf), Ok(Some(Frame::Pong))));
        let mut buf = BytesMut::from(&b"\r\nOPTIONS"[..]);
        assert!(matches!(d.decode(&mut buf), Ok(Some(Frame::Pong))));
        assert_eq!(&buf[..], b"OPTIONS");
        assert!(matches!(
            parse_datagram(Bytes::from_static(b"\r\n\r\n")),
            Ok(Datagram::KeepAlive)
        ));
    }

    #[test]
    fn stream_requires_content_length_and_caps_size() {
        let mut d = StreamDecoder::new(65536);
        let mut buf = BytesMut::from(&b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n"[..]);
        let e = d.decode(&mut buf).unwrap_err();
        assert_eq!(
            e.to_string(),
            "400 Missing Content-Length on a stream transport"
        );
        let mut small = StreamDecoder::new(16);
        let mut buf = BytesMut::from(MSG);
        assert_eq!(small.decode(&mut buf).unwrap_err().status(), 513);
        let mut buf =
            BytesMut::from(&b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 99999\r\n\r\n"[..]);
        assert_eq!(small.decode(&mut buf).unwrap_err().status(), 513);
    }

    #[test]
    fn trickled_bytes_are_not_rescanned_and_frames_stay_exact() {
        // Header section and body arrive a byte at a time, twice in a row.
        let mut d = StreamDecoder::new(65536);
        let mut buf = BytesMut::new();
        let mut frames = 0;
        for &b in MSG.iter().chain(MSG.iter()) {
            buf.extend_from_slice(&[b]);
            if let Some(Frame::Message(m)) = d.decode(&mut buf).unwrap() {
                assert_eq!(&m.body()[..], b"body");
                frames += 1;
            }
            assert!(d.scanned <= buf.len());
        }
        assert_eq!(frames, 2);
        assert!(buf.is_empty());
    }

    #[test]
    fn two_messages_in_one_read() {
        let mut d = StreamDecoder::new(65536);
        let mut buf = BytesMut::new();
        buf.extend_from_slice(MSG);
        buf.extend_from_slice(MSG);
        assert!(matches!(d.decode(&mut buf), Ok(Some(Frame::Message(_)))));
        assert!(matches!(d.decode(&mut buf), Ok(Some(Frame::Message(_)))));
        assert!(buf.is_empty());
    }
}
