#!/usr/bin/env bash
# A private PostgreSQL 15 server for Accord's tests and `make cluster`: its own data folder,
# loopback only, on a port of its own. PostgreSQL refuses to run as root, so as root its programs
# run as the `postgres` system user on a folder that user owns.
#
#   Tools/postgres.sh start DIR PORT [HOST]   initialise DIR if it is new, start, wait until it
#                                             answers; on 127.0.0.1 unless HOST names another
#                                             address (then clients from 198.18.0.0/15 may connect)
#   Tools/postgres.sh stop DIR                stop it (fast shutdown) and wait until it is down
#   Tools/postgres.sh url PORT [DB]           the URL the services take (user postgres, no password)
#   Tools/postgres.sh createdb PORT DB [HOST] create a database unless it exists
set -euo pipefail
bindir=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)

as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

command=${1:-}
case "$command" in
start)
    dir=$2 port=$3 host=${4:-127.0.0.1}
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir" && chmod 700 "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
        as_postgres "$bindir/initdb" -D "$dir" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
        # Durable commits, and the server's own group commit for concurrent writers.
        cat >>"$dir/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = on
synchronous_commit = on
commit_delay = 200
max_connections = 200
shared_buffers = 256MB
CONF
        # The network-test range (RFC 2544), for clusters spread over simulated hosts.
        echo "host all all 198.18.0.0/15 trust" >>"$dir/pg_hba.conf"
    fi
    as_postgres "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -o "-p $port -h $host" -w -t 60 start >/dev/null
    ;;
stop)
    dir=$2
    [ -f "$dir/postmaster.pid" ] || exit 0
    as_postgres "$bindir/pg_ctl" -D "$dir" -m fast -w -t 60 stop >/dev/null
    ;;
url)
    echo "postgres://postgres@127.0.0.1:$2/${3:-postgres}"
    ;;
createdb)
    port=$2 db=$3 host=${4:-127.0.0.1}
    exists=$("$bindir/psql" -h "$host" -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")
    [ "$exists" = 1 ] || "$bindir/createdb" -h "$host" -p "$port" -U postgres "$db"
    ;;
*)
    echo "usage: Tools/postgres.sh start DIR PORT [HOST] | stop DIR | url PORT [DB] | createdb PORT DB [HOST]" >&2
    exit 2
    ;;
esac
