#!/usr/bin/env bash
# Durable writes on each engine, with PostgreSQL's own durable simple-update benchmark
# (pgbench -N) on the same server in the same run as the anchor. Written into
# docs/PERFORMANCE.md between "<!-- storage:start -->" and "<!-- storage:end -->".
#
#   Tools/bench-storage.sh BIN_DIR [RUNS] [SECONDS]
#
# Rows: agency registrations and request submissions (accord-load register and submit, straight
# to intake) and recorded actions (act, straight to supervision) on SQLite; on PostgreSQL with one
# replica of the service; with two replicas on one database (the clients split between them, the
# throughputs added); pgbench -N at the same client counts. Each row is the median of RUNS
# runs of SECONDS after a 1 s warm-up. The server, PostgreSQL and the load share the machine's
# cores (no pinning: PostgreSQL's own processes need them too).
set -euo pipefail
bin=${1:?usage: bench-storage.sh BIN_DIR [RUNS] [SECONDS]}
runs=${2:-3}
seconds=${3:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/.build-bench/storage"
rm -rf "$out" && mkdir -p "$out"
bindir=$(pg_config --bindir)
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pgdir=$(mktemp -d /tmp/accord-bench-postgres.XXXXXX)
pgport=$(free_port)
data=$(mktemp -d)
cleanup() {
    kill $(jobs -p) 2>/dev/null || true
    wait 2>/dev/null || true
    "$root/Tools/postgres.sh" stop "$pgdir" || true
    rm -rf "$pgdir" "$data"
}
trap cleanup EXIT
"$root/Tools/postgres.sh" start "$pgdir" "$pgport"
url() { "$root/Tools/postgres.sh" url "$pgport" "$1"; }
wait_port() {
    for _ in $(seq 100); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 1)" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on $1" >&2
    return 1
}
# What each scenario needs first, and its service.
extra() {
    case $1 in
    register) echo "" ;;
    submit) echo "--seed-agencies 8000" ;;
    act) echo "--seed-agreements 16 --seed-officers 256" ;;
    esac
}
service_of() { case $1 in act) echo supervision ;; *) echo intake ;; esac; }
load() { # SCENARIO PORT CLIENTS FILE
    # shellcheck disable=SC2046
    "$bin/accord-load" "$1" --target "127.0.0.1:$2" --concurrency "$3" --duration "${seconds}s" --warmup 1s \
        $(extra "$1") --json --max-error-rate 1 >> "$4"
}
start_service() { # SERVICE PORT DATA [POSTGRES_URL]
    local storage=()
    [ -n "${4:-}" ] && storage=(--postgres "$4" --postgres-pool 32)
    case $1 in
    intake) "$bin/accord-intake" --port "$2" --admin-port off --log-level warning --data-dir "$3" "${storage[@]}" \
        --qualification 127.0.0.1:1 --supervision 127.0.0.1:1 2>/dev/null & ;;
    supervision) "$bin/accord-supervision" --port "$2" --admin-port off --log-level warning --data-dir "$3" \
        "${storage[@]}" --rules-dir "$root/seeds/rules" --qualification 127.0.0.1:1 --intake 127.0.0.1:1 2>/dev/null & ;;
    esac
    pids+=($!)
    wait_port "$2"
}
stop_services() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    pids=()
}
pids=()
scenarios="register submit act"

echo "pgbench -N (the anchor)..." >&2
"$root/Tools/postgres.sh" createdb "$pgport" pgbench
"$bindir/pgbench" -h 127.0.0.1 -p "$pgport" -U postgres -i -s 10 -q pgbench >/dev/null 2>&1
for clients in 1 16 64; do
    for _ in $(seq "$runs"); do
        "$bindir/pgbench" -h 127.0.0.1 -p "$pgport" -U postgres -N -c "$clients" -j 2 -T "$seconds" pgbench 2>/dev/null \
            | sed -n 's/^tps = \([0-9.]*\).*/{"clients":'"$clients"',"throughput":\1}/p' >> "$out/pgbench.jsonl"
    done
done

