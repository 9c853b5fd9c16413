#!/usr/bin/env python3
"""pjsua2 (pjproject's SIP stack, an independent implementation) and the
server's store-and-forward of page-mode MESSAGEs (RFC 3428): alice registers
and sends a MESSAGE to bob while bob has no account and no binding at all; the
server must store it and answer 202 Accepted (alice's onInstantMessageStatus).
Then bob's account is created and registers: his onInstantMessage must fire
with the body, byte for byte, From alice's AOR, exactly once.

usage: pjsua2_message_offline.py HOST:PORT TRANSPORT DOMAIN PASSWORD TIMEOUT_SECS BODY_HEX

Both users must exist on the server with PASSWORD. BODY_HEX is the UTF-8 body,
hex-encoded. On success stdout has "status 202", "received HEX" (the bytes of
the body bob's onInstantMessage got) and "date DATE" (the Date header of the
delivered MESSAGE, from pjsua2's SIP log), which the driving test checks too.

Exit status 0 on success, 1 otherwise (reason and pjsua2's SIP log tail on
stderr), 2 on bad usage or a missing pjsua2 module.
"""

import os
import re
import sys
import time

from pjsua2_common import account_config, pj, start_endpoint
from pjsua2_message import Acc, body_bytes


def main(argv):
    if len(argv) != 7:
        sys.stderr.write(__doc__)
        return 2
    server, transport, domain, password, timeout, body_hex = argv[1:7]
    timeout = float(timeout)
    want = bytes.fromhex(body_hex)
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

    deadline = time.monotonic() + timeout

    def poll_until(cond):
        while not cond() and time.monotonic() < deadline:
            ep.libHandleEvents(50)
        return cond()

    alice = account("alice")
    bob = None
    buddy = None
    failure = None
    date = None
    if not poll_until(lambda: alice.reg):
        failure = "alice's registration outcome missing"
    elif alice.reg[0] != 200:
        failure = "alice's registration failed: %s" % alice.reg
    else:
        bcfg = pj.BuddyConfig()
        bcfg.uri = "sip:bob@%s" % domain
        bcfg.subscribe = False
        buddy = pj.Buddy()
        buddy.create(alice, bcfg)
        prm = pj.SendInstantMessageParam()
        prm.content = want.decode("utf-8")
        prm.contentType = "text/plain"
        buddy.sendInstantMessage(prm)
        if not poll_until(lambda: alice.im_status):
            failure = "alice's MESSAGE to offline bob got no final response"
        elif alice.im_status[0][0] != 202:
            failure = "alice's MESSAGE to offline bob ended with %r, expected 202" % (
                alice.im_status[0],
            )
        else:
            print("status %d" % alice.im_status[0][0])
            sys.stdout.flush()
            # Only now does bob exist on this side: his REGISTER must bring
            # the stored MESSAGE.
            bob = account("bob")
            if not poll_until(lambda: bob.reg and bob.received):
                failure = "bob registered %s; received %r" % (bob.reg, bob.received)
            elif bob.reg[0] != 200:
                failure = "bob's registration failed: %s" % bob.reg
            else:
                # Exactly once: nothing more within a second.
                settle = time.monotonic() + 1.0
                while time.monotonic() < settle:
                    ep.libHandleEvents(50)
                frm, to, ctype, got = bob.received[0]
                if body_bytes(got) != want:
                    failure = "bob received body %r, expected %r" % (body_bytes(got), want)
                elif "alice@%s" % domain not in frm:
                    failure = "bob's MESSAGE is From %r, expected alice's AOR" % frm
                elif not ctype.startswith("text/plain"):
                    failure = "bob's MESSAGE has Content-Type %r" % ctype
                elif len(bob.received) != 1 or alice.received:
                    failure = "unexpected deliveries: alice %r, bob %r" % (alice.received, bob.received)
                elif len(alice.im_status) != 1:
                    failure = "alice got %r" % (alice.im_status,)
                else:
                    # The delivered MESSAGE in pjsua2's own log of what it
                    # received: its Date header.
                    text = "\n".join(log.lines)
                    m = re.search(
                        r"RX \d+ bytes Request msg MESSAGE.*?\n(.*?)\n--end msg--", text, re.S
                    )
                    if m:
                        d = re.search(r"^Date:\s*(.*)$", m.group(1), re.M)
                        date = d.group(1).strip() if d else None
                    print("received " + body_bytes(got).hex())
                    print("date %s" % date)

    summary = "pjsua2 MESSAGE alice -> offline bob over %s via %s" % (transport, server)
    if failure is not None:
        sys.stderr.write("FAIL %s: %s\n--- pjsua2 log (tail) ---\n" % (summary, failure))
        sys.stderr.write("\n".join(log.lines[-600:]) + "\n")
        sys.stderr.flush()
        # No teardown: pjsua2 2.15 asserts (abort) when a transaction still
        # pending at shutdown reports to an account already deleted.
        os._exit(1)

    del buddy
    alice.shutdown()
    bob.shutdown()
    del alice, bob
    try:
        ep.libDestroy()
    except pj.Error:
        pass
    print("PASS " + summary)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
