#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft, broker and controller in one JVM) on 127.0.0.1,
# run from the jars Maven resolves: no tarball, no Docker. For the Kafka tests and for trying
# the distributed mode on one machine.
#
#   scripts/kafka.sh fetch    copy the broker's jars into the cache (once per version)
#   scripts/kafka.sh start    format the data folder if new, start, wait until it answers
#   scripts/kafka.sh stop     SIGTERM, then SIGKILL after 30 s
#   scripts/kafka.sh status   exit 0 if a broker answers on the port
#
# Environment (defaults in brackets):
#   TH_CACHE_DIR              jar cache, outside the repository [~/.cache/teacher-hiring]
#   TH_KAFKA_DIR              data, pid file and broker.log [/tmp/teacher-hiring-kafka]
#   TH_KAFKA_PORT             client port [9092]
#   TH_KAFKA_CONTROLLER_PORT  KRaft controller port [9093]
#   TH_KAFKA_SECURITY         sasl_ssl: clients authenticate with SCRAM-SHA-512 over TLS and
#                             ACLs allow each service only its own topics; plaintext: no
#                             authentication, no encryption (the shared broker of the tests)
#                             [sasl_ssl]. A data folder keeps the mode it was formatted with.
#   TH_KAFKA_TOPIC_PREFIX     sasl_ssl: the prefix of the topics (and consumer groups) that
#                             `start` creates and grants the services [none]
#   TH_PYTHON                 Python with confluent-kafka and this package: asks the broker
#                             for metadata, creates the topics and ACLs
#                             [the repository's .venv/bin/python]
#
# With sasl_ssl, the first start generates in the data folder (kept, mode 0600):
#   security/ca.pem           the CA that signed the broker's certificate: clients trust it
#   security/broker-*.pem     the broker's key and certificate (CN=broker, IP 127.0.0.1)
#   clients/<name>.properties librdkafka settings with the password of each principal: admin
#                             (a super user: scripts, operator tools, chaos), exercises, hiring,
#                             bonus. A service reads its own through <SERVICE>_KAFKA_CLIENT_CONFIG.
# Exit codes: 0 done, 1 failed, 2 a tool is missing, 3 Maven Central could not be reached.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
pom="$here/kafka/pom.xml"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")"
cache="${TH_CACHE_DIR:-$HOME/.cache/teacher-hiring}/kafka-$version"
lib="$cache/lib"
data="$(realpath -m "${TH_KAFKA_DIR:-/tmp/teacher-hiring-kafka}")"
port="${TH_KAFKA_PORT:-9092}"
controller_port="${TH_KAFKA_CONTROLLER_PORT:-9093}"
python="${TH_PYTHON:-$repo/.venv/bin/python}"
security="${TH_KAFKA_SECURITY:-sasl_ssl}"
topic_prefix="${TH_KAFKA_TOPIC_PREFIX:-}"
secrets="$data/security"
clients="$data/clients"
principals=(admin exercises hiring bonus)
pidfile="$data/kafka.pid"
ready_timeout_s=180 # a secured start on a busy machine takes two minutes
stop_timeout_s=30
copy_goal=org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies

die() {
    local code="$1"
    shift
    echo "kafka.sh: $*" >&2
    exit "$code"
}

# Maven's error lines, without colours, boilerplate or repository addresses.
maven_errors() {
    sed -E 's/\x1b\[[0-9;]*m//g; s/ -> \[Help 1\]//; s#\(?[a-z]+://[^ )]*\)?##g
        s/(Unknown host|Connect to) [^ :]+/\1 the repository/g' "$1" |
        grep -E '^\[ERROR\] [^ []' | grep -vE 'Re-run Maven|stack trace|more information' |
        head -n 3 >&2 || true
}

