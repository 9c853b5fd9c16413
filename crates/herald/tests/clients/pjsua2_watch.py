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

try:
    import pjsua2 as pj
except ImportError as e:
    sys.stderr.write("pjsua2 python module missing (pip install pjsua2-python): %s\n" % e)
    sys.exit(2)


class Log(pj.LogWriter):
    def __init__(self):
        pj.LogWriter.__init__(self)
        self.lines = []

    def write(self, entry):
        self.lines.append(entry.msg.rstrip("\n"))


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
    sys.stdout.flush()
    saved = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    ep = pj.Endpoint()
    try:
        ep.libCreate()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)
    cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt = 0
    cfg.uaConfig.mainThreadOnly = True
    log = Log()
    cfg.logConfig.writer = log
    cfg.logConfig.level = 5
    cfg.logConfig.consoleLevel = 5
    cfg.logConfig.msgLogging = 1
    ep.libInit(cfg)
    ep.audDevManager().setNullDev()
    tcfg = pj.TransportConfig()
    tcfg.port = 0
    tcfg.boundAddress = "127.0.0.1"
    tcfg.publicAddress = "127.0.0.1"
    ttype = pj.PJSIP_TRANSPORT_UDP if transport == "udp" else pj.PJSIP_TRANSPORT_TCP
    tid = ep.transportCreate(ttype, tcfg)
    ep.libStart()

    acfg = pj.AccountConfig()
    acfg.idUri = "sip:%s@%s" % (user, domain)
    acfg.regConfig.registrarUri = "sip:%s" % domain
    acfg.regConfig.retryIntervalSec = 0
    acfg.sipConfig.transportId = tid
    acfg.sipConfig.proxies.append("sip:%s;transport=%s;lr" % (server, transport))
    acfg.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", user, 0, password))
    acfg.natConfig.sipOutboundUse = 0
    acfg.natConfig.contactRewriteUse = 0
    acfg.natConfig.viaRewriteUse = 0
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
