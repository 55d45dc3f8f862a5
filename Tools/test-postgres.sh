#!/usr/bin/env bash
# Runs the suites that keep data again on PostgreSQL: the store-level suites (storage, intake,
# qualification, supervision, gateway) and the end-to-end suites over real processes (each
# service a test starts gets a database of its own). Starts a private server in a fresh folder
# on a free loopback port, points the tests at it (ACCORD_TEST_POSTGRES), and stops and removes
# the server afterwards, whatever happened. The suites without data (wire, RPC, echo, compose)
# and those that start PostgreSQL servers of their own ran on the first pass.
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
dir=$(mktemp -d /tmp/accord-test-postgres.XXXXXX)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
    Tools/postgres.sh stop "$dir" || true
    rm -rf "$dir"
}
trap cleanup EXIT
Tools/postgres.sh start "$dir" "$port"
echo "PostgreSQL test server on 127.0.0.1:$port"
export ACCORD_TEST_POSTGRES ACCORD_BIN_DIR
ACCORD_TEST_POSTGRES=$(Tools/postgres.sh url "$port")
ACCORD_BIN_DIR=$("$SWIFT" build --show-bin-path)
# The in-process suites, then those over real processes on their own, one at a time (see the
# Makefile).
"$SWIFT" test --skip-build --parallel --num-workers 2 \
    --filter '^(AccordStorageTests|IntakeTests|QualificationTests|SupervisionTests|GatewayTests)\.'
"$SWIFT" test --skip-build --no-parallel \
    --filter 'EndToEndTests.(BackupRestoreTests|CLITests|IntakeProcessTests|IntakeQualificationTests|LoadSmokeTests|SupervisionProcessTests)'
