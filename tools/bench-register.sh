#!/usr/bin/env bash
# REGISTER load, Kamailio vs Herald, without and with digest authentication,
# in one run, with the shared sipp harness (../shared/bench). Prints server
# CPU µs per call (per REGISTER; with auth per authenticated registration =
# REGISTER -> 401 -> REGISTER with credentials -> 200).
#
#   tools/bench-register.sh [RATE] [STEPS] [AUTH_STEPS]   e.g. 8000 8000,16000,32000 8000,16000
#   tools/bench-register.sh --memory [N]                  bytes per registered contact
# Options: --only LIST  (of kamailio,kamailio-auth,herald,herald-auth,herald-mem;
#                        default all but herald-mem)
#          --duration S (10; every fixed run and every step)   --no-build
#
# The four configurations, each on a freshly started server on 127.0.0.1:5060
# that is ended by its own pid:
#   kamailio       shared harness's kamailio/start.sh, `run.sh --scenarios register`
#   kamailio-auth  tools/bench/kamailio-auth.cfg (same registrar + auth_db on
#                  sqlite, HA1 stored), tools/bench/register_auth.xml
#   herald         herald serve --auth off (sqlite store)
#   herald-mem     herald serve --auth off --store memory: bindings in memory
#                  only, like the Kamailio configuration (usrloc db_mode 0);
#                  not durable, so only for a like-for-like comparison
#   herald-auth    herald serve, digest on, MD5 only (SIPp 3.6.1 has no
#                  SHA-256 digest), users provisioned with `herald user import`
# Fixed load RATE/s (8000) for S s, then the harness's stepped search (stop at
# the first step with >= 0.5 % failed calls or < 90 % achieved). The auth
# scenarios draw their users from a generated list, one new user per call.
# --memory N: fresh Herald (auth off, sqlite store) and fresh Kamailio (no
# auth), Pss before/after registering N new AoRs at 5000/s.
#
# Needs sipp (sip-tester), kamailio + kamailio-sqlite-modules, sqlite3,
# sipsak, python3. Results go to target/bench-register/<timestamp>/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

MEMORY=""
ONLY="kamailio,kamailio-auth,herald,herald-auth"
DURATION=10
BUILD=1
POS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --memory)
            MEMORY=100000
            if [ $# -gt 1 ] && [[ "$2" =~ ^[0-9]+$ ]]; then MEMORY=$2; shift; fi ;;
        --only) ONLY=$2; shift ;;
        --duration) DURATION=$2; shift ;;
        --no-build) BUILD=0 ;;
        -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
        -*) echo "unknown option $1" >&2; exit 2 ;;
        *) POS+=("$1") ;;
    esac
    shift
done
RATE=${POS[0]:-8000}
STEPS=${POS[1]:-8000,16000,32000}
AUTH_STEPS=${POS[2]:-8000,16000}
want() { [[ ",$ONLY," == *",$1,"* ]]; }

MODE=cpu; [ -n "$MEMORY" ] && MODE=memory
OUT="$ROOT/target/bench-register/$(date +%Y%m%d-%H%M%S)${MEMORY:+-memory}"
mkdir -p "$OUT"
# The harness's Kamailio starter writes state next to itself: use a copy.
BENCH=$(mktemp -d -t herald-bench.XXXXXX)
cp -r ../shared/bench/. "$BENCH/"
chmod -R u+w "$BENCH"
WORK=$(mktemp -d -t herald-regbench.XXXXXX)
HELPER="$ROOT/tools/bench/regbench.py"
HERALD="$ROOT/target/release/herald"

