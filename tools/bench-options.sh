#!/usr/bin/env bash
# OPTIONS load, Herald vs Kamailio vs a blocking UDP floor, in one run, with
# the shared sipp harness (../shared/bench). Prints server CPU µs per OPTIONS.
#
#   tools/bench-options.sh [RATE] [STEPS]      e.g. tools/bench-options.sh 8000 8000,16000,32000
#
# Needs sipp (sip-tester), and for the Kamailio column kamailio +
# kamailio-sqlite-modules + sqlite3 + sipsak (skipped when absent). Everything
# listens on 127.0.0.1:5060 in turn; each server is started fresh and ended
# by its own pid. Results go to target/bench-options/<timestamp>/.
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${1:-8000}
STEPS=${2:-8000,16000,32000}
ROOT=$(pwd)
OUT="$ROOT/target/bench-options/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
# The harness's Kamailio starter writes state next to itself: use a copy.
BENCH=$(mktemp -d -t herald-bench.XXXXXX)
cp -r ../shared/bench/. "$BENCH/"
chmod -R u+w "$BENCH"

cargo build --release -p herald -p sip-net --examples --bins >/dev/null

run() { # NAME PID
    (cd "$BENCH" && ./run.sh 127.0.0.1 5060 "$2" --scenarios options \
        --fixed-rate "$RATE" --duration 10 --steps "$STEPS" --out "$OUT/$1") 2>&1 | grep "options:"
}

if command -v kamailio >/dev/null 2>&1; then
    read -r KPID _ < <("$BENCH/kamailio/start.sh")
    sleep 1
    echo "kamailio: $(run kamailio "$KPID")"
    "$BENCH/kamailio/stop.sh" >/dev/null
else
    echo "kamailio: not installed, skipped"
fi

DATA=$(mktemp -d -t herald-data.XXXXXX)
setsid target/release/herald --data-dir "$DATA" serve --domain example.test \
    --listen udp:127.0.0.1:5060 --log-level warn >/dev/null 2>&1 &
HPID=$!
sleep 1
echo "herald:   $(run herald "$HPID")"
kill -TERM "$HPID"; wait "$HPID" || true

setsid target/release/examples/udp_floor 127.0.0.1:5060 >/dev/null 2>&1 &
FPID=$!
sleep 0.5
echo "floor:    $(run floor "$FPID")"
kill "$FPID"; wait "$FPID" 2>/dev/null || true

rm -rf "$BENCH" "$DATA"
echo "results in $OUT (results.tsv per server)"
