"""Shared setup of the pjsua2 test clients (pjproject's SIP stack, an
independent implementation): a quiet endpoint on 127.0.0.1 with one UDP or
TCP transport, a log writer the scripts print on failure, and an account
that registers through the server as its outbound proxy."""

import os
import sys

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


def start_endpoint(transport):
    """(endpoint, log, transport id) for "udp" or "tcp", started."""
    ep = pj.Endpoint()
    # libCreate prints its banner to stdout before our log writer exists.
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
    cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt = 0
    cfg.uaConfig.mainThreadOnly = True
    cfg.uaConfig.userAgent = "pjsua2-herald-test"
    log = Log()
    cfg.logConfig.writer = log
    cfg.logConfig.level = 5
    cfg.logConfig.consoleLevel = 5  # what reaches the writer (not the console)
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
    return ep, log, tid


def account_config(user, domain, password, server, transport, tid):
    """An AccountConfig for user@domain registering through `server`
    (HOST:PORT) as a loose-routing outbound proxy, with digest credentials."""
    acfg = pj.AccountConfig()
    acfg.idUri = "sip:%s@%s" % (user, domain)
    acfg.regConfig.registrarUri = "sip:%s" % domain
    acfg.regConfig.retryIntervalSec = 0
    acfg.regConfig.unregWaitMsec = 2000
    acfg.sipConfig.transportId = tid
    acfg.sipConfig.proxies.append("sip:%s;transport=%s;lr" % (server, transport))
    acfg.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", user, 0, password))
    acfg.natConfig.sipOutboundUse = 0
    acfg.natConfig.contactRewriteUse = 0
    acfg.natConfig.viaRewriteUse = 0
    acfg.mediaConfig.transportConfig.boundAddress = "127.0.0.1"
    return acfg