fetch() {
    if [[ -f "$lib/.complete" ]]; then
        return 0
    fi
    command -v mvn >/dev/null || die 2 "mvn not found: install Maven 3 and a JDK 17+"
    mkdir -p "$cache"
    exec 8>"$cache/.lock"
    flock -w 600 8 || die 1 "another fetch of $cache did not finish in 10 minutes"
    if [[ -f "$lib/.complete" ]]; then # fetched by whoever held the lock
        return 0
    fi
    echo "fetching Kafka $version jars into $lib"
    local tmp log="$cache/fetch.log"
    tmp="$(mktemp -d "$cache/lib.XXXXXX")"
    if ! mvn -q -B -f "$pom" "$copy_goal" -DoutputDirectory="$tmp" >"$log" 2>&1; then
        rm -rf "$tmp"
        if grep -qiE 'could not transfer|unknown ?host|connection refused|timed out|unreachable|no route to host|handshake' "$log"; then
            maven_errors "$log"
            die 3 "Maven Central could not be reached: cannot fetch Kafka $version (Maven's log: $log)"
        fi
        maven_errors "$log"
        die 1 "Maven could not resolve Kafka $version (Maven's log: $log)"
    fi
    touch "$tmp/.complete"
    rm -rf "$lib"
    mv "$tmp" "$lib"
    exec 8>&-
}

# Whether the process exists and is not a zombie.
alive() {
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    [[ "${stat##*) }" != Z* ]]
}

# Whether the process is a broker of this folder (a zombie's command line is empty).
is_broker() {
    tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | grep -q "kafka.Kafka $data/server.properties"
}

# The pid of our broker, if it runs.
broker_pid() {
    local pid
    pid="$(cat "$pidfile" 2>/dev/null)" || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] && is_broker "$pid" || return 1
    echo "$pid"
}

check_python() {
    "$python" -c 'import confluent_kafka' 2>/dev/null ||
        die 2 "$python cannot import confluent_kafka (run make install, or set TH_PYTHON)"
}

check_security() {
    case "$security" in
    sasl_ssl | plaintext) ;;
    *) die 1 "TH_KAFKA_SECURITY=$security: use sasl_ssl or plaintext" ;;
    esac
}

# The admin's client settings when the folder's broker is secured, else nothing.
admin_config() {
    if [[ -f "$clients/admin.properties" ]]; then
        echo "$clients/admin.properties"
    fi
}

# Ready means a client's metadata request succeeds, not merely that the port is open (which
# is checked first because it is quick). A secured broker is asked as the admin.
answering() {
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || return 1
    "$python" - "127.0.0.1:$port" "$(admin_config)" >/dev/null 2>&1 <<'EOF'
import sys
from pathlib import Path
from confluent_kafka.admin import AdminClient
config = {"bootstrap.servers": sys.argv[1], "log_level": 0}
if sys.argv[2]:
    from teacher_hiring.messaging.kafka_access import read_client_config
    config.update(read_client_config(Path(sys.argv[2])))
AdminClient(config).list_topics(timeout=2)
EOF
}

# A random password of 32 letters and digits, kept in a file of the folder (mode 0600).
password() {
    local file="$secrets/$1.password"
    if [[ ! -s "$file" ]]; then
        (umask 077 && head -c 64 /dev/urandom | base64 -w 0 | tr -dc 'A-Za-z0-9' | cut -c 1-32 >"$file")
    fi
    cat "$file"
}

