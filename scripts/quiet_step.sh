#!/bin/sh
# A set-up step (pip, mostly) with its output kept in a log rather than on the terminal:
# prints "LABEL ... done (N s)", or on failure "failed", the log's last lines and where the
# whole log is, and exits with the step's own status. `make` runs every install through it.
# Usage: scripts/quiet_step.sh LOG LABEL COMMAND [ARGUMENT ...]
set -u
log=$1
label=$2
shift 2
mkdir -p "$(dirname "$log")"
printf '\n=== %s: %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$*" >>"$log"
printf '%s ... ' "$label"
started=$(date +%s)
if "$@" >>"$log" 2>&1; then
    echo "done ($(($(date +%s) - started)) s)"
else
    status=$?
    echo "failed"
    echo "--- the last lines of $log:" >&2
    tail -n 25 "$log" >&2
    echo "error: $label failed (exit status $status); the whole log is $log" >&2
    exit "$status"
fi
