#!/usr/bin/env bash
# A private PostgreSQL cluster for the platform: start | stop | status | psql [args...]
#
# Never the distribution's system cluster: initdb's own data directory under ${TH_PG_DIR}, a
# server on 127.0.0.1 only (trust authentication on loopback, no other address), the unix
# socket inside the data directory. `start` is idempotent and ends by creating, if missing,
# the role teacher_hiring and one database per service (th_exercises, th_hiring, th_bonus), one
# for the web pages' accounts (th_web), plus th_test for the tests.
#
#   TH_PG_DIR     where the cluster lives          (default /tmp/teacher-hiring-pg)
#   TH_PG_PORT    the TCP port on 127.0.0.1         (default 5432)
#   TH_PG_BINDIR  the server binaries to use        (default: the newest installed)
#
# Exit codes: 0 done; 1 failed (or, for status, not running); 2 usage; 3 the server binaries
# are missing and could not be installed from Debian's packages.
set -euo pipefail

PG_DIR="${TH_PG_DIR:-/tmp/teacher-hiring-pg}"
PORT="${TH_PG_PORT:-5432}"
DATA="$PG_DIR/data"
LOG="$PG_DIR/server.log"
HOST=127.0.0.1
SUPERUSER=postgres
ROLE=teacher_hiring
DATABASES=(th_exercises th_hiring th_bonus th_web th_test)
SERVICES=(exercises hiring bonus)

say() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() {
    local code=$1
    shift
    say "$*"
    exit "$code"
}

find_bindir() {
    if [[ -n "${TH_PG_BINDIR:-}" ]]; then
        [[ -x "$TH_PG_BINDIR/initdb" ]] && echo "$TH_PG_BINDIR"
        return 0
    fi
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n "$dir" && -x "$dir/initdb" ]]; then
        echo "$dir"
    elif command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
    fi
}

install_server() {
    say "PostgreSQL server binaries not found: installing Debian's postgresql package"
    if [[ $(id -u) -ne 0 ]]; then
        die 3 "cannot install PostgreSQL: not root (run 'apt-get install -y postgresql' as root)"
    fi
    command -v apt-get >/dev/null 2>&1 ||
        die 3 "cannot install PostgreSQL: no apt-get here (install the PostgreSQL server yourself)"
    # The package would create and start the distribution's system cluster on port 5432; this
    # platform runs its own cluster, so ask postgresql-common not to create one.
    mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/teacher-hiring.conf
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get update; then
        die 3 "Debian's packages could not be reached (apt-get update failed): cannot install PostgreSQL"
    fi
    if ! apt-get install -y --no-install-recommends postgresql; then
        die 3 "Debian's packages could not be reached (apt-get install postgresql failed): cannot install PostgreSQL"
    fi
}

BINDIR=$(find_bindir)

# Run a server binary as the cluster's owner: `postgres` when we are root (the server refuses
# to run as root), ourselves otherwise.
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

running() {
    [[ -n "$BINDIR" && -f "$DATA/PG_VERSION" ]] && as_owner "$BINDIR/pg_ctl" status -D "$DATA" >/dev/null 2>&1
}

ready() {
    "$BINDIR/pg_isready" -q -h "$HOST" -p "$PORT" -d postgres -U "$SUPERUSER"
}

sql() {
    # One statement as the superuser on the maintenance database; prints the bare result.
    "$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U "$SUPERUSER" -d postgres \
        -tAc "$1"
}

