#!/usr/bin/env python3
"""pjsua2 (pjproject's SIP stack, an independent implementation) registers one
account with a registrar and reports the outcome.

usage: pjsua2_register.py HOST:PORT TRANSPORT USER DOMAIN PASSWORD ok|fail [TIMEOUT_SECS]

  HOST:PORT   the server (the outbound proxy every request goes through)
  TRANSPORT   udp or tcp
  USER        user part of the AOR; the AOR is sip:USER@DOMAIN
  PASSWORD    the digest password pjsua2 answers challenges with
  ok|fail     ok: the REGISTER must end in 200 (with our binding and an expiry);
              fail: it must end in 401 or 403 and never in 200

The registrar URI is sip:DOMAIN and the server is the account's outbound proxy
(a loose route, as a client configured for a domain without DNS records uses).
pjsua2 binds to 127.0.0.1 only, on an ephemeral port, no sound device, and runs
without worker threads: events are polled here, so the run is deterministic.

Exit status 0 when the outcome is the expected one, 1 otherwise (with the
reason and the tail of pjsua2's SIP log on stderr), 2 on bad usage or a
missing pjsua2 module.
"""

import os
import sys
import time

try:
    import pjsua2 as pj
except ImportError as e:  # the test driver names the package in its message
    sys.stderr.write("pjsua2 python module missing (pip install pjsua2-python): %s\n" % e)
    sys.exit(2)


def quiet_lib_create(ep):
    """libCreate logs its banner to stdout before our log writer exists."""
    sys.stdout.flush()
    saved = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    try:
        ep.libCreate()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)


class Log(pj.LogWriter):
    """Keeps pjsua2's log (with full SIP messages) to print on failure."""

    def __init__(self):
        pj.LogWriter.__init__(self)
        self.lines = []

    def write(self, entry):
        self.lines.append(entry.msg.rstrip("\n"))


class Acc(pj.Account):
    def __init__(self):
        pj.Account.__init__(self)
        self.results = []  # (code, reason, expiration) per onRegState

    def onRegState(self, prm):
        info = self.getInfo()
        self.results.append((prm.code, prm.reason, info.regExpiresSec, info.regIsActive))


def usage():
    sys.stderr.write(__doc__)
    sys.exit(2)


def main(argv):
    if len(argv) not in (7, 8):
        usage()
    server, transport, user, domain, password, expect = argv[1:7]
    timeout = float(argv[7]) if len(argv) == 8 else 15.0
    transport = transport.lower()
    if transport not in ("udp", "tcp") or expect not in ("ok", "fail"):
        usage()

    ep = pj.Endpoint()
    quiet_lib_create(ep)
    cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt = 0
    cfg.uaConfig.mainThreadOnly = True
    cfg.uaConfig.userAgent = "pjsua2-herald-test"
    log = Log()
    cfg.logConfig.writer = log
    cfg.logConfig.level = 5
    cfg.logConfig.consoleLevel = 5  # what reaches the writer (not the console)
    cfg.logConfig.msgLogging = 1
    cfg.medConfig.noVad = True
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
    acfg.regConfig.timeoutSec = 300
    acfg.regConfig.retryIntervalSec = 0  # a failure is final: no retry
    acfg.regConfig.unregWaitMsec = 2000
    acfg.sipConfig.transportId = tid
    acfg.sipConfig.proxies.append("sip:%s;transport=%s;lr" % (server, transport))
    acfg.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", user, 0, password))
    acfg.natConfig.sipOutboundUse = 0  # plain RFC 3261 registration, no RFC 5626
    acfg.natConfig.contactRewriteUse = 0
    acfg.natConfig.viaRewriteUse = 0
    acfg.natConfig.sdpNatRewriteUse = 0
    acfg.mediaConfig.transportConfig.boundAddress = "127.0.0.1"

    acc = Acc()
    acc.create(acfg)

    deadline = time.monotonic() + timeout
    while not acc.results and time.monotonic() < deadline:
        ep.libHandleEvents(50)

    results = list(acc.results)
    ok_seen = any(code == 200 for code, _, _, _ in results)
    if expect == "ok":
        # One successful registration, active, with a positive expiry granted.
        good = bool(results) and results[0][0] == 200 and results[0][3] and results[0][2] > 0
    else:
        good = bool(results) and not ok_seen and results[0][0] in (401, 403)
    if good and expect == "fail":
        # Give a late (wrong) 200 a moment to show up.
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            ep.libHandleEvents(50)
        if any(code == 200 for code, _, _, _ in acc.results):
            good = False
            results = list(acc.results)

    if not results:
        msg = "no registration outcome within %.0f s" % timeout
    else:
        msg = "; ".join(
            "%d %s (expires %d, active %s)" % (c, r, e, a) for c, r, e, a in results
        )
    summary = "pjsua2 REGISTER sip:%s@%s over %s via %s: %s (expected %s)" % (
        user, domain, transport, server, msg, expect)

    if not good:
        sys.stderr.write("FAIL " + summary + "\n--- pjsua2 log (tail) ---\n")
        sys.stderr.write("\n".join(log.lines[-400:]) + "\n")
        sys.stderr.flush()
        # No teardown: pjsua2 2.15 asserts (abort) when a transaction still
        # pending at shutdown reports to an account already deleted.
        os._exit(1)

    acc.shutdown()
    del acc
    try:
        ep.libDestroy()
    except pj.Error:
        pass
    print("PASS " + summary)
    return 0

if __name__ == "__main__":
    sys.exit(main(sys.argv))