# The CA and the broker's certificate (signed by it, for 127.0.0.1 and localhost; also its
# client certificate towards the controller), and each principal's client settings.
make_secrets() {
    command -v openssl >/dev/null || die 2 "openssl not found: it makes the broker's certificate"
    (umask 077 && mkdir -p "$secrets" "$clients")
    chmod 700 "$secrets" "$clients"
    if [[ ! -s "$secrets/broker-keystore.pem" ]]; then
        local log="$secrets/openssl.log"
        (
            umask 077
            cd "$secrets"
            openssl req -x509 -newkey rsa:2048 -nodes -days 3650 \
                -subj "/CN=teacher-hiring Kafka CA" \
                -addext "basicConstraints=critical,CA:TRUE" \
                -addext "keyUsage=critical,keyCertSign,cRLSign" \
                -keyout ca.key -out ca.pem &&
                openssl req -newkey rsa:2048 -nodes -subj "/CN=broker" \
                    -keyout broker-key.pem -out broker.csr &&
                printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" \
                    "extendedKeyUsage=serverAuth,clientAuth" >broker.ext &&
                openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
                    -days 3650 -extfile broker.ext -out broker-cert.pem &&
                cat broker-key.pem broker-cert.pem ca.pem >broker-keystore.pem.new &&
                mv broker-keystore.pem.new broker-keystore.pem
        ) >"$log" 2>&1 || {
            tail -n 5 "$log" >&2
            die 1 "making the broker's certificate failed (see $log)"
        }
    fi
    local name
    for name in "${principals[@]}"; do
        (umask 077 && client_properties "$name" >"$clients/$name.properties")
    done
}

client_properties() {
    cat <<EOF
# The $1 principal of the broker on 127.0.0.1:$port (written by scripts/kafka.sh)
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.username=$1
sasl.password=$(password "$1")
ssl.ca.location=$secrets/ca.pem
EOF
}

# The listeners: on sasl_ssl, clients on SASL_SSL (SCRAM-SHA-512), the controller on TLS with
# the broker's own certificate required, ACLs by the standard authorizer, nothing allowed
# that no ACL allows.
security_config() {
    if [[ "$security" == plaintext ]]; then
        cat <<EOF
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
# Anyone may write here anyway: a topic is made when first named, as the tests expect.
auto.create.topics.enable=true
EOF
        return 0
    fi
    cat <<EOF
listeners=SASL_SSL://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=SASL_SSL://127.0.0.1:$port
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=CONTROLLER:SSL,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$(password admin)";
ssl.keystore.type=PEM
ssl.keystore.location=$secrets/broker-keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$secrets/ca.pem
listener.name.controller.ssl.client.auth=required
ssl.principal.mapping.rules=RULE:^CN=([a-z]+)\$/\$1/,DEFAULT
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin;User:broker
# Topics are made by the admin as the platform is set up, never by a client that merely
# names one.
auto.create.topics.enable=false
EOF
}

# The SCRAM credentials of every principal, stored in the cluster's metadata at format time.
scram_options() {
    [[ "$security" == sasl_ssl ]] || return 0
    local name
    for name in "${principals[@]}"; do
        printf -- '--add-scram\nSCRAM-SHA-512=[name=%s,password=%s]\n' "$name" "$(password "$name")"
    done
}

# The topics of the catalogue and the services' ACLs (schemas/events.yaml), made as the admin.
grant() {
    [[ "$security" == sasl_ssl ]] || return 0
    "$python" -m teacher_hiring.cli kafka-access --bootstrap "127.0.0.1:$port" \
        --admin-config "$clients/admin.properties" --prefix "$topic_prefix" --quiet ||
        die 1 "creating the topics and ACLs failed"
}

write_config() {
    (umask 077 && server_properties >"$data/server.properties")
    cat >"$data/log4j2.properties" <<'EOF'
status = warn
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
EOF
}

server_properties() {
    cat <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
controller.listener.names=CONTROLLER
$(security_config)
log.dirs=$data/logs
num.partitions=6
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=6
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# The tests use session timeouts of a few seconds (the broker's default minimum is 6 s).
group.min.session.timeout.ms=1000
EOF
}

# Made once per data folder and kept: the format checks it against the formatted one.
# 16 random bytes in URL-safe base64 without padding, as Kafka's Uuid prints them; one that
# starts with "-" would be read as an option.
cluster_id() {
    if [[ ! -s "$data/cluster.id" ]]; then
        local id="-"
        while [[ "$id" == -* ]]; do
            id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | cut -c 1-22)"
        done
        echo "$id" >"$data/cluster.id"
    fi
    cat "$data/cluster.id"
}

