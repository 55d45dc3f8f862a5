#!/usr/bin/env bash
# A scripted walk through the whole 287(g) lifecycle with the accord CLI, against a running set
# (make run): outreach, request, evaluation, nomination, training, certification, agreement,
# authorization, actions, review, complaint, report, audit verification. Prints each step.
# Each step runs as the role that does it (docs/OPERATIONS.md, "Who may do what"): the program
# office, the agency (a token the operator makes for it), the supervisor, the auditor.
# Usage: Tools/demo.sh BIN_DIR   (reads the demo tokens from data/tokens.env, and how to reach the
# set, over TLS for make cluster, from data/connection.env beside it)
set -euo pipefail
bin=${1:?usage: demo.sh BIN_DIR}
tokens=${ACCORD_TOKENS_FILE:-data/tokens.env}
[ -r "$tokens" ] || { echo "demo.sh: $tokens not found: start the set with make run first" >&2; exit 2; }
# shellcheck disable=SC1090
source "$tokens"
# How make run or make cluster is reached (the gateway, its CA over TLS), unless set already.
connection=$(dirname "$tokens")/connection.env
if [ -z "${ACCORD_TLS_CA+set}" ] && [ -r "$connection" ]; then
    # shellcheck disable=SC1090
    source "$connection"
fi
accord() { "$bin/accord" "$@"; }
as() { local token=$1; shift; ACCORD_TOKEN=$token "$bin/accord" "$@"; }
field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
step() { printf '\n== %s\n' "$*"; }
office=$ACCORD_TOKEN_PROGRAM_OFFICE
today=$(date -u +%F)
run=$(date +%s)

step "Outreach to the Governor of Texas"
as "$office" engagement record --state TX --official "Governor of Texas" --office Governor --on "$today" \
    --channel meeting --outcome interested --follow-up "$today"

step "An agency registers (it runs a jail)"
agency=$(as "$office" agency register --state TX --name "Demo County $run Sheriff's Office" --type county \
    --county "Demo County" --jail --capacity 350 --json | field id)
echo "agency $agency"
step "The operator gives the agency's coordinator a token of its own"
agency_token=$(as "$ACCORD_TOKEN_OPERATOR" token create --role agency --scope "$agency" \
    --name "Demo County coordinator" --json | field token)
step "It corrects its record: a new wing, and the ORI is not known yet"
as "$agency_token" agency update "$agency" --capacity 420 --clear ori --reason "new wing opened"

step "It asks for a Jail Enforcement Model agreement with ICE, with the sheriff's consent"
request=$(as "$agency_token" request submit --agency "$agency" --model JEM --partner ICE --official "Sheriff Dana Cruz" \
    --office Sheriff --consented-on "$today" --encounters 800 --capacity 300 --officers 4 --json | field id)
echo "request $request"

step "Qualification evaluates it"
for _ in $(seq 50); do
    status=$(as "$agency_token" request show "$request" --json | field status)
    [ "$status" = REQUEST_STATUS_QUALIFIED ] || [ "$status" = REQUEST_STATUS_DEFICIENT ] && break
    sleep 0.2
done
as "$agency_token" request show "$request"

step "The agency nominates an officer; the program office vets, trains and certifies them"
officer=$(as "$agency_token" officer nominate --agency "$agency" --model JEM --name "Officer Sam Ortiz" --citizen \
    --sworn-since 2016-04-01 --json | field id)
as "$office" officer background "$officer" --result favorable --on "$today" > /dev/null
as "$office" officer enroll "$officer" > /dev/null
for exam in module-1 module-2 module-3 final; do
    as "$office" officer exam "$officer" --exam "$exam" --score 88 --on "$today" > /dev/null
done
as "$office" officer complete "$officer" --hours 160 --on "$today" > /dev/null
as "$office" officer certify "$officer"

step "The program office offers the agreement; both parties sign"
agreement=$(as "$office" agreement offer --request "$request" --office "ERO Houston" --json | field id)
as "$agency_token" agreement sign "$agreement" --party agency --by "Sheriff Dana Cruz" > /dev/null
as "$office" agreement sign "$agreement" --party federal --by "Field Office Director"

step "A federal supervisor is assigned; the officer is authorized"
supervisor=$(as "$office" supervisor create --name "SDDO Lee Park" --component ICE --office "ERO Houston" --json | field id)
as "$office" supervisor assign "$supervisor" --agreement "$agreement" > /dev/null
as "$office" authorize "$officer" --credential "CR-$run"

step "The officer records a detainer; a WSO-only function is refused"
action=$(as "$agency_token" action record --officer "$officer" --function detainer --place jail --subject "BK-$run" \
    --outcome "detainer issued" --json | field id)
as "$agency_token" action record --officer "$officer" --function warrantless-arrest --place field --subject "BK-$run-2" \
    || echo "(refused, as the JEM model does not delegate it)"

step "The supervisor reviews the detainer"
supervisor_token=$(as "$ACCORD_TOKEN_OPERATOR" token create --role supervisor --scope "$supervisor" \
    --name "SDDO Lee Park" --json | field token)
as "$supervisor_token" action review "$action" --decision approved

step "A complaint is filed and resolved"
complaint=$(as "$office" complaint file --agreement "$agreement" --officer "$officer" --source public \
    --summary "Discourteous conduct at booking" --json | field id)
as "$office" complaint update "$complaint" --notified now --resolved now --resolution "unfounded" > /dev/null
as "$office" complaint list --agency "$agency"

step "The agreement is renewed: once both sign, the officer keeps authority under the renewal"
renewal=$(as "$office" agreement renew "$agreement" --json | field id)
as "$agency_token" agreement sign "$renewal" --party agency --by "Sheriff Dana Cruz" > /dev/null
as "$office" agreement sign "$renewal" --party federal --by "ERO Houston Field Office Director" | tail -1
agreement=$renewal

step "The agency's dossier"
as "$agency_token" dossier "$agency"

step "The program report"
as "$ACCORD_TOKEN_AUDITOR" report | head -40

step "The audit trail verifies"
as "$ACCORD_TOKEN_AUDITOR" audit verify
