#!/usr/bin/env bash
# Runs the Accord servers built so far on loopback, in the foreground; Ctrl-C stops them gracefully.
# Data lives under ./data; the first run loads the ICE lists from seeds/ice into intake.
# Usage: Tools/run-local.sh BIN_DIR
set -euo pipefail
bin=${1:?usage: run-local.sh BIN_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p data
pids=()
stop() {
    echo "stopping..."
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait
    exit 0
}
trap stop INT TERM
"$bin/accord-intake" --port "${ACCORD_INTAKE_PORT:-7401}" --admin-port "${ACCORD_INTAKE_ADMIN_PORT:-9401}" \
    --data-dir data --seed-ice-dir "$root/seeds/ice" --qualification "127.0.0.1:${ACCORD_QUALIFICATION_PORT:-7402}" \
    --supervision "127.0.0.1:${ACCORD_SUPERVISION_PORT:-7403}" 2>> data/intake.log &
pids+=($!)
"$bin/accord-qualification" --port "${ACCORD_QUALIFICATION_PORT:-7402}" \
    --admin-port "${ACCORD_QUALIFICATION_ADMIN_PORT:-9402}" --data-dir data --rules-dir "$root/seeds/rules" \
    --intake "127.0.0.1:${ACCORD_INTAKE_PORT:-7401}" --supervision "127.0.0.1:${ACCORD_SUPERVISION_PORT:-7403}" \
    2>> data/qualification.log &
pids+=($!)
"$bin/accord-supervision" --port "${ACCORD_SUPERVISION_PORT:-7403}" \
    --admin-port "${ACCORD_SUPERVISION_ADMIN_PORT:-9403}" --data-dir data --rules-dir "$root/seeds/rules" \
    --qualification "127.0.0.1:${ACCORD_QUALIFICATION_PORT:-7402}" --intake "127.0.0.1:${ACCORD_INTAKE_PORT:-7401}" \
    2>> data/supervision.log &
pids+=($!)
"$bin/accord-echo" --port "${ACCORD_ECHO_PORT:-7409}" --admin-port "${ACCORD_ECHO_ADMIN_PORT:-9409}" \
    --data-dir data 2>> data/echo.log &
pids+=($!)
sleep 2
cat <<MSG
accord-intake   127.0.0.1:${ACCORD_INTAKE_PORT:-7401}  metrics http://127.0.0.1:${ACCORD_INTAKE_ADMIN_PORT:-9401}/metrics  logs data/intake.log
accord-qualification 127.0.0.1:${ACCORD_QUALIFICATION_PORT:-7402}  metrics http://127.0.0.1:${ACCORD_QUALIFICATION_ADMIN_PORT:-9402}/metrics  logs data/qualification.log
accord-supervision 127.0.0.1:${ACCORD_SUPERVISION_PORT:-7403}  metrics http://127.0.0.1:${ACCORD_SUPERVISION_ADMIN_PORT:-9403}/metrics  logs data/supervision.log
accord-echo     127.0.0.1:${ACCORD_ECHO_PORT:-7409}  metrics http://127.0.0.1:${ACCORD_ECHO_ADMIN_PORT:-9409}/metrics  logs data/echo.log
The first start imports seeds/ice into intake (see data/intake.log for the counts); its pending
requests are then evaluated by qualification against seeds/rules, and its participating
agreements are handed to supervision, where they arrive active.
Try: $bin/accord-load write --target 127.0.0.1:${ACCORD_INTAKE_PORT:-7401} --concurrency 16 --duration 3s
Press Ctrl-C to stop.
MSG
wait
