#!/usr/bin/env bash
# Release benchmarks of the protocol, written into docs/PERFORMANCE.md between the markers
# "<!-- bench:start -->" and "<!-- bench:end -->" (text outside them is kept).
#
#   Tools/bench.sh BIN_DIR [RUNS] [SECONDS]
#
# Server pinned to core 0, load to core 1 (taskset). For each row: RUNS runs of SECONDS after a
# 1 s warm-up; the table shows the median run. Rows: plain SwiftNIO echo (the reference),
# Accord echo at 1 and 64 in flight x 64 B and 1 KiB (compression off, and 1 KiB with it on),
# 10,000 idle connections held while echo keeps answering (server memory per connection), and
# the micro-benchmarks of Benchmarks/ (encode/decode time and mallocs).
set -euo pipefail
bin=${1:?usage: bench.sh BIN_DIR [RUNS] [SECONDS]}
runs=${2:-3}
seconds=${3:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
# Raw results stay in .build-bench/ (ignored by git): Tools/bench_report.py can redo the tables.
out="$root/.build-bench"
rm -rf "$out"
mkdir -p "$out"
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
port=17409
baseline_port=17410

echo "building Benchmarks/ (release)..." >&2
(cd "$root/Benchmarks" && swift build -c release >&2)
baseline="$root/Benchmarks/.build/release/NIOEchoBaseline"

echo "plain SwiftNIO echo..." >&2
taskset -c 0 "$baseline" server $baseline_port &
baseline_pid=$!
sleep 1
for in_flight in 1 64; do
    for payload in 64 1024; do
        for _ in $(seq "$runs"); do
            taskset -c 1 "$baseline" client $baseline_port $in_flight $payload "$seconds" >> "$out/baseline.jsonl"
        done
    done
done
kill $baseline_pid

echo "accord echo..." >&2
taskset -c 0 "$bin/accord-echo" --port $port --admin-port off --log-level warning &
server=$!
sleep 1
for in_flight in 1 64; do
    for payload in 64 1024; do
        for _ in $(seq "$runs"); do
            taskset -c 1 "$bin/accord-load" echo --target 127.0.0.1:$port --concurrency $in_flight \
                --payload $payload --duration "${seconds}s" --warmup 1s --json >> "$out/accord.jsonl"
        done
    done
    for _ in $(seq "$runs"); do
        taskset -c 1 "$bin/accord-load" echo --target 127.0.0.1:$port --concurrency $in_flight \
            --payload 1024 --compress --duration "${seconds}s" --warmup 1s --json >> "$out/accord.jsonl"
    done
done
kill -TERM $server
wait $server || true

echo "10,000 idle connections..." >&2
ulimit -n "$(ulimit -Hn)"
taskset -c 0 "$bin/accord-echo" --port $port --admin-port off --log-level warning &
server=$!
sleep 1
rss_before=$(awk '/VmRSS/{print $2}' /proc/$server/status)
taskset -c 1 "$bin/accord-load" echo --target 127.0.0.1:$port --idle-connections 10000 --concurrency 1 \
    --duration "${seconds}s" --warmup 1s --json > "$out/idle.json" 2>/dev/null &
load=$!
# Sample the server while the connections are held (they open before the warm-up starts).
peak=0
while kill -0 $load 2>/dev/null; do
    rss=$(awk '/VmRSS/{print $2}' /proc/$server/status)
    [ "$rss" -gt "$peak" ] && peak=$rss
    sleep 0.5
done
wait $load
echo "{\"rss_before_kib\":$rss_before,\"rss_peak_kib\":$peak}" > "$out/idle_rss.json"
kill -TERM $server
wait $server || true

echo "micro-benchmarks..." >&2
(cd "$root/Benchmarks" && swift package --allow-writing-to-package-directory benchmark --no-progress \
    --format markdown 2>/dev/null) > "$out/micro.md" || echo "(micro-benchmarks failed to run)" > "$out/micro.md"

python3 "$root/Tools/bench_report.py" "$out" "$runs" "$seconds" "$root/docs/PERFORMANCE.md"
echo "wrote docs/PERFORMANCE.md" >&2
