#!/usr/bin/env bash
# XCAP load: GET and PUT of one entry in a 500-entry resource-lists document
# (issue 7), with wrk against `herald serve` on loopback, then (if Kamailio is
# installed) the same requests against Kamailio's xcap_server module, in one run.
#
# Digest is turned off for the run (wrk cannot answer challenges); everything
# else is the real path: URI and node-selector parsing, the store's
# compare-and-set, validation of the whole document after each PUT.
#
#   tools/bench-xcap.sh [SECONDS] [CONNECTIONS] [--no-build] [--with-kamailio|--without-kamailio]
#
# Cases, each a wrk run of SECONDS with CONNECTIONS connections, 2 threads:
#   entry GET   GET  .../index/~~/resource-lists/list[@name="friends"]/entry[@uri="sip:user250@..."]
#   doc GET     GET  .../index                (the whole ~41 KB document)
#   entry PUT   PUT  of that entry, replacing it (application/xcap-el+xml)
#   doc PUT     PUT  of the whole document, replacing it
# (doc GET runs before the PUTs so both servers serve the document as first stored.)
#
# Kamailio (--with-kamailio, the default when kamailio and its xcap_server
# module are installed): tools/kamailio-xcap/ (config, start/stop; tables from the installed Kamailio schema files).
# Its xcap_server evaluates the node selector as a plain XPath over the stored
# document with the default namespace stripped, so the same entry URIs work;
# differences in what it does are printed with the results.
#
# Needs wrk (Debian package wrk), curl, python3; for Kamailio also sqlite3.
# Servers are ended by their own pids; temp dirs are removed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SECS=10
CONNS=4
BUILD=1
KAM=auto
npos=0
for a in "$@"; do
    case "$a" in
        --no-build) BUILD=0 ;;
        --with-kamailio) KAM=1 ;;
        --without-kamailio|--no-kamailio) KAM=0 ;;
        -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
        [0-9]*)
            if [ $npos -eq 0 ]; then SECS=$a; else CONNS=$a; fi
            npos=$((npos + 1)) ;;
        *) echo "unknown argument: $a" >&2; exit 2 ;;
    esac
done
KAM_MOD=/usr/lib/x86_64-linux-gnu/kamailio/modules/xcap_server.so
if [ "$KAM" = auto ]; then
    if command -v kamailio >/dev/null && [ -f "$KAM_MOD" ] && command -v sqlite3 >/dev/null; then KAM=1; else KAM=0; fi
fi
if [ "$BUILD" = 1 ]; then
    # the build lock is shared with everyone building on this machine
    flock /tmp/herald-cargo.lock cargo build --release -p herald >/dev/null
fi

WORK=$(mktemp -d -t herald-xcap.XXXXXX)
DATA="$WORK/data"
mkdir "$DATA"
HPID=
KAMDIR=
cleanup() {
    if [ -n "$HPID" ]; then kill -TERM "$HPID" 2>/dev/null || true; wait "$HPID" 2>/dev/null || true; fi
    if [ -n "$KAMDIR" ]; then "$ROOT/tools/kamailio-xcap/stop.sh" "$KAMDIR" >/dev/null 2>&1 || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

HPORT=18088
KPORT=${KAM_XCAP_PORT:-18089}
DOCPATH="/xcap-root/resource-lists/users/sip:alice@example.test/index"
NODE='~~/resource-lists/list%5b@name=%22friends%22%5d/entry%5b@uri=%22sip:user250@example.test%22%5d'

python3 - "$WORK" <<'PY'
import sys
work = sys.argv[1]
entries = "".join(f'<entry uri="sip:user{i}@example.test"><display-name>User {i}</display-name></entry>' for i in range(500))
doc = f'<?xml version="1.0" encoding="UTF-8"?><resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list name="friends">{entries}</list></resource-lists>'
open(f"{work}/doc.xml", "w").write(doc)
# wrk scripts: every one ends with done(), which prints one machine-readable line
done = '''
function done(summary, latency, requests)
   local secs = summary.duration / 1e6
   io.write(string.format("RESULT %.1f %.3f %.3f %d %d %d\\n",
      summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      summary.requests, summary.errors.status,
      summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
'''
open(f"{work}/get.lua", "w").write(done)
open(f"{work}/put-entry.lua", "w").write('''
wrk.method = "PUT"
wrk.body = '<entry uri="sip:user250@example.test"><display-name>User 250 (edited)</display-name></entry>'
wrk.headers["Content-Type"] = "application/xcap-el+xml"
''' + done)
open(f"{work}/put-doc.lua", "w").write('''
wrk.method = "PUT"
wrk.body = [==[''' + doc + ''']==]
wrk.headers["Content-Type"] = "application/resource-lists+xml"
''' + done)
PY
DOCLEN=$(wc -c < "$WORK/doc.xml")

SUMMARY="$WORK/summary"
: > "$SUMMARY"
# run_case SERVER CASE URL LUA
run_case() {
    local server=$1 case=$2 url=$3 lua=$4 out
    echo "$server: $case"
    out=$(wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s "$WORK/$lua" "$url")
    echo "$out" | grep -E "^ +Latency |^ +50%|^ +99%|Requests/sec|Non-2xx|Socket errors" || true
    echo "$out" | awk -v s="$server" -v c="$case" '$1 == "RESULT" {print s "\t" c "\t" $2 "\t" $3 "\t" $4 "\t" $5 "\t" $6 "\t" $7}' >> "$SUMMARY"
}
# wait_http URL: until the server answers at all (max ~10 s)
wait_http() {
    local i=0
    while [ $i -lt 50 ]; do
        if curl -s -o /dev/null --max-time 1 "$1"; then return 0; fi
        sleep 0.2; i=$((i + 1))
    done
    echo "no answer from $1" >&2; return 1
}
# bench SERVER BASE: setup PUT, the four cases, a check of the document
bench() {
    local server=$1 base=$2 code
    code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary "@$WORK/doc.xml" \
        -H 'Content-Type: application/resource-lists+xml' "$base")
    echo "$server: setup PUT of the 500-entry document ($DOCLEN bytes): $code"
    case "$code" in 2??) ;; *) echo "$server: setup PUT failed" >&2; return 1 ;; esac
    run_case "$server" "entry GET" "$base/$NODE" get.lua
    run_case "$server" "doc GET"   "$base"       get.lua
    run_case "$server" "entry PUT" "$base/$NODE" put-entry.lua
    run_case "$server" "doc PUT"   "$base"       put-doc.lua
    # sanity: the document is still whole, and an entry PUT still lands
    curl -s -o /dev/null -X PUT --data-binary '<entry uri="sip:user250@example.test"><display-name>User 250 (edited)</display-name></entry>' \
        -H 'Content-Type: application/xcap-el+xml' "$base/$NODE"
    curl -s "$base" > "$WORK/after.xml"
    python3 - "$server" "$WORK/after.xml" <<'PY'