launch() {
    command -v java >/dev/null || die 2 "java not found: install a JDK 17+"
    command -v setsid >/dev/null || die 2 "setsid not found (util-linux)"
    if [[ -f "$data/logs/meta.properties" ]]; then
        local formatted
        formatted="$(cat "$data/security.mode" 2>/dev/null || echo plaintext)"
        [[ "$formatted" == "$security" ]] ||
            die 1 "$data was formatted for $formatted, not $security: set TH_KAFKA_SECURITY=$formatted, or remove the folder to start afresh"
    fi
    if [[ "$security" == sasl_ssl ]]; then
        make_secrets
    fi
    write_config
    # A JVM start saved when the folder is formatted already.
    if [[ ! -f "$data/logs/meta.properties" ]]; then
        local scram=()
        mapfile -t scram < <(scram_options)
        if ! java -cp "$lib/*" -Dlog4j2.configurationFile="$data/log4j2.properties" \
            kafka.tools.StorageTool format -t "$(cluster_id)" -c "$data/server.properties" \
            --ignore-formatted "${scram[@]}" >"$data/format.log" 2>&1; then
            tail -n 20 "$data/format.log" >&2
            die 1 "formatting $data/logs failed (see $data/format.log)"
        fi
        echo "$security" >"$data/security.mode"
    fi
    # Its own session, so that a Ctrl-C in the terminal that started it does not reach it;
    # fd 8 and 9 (the locks) are closed so that the broker does not hold them.
    setsid java -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
        -Djava.awt.headless=true -Dlog4j2.configurationFile="$data/log4j2.properties" \
        -cp "$lib/*" kafka.Kafka "$data/server.properties" \
        >"$data/broker.log" 2>&1 </dev/null 8>&- 9>&- &
    echo $! >"$pidfile"
}

start() {
    check_python
    check_security
    if answering; then
        grant
        echo "kafka already running on 127.0.0.1:$port"
        return 0
    fi
    fetch
    mkdir -p "$data"
    exec 9>"$data/.lock"
    flock -w 120 9 || die 1 "another start or stop in $data did not finish in 2 minutes"
    local pid
    if pid="$(broker_pid)"; then
        echo "kafka is starting (pid $pid), waiting for it"
    else
        launch
        pid="$(cat "$pidfile")"
    fi
    local deadline=$((SECONDS + ready_timeout_s))
    until answering; do
        if ! alive "$pid"; then
            broker_errors
            rm -f "$pidfile"
            die 1 "the broker exited during start-up (see $data/broker.log)"
        fi
        if ((SECONDS >= deadline)); then
            broker_errors
            die 1 "the broker (pid $pid) did not answer on 127.0.0.1:$port in ${ready_timeout_s}s"
        fi
        sleep 0.2
    done
    grant
    echo "kafka ready on 127.0.0.1:$port ($security)"
}

stop() {
    local pid
    if ! pid="$(broker_pid)"; then
        rm -f "$pidfile"
        echo "kafka not running from $data"
        return 0
    fi
    exec 9>"$data/.lock"
    flock -w 120 9 || die 1 "another start or stop in $data did not finish in 2 minutes"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + stop_timeout_s))
    while alive "$pid" && ((SECONDS < deadline)); do
        sleep 0.2
    done
    if alive "$pid"; then
        echo "kafka (pid $pid) still running after ${stop_timeout_s}s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
    echo "kafka stopped"
}

status() {
    check_python
    if answering; then
        echo "kafka running on 127.0.0.1:$port"
        return 0
    fi
    echo "kafka not answering on 127.0.0.1:$port"
    return 1
}

# The broker's errors, or the end of its log if it wrote none.
broker_errors() {
    grep -E '\] (ERROR|FATAL) |^Caused by' "$data/broker.log" 2>/dev/null | tail -n 5 >&2 ||
        tail -n 20 "$data/broker.log" >&2 || true
}

case "${1:-}" in
fetch) fetch && echo "kafka $version jars in $lib" ;;
start) start ;;
stop) stop ;;
status) status ;;
*) die 1 "usage: $0 fetch|start|stop|status" ;;
esac
