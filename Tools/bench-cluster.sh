#!/usr/bin/env bash
# The mixed day (accord-load mixed) through the gateway on the cluster against the set make run
# starts, in one run: on SQLite with one process per service, and on a private PostgreSQL 15 with
# two replicas of each service (the gateway over all of them). Records the peak resident memory
# (VmHWM) of every process. Written into docs/PERFORMANCE.md between "<!-- cluster:start -->"
# and "<!-- cluster:end -->".
#
#   Tools/bench-cluster.sh BIN_DIR [RUNS] [SECONDS]
#
# Both sets get the same seeds through the API first: the ICE lists, 2,000 generated agencies,
# 5,000 officers certified in qualification and authorized in supervision under 200 agreements.
# Then RUNS closed-loop runs of SECONDS at 64 calls in flight (the saturation point). Nothing is
# pinned: the services, PostgreSQL and the load share the machine's cores.
set -euo pipefail
bin=${1:?usage: bench-cluster.sh BIN_DIR [RUNS] [SECONDS]}
runs=${2:-3}
seconds=${3:-10}
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/.build-bench/cluster"
rm -rf "$out" && mkdir -p "$out"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pgdir=$(mktemp -d /tmp/accord-bench-cluster-pg.XXXXXX)
pgport=$(free_port)
data=$(mktemp -d)
pids=()
names=()
stop_set() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    pids=()
    names=()
}
cleanup() {
    stop_set
    "$root/Tools/postgres.sh" stop "$pgdir" || true
    rm -rf "$pgdir" "$data"
}
trap cleanup EXIT
wait_port() {
    for _ in $(seq 300); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 1)" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on $1" >&2
    return 1
}
quiet() { "$@" --max-error-rate 1 --json > /dev/null; }

run_set() { # NAME REPLICAS POSTGRES(yes|no)
    local name=$1 replicas=$2 postgres=$3 service port i
    declare -A ports
    for service in intake qualification supervision; do
        ports[$service]=""
        for ((i = 0; i < replicas; i++)); do ports[$service]+="${ports[$service]:+,}127.0.0.1:$(free_port)"; done
    done
    storage() { [ "$postgres" = yes ] && echo "--postgres $("$root/Tools/postgres.sh" url "$pgport" "${name}_$1")"; }
    if [ "$postgres" = yes ]; then
        for service in intake qualification supervision gateway; do
            "$root/Tools/postgres.sh" createdb "$pgport" "${name}_$service"
        done
    fi
    local dir="$data/$name"
    mkdir -p "$dir"
    for service in intake qualification supervision; do
        i=0
        for endpoint in ${ports[$service]//,/ }; do
            port=${endpoint##*:}
            local peers=()
            case $service in
            intake) peers=(--seed-ice-dir "$root/seeds/ice" --qualification "${ports[qualification]}"
                --supervision "${ports[supervision]}") ;;
            qualification) peers=(--rules-dir "$root/seeds/rules" --intake "${ports[intake]}"
                --supervision "${ports[supervision]}") ;;
            supervision) peers=(--rules-dir "$root/seeds/rules" --qualification "${ports[qualification]}"
                --intake "${ports[intake]}") ;;
            esac
            # shellcheck disable=SC2046
            "$bin/accord-$service" --port "$port" --admin-port off --log-level warning --data-dir "$dir/$i" \
                $(storage "$service") "${peers[@]}" 2>> "$dir/$service-$i.log" &
            pids+=($!)
            names+=("$service-$i")
            wait_port "$port"
            i=$((i + 1))
        done
    done
    # shellcheck disable=SC2046
    local token operator_token
    token=$("$bin/accord-gateway" create-token --data-dir "$dir/0" $(storage gateway) --role program-office \
        --name bench 2>/dev/null)
    # shellcheck disable=SC2046
    operator_token=$("$bin/accord-gateway" create-token --data-dir "$dir/0" $(storage gateway) --role operator \
        --name bench 2>/dev/null)
    local gateway
    gateway=$(free_port)
    # shellcheck disable=SC2046
    "$bin/accord-gateway" --port "$gateway" --admin-port off --log-level warning --data-dir "$dir/0" \
        $(storage gateway) --intake "${ports[intake]}" --qualification "${ports[qualification]}" \
        --supervision "${ports[supervision]}" 2>> "$dir/gateway.log" &
    pids+=($!)
    names+=("gateway")
    wait_port "$gateway"
    local first_intake=${ports[intake]%%,*} first_qualification=${ports[qualification]%%,*}
    echo "$name: seeding..." >&2
    quiet "$bin/accord-load" submit --target "$first_intake" --seed-agencies 2000 --duration 1s --warmup 0s
    quiet "$bin/accord-load" compliance --target "$first_qualification" --intake "$first_intake" --seed-officers 5000 \
        --duration 1s --warmup 0s
    # Through the gateway: the agreements' agencies are intake's, each given a token to act with.
    quiet "$bin/accord-load" act --target "127.0.0.1:$gateway" --token "$token" --operator-token "$operator_token" \
        --seed-agreements 200 --seed-officers 5000 --duration 1s --warmup 0s
    echo "$name: mixed day..." >&2
    for _ in $(seq "$runs"); do
        "$bin/accord-load" mixed --target "127.0.0.1:$gateway" --token "$token" --operator-token "$operator_token" \
            --seed-agreements 200 \
            --seed-officers 5000 --concurrency 64 --duration "${seconds}s" --warmup 1s --max-error-rate 1 --json \
            | python3 -c "import json,sys; r=json.load(sys.stdin); r['set']='$name'; print(json.dumps(r))" \
            >> "$out/mixed.jsonl"
    done
    local index=0
    {
        printf '{"set":"%s"' "$name"
        for pid in "${pids[@]}"; do
            printf ',"%s":%s' "${names[$index]}" "$(awk '/VmHWM/{print $2}' "/proc/$pid/status")"
            index=$((index + 1))
        done
        printf '}\n'
    } >> "$out/rss.jsonl"
    stop_set
}

