#!/usr/bin/env bash
# Deterministic per-request cost of Herald under valgrind (see README.md here).
#
#   tools/profile/run.sh callgrind|dhat register|message|options|publish N [-- SERVE_ARGS...]
#
# Starts `herald serve --domain example.test --listen udp:127.0.0.1:5090
# --auth off SERVE_ARGS` under the tool, sends N requests one at a time
# (client.py; `publish` uses sipp and the shared harness's publish.xml at
# 200/s), stops the server with SIGTERM (its pid) and leaves the output in
# target/profile/. callgrind: per-request instructions are
# (total(N) - total(0)) / N, so run it with N = 0 too. dhat needs a build
# without mimalloc: CARGO_TARGET_DIR=target/glibc cargo build --release -p
# herald --no-default-features, then BIN=target/glibc/release/herald.
set -euo pipefail
cd "$(dirname "$0")/../.."
TOOL=$1 KIND=$2 N=$3; shift 3
[ "${1:-}" = "--" ] && shift
BIN=${BIN:-target/release/herald}
SHARED=${SHARED:-../shared}
OUT=target/profile; mkdir -p "$OUT"
DATA=$(mktemp -d -t herald-profile.XXXXXX)
case "$TOOL" in
    callgrind) VG=(valgrind --tool=callgrind "--callgrind-out-file=$OUT/callgrind.$KIND.$N") ;;
    dhat) VG=(valgrind --tool=dhat "--dhat-out-file=$OUT/dhat.$KIND.$N.json") ;;
    *) echo "tool: callgrind or dhat" >&2; exit 2 ;;
esac
"${VG[@]}" "$BIN" --data-dir "$DATA" serve --domain example.test \
    --listen udp:127.0.0.1:5090 --auth off --log-level warn "$@" \
    >/dev/null 2>"$OUT/$TOOL.$KIND.$N.log" &
VP=$!
sleep 8  # valgrind start-up
if [ "$N" -gt 0 ]; then
    if [ "$KIND" = publish ]; then
        sipp 127.0.0.1:5090 -sf "$SHARED/bench/scenarios/publish.xml" -i 127.0.0.1 -p 5091 -t u1 \
            -nostdin -key domain example.test -key pfx p -r 200 -m "$N" -l 2000 -timeout 120s \
            >"$OUT/sipp.$KIND.$N.log" 2>&1 || true
        grep -E "Successful call|Failed call" "$OUT/sipp.$KIND.$N.log" | head -2
    else
        python3 tools/profile/client.py "$KIND" "$N" 5090
    fi
fi
sleep 1
kill -TERM "$VP"; wait "$VP" || true
rm -rf "$DATA"
if [ "$TOOL" = callgrind ]; then
    callgrind_annotate "$OUT/callgrind.$KIND.$N" 2>/dev/null | grep "PROGRAM TOTALS"
else
    python3 tools/profile/dhat_sites.py "$OUT/dhat.$KIND.$N.json" "$N"
fi
