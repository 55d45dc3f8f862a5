#!/usr/bin/env bash
# Durable writes on each engine, with PostgreSQL's own durable simple-update benchmark
# (pgbench -N) on the same server in the same run as the anchor. Written into
# docs/PERFORMANCE.md between "<!-- storage:start -->" and "<!-- storage:end -->".
#
#   Tools/bench-storage.sh BIN_DIR [RUNS] [SECONDS]
#
# Rows: agency registrations (accord-load register, straight to intake) on SQLite; on PostgreSQL
# with one intake replica; with two replicas on one database (the clients split between them,
# the throughputs added); pgbench -N at the same client counts. Each row is the median of RUNS
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
load() { # PORT CLIENTS FILE
    "$bin/accord-load" register --target "127.0.0.1:$1" --concurrency "$2" --duration "${seconds}s" --warmup 1s \
        --json --max-error-rate 1 >> "$3"
}

echo "pgbench -N (the anchor)..." >&2
"$root/Tools/postgres.sh" createdb "$pgport" pgbench
"$bindir/pgbench" -h 127.0.0.1 -p "$pgport" -U postgres -i -s 10 -q pgbench >/dev/null 2>&1
for clients in 1 16 64; do
    for _ in $(seq "$runs"); do
        "$bindir/pgbench" -h 127.0.0.1 -p "$pgport" -U postgres -N -c "$clients" -j 2 -T "$seconds" pgbench 2>/dev/null \
            | sed -n 's/^tps = \([0-9.]*\).*/{"clients":'"$clients"',"throughput":\1}/p' >> "$out/pgbench.jsonl"
    done
done

echo "registrations on SQLite..." >&2
port=$(free_port)
"$bin/accord-intake" --port "$port" --admin-port off --log-level warning --data-dir "$data/sqlite" 2>/dev/null &
wait_port "$port"
for clients in 1 16 64; do
    for _ in $(seq "$runs"); do load "$port" "$clients" "$out/sqlite.jsonl"; done
done
kill %%

echo "registrations on PostgreSQL, one replica..." >&2
"$root/Tools/postgres.sh" createdb "$pgport" accord_one
port=$(free_port)
"$bin/accord-intake" --port "$port" --admin-port off --log-level warning --data-dir "$data/one" \
    --postgres "$(url accord_one)" --postgres-pool 32 2>/dev/null &
wait_port "$port"
for clients in 1 16 64; do
    for _ in $(seq "$runs"); do load "$port" "$clients" "$out/postgres1.jsonl"; done
done
kill %%

echo "registrations on PostgreSQL, two replicas on one database..." >&2
"$root/Tools/postgres.sh" createdb "$pgport" accord_two
first=$(free_port)
second=$(free_port)
for p in "$first" "$second"; do
    "$bin/accord-intake" --port "$p" --admin-port off --log-level warning --data-dir "$data/two-$p" \
        --postgres "$(url accord_two)" --postgres-pool 32 2>/dev/null &
done
wait_port "$first"
wait_port "$second"
for clients in 16 64; do
    for run in $(seq "$runs"); do
        load "$first" $((clients / 2)) "$out/two-a-$run-$clients.json" &
        a=$!
        load "$second" $((clients / 2)) "$out/two-b-$run-$clients.json"
        wait $a
        python3 - "$out" "$run" "$clients" >> "$out/postgres2.jsonl" <<'PY'
import json, sys
out, run, clients = sys.argv[1:]
a, b = (json.load(open(f"{out}/two-{x}-{run}-{clients}.json")) for x in "ab")
print(json.dumps({"concurrency": int(clients), "throughput": a["throughput"] + b["throughput"],
                  "p50": max(a["latency_us"]["p50"], b["latency_us"]["p50"]),
                  "p99": max(a["latency_us"]["p99"], b["latency_us"]["p99"]),
                  "errors": a["error_count"] + b["error_count"]}))
PY
    done
done

python3 - "$out" "$root/docs/PERFORMANCE.md" "$runs" "$seconds" <<'PY'
import json, statistics, sys
out, doc, runs, seconds = sys.argv[1:]
def rows(name):
    return [json.loads(line) for line in open(f"{out}/{name}.jsonl") if line.strip()]
def median(items, key):
    return statistics.median(item[key] for item in items)
anchor = {c: median([r for r in rows("pgbench") if r["clients"] == c], "throughput") for c in (1, 16, 64)}
lines = ["| clients | SQLite (writes/s, p50 / p99 ms) | PostgreSQL, 1 replica | PostgreSQL, 2 replicas | pgbench -N (TPS) | 2 replicas ÷ pgbench |",
         "|---|---|---|---|---|---|"]
def cell(items, c, throughput="throughput"):
    found = [r for r in items if r.get("concurrency") == c]
    if not found: return "—", None
    t = median(found, throughput)
    p50 = median(found, "p50") if "p50" in found[0] else median([{"v": r["latency_us"]["p50"]} for r in found], "v")
    p99 = median(found, "p99") if "p99" in found[0] else median([{"v": r["latency_us"]["p99"]} for r in found], "v")
    return f"{t:,.0f} ({p50 / 1000:.1f} / {p99 / 1000:.1f})", t
for c in (1, 16, 64):
    sqlite, _ = cell(rows("sqlite"), c)
    one, _ = cell(rows("postgres1"), c)
    two, t2 = cell(rows("postgres2"), c)
    ratio = f"{t2 / anchor[c]:.2f}" if t2 else "—"
    lines.append(f"| {c} | {sqlite} | {one} | {two} | {anchor[c]:,.0f} | {ratio} |")
table = "\n".join(lines)
text = open(doc).read()
start, end = "<!-- storage:start -->", "<!-- storage:end -->"
block = f"{start}\n{table}\n\nMedian of {runs} runs of {seconds} s each (`Tools/bench-storage.sh .build/release {runs} {seconds}`).\n{end}"
if start in text:
    text = text[:text.index(start)] + block + text[text.index(end) + len(end):]
else:
    text += "\n## Durable writes on SQLite and PostgreSQL\n\n" + block + "\n"
open(doc, "w").write(text)
print(table)
PY