init_cluster() {
    mkdir -p "$PG_DIR"
    if [[ $(id -u) -eq 0 ]]; then
        id postgres >/dev/null 2>&1 || die 1 "no 'postgres' user to own the cluster (run as root)"
        chown postgres: "$PG_DIR"
    fi
    chmod 700 "$PG_DIR"
    say "initialising a private cluster in $DATA"
    # C collation: text compares byte by byte, as on SQLite (RFC 3339 timestamps sort as text).
    as_owner "$BINDIR/initdb" -D "$DATA" -U "$SUPERUSER" --encoding=UTF8 --locale=C.UTF-8 \
        --lc-collate=C --auth-local=trust --auth-host=reject >/dev/null
    cat >"$DATA/pg_hba.conf" <<'EOF'
# Trust on loopback only; every other address is refused.
local   all  all                trust
host    all  all  127.0.0.1/32  trust
host    all  all  ::1/128       trust
host    all  all  0.0.0.0/0     reject
host    all  all  ::/0          reject
EOF
    echo "include_if_exists = 'teacher_hiring.conf'" >>"$DATA/postgresql.conf"
    [[ $(id -u) -eq 0 ]] && chown postgres: "$DATA/pg_hba.conf" "$DATA/postgresql.conf"
    return 0
}

write_settings() {
    # Rewritten at every start, so TH_PG_PORT is honoured by an existing cluster too.
    cat >"$DATA/teacher_hiring.conf" <<EOF
listen_addresses = '$HOST'
port = $PORT
unix_socket_directories = '$DATA'
max_connections = 200
fsync = on
synchronous_commit = on
full_page_writes = on
EOF
    [[ $(id -u) -eq 0 ]] && chown postgres: "$DATA/teacher_hiring.conf"
    return 0
}

create_role_and_databases() {
    if [[ -z $(sql "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'") ]]; then
        sql "CREATE ROLE $ROLE LOGIN CREATEDB" >/dev/null
        say "created role $ROLE"
    fi
    local db
    for db in "${DATABASES[@]}"; do
        if [[ -z $(sql "SELECT 1 FROM pg_database WHERE datname = '$db'") ]]; then
            sql "CREATE DATABASE $db OWNER $ROLE" >/dev/null
            say "created database $db"
        fi
    done
}

print_urls() {
    local service
    for service in "${SERVICES[@]}"; do
        echo "${service^^}_DATABASE_URL=postgresql+psycopg://$ROLE@$HOST:$PORT/th_$service"
    done
    echo "WEB_DATABASE_URL=postgresql+psycopg://$ROLE@$HOST:$PORT/th_web"
    echo "TEST_DATABASE_URL=postgresql+psycopg://$ROLE@$HOST:$PORT/th_test"
}

start() {
    if [[ -z "$BINDIR" ]]; then
        install_server
        BINDIR=$(find_bindir)
        [[ -n "$BINDIR" ]] || die 3 "PostgreSQL was installed but no initdb was found"
    fi
    [[ -f "$DATA/PG_VERSION" ]] || init_cluster
    if running; then
        say "already running ($DATA)"
    else
        write_settings
        if ! as_owner "$BINDIR/pg_ctl" start -D "$DATA" -l "$LOG" -w -t 60 >/dev/null; then
            tail -n 20 "$LOG" >&2 || true
            die 1 "the server did not start (log: $LOG)"
        fi
        say "started on $HOST:$PORT ($DATA)"
    fi
    local tries=0
    until ready; do
        tries=$((tries + 1))
        ((tries < 60)) || die 1 "the server runs but does not accept connections on $HOST:$PORT"
        sleep 0.5
    done
    create_role_and_databases
    print_urls
}

stop() {
    if running; then
        as_owner "$BINDIR/pg_ctl" stop -D "$DATA" -m fast -w >/dev/null
        say "stopped ($DATA)"
    else
        say "not running ($DATA)"
    fi
}

status() {
    [[ -n "$BINDIR" ]] || die 1 "not installed: no PostgreSQL server binaries found"
    running || die 1 "not running ($DATA)"
    ready || die 1 "running ($DATA) but not accepting connections on $HOST:$PORT"
    say "running on $HOST:$PORT ($DATA)"
    print_urls
}

psql_shell() {
    [[ -n "$BINDIR" ]] || die 1 "not installed: no PostgreSQL server binaries found"
    exec "$BINDIR/psql" -X -h "$HOST" -p "$PORT" -U "$SUPERUSER" -d postgres "$@"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
psql)
    shift
    psql_shell "$@"
    ;;
*) die 2 "usage: $0 start|stop|status|psql [psql arguments]" ;;
esac
