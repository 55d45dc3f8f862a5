#!/usr/bin/env bash
# Runs the Accord servers built so far on loopback, in the foreground; Ctrl-C stops them gracefully.
# Usage: Tools/run-local.sh BIN_DIR
set -euo pipefail
bin=${1:?usage: run-local.sh BIN_DIR}
mkdir -p data
pids=()
stop() {
    echo "stopping..."
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait
    exit 0
}
trap stop INT TERM
"$bin/accord-echo" --port "${ACCORD_ECHO_PORT:-7409}" --admin-port "${ACCORD_ECHO_ADMIN_PORT:-9409}" --data-dir data &
pids+=($!)
sleep 1
cat <<MSG
accord-echo (health and echo diagnostics) is listening on 127.0.0.1:${ACCORD_ECHO_PORT:-7409},
metrics on http://127.0.0.1:${ACCORD_ECHO_ADMIN_PORT:-9409}/metrics.
Try: $bin/accord-load echo --target 127.0.0.1:${ACCORD_ECHO_PORT:-7409} --concurrency 8 --duration 3s
Press Ctrl-C to stop.
MSG
wait
