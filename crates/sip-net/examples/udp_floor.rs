//! The syscall floor for the OPTIONS benchmark (issue 3): a blocking UDP
//! responder that answers every datagram with a 200 copying the Via, From,
//! To, Call-ID and CSeq lines, with no parsing beyond finding those lines.
//! `cargo run --release -p sip-net --example udp_floor -- 127.0.0.1:5060`

use std::net::UdpSocket;

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:5060".into());
    let sock = UdpSocket::bind(addr)?;
    let (mut buf, mut out) = (vec![0u8; 65536], Vec::with_capacity(2048));
    loop {
        let (n, from) = sock.recv_from(&mut buf)?;
        out.clear();
        out.extend_from_slice(b"SIP/2.0 200 OK\r\n");
        for line in buf[..n].split(|&c| c == b'\n').skip(1) {
            let l = line.to_ascii_lowercase();
            if ["via:", "from:", "to:", "call-id:", "cseq:"]
                .iter()
                .any(|p| l.starts_with(p.as_bytes()))
            {
                out.extend_from_slice(line);
                out.push(b'\n');
            }
        }
        out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
        sock.send_to(&out, from)?;
    }
}
