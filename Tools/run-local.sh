#!/usr/bin/env bash
# Runs the Accord set on loopback, in the foreground: intake, qualification, supervision, the
# gateway in front of them, and the echo diagnostics server; Ctrl-C stops them gracefully.
# Data lives under ./data. The first run imports the ICE lists into intake, makes the internal
# credential the services share, issues a demo token per role into data/tokens.env, and makes a
# demo supervisor and two certified officers through the CLI.
#
# With --cluster (make cluster) the data lives in a private PostgreSQL 15 server instead, under
# data/postgres on 127.0.0.1:${ACCORD_POSTGRES_PORT:-7432}, one database per service, and two
# replicas of each service run against it (intake 7401 and 7411, qualification 7402 and 7412,
# supervision 7403 and 7413); the gateway on 7400 balances over all of them. Ctrl-C stops
# everything, PostgreSQL included. The cluster runs TLS: a private CA and a certificate per
# component are made under data/tls on its first start (Tools/tls.sh), the gateway serves TLS 1.3
# and the services take calls only over mutual TLS. make run stays in clear on loopback.
# data/connection.env says how the CLI reaches the set (ACCORD_GATEWAY, ACCORD_TLS_CA).
#
# ACCORD_SIMULATED_CLOCK=START with ACCORD_NON_PRODUCTION=1 runs every service on a simulated
# clock (a staging or training set; `accord clock advance` moves it forward); the variables pass
# through to every process.
# Usage: Tools/run-local.sh BIN_DIR [--cluster]
set -euo pipefail
bin=${1:?usage: run-local.sh BIN_DIR [--cluster]}
cluster=false
[ "${2:-}" = --cluster ] && cluster=true
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p data
gateway_port=${ACCORD_GATEWAY_PORT:-7400}
intake_port=${ACCORD_INTAKE_PORT:-7401}
qualification_port=${ACCORD_QUALIFICATION_PORT:-7402}
supervision_port=${ACCORD_SUPERVISION_PORT:-7403}
replicas=1
$cluster && replicas=2
# Every replica's port: the first as configured, the next ten above it.
ports() { local port=$1 i; for ((i = 0; i < replicas; i++)); do echo $((port + 10 * i)); done; }
endpoints() { ports "$1" | sed 's/^/127.0.0.1:/' | paste -sd, -; }
postgres_port=${ACCORD_POSTGRES_PORT:-7432}
# Where a service keeps its data: SQLite under data/, or its own PostgreSQL database.
storage() {
    if $cluster; then
        echo "--postgres $("$root/Tools/postgres.sh" url "$postgres_port" "accord_$1")"
    fi
}
pids=()
stop() {
    echo "stopping..."
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait
    if $cluster; then "$root/Tools/postgres.sh" stop "$root/data/postgres"; fi
    exit 0
}
trap stop INT TERM
if $cluster; then
    "$root/Tools/postgres.sh" start "$root/data/postgres" "$postgres_port"
    for service in intake qualification supervision gateway; do
        "$root/Tools/postgres.sh" createdb "$postgres_port" "accord_$service"
    done
fi
credential=data/internal-credential
if [ ! -s "$credential" ]; then
    (umask 077 && head -c 32 /dev/urandom | base64 | tr -d '\n=' > "$credential")
fi
first_run=false
if [ ! -s data/tokens.env ]; then
    first_run=true
    {
        echo "# Demo bearer tokens of make run, one per role: source this file, then export ACCORD_TOKEN."
        for role in operator program-office auditor; do
            variable=ACCORD_TOKEN_$(echo "$role" | tr 'a-z-' 'A-Z_')
            # shellcheck disable=SC2046
            echo "$variable=$("$bin/accord-gateway" create-token --data-dir data $(storage gateway) --role "$role" \
                --name "demo $role" 2>/dev/null)"
        done
        # shellcheck disable=SC2046
        echo "ACCORD_TOKEN_SUPERVISOR=$("$bin/accord-gateway" create-token --data-dir data $(storage gateway) \
            --role supervisor --scope sv_1 --name "demo supervisor" 2>/dev/null)"
        # shellcheck disable=SC2046
        echo "ACCORD_TOKEN_AGENCY=$("$bin/accord-gateway" create-token --data-dir data $(storage gateway) \
            --role agency --scope ag_1 --name "demo agency coordinator" 2>/dev/null)"
    } > data/tokens.env
    chmod 600 data/tokens.env
fi
common=(--data-dir data --internal-credential-file "$credential")
# Each process's TLS flags, in the cluster.
tls() { $cluster && echo "--tls-certificate data/tls/$1.pem --tls-key data/tls/$1.key --tls-ca data/tls/ca.pem"; true; }
if $cluster; then
    "$root/Tools/tls.sh" init data/tls | sed 's/^/  /'
    tls_ca="$root/data/tls/ca.pem"
else
    tls_ca=""
fi
printf '# How the CLI reaches this set; made at each start of Tools/run-local.sh.\nexport ACCORD_GATEWAY=${ACCORD_GATEWAY:-127.0.0.1:%s}\nexport ACCORD_TLS_CA=%s\n' \
    "$gateway_port" "$tls_ca" > data/connection.env
qualification=$(endpoints "$qualification_port")
supervision=$(endpoints "$supervision_port")
intake=$(endpoints "$intake_port")
# shellcheck disable=SC2046
for port in $(ports "$intake_port"); do
    "$bin/accord-intake" --port "$port" --admin-port $((port + 2000)) "${common[@]}" $(storage intake) $(tls intake) \
        --seed-ice-dir "$root/seeds/ice" --qualification "$qualification" --supervision "$supervision" \
        2>> "data/intake-$port.log" &
    pids+=($!)
