#!/usr/bin/env bash
# A private PostgreSQL cluster for the platform: start | stop | status | psql [args...]
#
# Never the distribution's system cluster: initdb's own data directory under ${TH_PG_DIR}, a
# server on 127.0.0.1 only, the unix socket inside the data directory. `start` is idempotent
# and ends by creating what is missing and printing each database's URL.
#
# TH_PG_AUTH=scram (the default): every connection over TCP is TLS (a CA and a server
# certificate made at the first start, kept under ${TH_PG_DIR}/tls) and logs in with a password
# (SCRAM-SHA-256). Each service has a role of its own (th_exercises, th_hiring, th_bonus, th_web)
# owning its database of the same name, which no other role may connect to; the role
# teacher_hiring (it may create databases: the tests, chaos) owns th_test. The passwords are
# generated into ${TH_PG_DIR}/passwords/<role> (mode 0600) and written into the printed URLs,
# with sslmode=verify-ca and the CA. The superuser postgres logs in only through the unix socket
# inside the data directory (mode 0700: the cluster's owner and root): this script.
#
# TH_PG_AUTH=trust: the tests' shared cluster, as before: no TLS, no passwords on loopback, one
# role teacher_hiring owning every database. A cluster keeps the mode it was made with.
#
#   TH_PG_DIR     where the cluster lives          (default /tmp/teacher-hiring-pg)
#   TH_PG_PORT    the TCP port on 127.0.0.1         (default 5432)
#   TH_PG_BINDIR  the server binaries to use        (default: the newest installed)
#   TH_PG_AUTH    scram or trust                    (default scram)
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
AUTH="${TH_PG_AUTH:-scram}"
TLS="$PG_DIR/tls"
PASSWORDS="$PG_DIR/passwords"

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

# The superuser reaches the server through the socket in the data directory (with scram, TCP
# asks it for a password it does not have).
ready() {
    "$BINDIR/pg_isready" -q -h "$DATA" -p "$PORT" -d postgres -U "$SUPERUSER"
}

sql() {
    # One statement as the superuser on a database (default: the maintenance one); prints the
    # bare result.
    "$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$DATA" -p "$PORT" -U "$SUPERUSER" \
        -d "${2:-postgres}" -tAc "$1"
}

check_auth() {
    case "$AUTH" in
    scram | trust) ;;
    *) die 2 "TH_PG_AUTH=$AUTH: use scram or trust" ;;
    esac
    if [[ -f "$DATA/PG_VERSION" ]]; then
        local made
        made="$(cat "$PG_DIR/auth.mode" 2>/dev/null || echo trust)"
        [[ "$made" == "$AUTH" ]] ||
            die 1 "the cluster in $DATA was made with TH_PG_AUTH=$made, not $AUTH: set TH_PG_AUTH=$made, or stop it and remove $PG_DIR to start afresh"
    fi
}

# A random password of 32 letters and digits, kept in a file (mode 0600).
password() {
    local file="$PASSWORDS/$1"
    if [[ ! -s "$file" ]]; then
        (umask 077 && mkdir -p "$PASSWORDS" &&
            head -c 64 /dev/urandom | base64 -w 0 | tr -dc 'A-Za-z0-9' | cut -c 1-32 >"$file")
    fi
    cat "$file"
}

