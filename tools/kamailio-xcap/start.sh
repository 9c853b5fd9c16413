#!/bin/sh
# Start Kamailio as an XCAP server (kamailio-xcap.cfg) in the background, in
# its own session/process group, with all runtime state (sqlite file, pid file,
# log) in a fresh temp dir. Loopback only.
# Prints "PID RUNDIR" on success; stop it with: stop.sh RUNDIR
# Environment knobs:
#   KAM_XCAP_PORT (default 18089)   HTTP port on 127.0.0.1
#   KAM_XCAP_CHILDREN (default 2)   TCP worker processes (they serve HTTP)
#   KAM_XCAP_TMPDIR (default $TMPDIR or /tmp)  where the run dir (and so the
#                                   sqlite file) is made, e.g. /dev/shm to
#                                   take fsync out of PUT
#   KAM_SHM_MB (default 256), KAM_PKG_MB (default 32)  -m / -M
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
PORT=${KAM_XCAP_PORT:-18089}
command -v kamailio >/dev/null || { echo "kamailio not installed" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "sqlite3 not installed" >&2; exit 1; }
if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/" 2>/dev/null; then
    echo "something already answers on 127.0.0.1:$PORT" >&2
    exit 1
fi
RUNDIR=$(mktemp -d "${KAM_XCAP_TMPDIR:-${TMPDIR:-/tmp}}/kam-xcap.XXXXXX")
# The tables come from Kamailio's own installed schema files (version table,
# then the xcap table of the presence schema), not from a copy kept here.
# WAL persists in the file; db_sqlite never sets `synchronous`, so commits
# still sync the WAL (SQLite's default FULL).
SCHEMA=${KAM_SQLITE_SCHEMA_DIR:-/usr/share/kamailio/db_sqlite}
[ -r "$SCHEMA/standard-create.sql" ] && [ -r "$SCHEMA/presence-create.sql" ] || {
    echo "kamailio db_sqlite schema files not found in $SCHEMA" >&2; rm -rf "$RUNDIR"; exit 1; }
{
    echo "PRAGMA journal_mode=WAL;"
    cat "$SCHEMA/standard-create.sql"
    # only the xcap table (and its version row) of the presence schema
    awk '/^CREATE TABLE xcap /{on=1} on{print} on && /^INSERT INTO version/{exit}' \
        "$SCHEMA/presence-create.sql"
} | sqlite3 "$RUNDIR/xcap.db" >/dev/null
sqlite3 "$RUNDIR/xcap.db" "SELECT table_version FROM version WHERE table_name='xcap';" \
    | grep -q . || { echo "xcap table not created from $SCHEMA" >&2; rm -rf "$RUNDIR"; exit 1; }

setsid kamailio -f "$HERE/kamailio-xcap.cfg" -DD -E \
    -m "${KAM_SHM_MB:-256}" -M "${KAM_PKG_MB:-32}" \
    -Y "$RUNDIR" -w "$RUNDIR" \
    -A "DBURL=\"sqlite:///$RUNDIR/xcap.db\"" \
    -A "HTTP_PORT=$PORT" -A "NCHILDREN=${KAM_XCAP_CHILDREN:-2}" \
    > "$RUNDIR/kamailio.log" 2>&1 < /dev/null &
PID=$!
echo "$PID" > "$RUNDIR/kamailio.pid"

# wait (max ~10 s) until it answers HTTP (404 outside /xcap-root/)
i=0
while [ $i -lt 50 ]; do
    if ! kill -0 "$PID" 2>/dev/null; then
        echo "kamailio exited during startup; log:" >&2
        tail -30 "$RUNDIR/kamailio.log" >&2
        rm -rf "$RUNDIR"
        exit 1
    fi
    code=$(curl -s -o /dev/null --max-time 1 -w '%{http_code}' "http://127.0.0.1:$PORT/" 2>/dev/null || true)
    if [ "$code" = 404 ]; then
        echo "$PID $RUNDIR"
        exit 0
    fi
    sleep 0.2
    i=$((i + 1))
done
echo "kamailio did not answer HTTP within 10 s; log:" >&2
tail -30 "$RUNDIR/kamailio.log" >&2
"$HERE/stop.sh" "$RUNDIR" >&2 || true
exit 1