done
# shellcheck disable=SC2046
for port in $(ports "$qualification_port"); do
    "$bin/accord-qualification" --port "$port" --admin-port $((port + 2000)) "${common[@]}" $(storage qualification) \
        $(tls qualification) \
        --rules-dir "$root/seeds/rules" --intake "$intake" --supervision "$supervision" \
        2>> "data/qualification-$port.log" &
    pids+=($!)
done
# shellcheck disable=SC2046
for port in $(ports "$supervision_port"); do
    "$bin/accord-supervision" --port "$port" --admin-port $((port + 2000)) "${common[@]}" $(storage supervision) \
        $(tls supervision) \
        --rules-dir "$root/seeds/rules" --qualification "$qualification" --intake "$intake" \
        2>> "data/supervision-$port.log" &
    pids+=($!)
done
# shellcheck disable=SC2046
"$bin/accord-gateway" --port "$gateway_port" --admin-port "${ACCORD_GATEWAY_ADMIN_PORT:-9400}" "${common[@]}" \
    $(storage gateway) $(tls gateway) --intake "$intake" --qualification "$qualification" --supervision "$supervision" \
    2>> data/gateway.log &
pids+=($!)
"$bin/accord-echo" --port "${ACCORD_ECHO_PORT:-7409}" --admin-port "${ACCORD_ECHO_ADMIN_PORT:-9409}" \
    --data-dir data 2>> data/echo.log &
pids+=($!)
sleep 3
# shellcheck disable=SC1091
source data/tokens.env
if $first_run; then
    # A demo supervisor (sv_1, the supervisor token's scope) assigned to the first seeded agency's JEM
    # agreement, and two certified officers of that agency, whom supervision authorizes under it.
    # shellcheck disable=SC1091
    source data/connection.env
    demo() { ACCORD_TOKEN="$ACCORD_TOKEN_PROGRAM_OFFICE" "$bin/accord" "$@"; }
    # The services' today (a simulated clock's, when there is one), for the dates of the demo facts.
    now_ms=$(ACCORD_TOKEN="$ACCORD_TOKEN_OPERATOR" "$bin/accord" clock --json 2>/dev/null \
        | grep -o '"now_ms": [0-9]*' | head -1 | grep -o '[0-9]*$' || true)
    today=$(date -u ${now_ms:+-d @$((now_ms / 1000))} +%F)
    {
        demo supervisor create --name "Demo Supervisor" --component ICE --office "ERO Houston"
        agreement=$(demo agreement list --agency ag_1 --model JEM --json | grep -o '"id": "mo_[0-9]*"' | head -1 | cut -d'"' -f4)
        [ -n "$agreement" ] && demo supervisor assign sv_1 --agreement "$agreement"
        # ICE's lists do not say which agencies run a jail; a JEM officer serves in one.
        demo agency update ag_1 --jail true --reason "runs the county jail (demo)"
        for name in "Demo Officer Avery Hill" "Demo Officer Jordan Reyes"; do
            officer=$(ACCORD_TOKEN="$ACCORD_TOKEN_AGENCY" "$bin/accord" officer nominate --agency ag_1 --model JEM --name "$name" --citizen --sworn-since 2015-06-01 --json \
                | grep -o '"id": "of_[0-9]*"' | cut -d'"' -f4)
            demo officer background "$officer" --result favorable --on "$today"
            demo officer enroll "$officer"
            for exam in module-1 module-2 module-3 final; do
                demo officer exam "$officer" --exam "$exam" --score 90 --on "$today"
            done
            demo officer complete "$officer" --hours 160 --on "$today"
            demo officer certify "$officer"
        done
    } > data/demo-seed.log 2>&1 || echo "some demo records could not be made: see data/demo-seed.log"
fi
cat <<MSG
accord-gateway       127.0.0.1:$gateway_port  (the front door)  logs data/gateway.log
accord-intake        $intake  logs data/intake-PORT.log
accord-qualification $qualification  logs data/qualification-PORT.log
accord-supervision   $supervision  logs data/supervision-PORT.log
$($cluster && echo "PostgreSQL 15         127.0.0.1:$postgres_port  (data/postgres, one database per service)")
accord-echo          127.0.0.1:${ACCORD_ECHO_PORT:-7409}  (diagnostics)
Metrics on the admin ports 9400-9403 and 9409 (/metrics). The first start imports seeds/ice into intake;
its participating agreements are handed to supervision and its pending requests evaluated.
$($cluster && echo "TLS: on. The gateway serves TLS 1.3 with data/tls/gateway.pem; the services take only mutual TLS.
The CA is data/tls/ca.pem (ACCORD_TLS_CA, set by data/connection.env)." || echo "TLS: off. Every port is in clear, on loopback only (make cluster runs TLS).")
Demo tokens (one per role) are in data/tokens.env. Try:
  source data/tokens.env; source data/connection.env; export ACCORD_TOKEN=\$ACCORD_TOKEN_PROGRAM_OFFICE
  $bin/accord health
  $bin/accord agency list --state TX --limit 5
  $bin/accord dossier ag_1
  $bin/accord report
$([ -n "${ACCORD_SIMULATED_CLOCK:-}" ] && echo "SIMULATED CLOCK from $ACCORD_SIMULATED_CLOCK (not real time): $bin/accord clock shows it, $bin/accord clock advance moves it.")
Press Ctrl-C to stop.
MSG
wait
