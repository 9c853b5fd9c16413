#!/usr/bin/env bash
# MSRP relay load (RFC 4976), Herald vs Kamailio's msrp module, in one run.
# Two clients AUTH to the relay (digest), then alice sends SENDs to bob through
# it (To-Path relay/alice relay/bob bob), bob answers each 200; a window of
# undelivered messages paces alice. The relay's CPU time comes from /proc
# (utime+stime of its process group). Prints one line per run:
#   msgs/s, MB/s (bodies delivered), relay CPU µs per message, messages per
#   relay CPU-second.
#
#   tools/bench-msrp.sh [SECONDS]        e.g. tools/bench-msrp.sh 10
#
# Runs, per relay: 1 KB messages (window 16: Kamailio drops frames once its
# 32 KB TCP write queue is full, so the window stays under it for both), and
# large chunks for MB/s (Herald: 1 MB chunks; Kamailio relays no frame of
# about 11 KB or more, so both also run 8 KB chunks). Targets: Herald >= 3x
# Kamailio's messages per CPU-second, >= 100 MB/s on loopback.
#
# Needs kamailio with kamailio-sqlite-modules, kamailio-utils-modules and
# kamailio-extra-modules (uuid), and python3 (the shared starter); the
# Kamailio rows are skipped when it is absent. Herald listens for MSRP on
# 127.0.0.1:${HERALD_MSRP_PORT:-2865}, Kamailio on ${KAMAILIO_MSRP_PORT:-2855};
# each relay is started fresh and stopped by its own pid.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
ROOT=$(pwd)
HPORT=${HERALD_MSRP_PORT:-2865}
export KAMAILIO_MSRP_PORT=${KAMAILIO_MSRP_PORT:-2855}
export KAMAILIO_MSRP_SIP_PORT=${KAMAILIO_MSRP_SIP_PORT:-5077}
KAMDIR=$ROOT/../shared/bench/kamailio-msrp
OUT="$ROOT/target/bench-msrp/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"

flock /tmp/herald-cargo.lock cargo build --release -q -p herald --bins -p msrp-relay --examples
LOAD=$ROOT/target/release/examples/msrp_load

run() { # NAME PORT PID SIZE WINDOW
    local line
    line=$("$LOAD" --relay "127.0.0.1:$2" --pid "$3" --size "$4" --seconds "$SECS" --window "$5" 2>>"$OUT/$1.err" | tail -1)
    echo "$1 $line" | tee -a "$OUT/results.txt"
}

# ---- Herald
DATA=$(mktemp -d -t herald-msrp.XXXXXX)
for u in alice bob; do
    target/release/herald --data-dir "$DATA" user add "$u@example.test" --password secret >/dev/null
done
setsid target/release/herald --data-dir "$DATA" serve --domain example.test \
    --listen "msrp:127.0.0.1:$HPORT" --listen udp:127.0.0.1:0 --log-level warn \
    >"$OUT/herald.log" 2>&1 &
HPID=$!
for _ in $(seq 50); do grep -q "listening on msrp" "$OUT/herald.log" 2>/dev/null && break; sleep 0.1; done
run herald "$HPORT" "$HPID" 1024 16
run herald "$HPORT" "$HPID" 8192 16
run herald "$HPORT" "$HPID" 1048576 8
kill -TERM "$HPID"; wait "$HPID" || true
rm -rf "$DATA"

# ---- Kamailio
if command -v kamailio >/dev/null 2>&1 && [ -d "$KAMDIR" ]; then
    if "$KAMDIR/start.sh" >"$OUT/kamailio-start.log" 2>&1; then
        RUN=$(sed -n 's/^KAMAILIO_MSRP_RUN=//p' "$OUT/kamailio-start.log")
        KPID=$(cat "$RUN/kamailio.pid")
        run kamailio "$KAMAILIO_MSRP_PORT" "$KPID" 1024 16
        run kamailio "$KAMAILIO_MSRP_PORT" "$KPID" 8192 16
        "$KAMDIR/stop.sh" "$RUN" >/dev/null
    else
        echo "kamailio: did not start (see $OUT/kamailio-start.log)"
    fi
else
    echo "kamailio: not installed, skipped"
fi

# ---- Summary: messages per relay CPU-second, 1 KB messages.
python3 - "$OUT/results.txt" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    name, *kv = line.split()
    d = dict(p.split("=", 1) for p in kv)
    rows[(name, d["size"])] = d
h, k = rows.get(("herald", "1024")), rows.get(("kamailio", "1024"))
if h and k and "msgs_per_cpu_s" in h and "msgs_per_cpu_s" in k:
    ratio = float(h["msgs_per_cpu_s"]) / float(k["msgs_per_cpu_s"])
    print(f"1 KB messages per relay CPU-second: herald {h['msgs_per_cpu_s']}, "
          f"kamailio {k['msgs_per_cpu_s']}: {ratio:.1f}x (target >= 3x)")
big = rows.get(("herald", "1048576"))
if big:
    print(f"herald with 1 MB chunks: {big['mb_per_s']} MB/s (target >= 100)")
PY
echo "results in $OUT"
