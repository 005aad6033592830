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
#   TH_PYTHON                 Python with confluent-kafka, asks the broker for metadata
#                             [the repository's .venv/bin/python]
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
pidfile="$data/kafka.pid"
ready_timeout_s=90
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

# Ready means a client's metadata request succeeds, not merely that the port is open (which
# is checked first because it is quick).
answering() {
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || return 1
    "$python" - "127.0.0.1:$port" >/dev/null 2>&1 <<'EOF'
import sys
from confluent_kafka.admin import AdminClient
AdminClient({"bootstrap.servers": sys.argv[1], "log_level": 0}).list_topics(timeout=2)
EOF
}

write_config() {
    cat >"$data/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$data/logs
num.partitions=6
auto.create.topics.enable=true
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
    write_config
    # A JVM start saved when the folder is formatted already.
    if [[ ! -f "$data/logs/meta.properties" ]] &&
        ! java -cp "$lib/*" -Dlog4j2.configurationFile="$data/log4j2.properties" \
            kafka.tools.StorageTool format -t "$(cluster_id)" -c "$data/server.properties" \
            --ignore-formatted >"$data/format.log" 2>&1; then
        tail -n 20 "$data/format.log" >&2
        die 1 "formatting $data/logs failed (see $data/format.log)"
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
    if answering; then
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
    echo "kafka ready on 127.0.0.1:$port"
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
