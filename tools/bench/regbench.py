#!/usr/bin/env python3
"""Helpers for tools/bench-register.sh, built on the shared sipp harness.

  regbench.py auth HOST PORT PID --bench DIR --users CSV --scenario XML [opts]
      Same fixed-load run + stepped search as the harness's `run.sh
      --scenarios register`, with the same CPU/memory accounting (the
      harness's own Bench class, imported from DIR/lib), but with the digest
      scenario: every run gets the next unused slice of CSV ("user;password;"
      lines) as its SEQUENTIAL injection file, so every call registers an AoR
      the server has not seen yet. Rows are labelled scenario=register_auth.

  regbench.py memory HOST PORT PID --bench DIR --n N [--rate R]
      Pss of the server's process group (fresh server), REGISTER N new AoRs
      with the harness's register.xml, Pss again: bytes per contact.

  regbench.py summary NAME RESULTS_DIR
      One line from a results dir's results.jsonl:
      NAME: rate=.. achieved=.. failed=.. cpu_us_per_call=.. | max sustained ..

Everything is bounded the harness's way (sipp -m and -timeout) and refuses
non-loopback targets.
"""
import argparse
import json
import os
import sys
import time


def harness(bench_dir):
    sys.path.insert(0, os.path.join(os.path.abspath(bench_dir), "lib"))
    import bench  # noqa: E402  (the shared harness, from a copy)
    import procstat  # noqa: E402
    return bench, procstat


def bench_args(a, **over):
    """The attribute set the harness's Bench reads (its run.sh defaults)."""
    d = dict(host=a.host, port=a.port, pid=a.pid, out=os.path.abspath(a.out),
             scenarios=["register"], fixed_rate=8000, duration=10.0, steps=[],
             step_duration=10.0, fail_bound_pct=0.5, fanout=[], fanout_timeout=60,
             presentities=10000, domain="example.test", callee="bob", uas_port=5090,
             local_ip="127.0.0.1", transport="u1", recv_timeout_ms=5000, pause=3,
             idle_cores=0.05, idle_max=60)
    d.update(over)
    if d["host"] not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("refusing to send load anywhere but the loopback address")
    return argparse.Namespace(**d)


def cmd_auth(a):
    bench, _ = harness(a.bench)
    with open(a.users) as f:
        users = [l if l.endswith("\n") else l + "\n" for l in f if l.strip()]
    scen = os.path.abspath(a.scenario)

    class AuthBench(bench.Bench):
        off = 0

        def sipp_cmd(self, name, rate, ncalls, run_dir, keys, extra=(), timeout_s=None,
                     limit=None):
            if name == "register.xml":
                if self.off + ncalls > len(users):
                    sys.exit(f"{a.users}: {len(users)} users, run needs "
                             f"{self.off + ncalls}; generate more")
                inf = os.path.join(run_dir, "users.csv")
                with open(inf, "w") as f:
                    f.write("SEQUENTIAL\n")
                    f.writelines(users[self.off:self.off + ncalls])
                self.off += ncalls
                name = scen
                extra = list(extra) + ["-inf", inf]
            return super().sipp_cmd(name, rate, ncalls, run_dir, keys, extra=extra,
                                    timeout_s=timeout_s, limit=limit)

        def emit(self, row):
            if row.get("scenario") == "register":
                row["scenario"] = "register_auth"
            super().emit(row)

    steps = [int(s) for s in a.steps.split(",") if s]
    AuthBench(bench_args(a, fixed_rate=a.fixed_rate, duration=a.duration, steps=steps,
                         step_duration=a.duration, domain=a.domain)).main()


