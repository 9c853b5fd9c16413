#!/usr/bin/env python3
"""Presence between two pjsua2 accounts (pjproject's SIP stack, an
independent implementation) through the server: alice publishes (RFC 3903,
AccountPresConfig.publishEnabled), bob subscribes to her (RFC 3856,
Buddy.subscribePresence) and must see her status and note change, and see
her go offline when she unpublishes and unregisters.

usage: pjsua2_presence.py HOST:PORT TRANSPORT DOMAIN PASSWORD [TIMEOUT_SECS]

Steps, each with its own check:
1. alice and bob register (digest).
2. alice publishes "online" with note N1; bob subscribes to alice and must
   get a NOTIFY saying online with N1 (and his subscription becomes active).
3. alice publishes note N2 ("busy"); bob must see N2.
4. alice's account is shut down (PUBLISH Expires 0, REGISTER Expires 0);
   bob must see her offline.

Exit status 0 on success, 1 otherwise (reason and pjsua2's SIP log tail on
stderr), 2 on bad usage or a missing pjsua2 module.
"""

import os
import sys
import time

from pjsua2_common import account_config, pj, start_endpoint


class Acc(pj.Account):
    def __init__(self, name):
        pj.Account.__init__(self)
        self.name = name
        self.reg = []

    def onRegState(self, prm):
        self.reg.append(prm.code)


class Watch(pj.Buddy):
    def __init__(self):
        pj.Buddy.__init__(self)
        self.states = []  # (status, note, sub state name)

    def onBuddyState(self):
        info = self.getInfo()
        self.states.append((info.presStatus.status, info.presStatus.note, info.subStateName))


def main(argv):
    if len(argv) not in (5, 6):
        sys.stderr.write(__doc__)
        return 2
    server, transport, domain, password = argv[1:5]
    timeout = float(argv[5]) if len(argv) == 6 else 30.0
    transport = transport.lower()
    if transport not in ("udp", "tcp"):
        sys.stderr.write(__doc__)
        return 2

    ep, log, tid = start_endpoint(transport)

    def account(user, publish):
        acfg = account_config(user, domain, password, server, transport, tid)
        acfg.presConfig.publishEnabled = publish
        a = Acc(user)
        a.create(acfg)
        return a

    alice = account("alice", True)
    bob = account("bob", False)
    deadline = time.monotonic() + timeout
    failure = None
    buddy = None
    n1 = "at my desk %d" % int(time.time())
    n2 = "in a meeting %d" % int(time.time())

    def poll_until(cond):
        while not cond() and time.monotonic() < deadline:
            ep.libHandleEvents(50)
        return cond()

    def status(note, activity=pj.PJRPID_ACTIVITY_UNKNOWN):
        ps = pj.PresenceStatus()
        ps.status = pj.PJSUA_BUDDY_STATUS_ONLINE
        ps.note = note
        ps.activity = activity
        return ps

    def saw(pred):
        return any(pred(s) for s in buddy.states)

    if not poll_until(lambda: alice.reg and bob.reg):
        failure = "registration outcome missing (alice %s, bob %s)" % (alice.reg, bob.reg)
    elif alice.reg[0] != 200 or bob.reg[0] != 200:
        failure = "registration failed (alice %s, bob %s)" % (alice.reg, bob.reg)
    else:
        alice.setOnlineStatus(status(n1))
        # Let the PUBLISH (and its 407) complete before bob looks.
        poll_until(lambda: False if time.monotonic() < deadline - timeout + 2 else True)
        bcfg = pj.BuddyConfig()
        bcfg.uri = "sip:alice@%s" % domain
        bcfg.subscribe = True
        buddy = Watch()
        buddy.create(bob, bcfg)
        online = pj.PJSUA_BUDDY_STATUS_ONLINE
        if not poll_until(lambda: saw(lambda s: s[0] == online and s[1] == n1)):
            failure = "bob never saw alice online with note %r; states %r" % (n1, buddy.states)
        else:
            alice.setOnlineStatus(status(n2, pj.PJRPID_ACTIVITY_BUSY))
            if not poll_until(lambda: saw(lambda s: s[1] == n2)):
                failure = "bob never saw the note change to %r; states %r" % (n2, buddy.states)
            else:
                before = len(buddy.states)
                alice.shutdown()
                offline = pj.PJSUA_BUDDY_STATUS_OFFLINE
                if not poll_until(
                    lambda: any(s[0] == offline for s in buddy.states[before:])
                ):
                    failure = "bob never saw alice go offline; states %r" % (buddy.states,)

    summary = "pjsua2 presence alice -> bob over %s via %s" % (transport, server)
    if failure is not None:
        sys.stderr.write("FAIL %s: %s\n--- pjsua2 log (tail) ---\n" % (summary, failure))
        sys.stderr.write("\n".join(log.lines[-800:]) + "\n")
        sys.stderr.flush()
        os._exit(1)
    print("PASS %s; bob saw %d state changes" % (summary, len(buddy.states)))
    sys.stdout.flush()
    # No teardown: pjsua2 2.15 asserts when a pending transaction reports to
    # a deleted account (see pjsua2_message.py).
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