for scenario in $scenarios; do
    service=$(service_of "$scenario")
    echo "$scenario on SQLite..." >&2
    port=$(free_port)
    start_service "$service" "$port" "$data/sqlite-$scenario"
    for clients in 1 16 64; do
        for _ in $(seq "$runs"); do load "$scenario" "$port" "$clients" "$out/sqlite-$scenario.jsonl"; done
    done
    stop_services

    echo "$scenario on PostgreSQL, one replica..." >&2
    "$root/Tools/postgres.sh" createdb "$pgport" "one_$scenario"
    port=$(free_port)
    start_service "$service" "$port" "$data/one-$scenario" "$(url "one_$scenario")"
    for clients in 1 16 64; do
        for _ in $(seq "$runs"); do load "$scenario" "$port" "$clients" "$out/postgres1-$scenario.jsonl"; done
    done
    stop_services

    echo "$scenario on PostgreSQL, two replicas on one database..." >&2
    "$root/Tools/postgres.sh" createdb "$pgport" "two_$scenario"
    first=$(free_port)
    second=$(free_port)
    start_service "$service" "$first" "$data/two-a-$scenario" "$(url "two_$scenario")"
    start_service "$service" "$second" "$data/two-b-$scenario" "$(url "two_$scenario")"
    # Seed once, through one replica, so that the two loads do not seed the same rows at once.
    load "$scenario" "$first" 1 /dev/null
    for clients in 16 64; do
        for run in $(seq "$runs"); do
            load "$scenario" "$first" $((clients / 2)) "$out/two-a-$run-$clients.json" &
            a=$!
            load "$scenario" "$second" $((clients / 2)) "$out/two-b-$run-$clients.json"
            wait $a
            python3 - "$out" "$run" "$clients" >> "$out/postgres2-$scenario.jsonl" <<'PY'
import json, sys
out, run, clients = sys.argv[1:]
a, b = (json.load(open(f"{out}/two-{x}-{run}-{clients}.json")) for x in "ab")
print(json.dumps({"concurrency": int(clients), "throughput": a["throughput"] + b["throughput"],
                  "p50": max(a["latency_us"]["p50"], b["latency_us"]["p50"]),
                  "p99": max(a["latency_us"]["p99"], b["latency_us"]["p99"]),
                  "error_count": a["error_count"] + b["error_count"]}))
PY
            rm -f "$out/two-a-$run-$clients.json" "$out/two-b-$run-$clients.json"
        done
    done
    stop_services
done

python3 - "$out" "$root/docs/PERFORMANCE.md" "$runs" "$seconds" "$scenarios" <<'PY'
import json, statistics, sys
out, doc, runs, seconds, scenarios = sys.argv[1:]
def rows(name):
    try:
        return [json.loads(line) for line in open(f"{out}/{name}.jsonl") if line.strip()]
    except FileNotFoundError:
        return []
def median(values):
    return statistics.median(values)
anchor = {c: median([r["throughput"] for r in rows("pgbench") if r["clients"] == c]) for c in (1, 16, 64)}
names = {"register": "agency registrations", "submit": "request submissions", "act": "recorded actions"}
lines = ["| writes | clients | SQLite (writes/s, p50 / p99 ms) | PostgreSQL, 1 replica | PostgreSQL, 2 replicas | pgbench -N (TPS) | 2 replicas ÷ pgbench |",
         "|---|---|---|---|---|---|---|"]
errors = 0
def cell(items, c):
    global errors
    found = [r for r in items if r.get("concurrency") == c]
    if not found: return "—", None
    errors += sum(r.get("error_count", 0) for r in found)
    t = median([r["throughput"] for r in found])
    p50 = median([r["p50"] if "p50" in r else r["latency_us"]["p50"] for r in found])
    p99 = median([r["p99"] if "p99" in r else r["latency_us"]["p99"] for r in found])
    return f"{t:,.0f} ({p50 / 1000:.1f} / {p99 / 1000:.1f})", t
for scenario in scenarios.split():
    for c in (1, 16, 64):
        sqlite, _ = cell(rows(f"sqlite-{scenario}"), c)
        one, _ = cell(rows(f"postgres1-{scenario}"), c)
        two, t2 = cell(rows(f"postgres2-{scenario}"), c)
        ratio = f"{t2 / anchor[c]:.2f}" if t2 else "—"
        lines.append(f"| {names[scenario]} | {c} | {sqlite} | {one} | {two} | {anchor[c]:,.0f} | {ratio} |")
table = "\n".join(lines)
text = open(doc).read()
start, end = "<!-- storage:start -->", "<!-- storage:end -->"
block = (f"{start}\n{table}\n\nMedian of {runs} runs of {seconds} s each, failed calls in all runs: {errors} "
         f"(`Tools/bench-storage.sh .build/release {runs} {seconds}`).\n{end}")
if start in text:
    text = text[:text.index(start)] + block + text[text.index(end) + len(end):]
else:
    text += "\n## Durable writes on SQLite and PostgreSQL\n\n" + block + "\n"
open(doc, "w").write(text)
print(table)
PY