def cmd_memory(a):
    bench, procstat = harness(a.bench)
    b = bench.Bench(bench_args(a, scenarios=[], domain=a.domain))
    srv = procstat.Server(a.pid)
    res = {"name": a.name, "contacts_target": a.n, "rate": a.rate}
    b.wait_idle()
    time.sleep(a.settle)
    res["pss_kb_before"], res["rss_kb_before"] = srv.mem_kb()
    d = b.new_dir("memory_register")
    cmd = b.sipp_cmd("register.xml", a.rate, a.n, d, {"pfx": b.prefix("mreg")},
                     extra=["-trace_stat", "-stf", "stat.csv", "-fd", "1"],
                     timeout_s=a.n / a.rate + 60)
    cpu0 = srv.cpu_us()
    t0 = time.time()
    rc, sipp_cpu = b.run_sipp(cmd, d)
    res["register_wall_s"] = round(time.time() - t0, 1)
    cpu1 = srv.cpu_us()
    st = bench.parse_stat_csv(os.path.join(d, "stat.csv"))
    ok = int(st.get("SuccessfulCall(C)", 0))
    res.update(sipp_rc=rc, registered_ok=ok, failed=a.n - ok,
               retransmissions=int(st.get("Retransmissions(C)", 0)),
               server_cpu_us_per_register=round((cpu1 - cpu0) / max(ok, 1), 1),
               sipp_cpu_s=round(sipp_cpu, 2))
    # past RFC 3261 Timer J (64*T1 = 32 s): completed server transactions of
    # a stateful server are gone, so what is left is the bindings
    b.wait_idle()
    time.sleep(a.settle)
    res["pss_kb_soon_after"], _ = srv.mem_kb()
    time.sleep(max(0.0, a.settle_after - a.settle))
    res["pss_kb_after"], res["rss_kb_after"] = srv.mem_kb()
    res["pss_bytes_per_contact"] = round(
        (res["pss_kb_after"] - res["pss_kb_before"]) * 1024 / max(ok, 1), 1)
    res["pss_bytes_per_contact_soon_after"] = round(
        (res["pss_kb_soon_after"] - res["pss_kb_before"]) * 1024 / max(ok, 1), 1)
    res["rss_bytes_per_contact"] = round(
        (res["rss_kb_after"] - res["rss_kb_before"]) * 1024 / max(ok, 1), 1)
    res["run_dir"] = os.path.relpath(d, b.out)
    with open(os.path.join(b.out, "memory.jsonl"), "a") as f:
        f.write(json.dumps(res) + "\n")
    print(f"{a.name}: contacts={ok}/{a.n} failed={a.n - ok} "
          f"retrans={res['retransmissions']} pss_kb={res['pss_kb_before']}->"
          f"{res['pss_kb_after']} bytes_per_contact={res['pss_bytes_per_contact']} "
          f"(rss {res['rss_bytes_per_contact']}; Pss {a.settle:g} s after the load: "
          f"{res['pss_bytes_per_contact_soon_after']}) "
          f"cpu_us_per_register={res['server_cpu_us_per_register']}", flush=True)


def cmd_summary(a):
    rows = []
    path = os.path.join(a.dir, "results.jsonl")
    try:
        with open(path) as f:
            rows = [json.loads(l) for l in f if l.strip()]
    except OSError:
        pass
    rows = [r for r in rows if r.get("scenario", "").startswith("register")]
    if not rows:
        print(f"{a.name}: no results (see {a.dir})")
        return

    def fmt(r):
        return (f"rate={r.get('offered_cps')} achieved={r.get('achieved_cps')} "
                f"failed={r.get('failed')} retrans={r.get('retransmissions')} "
                f"cpu_us_per_call={r.get('cpu_us_per_call')} "
                f"cores={r.get('server_cores')} sipp_cores={r.get('sipp_cores')} "
                f"p50/p99_ms={r.get('rtd1_p50_ms')}/{r.get('rtd1_p99_ms')}"
                + (f",{r.get('rtd2_p50_ms')}/{r.get('rtd2_p99_ms')}"
                   if r.get("rtd2_p50_ms") is not None else ""))

    def passes(r):
        return (r.get("successful") is not None and r["fail_pct"] < a.fail_bound_pct
                and (r.get("achieved_cps") or 0) >= 0.9 * r["offered_cps"])

    fixed = next((r for r in rows if r.get("mode") == "fixed"), None)
    best, first_fail = None, None
    for r in (r for r in rows if r.get("mode") == "step"):
        if passes(r):
            best = r
        else:
            first_fail = r
            break
    line = f"{a.name}: " + (fmt(fixed) if fixed else "no fixed-load run")
    if best:
        line += (f" | max sustained {best['offered_cps']}/s (achieved "
                 f"{best.get('achieved_cps')}, cpu_us_per_call={best.get('cpu_us_per_call')})")
    else:
        line += " | max sustained: no step passed"
    if first_fail:
        line += (f"; {first_fail['offered_cps']}/s failed: {first_fail.get('fail_pct')} % "
                 f"failed, achieved {first_fail.get('achieved_cps')}, "
                 f"retrans={first_fail.get('retransmissions')}")
    print(line, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("auth", "memory"):
        p = sub.add_parser(name)
        p.add_argument("host")
        p.add_argument("port", type=int)
        p.add_argument("pid")
        p.add_argument("--bench", required=True, help="a copy of the shared harness")
        p.add_argument("--out", required=True)
        p.add_argument("--domain", default="example.test")
    p = sub.choices["auth"]
    p.add_argument("--users", required=True, help='"user;password;" lines')
    p.add_argument("--scenario", required=True)
    p.add_argument("--fixed-rate", type=int, default=8000)
    p.add_argument("--duration", type=float, default=10)
    p.add_argument("--steps", default="8000,16000")
    p = sub.choices["memory"]
    p.add_argument("--name", default="memory")
    p.add_argument("--n", type=int, default=100000)
    p.add_argument("--rate", type=int, default=5000)
    p.add_argument("--settle", type=float, default=5, help="s to wait before the first sample")
    p.add_argument("--settle-after", type=float, default=40,
                   help="s to wait after registering, before the second sample")
    p = sub.add_parser("summary")
    p.add_argument("name")
    p.add_argument("dir")
    p.add_argument("--fail-bound-pct", type=float, default=0.5)
    a = ap.parse_args()
    {"auth": cmd_auth, "memory": cmd_memory, "summary": cmd_summary}[a.cmd](a)


if __name__ == "__main__":
    main()
