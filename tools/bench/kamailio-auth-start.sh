#!/bin/sh
# Start Kamailio with tools/bench/kamailio-auth.cfg (registrar + digest auth)
# in the background, in its own session/process group, with its state (sqlite
# file with the subscriber table, pid file, log) in a fresh temp dir.
#
#   tools/bench/kamailio-auth-start.sh USERS_FILE      -> prints "PID RUNDIR"
#
# USERS_FILE: one "USER@DOMAIN PASSWORD" per line (what `herald user import`
# reads). Stored as HA1 = MD5(user:domain:password) with realm = domain, and
# ha1b = MD5(user@domain:domain:password); the plaintext column stays empty.
# Stop it by its pid (it leads its process group) and remove RUNDIR.
# Environment knobs as in the shared harness's kamailio/start.sh:
#   KAM_SHM_MB (8192), KAM_PKG_MB (64), KAM_CHILDREN (4), KAM_MALLOC (fm)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
USERS=${1:?usage: kamailio-auth-start.sh USERS_FILE}
SCHEMA=${KAM_SQLITE_SCHEMA_DIR:-/usr/share/kamailio/db_sqlite}
for f in standard-create.sql auth_db-create.sql; do
    [ -f "$SCHEMA/$f" ] || { echo "missing $SCHEMA/$f (package kamailio-sqlite-modules)" >&2; exit 1; }
done
RUNDIR=$(mktemp -d -t kam-auth-bench.XXXXXX)
DB="$RUNDIR/kamailio.db"
# version table + subscriber table (with its 'version' row) from the package's schema
cat "$SCHEMA/standard-create.sql" "$SCHEMA/auth_db-create.sql" | sqlite3 "$DB"
python3 - "$DB" "$USERS" <<'EOF'
import hashlib, sqlite3, sys
db, users = sys.argv[1], sys.argv[2]
md5 = lambda s: hashlib.md5(s.encode()).hexdigest()
def rows():
    with open(users) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            aor, pw = line.split(None, 1)
            user, dom = aor.split("@", 1)
            yield (user, dom, md5(f"{user}:{dom}:{pw}"), md5(f"{user}@{dom}:{dom}:{pw}"))
c = sqlite3.connect(db)
c.executemany("INSERT INTO subscriber (username, domain, ha1, ha1b) VALUES (?,?,?,?)", rows())
c.commit()
print(c.execute("SELECT count(*) FROM subscriber").fetchone()[0], "subscribers", file=sys.stderr)
EOF

setsid kamailio -f "$HERE/kamailio-auth.cfg" -DD -E \
    -m "${KAM_SHM_MB:-8192}" -M "${KAM_PKG_MB:-64}" -x "${KAM_MALLOC:-fm}" \
    -Y "$RUNDIR" -w "$RUNDIR" \
    -A "DBURL=\"sqlite:///$DB\"" \
    -A "NCHILDREN=${KAM_CHILDREN:-4}" \
    > "$RUNDIR/kamailio.log" 2>&1 < /dev/null &
PID=$!
echo "$PID" > "$RUNDIR/kamailio.pid"

# wait (max ~10 s) until it answers OPTIONS
i=0
while [ $i -lt 50 ]; do
    if ! kill -0 "$PID" 2>/dev/null; then
        echo "kamailio exited during startup; log:" >&2
        tail -30 "$RUNDIR/kamailio.log" >&2
        rm -rf "$RUNDIR"
        exit 1
    fi
    if sipsak -s sip:ping@127.0.0.1:5060 >/dev/null 2>&1; then
        echo "$PID $RUNDIR"
        exit 0
    fi
    sleep 0.2
    i=$((i + 1))
done
echo "kamailio did not answer OPTIONS within 10 s; log:" >&2
tail -30 "$RUNDIR/kamailio.log" >&2
kill "$PID" 2>/dev/null || true
exit 1