run_set sqlite 1 no
"$root/Tools/postgres.sh" start "$pgdir" "$pgport"
run_set cluster 2 yes

python3 - "$out" "$root/docs/PERFORMANCE.md" "$runs" "$seconds" <<'PY'
import json, statistics, sys
out, doc, runs, seconds = sys.argv[1:]
mixed = [json.loads(line) for line in open(f"{out}/mixed.jsonl") if line.strip()]
rss = {r["set"]: r for r in (json.loads(line) for line in open(f"{out}/rss.jsonl") if line.strip())}
labels = {"sqlite": "make run: SQLite, one process per service",
          "cluster": "make cluster: PostgreSQL, two replicas per service"}
lines = ["| set | calls/s (runs) | p50 ms | p99 ms | p99.9 ms | errors | peak RSS per process (MiB) |",
         "|---|---|---|---|---|---|---|"]
for name in ("sqlite", "cluster"):
    rows = sorted((r for r in mixed if r["set"] == name), key=lambda r: r["throughput"])
    if not rows: continue
    mid = rows[len(rows) // 2]
    each = " / ".join(f"{r['throughput']:,}" for r in rows)
    memory = ", ".join(f"{k} {v / 1024:.0f}" for k, v in rss.get(name, {}).items() if k != "set")
    lat = mid["latency_us"]
    errors = sum(r["error_count"] for r in rows)
    lines.append(f"| {labels[name]} | **{mid['throughput']:,}** ({each}) | {lat['p50'] / 1000:.1f} | "
                 f"{lat['p99'] / 1000:.1f} | {lat['p999'] / 1000:.1f} | {errors} | {memory} |")
table = "\n".join(lines)
text = open(doc).read()
start, end = "<!-- cluster:start -->", "<!-- cluster:end -->"
block = (f"{start}\n{table}\n\nMedian of {runs} runs of {seconds} s at 64 calls in flight "
         f"(`Tools/bench-cluster.sh .build/release {runs} {seconds}`).\n{end}")
if start in text:
    text = text[:text.index(start)] + block + text[text.index(end) + len(end):]
else:
    text += "\n## The mixed day on the cluster\n\n" + block + "\n"
open(doc, "w").write(text)
print(table)
PY
