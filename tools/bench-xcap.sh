#!/usr/bin/env bash
# XCAP load: GET and PUT of one entry in a 500-entry resource-lists document
# (issue 7), with wrk against `herald serve` on loopback. Digest is turned
# off for the run (wrk cannot answer challenges); everything else is the
# real path: URI and node-selector parsing, the store's compare-and-set,
# validation of the whole document after each PUT.
#
#   tools/bench-xcap.sh [SECONDS] [CONNECTIONS] [--no-build]
#
# Needs wrk (Debian package wrk). The server is ended by its own pid.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
CONNS=${2:-4}
[ "${3:-}" = "--no-build" ] || cargo build --release -p herald >/dev/null
DATA=$(mktemp -d -t herald-xcap.XXXXXX)
LUA=$(mktemp -t herald-xcap-put.XXXXXX.lua)
cleanup() { [ -n "${HPID:-}" ] && kill -TERM "$HPID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$DATA" "$LUA"; }
trap cleanup EXIT
PORT=18088
target/release/herald --data-dir "$DATA" serve --domain example.test \
    --listen udp:127.0.0.1:15060 --listen "ws:127.0.0.1:$PORT" --auth off --log-level warn >/dev/null 2>&1 &
HPID=$!
sleep 1
BASE="http://127.0.0.1:$PORT/xcap-root/resource-lists/users/sip:alice@example.test/index"
DOC=$(python3 - <<'PY'
entries = "".join(f'<entry uri="sip:user{i}@example.test"><display-name>User {i}</display-name></entry>' for i in range(500))
print(f'<?xml version="1.0" encoding="UTF-8"?><resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list name="friends">{entries}</list></resource-lists>')
PY
)
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary "$DOC" -H 'Content-Type: application/resource-lists+xml' "$BASE")
echo "setup PUT of the 500-entry document: $code"
NODE='~~/resource-lists/list%5b@name=%22friends%22%5d/entry%5b@uri=%22sip:user250@example.test%22%5d'
echo "GET one entry:"
wrk -t2 -c"$CONNS" -d"${SECS}s" --latency "$BASE/$NODE" | grep -E "Requests/sec|Latency|50%|99%|Non-2xx"
cat > "$LUA" <<'L'
wrk.method = "PUT"
wrk.body = '<entry uri="sip:user250@example.test"><display-name>User 250 (edited)</display-name></entry>'
wrk.headers["Content-Type"] = "application/xcap-el+xml"
L
echo "PUT (replace) one entry:"
wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s "$LUA" "$BASE/$NODE" | grep -E "Requests/sec|Latency|50%|99%|Non-2xx"
