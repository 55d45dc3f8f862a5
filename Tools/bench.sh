#!/usr/bin/env bash
# Release benchmarks of the protocol, written into docs/PERFORMANCE.md between the markers
# "<!-- bench:start -->" and "<!-- bench:end -->" (text outside them is kept).
#
#   Tools/bench.sh BIN_DIR [RUNS] [SECONDS]
#
# Server pinned to core 0, load to core 1 (taskset). For each row: RUNS runs of SECONDS after a
# 1 s warm-up; the table shows the median run. Rows: plain SwiftNIO echo (the reference), the
# same echo on grpc-swift-2 (the side-by-side),
# Accord echo at 1 and 64 in flight x 64 B and 1 KiB (compression off, and 1 KiB with it on),
# 10,000 idle connections held while echo keeps answering (server memory per connection), durable
# writes of intake, qualification and supervision at 1/16/64 clients, supervision's program report
# over 1,000 agreements, 20,000 officers and 1,000,000 actions, echoes (1 and 64 in flight x 64 B
# and 1 KiB) and gets routed through the gateway against the same calls made directly to intake and
# through HAProxy's TCP relay (the anchor, installed here) and a plain SwiftNIO relay (the floor),
# the gateway's dossier fan-out, the mixed scenario at its saturation point and at half of it with
# each process's peak memory, and the micro-benchmarks of Benchmarks/ (encode/decode time and mallocs).
# The TLS part (BENCH_ONLY=tls, or with all) measures echo directly to intake and through the
# gateway over TLS (mutual between the gateway and intake) beside the same in clear, in the same
# run, into its own block of docs/PERFORMANCE.md ("<!-- bench-tls:start -->").
set -euo pipefail
bin=${1:?usage: bench.sh BIN_DIR [RUNS] [SECONDS]}
runs=${2:-3}
seconds=${3:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
# Raw results stay in .build-bench/ (ignored by git): Tools/bench_report.py can redo the tables.
# BENCH_ONLY=echo|idle|intake|qualification|supervision|gateway|mixed|micro|tls runs one part and keeps the others' last results.
out="$root/.build-bench"
only=${BENCH_ONLY:-all}
mkdir -p "$out"
part() { [ "$only" = all ] || [ "$only" = "$1" ]; }
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
port=17409
baseline_port=17410

if part echo || part micro; then
    echo "building Benchmarks/ (release)..." >&2
    (cd "$root/Benchmarks" && swift build -c release >&2)
elif part gateway; then
    echo "building Benchmarks/ NIORelayBaseline (release)..." >&2
    (cd "$root/Benchmarks" && swift build -c release --product NIORelayBaseline >&2)
fi
baseline="$root/Benchmarks/.build/release/NIOEchoBaseline"

if part echo; then
rm -f "$out/baseline.jsonl" "$out/accord.jsonl"
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

echo "grpc-swift-2 echo (the side-by-side)..." >&2
rm -f "$out/grpc.jsonl"
grpc="$root/Benchmarks/.build/release/GRPCEcho"
taskset -c 0 "$grpc" server $baseline_port &
grpc_pid=$!
sleep 1
for in_flight in 1 64; do
    for payload in 64 1024; do
        for _ in $(seq "$runs"); do
            taskset -c 1 "$grpc" client $baseline_port $in_flight $payload "$seconds" >> "$out/grpc.jsonl"
        done
    done
done
kill $grpc_pid

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
fi

if part idle; then
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
fi

if part intake; then
echo "intake: durable writes, gets and lists..." >&2
rm -f "$out/intake.jsonl"
intake_data=$(mktemp -d)
taskset -c 0 "$bin/accord-intake" --port $port --admin-port off --log-level warning --data-dir "$intake_data" \
    --seed-ice-dir "$root/seeds/ice" &
server=$!
sleep 2
for scenario in register submit get list; do
    for clients in 1 16 64; do
        for _ in $(seq "$runs"); do
            taskset -c 1 "$bin/accord-load" $scenario --target 127.0.0.1:$port --concurrency $clients \
                --duration "${seconds}s" --warmup 1s --json >> "$out/intake.jsonl"
        done
    done
done
kill -TERM $server
wait $server || true
rm -rf "$intake_data"
fi

if part qualification; then
echo "qualification: compliance of 10,000 certified officers..." >&2
rm -f "$out/qualification.jsonl"
qualification_data=$(mktemp -d)
# Supervision answers the standing check of each evaluation (the agency's agreements); intake
# holds the agencies that nominations are checked against.
taskset -c 0 "$bin/accord-supervision" --port 17403 --admin-port off --log-level warning \
    --data-dir "$qualification_data" --rules-dir "$root/seeds/rules" --qualification 127.0.0.1:$port \
    --intake 127.0.0.1:17401 &
standing=$!
taskset -c 0 "$bin/accord-intake" --port 17401 --admin-port off --log-level warning \
    --data-dir "$qualification_data" --qualification 127.0.0.1:$port --supervision 127.0.0.1:17403 &
agencies=$!
taskset -c 0 "$bin/accord-qualification" --port $port --admin-port off --log-level warning \
    --data-dir "$qualification_data" --rules-dir "$root/seeds/rules" --intake 127.0.0.1:17401 \
    --supervision 127.0.0.1:17403 &
server=$!
sleep 1
taskset -c 1 "$bin/accord-load" compliance --target 127.0.0.1:$port --intake 127.0.0.1:17401 --concurrency 1 \
    --seed-officers 10000 --duration 1s --warmup 0s --json > /dev/null
# Measure once supervision has every certification notice (delivering them competes for core 0).
for _ in $(seq 600); do
    pending=$(sqlite3 "$qualification_data/qualification/qualification.sqlite" \
        "SELECT count(*) FROM officer WHERE status = 2 AND supervision_notified_at_ms IS NULL" 2>/dev/null || echo 1)
    [ "$pending" = 0 ] && break
    sleep 0.5
done
# Intake was there for the nominations only: without it, decisions stay queued (the evaluate rows
# measure evaluations, not their delivery), as before nominations were checked.
kill -TERM $agencies
wait $agencies || true
for _ in $(seq "$runs"); do
    taskset -c 1 "$bin/accord-load" compliance --target 127.0.0.1:$port --concurrency 1 --seed-officers 0 \
        --duration "${seconds}s" --warmup 1s --json >> "$out/qualification.jsonl"
done
for clients in 1 16 64; do
    for _ in $(seq "$runs"); do
        taskset -c 1 "$bin/accord-load" evaluate --target 127.0.0.1:$port --concurrency $clients \
            --duration "${seconds}s" --warmup 1s --json >> "$out/qualification.jsonl"
    done
done
kill -TERM $server $standing
wait $server $standing || true
rm -rf "$qualification_data"
fi

if part supervision; then
echo "supervision: durable delegated-action records, then the report over 1,000,000 actions..." >&2
rm -f "$out/supervision.jsonl" "$out/supervision_report.jsonl" "$out/supervision_rss.json"
supervision_data=$(mktemp -d)
taskset -c 0 "$bin/accord-supervision" --port $port --admin-port off --log-level warning \
    --data-dir "$supervision_data" --rules-dir "$root/seeds/rules" --qualification 127.0.0.1:1 --intake 127.0.0.1:1 &
server=$!
sleep 1
# 1,000 agreements and 20,000 authorized officers (seeding again is a no-op), then actions.
for clients in 1 16 64; do
    for _ in $(seq "$runs"); do
        taskset -c 1 "$bin/accord-load" act --target 127.0.0.1:$port --concurrency $clients --seed-agreements 1000 \
            --seed-officers 20000 --duration "${seconds}s" --warmup 1s --json >> "$out/supervision.jsonl"
    done
done
kill -TERM $server
wait $server || true
rm -rf "$supervision_data"
# A fresh database for the report: 1,000 agreements, 20,000 officers, 1,000,000 actions.
supervision_data=$(mktemp -d)
taskset -c 0 "$bin/accord-supervision" --port $port --admin-port off --log-level warning \
    --data-dir "$supervision_data" --rules-dir "$root/seeds/rules" --qualification 127.0.0.1:1 --intake 127.0.0.1:1 &
server=$!
sleep 1
taskset -c 1 "$bin/accord-load" report --target 127.0.0.1:$port --concurrency 1 --seed-agreements 1000 \
    --seed-officers 20000 --seed-actions 1000000 --duration "${seconds}s" --warmup 1s --json \
    >> "$out/supervision_report.jsonl"
for _ in $(seq $((runs - 1))); do
    taskset -c 1 "$bin/accord-load" report --target 127.0.0.1:$port --concurrency 1 --seed-agreements 1000 \
        --seed-officers 20000 --duration "${seconds}s" --warmup 1s --json >> "$out/supervision_report.jsonl"
done
echo "{\"rss_peak_kib\":$(awk '/VmHWM/{print $2}' /proc/$server/status),\"database_bytes\":$(stat -c %s "$supervision_data/supervision/supervision.sqlite")}" \
    > "$out/supervision_rss.json"
kill -TERM $server
wait $server || true
rm -rf "$supervision_data"
fi

if part gateway; then
echo "gateway: routed echoes and gets against direct ones, and dossiers..." >&2
rm -f "$out/gateway.jsonl"
gateway_data=$(mktemp -d)
# The set without an internal credential (the check is one comparison per call); the services
# and the gateway on core 0, the load on core 1, as in the other rows.
taskset -c 0 "$bin/accord-intake" --port 17401 --admin-port off --log-level warning --data-dir "$gateway_data" \
    --seed-ice-dir "$root/seeds/ice" --qualification 127.0.0.1:17402 --supervision 127.0.0.1:17403 &
intake=$!
taskset -c 0 "$bin/accord-qualification" --port 17402 --admin-port off --log-level warning --data-dir "$gateway_data" \
    --rules-dir "$root/seeds/rules" --intake 127.0.0.1:17401 --supervision 127.0.0.1:17403 &
qualification=$!
taskset -c 0 "$bin/accord-supervision" --port 17403 --admin-port off --log-level warning --data-dir "$gateway_data" \
    --rules-dir "$root/seeds/rules" --qualification 127.0.0.1:17402 --intake 127.0.0.1:17401 &
supervision=$!
token=$("$bin/accord-gateway" create-token --data-dir "$gateway_data" --role program-office --name bench 2>/dev/null)
taskset -c 0 "$bin/accord-gateway" --port 17400 --admin-port off --log-level warning --data-dir "$gateway_data" \
    --intake 127.0.0.1:17401 --qualification 127.0.0.1:17402 --supervision 127.0.0.1:17403 &
gateway=$!
# The anchor: HAProxy relaying TCP to the same intake, one thread, on the gateway's core.
"$root/Tools/install-packages.sh" haproxy >&2
cat > "$gateway_data/haproxy.cfg" <<'CONFIG'
global
    nbthread 1
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
listen relay
    bind 127.0.0.1:17408
    server intake 127.0.0.1:17401
CONFIG
taskset -c 0 haproxy -f "$gateway_data/haproxy.cfg" -db &
haproxy=$!
# SwiftNIO's floor for a hop: the same TCP relay in plain SwiftNIO, one event loop, same core.
taskset -c 0 "$root/Benchmarks/.build/release/NIORelayBaseline" 17411 17401 &
nio_relay=$!
sleep 4
for clients in 1 64; do
    for payload in 64 1024; do
        for _ in $(seq "$runs"); do
            taskset -c 1 "$bin/accord-load" echo --target 127.0.0.1:17401 --concurrency $clients --payload $payload \
                --duration "${seconds}s" --warmup 1s --json | sed 's/^{/{"via":"direct",/' >> "$out/gateway.jsonl"
            taskset -c 1 "$bin/accord-load" echo --target 127.0.0.1:17408 --concurrency $clients --payload $payload \
                --duration "${seconds}s" --warmup 1s --json | sed 's/^{/{"via":"haproxy",/' >> "$out/gateway.jsonl"
            taskset -c 1 "$bin/accord-load" echo --target 127.0.0.1:17411 --concurrency $clients --payload $payload \
                --duration "${seconds}s" --warmup 1s --json | sed 's/^{/{"via":"nio-relay",/' >> "$out/gateway.jsonl"
            taskset -c 1 "$bin/accord-load" echo --target 127.0.0.1:17400 --token "$token" --echo-backend intake \
                --concurrency $clients --payload $payload --duration "${seconds}s" --warmup 1s --json \
                | sed 's/^{/{"via":"gateway",/' >> "$out/gateway.jsonl"
        done
    done
    for _ in $(seq "$runs"); do
        taskset -c 1 "$bin/accord-load" get --target 127.0.0.1:17401 --concurrency $clients \
            --duration "${seconds}s" --warmup 1s --json | sed 's/^{/{"via":"direct",/' >> "$out/gateway.jsonl"
        taskset -c 1 "$bin/accord-load" get --target 127.0.0.1:17408 --concurrency $clients \
            --duration "${seconds}s" --warmup 1s --json | sed 's/^{/{"via":"haproxy",/' >> "$out/gateway.jsonl"
        taskset -c 1 "$bin/accord-load" get --target 127.0.0.1:17400 --token "$token" --concurrency $clients \
            --duration "${seconds}s" --warmup 1s --json | sed 's/^{/{"via":"gateway",/' >> "$out/gateway.jsonl"
    done
done
for clients in 1 16; do
    for _ in $(seq "$runs"); do
        taskset -c 1 "$bin/accord-load" dossier --target 127.0.0.1:17400 --token "$token" --concurrency $clients \
            --duration "${seconds}s" --warmup 1s --json | sed 's/^{/{"via":"gateway",/' >> "$out/gateway.jsonl"
    done
done
kill -TERM $gateway $intake $qualification $supervision $haproxy $nio_relay
wait $gateway $intake $qualification $supervision $haproxy $nio_relay || true
rm -rf "$gateway_data"
fi

if part tls; then
echo "TLS: echo directly and through the gateway, over TLS beside the same in clear..." >&2
rm -f "$out/tls.jsonl"
tls_data=$(mktemp -d)
"$root/Tools/tls.sh" init "$tls_data/tls" > /dev/null
certificate() { echo "--tls-certificate $tls_data/tls/$1.pem --tls-key $tls_data/tls/$1.key --tls-ca $tls_data/tls/ca.pem"; }
# Two sets side by side on core 0, each an intake behind a gateway (echo needs nothing else;
# the other backends are left unreachable): in clear on 17401 and 17400, over TLS on 17421 and
# 17420 (the gateway serving TLS, intake only mutual TLS).
# shellcheck disable=SC2046
for set in clear tls; do
    mkdir -p "$tls_data/set-$set"
    if [ $set = clear ]; then base=17400; else base=17420; fi
    intake_flags=(); gateway_flags=()
    if [ $set = tls ]; then
        read -ra intake_flags <<< "$(certificate intake)"
        read -ra gateway_flags <<< "$(certificate gateway)"
    fi
    taskset -c 0 "$bin/accord-intake" --port $((base + 1)) --admin-port off --log-level warning \
        --data-dir "$tls_data/set-$set" --qualification 127.0.0.1:1 --supervision 127.0.0.1:1 "${intake_flags[@]}" &
    eval "intake_$set=\$!"
    "$bin/accord-gateway" create-token --data-dir "$tls_data/set-$set" --role program-office --name bench \
        > "$tls_data/set-$set/token" 2>/dev/null
    taskset -c 0 "$bin/accord-gateway" --port $base --admin-port off --log-level warning --data-dir "$tls_data/set-$set" \
        --intake 127.0.0.1:$((base + 1)) --qualification 127.0.0.1:1 --supervision 127.0.0.1:1 "${gateway_flags[@]}" &
    eval "gateway_$set=\$!"
done
sleep 4
direct_tls=(--tls-ca "$tls_data/tls/ca.pem" --tls-certificate "$tls_data/tls/client.pem"
    --tls-key "$tls_data/tls/client.key" --tls-server-name intake)
for clients in 1 64; do
    for payload in 64 1024; do
        for _ in $(seq "$runs"); do
            load() { taskset -c 1 "$bin/accord-load" echo --concurrency $clients --payload $payload \
                --duration "${seconds}s" --warmup 1s --json "$@"; }
            load --target 127.0.0.1:17401 | sed 's/^{/{"via":"direct","tls":false,/' >> "$out/tls.jsonl"
            load --target 127.0.0.1:17421 "${direct_tls[@]}" | sed 's/^{/{"via":"direct","tls":true,/' >> "$out/tls.jsonl"
            load --target 127.0.0.1:17400 --token "$(cat "$tls_data/set-clear/token")" --echo-backend intake \
                | sed 's/^{/{"via":"gateway","tls":false,/' >> "$out/tls.jsonl"
            load --target 127.0.0.1:17420 --token "$(cat "$tls_data/set-tls/token")" --echo-backend intake \
                --tls-ca "$tls_data/tls/ca.pem" | sed 's/^{/{"via":"gateway","tls":true,/' >> "$out/tls.jsonl"
        done
    done
done
# shellcheck disable=SC2154
kill -TERM "$gateway_clear" "$gateway_tls" "$intake_clear" "$intake_tls"
wait "$gateway_clear" "$gateway_tls" "$intake_clear" "$intake_tls" || true
rm -rf "$tls_data"
fi

if part mixed; then
echo "mixed: a day's traffic through the gateway, at saturation and at half of it..." >&2
rm -f "$out/mixed.jsonl" "$out/mixed_rss.json"
mixed_data=$(mktemp -d)
taskset -c 0 "$bin/accord-intake" --port 17401 --admin-port off --log-level warning --data-dir "$mixed_data" \
    --seed-ice-dir "$root/seeds/ice" --qualification 127.0.0.1:17402 --supervision 127.0.0.1:17403 &
intake=$!
taskset -c 0 "$bin/accord-qualification" --port 17402 --admin-port off --log-level warning --data-dir "$mixed_data" \
    --rules-dir "$root/seeds/rules" --intake 127.0.0.1:17401 --supervision 127.0.0.1:17403 &
qualification=$!
taskset -c 0 "$bin/accord-supervision" --port 17403 --admin-port off --log-level warning --data-dir "$mixed_data" \
    --rules-dir "$root/seeds/rules" --qualification 127.0.0.1:17402 --intake 127.0.0.1:17401 &
supervision=$!
# The program office runs the day; an agency records its own actions, with a token the operator's
# gives it (docs/OPERATIONS.md, "Who may do what").
token=$("$bin/accord-gateway" create-token --data-dir "$mixed_data" --role program-office --name bench 2>/dev/null)
operator_token=$("$bin/accord-gateway" create-token --data-dir "$mixed_data" --role operator --name bench 2>/dev/null)
taskset -c 0 "$bin/accord-gateway" --port 17400 --admin-port off --log-level warning --data-dir "$mixed_data" \
    --intake 127.0.0.1:17401 --qualification 127.0.0.1:17402 --supervision 127.0.0.1:17403 &
gateway=$!
sleep 4
# The real ICE lists plus 10,000 generated agencies (intake) and 100,000 officers (certified in
# qualification, authorized in supervision under 1,000 agreements), all through the API.
taskset -c 1 "$bin/accord-load" submit --target 127.0.0.1:17401 --seed-agencies 10000 --duration 1s --warmup 0s \
    --max-error-rate 1 --json > /dev/null
taskset -c 1 "$bin/accord-load" compliance --target 127.0.0.1:17402 --intake 127.0.0.1:17401 --seed-officers 100000 \
    --duration 1s --warmup 0s \
    --max-error-rate 1 --json > /dev/null
mixed=(--target 127.0.0.1:17400 --token "$token" --operator-token "$operator_token" --seed-agreements 1000
    --seed-officers 100000)
taskset -c 1 "$bin/accord-load" act "${mixed[@]}" --duration 1s --warmup 0s --max-error-rate 1 --json > /dev/null
for _ in $(seq "$runs"); do
    taskset -c 1 "$bin/accord-load" mixed "${mixed[@]}" --concurrency 64 --duration "${seconds}s" --warmup 1s \
        --max-error-rate 1 --json >> "$out/mixed.jsonl"
done
saturation=$(python3 -c "import json,sys; rows=[json.loads(l) for l in open(sys.argv[1])]; \
rows.sort(key=lambda r: r['throughput']); print(rows[len(rows)//2]['throughput'])" "$out/mixed.jsonl")
for _ in $(seq "$runs"); do
    taskset -c 1 "$bin/accord-load" mixed "${mixed[@]}" --rate $((saturation / 2)) --duration "${seconds}s" --warmup 1s \
        --max-error-rate 1 --json >> "$out/mixed.jsonl"
done
rss() { awk '/VmHWM/{print $2}' "/proc/$1/status"; }
echo "{\"intake\":$(rss $intake),\"qualification\":$(rss $qualification),\"supervision\":$(rss $supervision),\"gateway\":$(rss $gateway)}" \
    > "$out/mixed_rss.json"
kill -TERM $gateway $intake $qualification $supervision
wait $gateway $intake $qualification $supervision || true
rm -rf "$mixed_data"
fi

if part micro; then
echo "micro-benchmarks..." >&2
(cd "$root/Benchmarks" && swift package --allow-writing-to-package-directory benchmark --no-progress \
    --format markdown 2>/dev/null) > "$out/micro.md" || echo "(micro-benchmarks failed to run)" > "$out/micro.md"
fi

BENCH_ONLY=$only python3 "$root/Tools/bench_report.py" "$out" "$runs" "$seconds" "$root/docs/PERFORMANCE.md"
echo "wrote docs/PERFORMANCE.md" >&2