import sys, re
server, path = sys.argv[1], sys.argv[2]
d = open(path).read()
uris = re.findall(r'<entry uri="([^"]+)"', d)
pos = uris.index("sip:user250@example.test") if "sip:user250@example.test" in uris else -1
print(f"{server}: after the runs: {len(uris)} entries, {len(set(uris))} distinct; "
      f"user250 edited: {'User 250 (edited)' in d}; user250 at position {pos} (stored at 250)")
PY
}

echo "== Herald (release build, --auth off) on 127.0.0.1:$HPORT; wrk ${SECS}s, $CONNS connections, 2 threads"
"$ROOT/target/release/herald" --data-dir "$DATA" serve --domain example.test \
    --listen udp:127.0.0.1:15060 --listen "ws:127.0.0.1:$HPORT" --auth off --log-level warn >/dev/null 2>&1 &
HPID=$!
wait_http "http://127.0.0.1:$HPORT/"
bench herald "http://127.0.0.1:$HPORT$DOCPATH"
kill -TERM "$HPID" 2>/dev/null || true
wait "$HPID" 2>/dev/null || true
HPID=

if [ "$KAM" = 1 ]; then
    echo
    echo "== Kamailio $(kamailio -v 2>/dev/null | sed -n 's/^version: kamailio \([^ ]*\).*/\1/p') xcap_server + xhttp + db_sqlite on 127.0.0.1:$KPORT" \
         "(${KAM_XCAP_CHILDREN:-2} TCP workers); wrk ${SECS}s, $CONNS connections, 2 threads"
    started=$(KAM_XCAP_PORT=$KPORT "$ROOT/tools/kamailio-xcap/start.sh")
    KAMDIR=${started#* }
    echo "kamailio pid ${started%% *}, run dir $KAMDIR"
    bench kamailio "http://127.0.0.1:$KPORT$DOCPATH"
    "$ROOT/tools/kamailio-xcap/stop.sh" "$KAMDIR" >/dev/null
    KAMDIR=
fi

echo
echo "== Summary (wrk ${SECS}s, $CONNS connections; latency in ms; non-2xx: responses with status >= 400 as wrk counts them; sockerr: connect/read/write/timeout errors)"
printf '%-9s %-10s %10s %9s %9s %9s %8s %8s\n' server case "req/s" p50 p99 requests non-2xx sockerr
while IFS=$'\t' read -r s c rps p50 p99 n bad serr; do
    printf '%-9s %-10s %10s %9s %9s %9s %8s %8s\n' "$s" "$c" "$rps" "$p50" "$p99" "$n" "$bad" "$serr"
done < "$SUMMARY"
if [ "$KAM" = 1 ]; then
    cat <<'N'

What Kamailio's xcap_server does differently (5.6, module source):
 - node selectors: the part after ~~ is run as a plain libxml2 XPath on the
   stored document with its default xmlns hidden; no xmlns() query bindings,
   no RFC 4825 selector grammar checks. Element GET and element PUT work.
 - element PUT unlinks the selected element and appends the new one as the
   LAST child of its parent (the entry moves to the end of the list); it does
   not check that the body matches the selector (RFC 4825 8.2.5) nor validate
   the document (schema, uniqueness of uri/name); creating a document answers
   200, not 201.
 - every request reads the document from SQLite (no cache); writes are
   serialised in the config with cfgutils lock() (db_sqlite sets no busy
   timeout); the file is in WAL mode with SQLite's default synchronous=FULL,
   i.e. one fsync per PUT (Herald: WAL, synchronous=NORMAL, no fsync per commit).
N
fi
