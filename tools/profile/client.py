#!/usr/bin/env python3
"""Sequential SIP load for profiling (callgrind, dhat): N requests, one at a
time, each waiting for its final answer, against a Herald on 127.0.0.1.

    client.py register N [PORT]   N REGISTERs of N distinct AORs
    client.py message N [PORT]    bob registers, then N MESSAGEs alice -> bob
                                  (this script answers them as bob: 200)
    client.py options N [PORT]    N OPTIONS to the server

The server must serve domain example.test with --auth off. Loopback only."""
import socket
import sys


def sock():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(5)
    return s


def final(s):
    """The next final response (1xx skipped)."""
    while True:
        d = s.recvfrom(65535)[0].decode()
        if not d.startswith("SIP/2.0 1"):
            return d


def register(s, srv, aor_user, call_id, contact_port):
    lp = s.getsockname()[1]
    m = (f"REGISTER sip:example.test SIP/2.0\r\n"
         f"Via: SIP/2.0/UDP 127.0.0.1:{lp};branch=z9hG4bK-r{call_id}\r\nMax-Forwards: 70\r\n"
         f"From: <sip:{aor_user}@example.test>;tag=t{call_id}\r\nTo: <sip:{aor_user}@example.test>\r\n"
         f"Call-ID: r{call_id}@127.0.0.1\r\nCSeq: 1 REGISTER\r\n"
         f"Contact: <sip:{aor_user}@127.0.0.1:{contact_port};transport=udp>\r\nExpires: 3600\r\n"
         f"User-Agent: herald-profile\r\nContent-Length: 0\r\n\r\n")
    s.sendto(m.encode(), srv)
    return final(s)


def answer_200(req):
    out = ["SIP/2.0 200 OK"]
    for line in req.split("\r\n")[1:]:
        k = line.split(":", 1)[0].lower()
        if k in ("via", "from", "call-id", "cseq", "record-route"):
            out.append(line)
        elif k == "to":
            out.append(line + ";tag=uas1")
    out += ["Content-Length: 0", "", ""]
    return "\r\n".join(out)


def main():
    kind, n = sys.argv[1], int(sys.argv[2])
    srv = ("127.0.0.1", int(sys.argv[3]) if len(sys.argv) > 3 else 5090)
    first = None
    if kind == "register":
        s = sock()
        for i in range(n):
            r = register(s, srv, f"u{i}", i, s.getsockname()[1])
            first = first or r
    elif kind == "message":
        uas, uac = sock(), sock()
        print(register(uas, srv, "bob", "bob", uas.getsockname()[1]).split("\r\n")[0])
        ap = uac.getsockname()[1]
        body = "Hello Bob, this is a profiling message."
        for i in range(n):
            m = (f"MESSAGE sip:bob@example.test SIP/2.0\r\n"
                 f"Via: SIP/2.0/UDP 127.0.0.1:{ap};branch=z9hG4bK-m{i}\r\nMax-Forwards: 70\r\n"
                 f"From: <sip:alice@example.test>;tag=a{i}\r\nTo: <sip:bob@example.test>\r\n"
                 f"Call-ID: m{i}@127.0.0.1\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\n"
                 f"Content-Length: {len(body)}\r\n\r\n{body}")
            uac.sendto(m.encode(), srv)
            d, a = uas.recvfrom(65535)
            uas.sendto(answer_200(d.decode()).encode(), a)
            r = final(uac)
            first = first or r
    elif kind == "options":
        s = sock()
        lp = s.getsockname()[1]
        for i in range(n):
            m = (f"OPTIONS sip:example.test SIP/2.0\r\n"
                 f"Via: SIP/2.0/UDP 127.0.0.1:{lp};branch=z9hG4bK-o{i}\r\nMax-Forwards: 70\r\n"
                 f"From: <sip:p@example.test>;tag=o{i}\r\nTo: <sip:example.test>\r\n"
                 f"Call-ID: o{i}@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
            s.sendto(m.encode(), srv)
            r = final(s)
            first = first or r
    else:
        sys.exit(__doc__)
    if first:
        print(first.split("\r\n")[0])


if __name__ == "__main__":
    main()
