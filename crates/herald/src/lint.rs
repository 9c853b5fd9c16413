//! `herald lint`: parse and validate SIP messages as the server would, and say
//! what the server would answer to each invalid one.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bytes::{Bytes, BytesMut};
use sip_msg::{Datagram, Frame, ParseError, SipMessage, StreamDecoder, parse_datagram};

/// Largest message `lint` accepts in stream mode (the server's default cap).
const MAX_MESSAGE: usize = 1 << 20;

/// The verdict on one message: `None` when valid.
pub(crate) fn verdict(msg: &SipMessage) -> Option<ParseError> {
    msg.validate().err()
}

/// One line of output per message; returns whether every message was valid.
pub(crate) fn lint_bytes(
    label: &str,
    data: Bytes,
    stream: bool,
    out: &mut impl Write,
) -> std::io::Result<bool> {
    let mut all_ok = true;
    let mut report =
        |label: &str, r: Result<(), ParseError>, out: &mut dyn Write| -> std::io::Result<()> {
            match r {
                Ok(()) => writeln!(out, "{label}: ok"),
                Err(e) => {
                    all_ok = false;
                    writeln!(out, "{label}: {} {}", e.status(), e.reason())
                }
            }
        };
    if !stream {
        let r = match parse_datagram(data) {
            Ok(Datagram::KeepAlive) => {
                writeln!(out, "{label}: keep-alive")?;
                return Ok(true);
            }
            Ok(Datagram::Message(m)) => verdict(&m).map_or(Ok(()), Err),
            Err(e) => Err(e),
        };
        report(label, r, out)?;
        return Ok(all_ok);
    }
    let mut buf = BytesMut::from(&data[..]);
    let mut dec = StreamDecoder::new(MAX_MESSAGE);
    let mut n = 0;
    loop {
        match dec.decode(&mut buf) {
            Ok(Some(Frame::Ping | Frame::Pong)) => continue,
            Ok(Some(Frame::Message(m))) => {
                n += 1;
                report(
                    &format!("{label}#{n}"),
                    verdict(&m).map_or(Ok(()), Err),
                    out,
                )?;
            }
            Ok(Some(Frame::Invalid { error, .. })) => {
                n += 1;
                report(&format!("{label}#{n}"), Err(error), out)?;
            }
            Ok(None) => {
                if !buf.iter().all(|c| c.is_ascii_whitespace()) {
                    n += 1;
                    writeln!(out, "{label}#{n}: 400 Truncated message at end of input")?;
                    all_ok = false;
                }
                break;
            }
            Err(e) => {
                n += 1;
                report(&format!("{label}#{n}"), Err(e), out)?;
                writeln!(out, "{label}: stream framing lost; rest of input skipped")?;
                break;
            }
        }
    }
    Ok(all_ok)
}

fn read_input(path: &Path) -> std::io::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut v = Vec::new();
        std::io::stdin().read_to_end(&mut v)?;
        Ok(v)
    } else {
        std::fs::read(path)
    }
}

/// Runs `herald lint`.
pub(crate) fn run(files: &[PathBuf], stream: bool) -> ExitCode {
    let stdin = [PathBuf::from("-")];
    let files = if files.is_empty() { &stdin[..] } else { files };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut all_ok = true;
    for f in files {
        let label = if f.as_os_str() == "-" {
            "<stdin>".to_owned()
        } else {
            f.display().to_string()
        };
        match read_input(f) {
            Ok(data) => match lint_bytes(&label, Bytes::from(data), stream, &mut out) {
                Ok(ok) => all_ok &= ok,
                Err(_) => return ExitCode::from(2),
            },
            Err(e) => {
                eprintln!("herald lint: {label}: {e}");
                return ExitCode::from(2);
            }
        }
    }
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lint(data: &[u8], stream: bool) -> (bool, String) {
        let mut out = Vec::new();
        let ok = lint_bytes("m", Bytes::copy_from_slice(data), stream, &mut out).unwrap();
        (ok, String::from_utf8(out).unwrap())
    }

    const GOOD: &[u8] = b"OPTIONS sip:localhost SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\nFrom: <sip:a@localhost>;tag=1\r\nTo: <sip:localhost>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn reports_ok_and_reason() {
        assert_eq!(lint(GOOD, false), (true, "m: ok\n".into()));
        let bad = String::from_utf8_lossy(GOOD).replace("Call-ID: c1\r\n", "");
        assert_eq!(
            lint(bad.as_bytes(), false),
            (false, "m: 400 Missing Call-ID\n".into())
        );
    }

    #[test]
    fn stream_mode_reports_each_message() {
        let mut two = GOOD.to_vec();
        let bad = String::from_utf8_lossy(GOOD).replace("CSeq: 1 OPTIONS", "CSeq: 1 INVITE");
        two.extend_from_slice(bad.as_bytes());
        let (ok, out) = lint(&two, true);
        assert!(!ok);
        assert_eq!(
            out,
            "m#1: ok\nm#2: 400 CSeq method does not match the request method\n"
        );
    }
}