# A CA and the server's certificate, signed by it for 127.0.0.1; the key readable by the
# server only.
make_tls() {
    [[ -s "$DATA/server.crt" ]] && return 0
    command -v openssl >/dev/null 2>&1 || die 1 "openssl not found: it makes the server's certificate"
    (umask 077 && mkdir -p "$TLS")
    (
        umask 077
        cd "$TLS"
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 \
            -subj "/CN=teacher-hiring PostgreSQL CA" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" -keyout ca.key -out ca.pem &&
            openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
                -keyout server.key -out server.csr &&
            printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" >server.ext &&
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
                -days 3650 -extfile server.ext -out server.crt
    ) >"$PG_DIR/openssl.log" 2>&1 || die 1 "making the server's certificate failed (see $PG_DIR/openssl.log)"
    chmod 644 "$TLS/ca.pem" # public: clients verify the server with it
    install -m 600 "$TLS/server.key" "$DATA/server.key"
    install -m 644 "$TLS/server.crt" "$DATA/server.crt"
    if [[ $(id -u) -eq 0 ]]; then
        chown postgres: "$DATA/server.key" "$DATA/server.crt"
    fi
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
    if [[ "$AUTH" == scram ]]; then
        cat >"$DATA/pg_hba.conf" <<'EOF'
# The superuser only through the unix socket inside the data directory (mode 0700); everyone
# else over TLS from loopback with a password (SCRAM-SHA-256), into the databases their role
# may connect to (each service's only its own). Plain TCP and other addresses are refused.
local   all  postgres               trust
hostssl all  all      127.0.0.1/32  scram-sha-256
host    all  all      0.0.0.0/0     reject
host    all  all      ::/0          reject
EOF
    else
        cat >"$DATA/pg_hba.conf" <<'EOF'
# Trust on loopback only; every other address is refused.
local   all  all                trust
host    all  all  127.0.0.1/32  trust
host    all  all  ::1/128       trust
host    all  all  0.0.0.0/0     reject
host    all  all  ::/0          reject
EOF
    fi
    echo "$AUTH" >"$PG_DIR/auth.mode"
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
    if [[ "$AUTH" == scram ]]; then
        make_tls
        cat >>"$DATA/teacher_hiring.conf" <<EOF
password_encryption = scram-sha-256
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
ssl_min_protocol_version = 'TLSv1.2'
EOF
    fi
    [[ $(id -u) -eq 0 ]] && chown postgres: "$DATA/teacher_hiring.conf"
    return 0
}

# With scram: a role per service owning its database, none other may connect to it.
create_service_roles() {
    local name role db pass
    sql "REVOKE CONNECT ON DATABASE postgres FROM PUBLIC" >/dev/null
    sql "REVOKE CONNECT ON DATABASE template1 FROM PUBLIC" >/dev/null
    sql "GRANT CONNECT ON DATABASE postgres TO $ROLE" >/dev/null
    sql "ALTER ROLE $ROLE PASSWORD '$(password "$ROLE")'" >/dev/null
    for name in "${SERVICES[@]}" web; do
        role="th_$name"
        db="th_$name"
        pass="$(password "$role")"
        if [[ -z $(sql "SELECT 1 FROM pg_roles WHERE rolname = '$role'") ]]; then
            sql "CREATE ROLE $role LOGIN" >/dev/null
            say "created role $role"
        fi
        sql "ALTER ROLE $role PASSWORD '$pass'" >/dev/null
        if [[ -z $(sql "SELECT 1 FROM pg_database WHERE datname = '$db'") ]]; then
            sql "CREATE DATABASE $db OWNER $role" >/dev/null
            say "created database $db"
        fi
        sql "REVOKE ALL ON DATABASE $db FROM PUBLIC" >/dev/null
        sql "REVOKE ALL ON SCHEMA public FROM PUBLIC" "$db" >/dev/null
        sql "ALTER SCHEMA public OWNER TO $role" "$db" >/dev/null
    done
    if [[ -z $(sql "SELECT 1 FROM pg_database WHERE datname = 'th_test'") ]]; then
        sql "CREATE DATABASE th_test OWNER $ROLE" >/dev/null
    fi
    sql "REVOKE ALL ON DATABASE th_test FROM PUBLIC" >/dev/null
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
    if [[ "$AUTH" == scram ]]; then
        local tls="sslmode=verify-ca&sslrootcert=$TLS/ca.pem"
        for service in "${SERVICES[@]}" web; do
            echo "${service^^}_DATABASE_URL=postgresql+psycopg://th_$service:$(password "th_$service")@$HOST:$PORT/th_$service?$tls"
        done
        echo "TEST_DATABASE_URL=postgresql+psycopg://$ROLE:$(password "$ROLE")@$HOST:$PORT/th_test?$tls"
        echo "ADMIN_DATABASE_URL=postgresql+psycopg://$ROLE:$(password "$ROLE")@$HOST:$PORT/postgres?$tls"
        return 0
    fi
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
    check_auth
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
    if [[ "$AUTH" == scram ]]; then
        sql "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'" | grep -q 1 ||
            sql "CREATE ROLE $ROLE LOGIN CREATEDB" >/dev/null
        create_service_roles
    else
        create_role_and_databases
    fi
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
    exec "$BINDIR/psql" -X -h "$DATA" -p "$PORT" -U "$SUPERUSER" -d postgres "$@"
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
