#!/usr/bin/env bash
# Backs up the set make run (or make cluster) runs, while it runs: every store into
# backups/<UTC time>/ with accord-backup create. On make cluster's PostgreSQL (data/postgres,
# running) each service's database is dumped; otherwise the SQLite files under data/ are copied
# with SQLite's online backup.
# Usage: Tools/backup.sh BIN_DIR
set -euo pipefail
bin=${1:?usage: backup.sh BIN_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
target=backups/$(date -u +%Y%m%dT%H%M%SZ)
flags=(--data-dir data)
if [ -f data/postgres/postmaster.pid ]; then
    port=${ACCORD_POSTGRES_PORT:-7432}
    for service in intake qualification supervision gateway; do
        flags+=("--postgres-$service" "$(Tools/postgres.sh url "$port" "accord_$service")")
    done
    echo "backing up make cluster's PostgreSQL databases (127.0.0.1:$port) into $target"
else
    echo "backing up the SQLite stores under data/ into $target"
fi
"$bin/accord-backup" create --to "$target" "${flags[@]}"
