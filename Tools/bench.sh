#!/usr/bin/env bash
# Release benchmark of unary echo over loopback: server pinned to core 0, load to core 1.
# Prints one JSON line per run; Tools/bench.sh BIN_DIR [RUNS] [SECONDS]
set -euo pipefail
bin=${1:?usage: bench.sh BIN_DIR [RUNS] [SECONDS]}
runs=${2:-3}
seconds=${3:-5}
port=17409
taskset -c 0 "$bin/accord-echo" --port $port --admin-port=-1 --log-level warning &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
sleep 1
for concurrency in 1 64; do
    for payload in 64 1024; do
        for run in $(seq "$runs"); do
            taskset -c 1 "$bin/accord-load" echo --target 127.0.0.1:$port --concurrency $concurrency \
                --payload $payload --duration "${seconds}s" --warmup 1s --json
        done
    done
done
