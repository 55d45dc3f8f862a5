#!/usr/bin/env bash
# Runs the Accord set on loopback, in the foreground: intake, qualification, supervision, the
# gateway in front of them, and the echo diagnostics server; Ctrl-C stops them gracefully.
# Data lives under ./data. The first run imports the ICE lists into intake, makes the internal
# credential the services share, issues a demo token per role into data/tokens.env, and makes a
# demo supervisor and two certified officers through the CLI.
# Usage: Tools/run-local.sh BIN_DIR
set -euo pipefail
bin=${1:?usage: run-local.sh BIN_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p data
gateway_port=${ACCORD_GATEWAY_PORT:-7400}
intake_port=${ACCORD_INTAKE_PORT:-7401}
qualification_port=${ACCORD_QUALIFICATION_PORT:-7402}
supervision_port=${ACCORD_SUPERVISION_PORT:-7403}
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
            echo "$variable=$("$bin/accord-gateway" create-token --data-dir data --role "$role" --name "demo $role" 2>/dev/null)"
        done
        echo "ACCORD_TOKEN_SUPERVISOR=$("$bin/accord-gateway" create-token --data-dir data --role supervisor --scope sv_1 \
            --name "demo supervisor" 2>/dev/null)"
        echo "ACCORD_TOKEN_AGENCY=$("$bin/accord-gateway" create-token --data-dir data --role agency --scope ag_1 \
            --name "demo agency coordinator" 2>/dev/null)"
    } > data/tokens.env
    chmod 600 data/tokens.env
fi
pids=()
stop() {
    echo "stopping..."
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait
    exit 0
}
trap stop INT TERM
common=(--data-dir data --internal-credential-file "$credential")
"$bin/accord-intake" --port "$intake_port" --admin-port "${ACCORD_INTAKE_ADMIN_PORT:-9401}" "${common[@]}" \
    --seed-ice-dir "$root/seeds/ice" --qualification "127.0.0.1:$qualification_port" \
    --supervision "127.0.0.1:$supervision_port" 2>> data/intake.log &
pids+=($!)
"$bin/accord-qualification" --port "$qualification_port" --admin-port "${ACCORD_QUALIFICATION_ADMIN_PORT:-9402}" \
    "${common[@]}" --rules-dir "$root/seeds/rules" --intake "127.0.0.1:$intake_port" \
    --supervision "127.0.0.1:$supervision_port" 2>> data/qualification.log &
pids+=($!)
"$bin/accord-supervision" --port "$supervision_port" --admin-port "${ACCORD_SUPERVISION_ADMIN_PORT:-9403}" \
    "${common[@]}" --rules-dir "$root/seeds/rules" --qualification "127.0.0.1:$qualification_port" \
    --intake "127.0.0.1:$intake_port" 2>> data/supervision.log &
pids+=($!)
"$bin/accord-gateway" --port "$gateway_port" --admin-port "${ACCORD_GATEWAY_ADMIN_PORT:-9400}" "${common[@]}" \
    --intake "127.0.0.1:$intake_port" --qualification "127.0.0.1:$qualification_port" \
    --supervision "127.0.0.1:$supervision_port" 2>> data/gateway.log &
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
    export ACCORD_GATEWAY="127.0.0.1:$gateway_port"
    demo() { ACCORD_TOKEN="$ACCORD_TOKEN_PROGRAM_OFFICE" "$bin/accord" "$@"; }
    {
        demo supervisor create --name "Demo Supervisor" --component ICE --office "ERO Houston"
        agreement=$(demo agreement list --agency ag_1 --model JEM --json | grep -o '"id": "mo_[0-9]*"' | head -1 | cut -d'"' -f4)
        [ -n "$agreement" ] && demo supervisor assign sv_1 --agreement "$agreement"
        for name in "Demo Officer Avery Hill" "Demo Officer Jordan Reyes"; do
            officer=$(demo officer nominate --agency ag_1 --model JEM --name "$name" --citizen --sworn-since 2015-06-01 --json \
                | grep -o '"id": "of_[0-9]*"' | cut -d'"' -f4)
            demo officer background "$officer" --result favorable --on "$(date -u +%F)"
            demo officer enroll "$officer"
            for exam in module-1 module-2 module-3 final; do
                demo officer exam "$officer" --exam "$exam" --score 90 --on "$(date -u +%F)"
            done
            demo officer complete "$officer" --hours 160 --on "$(date -u +%F)"
            demo officer certify "$officer"
        done
    } > data/demo-seed.log 2>&1 || echo "some demo records could not be made: see data/demo-seed.log"
fi
cat <<MSG
accord-gateway       127.0.0.1:$gateway_port  (the front door)  logs data/gateway.log
accord-intake        127.0.0.1:$intake_port  logs data/intake.log
accord-qualification 127.0.0.1:$qualification_port  logs data/qualification.log
accord-supervision   127.0.0.1:$supervision_port  logs data/supervision.log
accord-echo          127.0.0.1:${ACCORD_ECHO_PORT:-7409}  (diagnostics)
Metrics on the admin ports 9400-9403 and 9409 (/metrics). The first start imports seeds/ice into intake;
its participating agreements are handed to supervision and its pending requests evaluated.
Demo tokens (one per role) are in data/tokens.env. Try:
  source data/tokens.env; export ACCORD_TOKEN=\$ACCORD_TOKEN_PROGRAM_OFFICE
  $bin/accord health
  $bin/accord agency list --state TX --limit 5
  $bin/accord dossier ag_1
  $bin/accord report
Press Ctrl-C to stop.
MSG
wait
