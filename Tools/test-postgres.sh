#!/usr/bin/env bash
# Runs the store-level suites (storage, intake, qualification, supervision, gateway) again on
# PostgreSQL: starts a private server in a fresh folder on a free loopback port, points the
# tests at it (ACCORD_TEST_POSTGRES; each test makes its own database), and stops and removes
# the server afterwards, whatever happened.
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
ACCORD_TEST_POSTGRES=$(Tools/postgres.sh url "$port") "$SWIFT" test --skip-build --parallel --num-workers 2 \
    --filter 'AccordStorageTests|IntakeTests|QualificationTests|SupervisionTests|GatewayTests'
