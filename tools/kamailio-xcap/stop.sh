#!/bin/sh
# Stop the Kamailio started by start.sh (by the pid it recorded in RUNDIR) and
# remove RUNDIR.  usage: stop.sh RUNDIR
# Waits up to 10 s after TERM, then KILLs the main pid, then any member of its
# process group (the group start.sh created with setsid) still alive, one by one.
set -u
RUNDIR=${1:?usage: stop.sh RUNDIR}
case "$RUNDIR" in */kam-xcap.*) ;; *) echo "not a kam-xcap run dir: $RUNDIR" >&2; exit 1 ;; esac
PID=$(cat "$RUNDIR/kamailio.pid" 2>/dev/null || true)
if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    kill "$PID"
    i=0
    while kill -0 "$PID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
    if kill -0 "$PID" 2>/dev/null; then
        echo "kamailio $PID still alive after 10 s, sending KILL" >&2
        kill -9 "$PID"
    fi
    sleep 0.3
    for p in $(ps -eo pid=,pgid= | awk -v g="$PID" '$2 == g {print $1}'); do
        kill -9 "$p" 2>/dev/null || true
    done
fi
if [ "${KEEP_LOG:-0}" = 1 ]; then
    echo "log kept in $RUNDIR/kamailio.log" >&2
else
    rm -rf "$RUNDIR"
fi
echo "stopped ${PID:-?}"
