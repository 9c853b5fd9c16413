#!/usr/bin/env python3
"""Two pjsua2 accounts (pjproject's SIP stack, an independent implementation),
alice and bob, register with the server; alice sends a page-mode MESSAGE
(RFC 3428) to bob's AOR through the server, and bob must receive it.

usage: pjsua2_message.py HOST:PORT TRANSPORT DOMAIN PASSWORD [TIMEOUT_SECS [BODY_HEX]]

Both users must exist on the server with PASSWORD. The server is each account's
outbound proxy (loose route); alice's MESSAGE goes to sip:bob@DOMAIN, the server
challenges it (407, alice answers with her credentials) and relays it to the
contact bob registered; bob's onInstantMessage must fire with the body, byte
for byte, and alice must get a 2xx final response.

BODY_HEX is the UTF-8 body, hex-encoded (default: a fixed non-ASCII text).
On success stdout has "received HEX": the bytes of the body bob's
onInstantMessage got, which the driving test compares too.

Exit status 0 on success, 1 otherwise (reason and pjsua2's SIP log tail on
stderr), 2 on bad usage or a missing pjsua2 module.
"""

import os
import sys
import time

from pjsua2_common import account_config, pj, start_endpoint


DEFAULT_BODY = "Grüße, 三 ✓ — 😀"


def body_bytes(text):
    """The bytes pjsua2 had before SWIG made `text` a str (it decodes the
    C++ std::string as UTF-8 with surrogateescape, so this is exact)."""
    return text.encode("utf-8", "surrogateescape")


class Acc(pj.Account):
    def __init__(self, name):
        pj.Account.__init__(self)
        self.name = name
        self.reg = []  # onRegState codes
        self.received = []  # (from, to, content type, body)
        self.im_status = []  # (code, reason, to) for MESSAGEs we sent

    def onRegState(self, prm):
        self.reg.append(prm.code)

    def onInstantMessage(self, prm):
        self.received.append((prm.fromUri, prm.toUri, prm.contentType, prm.msgBody))

    def onInstantMessageStatus(self, prm):
        self.im_status.append((prm.code, prm.reason, prm.toUri))


def main(argv):
    if len(argv) not in (5, 6, 7):
        sys.stderr.write(__doc__)
        return 2
    server, transport, domain, password = argv[1:5]
    timeout = float(argv[5]) if len(argv) >= 6 else 20.0
    want = bytes.fromhex(argv[6]) if len(argv) == 7 else DEFAULT_BODY.encode("utf-8")
    transport = transport.lower()
    if transport not in ("udp", "tcp"):
        sys.stderr.write(__doc__)
        return 2

    ep, log, tid = start_endpoint(transport)

    def account(user):
        acfg = account_config(user, domain, password, server, transport, tid)
        a = Acc(user)
        a.create(acfg)
        return a

    alice = account("alice")
    bob = account("bob")
    buddy = None
    deadline = time.monotonic() + timeout
    body = want.decode("utf-8")
    failure = None

    def poll_until(cond):
        while not cond() and time.monotonic() < deadline:
            ep.libHandleEvents(50)
        return cond()

    if not poll_until(lambda: alice.reg and bob.reg):
        failure = "registration outcome missing (alice %s, bob %s)" % (alice.reg, bob.reg)
    elif alice.reg[0] != 200 or bob.reg[0] != 200:
        failure = "registration failed (alice %s, bob %s)" % (alice.reg, bob.reg)
    else:
        bcfg = pj.BuddyConfig()
        bcfg.uri = "sip:bob@%s" % domain
        bcfg.subscribe = False
        buddy = pj.Buddy()
        buddy.create(alice, bcfg)
        prm = pj.SendInstantMessageParam()
        prm.content = body
        prm.contentType = "text/plain"
        buddy.sendInstantMessage(prm)
        if not poll_until(lambda: bob.received and alice.im_status):
            failure = "bob received %r; alice's MESSAGE status %r" % (bob.received, alice.im_status)
        else:
            frm, to, ctype, got = bob.received[0]
            code = alice.im_status[0][0]
            if body_bytes(got) != want:
                failure = "bob received body %r, expected %r" % (body_bytes(got), want)
            elif "alice@%s" % domain not in frm:
                failure = "bob's MESSAGE is From %r, expected alice's AOR" % frm
            elif not ctype.startswith("text/plain"):
                failure = "bob's MESSAGE has Content-Type %r" % ctype
            elif not 200 <= code < 300:
                failure = "alice's MESSAGE ended with %r" % (alice.im_status[0],)
            elif alice.received or len(bob.received) != 1:
                failure = "unexpected deliveries: alice %r, bob %r" % (alice.received, bob.received)

    summary = "pjsua2 MESSAGE alice -> bob over %s via %s" % (transport, server)
    if failure is not None:
        sys.stderr.write("FAIL %s: %s\n--- pjsua2 log (tail) ---\n" % (summary, failure))
        sys.stderr.write("\n".join(log.lines[-600:]) + "\n")
        sys.stderr.flush()
        # No teardown: pjsua2 2.15 asserts (abort) when a transaction still
        # pending at shutdown reports to an account already deleted.
        os._exit(1)

    received = body_bytes(bob.received[0][3]).hex()
    del buddy
    alice.shutdown()
    bob.shutdown()
    del alice, bob
    try:
        ep.libDestroy()
    except pj.Error:
        pass
    print("received " + received)
    print("PASS " + summary)
    return 0

if __name__ == "__main__":
    sys.exit(main(sys.argv))
