#!/usr/bin/env bash
# Presence and page-mode load, Herald vs Kamailio, in one run, with the
# shared sipp harness (../shared/bench): server CPU µs per PUBLISH (initial +
# refresh) and per SUBSCRIBE with its NOTIFY at a fixed rate, NOTIFY fan-out
# to N watchers of one presentity, memory per held subscription (100,000
# subscriptions), and (with --scenarios message) MESSAGE relay between two
# registered sipp endpoints.
#
#   tools/bench-presence.sh [RATE] [FANOUT] [--only herald|kamailio] [--no-build] [--no-memory]
#                           [--scenarios "publish subscribe fanout message"]
#   e.g. tools/bench-presence.sh 8000 5000,10000
#        tools/bench-presence.sh 8000 - --scenarios message --no-memory
#
# Each scenario runs on a freshly started server (scenarios leave state
# behind). Herald runs with digest off (the harness sends no credentials, as
# the Kamailio config asks none) and its default SQLite store in a temp dir.
# Everything listens on 127.0.0.1:5060 in turn; every server is ended by its
# own pid. Results go to target/bench-presence/<timestamp>/.
# HERALD_SERVE_ARGS adds flags to `herald serve` (e.g. "--store memory").
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${1:-8000}
FANOUT=${2:-5000,10000}
shift $(( $# > 2 ? 2 : $# )) || true
ONLY=""; BUILD=1; MEMORY=1; SCENARIOS="publish subscribe fanout"
[ -n "${SKIP_LOAD:-}" ] && SCENARIOS="fanout"
while [ $# -gt 0 ]; do
    case "$1" in
        --only) ONLY=$2; shift 2 ;;
        --scenarios) SCENARIOS=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --no-memory) MEMORY=0; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
ROOT=$(pwd)
OUT="$ROOT/target/bench-presence/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
BENCH=$(mktemp -d -t herald-bench.XXXXXX)
cp -r ../shared/bench/. "$BENCH/"
chmod -R u+w "$BENCH"
DATA=""
cleanup() { rm -rf "$BENCH"; [ -n "$DATA" ] && rm -rf "$DATA"; true; }
trap cleanup EXIT

[ "$BUILD" = 1 ] && cargo build --release -p herald >/dev/null

start_kamailio() { read -r SPID _ < <("$BENCH/kamailio/start.sh"); sleep 1; }
stop_kamailio() { "$BENCH/kamailio/stop.sh" >/dev/null 2>&1 || true; }
start_herald() {
    DATA=$(mktemp -d -t herald-data.XXXXXX)
    setsid target/release/herald --data-dir "$DATA" serve --domain example.test \
        --listen udp:127.0.0.1:5060 --auth off --log-level warn ${HERALD_SERVE_ARGS:-} >"$OUT/herald-$1.log" 2>&1 &
    SPID=$!
    sleep 1
}
stop_herald() { kill -TERM "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null || true; rm -rf "$DATA"; DATA=""; }

one() { # SERVER SCENARIO EXTRA...
    local server=$1 scenario=$2; shift 2
    "start_$server" "$scenario"
    (cd "$BENCH" && ./run.sh 127.0.0.1 5060 "$SPID" --scenarios "$scenario" "$@" \
        --out "$OUT/$server-$scenario") >"$OUT/$server-$scenario.txt" 2>&1 || true
    grep -E "[[:space:]]$scenario[[:space:]]|^fanout" "$OUT/$server-$scenario.txt" | sed "s/^/$server /" || \
        { echo "$server $scenario: no result (see $OUT/$server-$scenario.txt)"; tail -5 "$OUT/$server-$scenario.txt"; }
    "stop_$server"
}

servers="kamailio herald"
[ -n "$ONLY" ] && servers=$ONLY
command -v kamailio >/dev/null 2>&1 || servers=${servers/kamailio/}
for server in $servers; do
    for scenario in $SCENARIOS; do
        case "$scenario" in
            fanout) one "$server" fanout --fanout "$FANOUT" ;;
            *) one "$server" "$scenario" --fixed-rate "$RATE" --duration 10 --steps "$RATE" ;;
        esac
    done
    if [ "$MEMORY" = 1 ]; then
        "start_$server" memory
        (cd "$BENCH" && ./memory.sh 127.0.0.1 5060 "$SPID" --out "$OUT/$server-memory") \
            >"$OUT/$server-memory.txt" 2>&1 || true
        echo "$server memory: $(tail -3 "$OUT/$server-memory.txt" | tr '\n' ' ')"
        # The same subscriptions, still held, once the SUBSCRIBE transactions
        # have ended (Timer J, 32 s): what the subscriptions themselves cost.
        sleep 40
        settled=$(cd "$BENCH/lib" && python3 -c "
import procstat
print(procstat.mem_kb(procstat.server_pids($SPID))[0])")
        summary=$(grep -h '^{' "$OUT/$server-memory.txt" | tail -1)
        python3 -c "
import json, sys
s = json.loads(sys.argv[1]); settled = int(sys.argv[2])
n = max(s.get('subscribed_ok', 0), 1)
print(f\"$server memory settled (40 s later): pss_kb={settled} \"
      f\"pss_bytes_per_sub={(settled - s['pss_kb_before']) * 1024 / n:.1f}\")
" "$summary" "$settled" | tee -a "$OUT/$server-memory.txt"
        "stop_$server"
    fi
done
echo "results in $OUT"