SERVER_PID=""
cleanup() {
    [ -n "$SERVER_PID" ] && stop_group "$SERVER_PID"
    rm -rf "$BENCH" "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# alive PID: exists and is not a zombie
alive() {
    local st
    st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$st" ] && [ "$st" != Z ]
}

# stop_group PID: TERM the server (it leads its own process group: we started
# it with setsid), wait <= 30 s, then KILL it and, one by one, whatever is left
# of its process group.
stop_group() {
    local pid=$1 i=0 p
    SERVER_PID=""
    kill -TERM "$pid" 2>/dev/null || true
    while alive "$pid" && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
    if alive "$pid"; then
        echo "  pid $pid still alive after 30 s, sending KILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    sleep 0.3
    for p in $(ps -eo pid=,pgid= | awk -v g="$pid" '$2 == g && $1 != g {print $1}'); do
        kill -KILL "$p" 2>/dev/null || true
    done
    wait "$pid" 2>/dev/null || true
}

# wait_options PID: until the server on 127.0.0.1:5060 answers OPTIONS (any reply), <= 10 s
wait_options() {
    local i=0 rc
    while [ $i -lt 50 ]; do
        alive "$1" || return 1
        rc=0; sipsak -s sip:ping@127.0.0.1:5060 >/dev/null 2>&1 || rc=$?
        [ $rc -le 1 ] && return 0
        sleep 0.2; i=$((i + 1))
    done
    return 1
}

port_free() {
    if ss -Hlun 2>/dev/null | awk '{print $4}' | grep -qx '127.0.0.1:5060'; then
        echo "127.0.0.1:5060 is in use; stop whatever listens there first" >&2
        exit 1
    fi
}

start_kamailio() { # -> SERVER_PID (shared harness's start.sh, in the copy)
    port_free
    local out
    out=$("$BENCH/kamailio/start.sh")
    read -r SERVER_PID KRUNDIR <<<"$out"
}
stop_kamailio() {
    stop_group "$1"
    rm -rf "$KRUNDIR"; rm -f "$BENCH/kamailio/.rundir"
}

start_kamailio_auth() { # USERS_TXT -> SERVER_PID
    port_free
    local out
    out=$("$ROOT/tools/bench/kamailio-auth-start.sh" "$1" 2>>"$OUT/kamailio-auth-start.log")
    read -r SERVER_PID KRUNDIR <<<"$out"
}

start_herald() { # DATA_DIR [extra serve args...] -> SERVER_PID
    port_free
    local data=$1; shift
    setsid "$HERALD" --data-dir "$data" serve --domain example.test \
        --listen udp:127.0.0.1:5060 --log-level warn "$@" \
        >>"$OUT/herald-$(basename "$data").log" 2>&1 </dev/null &
    SERVER_PID=$!
    if ! wait_options "$SERVER_PID"; then
        echo "herald did not start; log:" >&2
        tail -20 "$OUT/herald-$(basename "$data").log" >&2
        stop_group "$SERVER_PID"
        exit 1
    fi
}

# shared machine: show how busy it was around each configuration
loadavg() { echo "  ($1: load average $(cut -d' ' -f1-3 /proc/loadavg))"; }

# run_plain NAME PID: the harness's own register scenario
run_plain() {
    loadavg "$1 start"
    (cd "$BENCH" && ./run.sh 127.0.0.1 5060 "$2" --scenarios register \
        --fixed-rate "$RATE" --duration "$DURATION" --steps "$STEPS" \
        --step-duration "$DURATION" --out "$OUT/$1") >"$OUT/$1.log" 2>&1 || true
    loadavg "$1 end"
    python3 "$HELPER" summary "$1" "$OUT/$1"
}

# run_auth NAME PID: register_auth.xml, same accounting, users from users.csv
run_auth() {
    loadavg "$1 start"
    python3 "$HELPER" auth 127.0.0.1 5060 "$2" --bench "$BENCH" --users "$WORK/users.csv" \
        --scenario "$ROOT/tools/bench/register_auth.xml" --fixed-rate "$RATE" \
        --duration "$DURATION" --steps "$AUTH_STEPS" --out "$OUT/$1" >"$OUT/$1.log" 2>&1 || true
    loadavg "$1 end"
    python3 "$HELPER" summary "$1" "$OUT/$1"
}

if want herald || want herald-auth || want herald-mem || [ "$MODE" = memory ]; then
    if [ "$BUILD" = 1 ]; then
        # shared machine: one cargo build at a time
        flock /tmp/herald-cargo.lock cargo build --release -p herald >"$OUT/build.log" 2>&1 \
            || { echo "cargo build failed, see $OUT/build.log" >&2; exit 1; }
    fi
    [ -x "$HERALD" ] || { echo "no $HERALD" >&2; exit 1; }
fi

echo "results in $OUT"

# ------------------------------------------------------------------ memory
if [ "$MODE" = memory ]; then
    DATA="$WORK/mem-data"; mkdir -p "$DATA"
    start_herald "$DATA" --auth off --store sqlite
    python3 "$HELPER" memory 127.0.0.1 5060 "$SERVER_PID" --bench "$BENCH" --n "$MEMORY" \
        --name herald --out "$OUT/herald-memory" 2>>"$OUT/herald-memory.log"
    stop_group "$SERVER_PID"
    start_kamailio
    python3 "$HELPER" memory 127.0.0.1 5060 "$SERVER_PID" --bench "$BENCH" --n "$MEMORY" \
        --name kamailio --out "$OUT/kamailio-memory" 2>>"$OUT/kamailio-memory.log"
    stop_kamailio "$SERVER_PID"
    echo "results in $OUT"
    exit 0
fi

# ------------------------------------------------------------- users for auth
if want kamailio-auth || want herald-auth; then
    NUSERS=$(python3 -c "import sys; r, d = int(sys.argv[1]), float(sys.argv[2]); \
print(int(r * d + sum(int(s) for s in sys.argv[3].split(',') if s) * d))" \
        "$RATE" "$DURATION" "$AUTH_STEPS")
    awk -v n="$NUSERS" 'BEGIN { for (i = 1; i <= n; i++) print "u" i "@example.test pw" i }' \
        >"$WORK/users.txt"
    awk -v n="$NUSERS" 'BEGIN { for (i = 1; i <= n; i++) print "u" i ";pw" i ";" }' \
        >"$WORK/users.csv"
    echo "auth users: $NUSERS"
fi

# ------------------------------------------------------------------ kamailio
if want kamailio; then
    start_kamailio; sleep 1
    run_plain kamailio "$SERVER_PID"
    stop_kamailio "$SERVER_PID"
fi

if want kamailio-auth; then
    t0=$(date +%s.%N)
    start_kamailio_auth "$WORK/users.txt"; sleep 1
    echo "  (kamailio-auth: subscriber table filled and server up in $(python3 -c \
"import sys, time; print(round(time.time() - float(sys.argv[1]), 1))" "$t0") s)"
    run_auth kamailio-auth "$SERVER_PID"
    stop_kamailio "$SERVER_PID"
fi

# -------------------------------------------------------------------- herald
if want herald; then
    DATA="$WORK/herald-data"; mkdir -p "$DATA"
    start_herald "$DATA" --auth off; sleep 1
    run_plain herald "$SERVER_PID"
    stop_group "$SERVER_PID"
fi

if want herald-mem; then
    DATA="$WORK/herald-mem-data"; mkdir -p "$DATA"
    start_herald "$DATA" --auth off --store memory; sleep 1
    run_plain herald-mem "$SERVER_PID"
    stop_group "$SERVER_PID"
fi

if want herald-auth; then
    DATA="$WORK/herald-auth-data"; mkdir -p "$DATA"
    printf '[auth]\nalgorithms = ["MD5"]\n' >"$WORK/herald-md5.toml"
    t0=$(date +%s.%N)
    "$HERALD" --data-dir "$DATA" user import <"$WORK/users.txt" >"$OUT/herald-import.log" 2>&1 \
        || { echo "herald user import failed:" >&2; tail -5 "$OUT/herald-import.log" >&2; exit 1; }
    echo "  (herald-auth: $(tail -1 "$OUT/herald-import.log") in $(python3 -c \
"import sys, time; print(round(time.time() - float(sys.argv[1]), 1))" "$t0") s)"
    start_herald "$DATA" --config "$WORK/herald-md5.toml"; sleep 1
    run_auth herald-auth "$SERVER_PID"
    stop_group "$SERVER_PID"
fi

echo "results in $OUT (results.tsv / results.jsonl per configuration, logs next to them)"
