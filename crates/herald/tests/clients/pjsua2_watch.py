#!/usr/bin/env python3
"""One pjsua2 account (pjproject's SIP stack, an independent implementation)
registers and subscribes to a presentity's presence through the server, and
waits until it sees her online with a given note.

usage: pjsua2_watch.py HOST:PORT TRANSPORT DOMAIN USER PASSWORD PRESENTITY NOTE TIMEOUT_SECS

Prints one line per buddy state change ("state SUBSTATE STATUS NOTE"), so a
test can follow the subscription (pending first, when the presentity's rules
say confirm). Exit status 0 once the presentity is seen online with NOTE, 1
on timeout (with pjsua2's SIP log tail on stderr), 2 on bad usage.
"""

import os
import sys
import time

from pjsua2_common import account_config, pj, start_endpoint


class Acc(pj.Account):
    def __init__(self):
        pj.Account.__init__(self)
        self.reg = []

    def onRegState(self, prm):
        self.reg.append(prm.code)


class Watch(pj.Buddy):
    def __init__(self):
        pj.Buddy.__init__(self)
        self.states = []

    def onBuddyState(self):
        info = self.getInfo()
        st = (info.subStateName, info.presStatus.status, info.presStatus.note)
        self.states.append(st)
        print("state %s %s %s" % (st[0], st[1], st[2]))
        sys.stdout.flush()


def main(argv):
    if len(argv) != 9:
        sys.stderr.write(__doc__)
        return 2
    server, transport, domain, user, password, presentity, note, timeout = argv[1:9]
    timeout = float(timeout)
    ep, log, tid = start_endpoint(transport)
    acfg = account_config(user, domain, password, server, transport, tid)
    acc = Acc()
    acc.create(acfg)
    deadline = time.monotonic() + timeout

    def poll_until(cond):
        while not cond() and time.monotonic() < deadline:
            ep.libHandleEvents(50)
        return cond()

    failure = None
    buddy = None
    if not poll_until(lambda: acc.reg):
        failure = "no registration outcome"
    elif acc.reg[0] != 200:
        failure = "registration failed: %s" % acc.reg
    else:
        print("registered")
        sys.stdout.flush()
        bcfg = pj.BuddyConfig()
        bcfg.uri = presentity
        bcfg.subscribe = True
        buddy = Watch()
        buddy.create(acc, bcfg)
        online = pj.PJSUA_BUDDY_STATUS_ONLINE
        if not poll_until(lambda: any(s[1] == online and s[2] == note for s in buddy.states)):
            failure = "never saw %s online with note %r; states %r" % (presentity, note, buddy.states)
    if failure is not None:
        sys.stderr.write("FAIL %s\n--- pjsua2 log (tail) ---\n" % failure)
        sys.stderr.write("\n".join(log.lines[-400:]) + "\n")
        sys.stderr.flush()
        os._exit(1)
    print("PASS saw %s online with the note" % presentity)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
