#!/usr/bin/env bash
# Fetch and run a real Apache Cassandra 5.0 single node for tests and CI.
#
# No Docker, no tarball mirror: the server is `org.apache.cassandra:cassandra-all` from Maven Central, whose
# runtime dependencies are the whole server classpath. We generate cassandra.yaml + logback.xml ourselves (the
# jar ships neither) and start CassandraDaemon with plain `java` (Java 17).
#
# THIS IS A TEST SERVER. Several settings below (skip_sync, unsafesystem, no auto-snapshots, tiny heaps,
# shortened gossip/ring delays) trade durability for speed. Never copy them to anything that holds real data.
#
# Usage: see usage() below or scripts/cassandra/README.md.
set -euo pipefail

CASSANDRA_VERSION="${ES_CASSANDRA_VERSION:-5.0.9}"
# Pinned so the build does not depend on the Maven 3.8.7 default (2.x) plugin version.
DEP_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
CACHE_ROOT="${ES_CASSANDRA_HOME:-$HOME/.cache/es-cassandra}"
# Absolute, because it ends up in file:// URLs and yaml paths.
CACHE_ROOT="$(mkdir -p "$CACHE_ROOT" && cd "$CACHE_ROOT" && pwd)"
VERSION_DIR="$CACHE_ROOT/$CASSANDRA_VERSION"
LIB_DIR="$VERSION_DIR/lib"
FETCH_MARKER="$VERSION_DIR/.fetch-complete"
START_TIMEOUT="${ES_CASSANDRA_START_TIMEOUT:-180}"
ADDRESS=127.0.0.1

usage() {
  cat <<EOF
Usage: $0 <command> [options]

Commands:
  fetch                     Download cassandra-all $CASSANDRA_VERSION + deps into $LIB_DIR (idempotent).
  start [options]           Start a node in the background and wait until CQL is ready.
      --name NAME           Instance name (default: main). State lives in $CACHE_ROOT/instances/NAME.
      --port PORT           CQL native port (default: 9042).
      --storage-port PORT   Internode port (default: 7000). Must differ per instance.
      --jmx-port PORT       Enable local JMX (for nodetool) on PORT (default: off).
      --heap SIZE           JVM heap, e.g. 1G (default: 1G for main, 512M otherwise).
      --auth                PasswordAuthenticator + CassandraAuthorizer; superuser cassandra/cassandra.
      --keep-data           Keep the data dir from a previous run (default: wipe for a fresh node).
  stop [--name NAME]        Stop the node this script started (SIGTERM, SIGKILL after 60 s).
  status [--name NAME]      Show whether the node runs and answers CQL.

Environment: ES_CASSANDRA_HOME (cache + instances root), ES_CASSANDRA_VERSION (default $CASSANDRA_VERSION),
             ES_CASSANDRA_START_TIMEOUT (seconds, default 180), ES_CASSANDRA_MVN_ARGS (extra mvn args).
EOF
}

log() { echo "[cassandra] $*" >&2; }
die() { echo "[cassandra] ERROR: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------------------
# fetch
# ---------------------------------------------------------------------------------------------------------
cmd_fetch() {
  if [[ -f "$FETCH_MARKER" && -f "$LIB_DIR/cassandra-all-$CASSANDRA_VERSION.jar" ]]; then
    log "cassandra-all $CASSANDRA_VERSION already fetched: $LIB_DIR"
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found (needed once to fetch cassandra-all from Maven Central)"
  mkdir -p "$VERSION_DIR"
  # Serialise concurrent fetches (e.g. two CI steps) on the same cache. The lock lives in a subshell so its
  # fd is not inherited by a Cassandra process that `start` launches afterwards.
  ( flock 9; fetch_locked ) 9>"$VERSION_DIR/.fetch.lock"
}

fetch_locked() {
  if [[ -f "$FETCH_MARKER" ]]; then log "fetched by a concurrent run: $LIB_DIR"; return 0; fi

  local work; work="$(mktemp -d)"
  # Throwaway POM: its only job is to make Maven resolve cassandra-all's transitive runtime classpath.
  cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>es.local</groupId>
  <artifactId>cassandra-classpath</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.cassandra</groupId>
      <artifactId>cassandra-all</artifactId>
      <version>$CASSANDRA_VERSION</version>
    </dependency>
  </dependencies>
</project>
EOF
  log "fetching cassandra-all $CASSANDRA_VERSION and its runtime dependencies (~70 MB) ..."
  local start=$SECONDS
  rm -rf "$LIB_DIR.tmp"
  # Output goes to a file (Maven 3.8 prints stray colour escapes even with -B -q); shown only on failure.
  # shellcheck disable=SC2086  # ES_CASSANDRA_MVN_ARGS is intentionally word-split
  mvn -B -q -f "$work/pom.xml" ${ES_CASSANDRA_MVN_ARGS:-} "$DEP_PLUGIN:copy-dependencies" \
      -DincludeScope=runtime -DoutputDirectory="$LIB_DIR.tmp" >"$work/mvn.log" 2>&1 \
    || { cat "$work/mvn.log" >&2; rm -rf "$work" "$LIB_DIR.tmp"; die "mvn failed to fetch cassandra-all $CASSANDRA_VERSION"; }
  rm -rf "$work"
  [[ -f "$LIB_DIR.tmp/cassandra-all-$CASSANDRA_VERSION.jar" ]] || die "cassandra-all jar missing after fetch"
  # Swap in atomically so a half-finished download is never mistaken for a complete one.
  rm -rf "$LIB_DIR"
  mv "$LIB_DIR.tmp" "$LIB_DIR"
  ls "$LIB_DIR" >"$FETCH_MARKER"
  log "fetched $(wc -l <"$FETCH_MARKER") jars into $LIB_DIR in $((SECONDS - start)) s"
}

# ---------------------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------------------

# Java 17 exactly: Cassandra 5.0 installs a SecurityManager, which JDK 18+ refuses by default and 24+ removed.
find_java() {
  local candidate
  for candidate in /usr/lib/jvm/java-17-openjdk-amd64/bin/java /usr/lib/jvm/java-17-openjdk-*/bin/java; do
    [[ -x "$candidate" ]] && { echo "$candidate"; return 0; }
  done
  if command -v java >/dev/null && java -version 2>&1 | head -1 | grep -q '"17\.'; then
    command -v java; return 0
  fi
  die "Java 17 not found (looked in /usr/lib/jvm/java-17-openjdk-*, and 'java' on PATH is $(java -version 2>&1 | head -1 || echo missing)). Install openjdk-17-jre-headless."
}

# True when something accepts TCP connections on ADDRESS:$1. Runs in a subshell: a failed `exec` redirect
# would otherwise end the calling (non-interactive) shell.
port_open() { (exec 3<>"/dev/tcp/$ADDRESS/$1") 2>/dev/null; }

# A 32-bit big-endian int as printf escapes, for hand-built CQL frames.
be32() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)); }

# Minimal CQL native-protocol v4 handshake over bash /dev/tcp, so readiness needs no driver or cqlsh.
#   cql_probe PORT            -> prints READY (no auth) or AUTHENTICATE (auth required); exit 0
#   cql_probe PORT USER PASS  -> additionally logs in (SASL PLAIN); prints AUTH_SUCCESS or the server's error
# Exit 1 when the port does not speak CQL (yet).
cql_probe() (
  local LC_ALL=C   # ${#var} must count bytes for the frame lengths
  local port=$1 user=${2:-} pass=${3:-} hdr opcode len body
  exec 2>/dev/null   # quiet "connection refused" while the node is still starting
  exec 3<>"/dev/tcp/$ADDRESS/$port" || exit 1
  # read one frame: 9-byte header (version, flags, stream:2, opcode, length:4), then the body
  read_frame() {
    hdr=$(timeout 5 head -c 9 <&3 | od -An -tx1 -v | tr -d ' \n')
    [[ ${#hdr} -eq 18 ]] || return 1
    opcode=${hdr:8:2}
    len=$((16#${hdr:10:8}))
    body=""
    # ERROR body is [int code][short len][message]: keep just the message text for diagnostics.
    if [[ $opcode == 00 ]]; then body=$(timeout 5 head -c "$len" <&3 | tail -c +7 | tr -d '\000')
    elif ((len > 0)); then timeout 5 head -c "$len" <&3 >/dev/null; fi
  }
  # STARTUP {CQL_VERSION: 3.0.0}
  printf '\x04\x00\x00\x01\x01\x00\x00\x00\x16\x00\x01\x00\x0bCQL_VERSION\x00\x053.0.0' >&3
  read_frame || exit 1
  case $opcode in
    02) echo READY; exit 0 ;;
    03) [[ -n $user ]] || { echo AUTHENTICATE; exit 0; } ;;
    00) echo "ERROR: $body"; exit 1 ;;
    *) exit 1 ;;
  esac
  # AUTH_RESPONSE with the SASL PLAIN token "\0user\0pass"
  local token_len=$((2 + ${#user} + ${#pass}))
  # shellcheck disable=SC2059  # the format is built from be32's escapes on purpose
  printf "\\x04\\x00\\x00\\x02\\x0f$(be32 $((4 + token_len)))$(be32 "$token_len")\\x00%s\\x00%s" "$user" "$pass" >&3
  read_frame || exit 1
  case $opcode in
    10) echo AUTH_SUCCESS; exit 0 ;;
    00) echo "ERROR: $body"; exit 1 ;;
    *) echo "unexpected opcode $opcode"; exit 1 ;;
  esac
)

# Instance layout: everything for one node under one directory.
set_instance() {
  NAME=$1
  [[ $NAME =~ ^[A-Za-z0-9_.-]+$ ]] || die "bad instance name: $NAME"
  INST="$CACHE_ROOT/instances/$NAME"
  PID_FILE="$INST/cassandra.pid"
  YAML="$INST/cassandra.yaml"
  LOG_DIR="$INST/logs"
  SYSTEM_LOG="$LOG_DIR/system.log"
  CONSOLE_LOG="$LOG_DIR/console.log"
}

# The pid from our pid file, only if that process is alive AND is the CassandraDaemon of this instance
# (guards against a stale pid file whose pid was reused by something else).
running_pid() {
  [[ -f $PID_FILE ]] || return 1
  local pid; pid=$(<"$PID_FILE")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-Dcassandra.config=file://$YAML" || return 1
  echo "$pid"
}

print_log_tail() {
  local f
  for f in "$SYSTEM_LOG" "$CONSOLE_LOG"; do
    [[ -s $f ]] || continue
    echo "----- last 60 lines of $f -----" >&2
    tail -n 60 "$f" >&2
  done
}

rss_mb() { awk '/^VmRSS/ {printf "%d MB", $2/1024}' "/proc/$1/status" 2>/dev/null || true; }

# ---------------------------------------------------------------------------------------------------------
# config generation
# ---------------------------------------------------------------------------------------------------------
write_yaml() {
  local auth_block
  if ((AUTH)); then
    # Validity 0 = no auth caches, so GRANT/CREATE ROLE in tests take effect immediately.
    auth_block="authenticator: PasswordAuthenticator
authorizer: CassandraAuthorizer
role_manager: CassandraRoleManager
roles_validity: 0ms
permissions_validity: 0ms
credentials_validity: 0ms"
  else
    auth_block="authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
role_manager: CassandraRoleManager"
  fi
  cat >"$YAML" <<EOF
# Generated by scripts/cassandra/cassandra.sh for instance '$NAME'. TEST SERVER ONLY.
# Unknown keys are fatal in Cassandra, so keep this minimal and 5.0-valid.
cluster_name: es-test-$NAME
num_tokens: 1
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "$ADDRESS:$STORAGE_PORT"
listen_address: $ADDRESS
storage_port: $STORAGE_PORT
rpc_address: $ADDRESS
start_native_transport: true
native_transport_port: $PORT

data_file_directories:
  - $INST/data/data
commitlog_directory: $INST/data/commitlog
saved_caches_directory: $INST/data/saved_caches
hints_directory: $INST/data/hints
cdc_raw_directory: $INST/data/cdc_raw
commitlog_sync: periodic
commitlog_sync_period: 10000ms

$auth_block

# 5.0-only storage features on (this is always a fresh 5.0 node, no 4.x peers to stay compatible with).
storage_compatibility_mode: NONE
# Paxos v2: fewer round trips per LWT; event appends are LWTs.
paxos_variant: v2

# Test-friendly: no snapshot on TRUNCATE/DROP (tests do many), no hints on a single node, small thread pools.
auto_snapshot: false
hinted_handoff_enabled: false
concurrent_reads: 4
concurrent_writes: 4
concurrent_counter_writes: 4
concurrent_compactors: 1
EOF
}

write_logback() {
  cat >"$INST/logback.xml" <<EOF
<!-- Generated by scripts/cassandra/cassandra.sh. One INFO file; start-up readiness greps it. -->
<configuration scan="false">
  <appender name="FILE" class="ch.qos.logback.core.rolling.RollingFileAppender">
    <file>$SYSTEM_LOG</file>
    <rollingPolicy class="ch.qos.logback.core.rolling.FixedWindowRollingPolicy">
      <fileNamePattern>$LOG_DIR/system.log.%i.zip</fileNamePattern>
      <minIndex>1</minIndex>
      <maxIndex>3</maxIndex>
    </rollingPolicy>
    <triggeringPolicy class="ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy">
      <maxFileSize>50MB</maxFileSize>
    </triggeringPolicy>
    <encoder>
      <pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern>
    </encoder>
  </appender>
  <root level="INFO">
    <appender-ref ref="FILE"/>
  </root>
</configuration>
EOF
}

jvm_opts() {
  local -a o=(
    "-Xms$HEAP" "-Xmx$HEAP" -Xss256k
    -XX:+UseG1GC -XX:+ParallelRefProcEnabled -XX:MaxGCPauseMillis=300
    -XX:+ExitOnOutOfMemoryError -XX:+PerfDisableSharedMem
    "-XX:ErrorFile=$LOG_DIR/hs_err_%p.log"
    -Djava.net.preferIPv4Stack=true -ea
    # JPMS: the list from Cassandra 5.0's conf/jvm17-server.options (+ java.nio, which jamm/ohc touch).
    -Djdk.attach.allowAttachSelf=true
    --add-exports=java.base/jdk.internal.misc=ALL-UNNAMED
    --add-exports=java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
    --add-exports=java.management/com.sun.jmx.remote.security=ALL-UNNAMED
    --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED
    --add-exports=java.rmi/sun.rmi.server=ALL-UNNAMED
    --add-exports=java.sql/java.sql=ALL-UNNAMED
    --add-exports=java.base/java.lang.ref=ALL-UNNAMED
    --add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED
    --add-exports=jdk.attach/sun.tools.attach=ALL-UNNAMED
    --add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
    --add-opens=java.base/java.lang.module=ALL-UNNAMED
    --add-opens=java.base/jdk.internal.loader=ALL-UNNAMED
    --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
    --add-opens=java.base/jdk.internal.reflect=ALL-UNNAMED
    --add-opens=java.base/jdk.internal.math=ALL-UNNAMED
    --add-opens=java.base/jdk.internal.module=ALL-UNNAMED
    --add-opens=java.base/jdk.internal.util.jar=ALL-UNNAMED
    --add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
    --add-opens=java.base/java.io=ALL-UNNAMED
    --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
    --add-opens=java.base/java.lang=ALL-UNNAMED
    --add-opens=java.base/java.util=ALL-UNNAMED
    --add-opens=java.base/java.nio=ALL-UNNAMED
    --add-opens=jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
    # Netty settings upstream uses on Java 17.
    -Dio.netty.tryReflectionSetAccessible=true
    -Dio.netty.allocator.useCacheForAllThreads=true
    -Dio.netty.allocator.maxOrder=11
    -Dchronicle.analytics.disable=true
    # Where things are. foreground=yes keeps stdout/stderr open so JVM-level failures reach console.log.
    "-Dcassandra.config=file://$YAML"
    "-Dcassandra.storagedir=$INST/data"
    "-Dcassandra.logdir=$LOG_DIR"
    "-Dlogback.configurationFile=file://$INST/logback.xml"
    -Dcassandra-foreground=yes
    # TEST-SERVER SPEED-UPS. Unsafe for real data: no fsync at all, unsynced system tables,
    # no waiting for gossip on a one-node ring, fast default-superuser creation, no size estimates.
    -Dcassandra.skip_sync=true
    -Dcassandra.unsafesystem=true
    -Dcassandra.skip_wait_for_gossip_to_settle=0
    -Dcassandra.ring_delay_ms=1000
    -Dcassandra.superuser_setup_delay_ms=500
    -Dcassandra.size_recorder_interval=0
    # Faster stop (6 s -> ~2 s): no 2 s "announce shutdown" sleep for peers (a one-node ring has none) and no
    # graceful drain of internode connections (a Cassandra test-only switch).
    -Dcassandra.shutdown_announce_in_ms=0
    -Dcassandra.test.messagingService.nonGracefulShutdown=true
  )
  # jamm is optional in 5.0 but upstream always loads it as an agent (more exact memtable sizing).
  local jamm
  jamm=$(find "$LIB_DIR" -maxdepth 1 -name 'jamm-*.jar' | head -1)
  [[ -n $jamm ]] && o+=("-javaagent:$jamm")
  if [[ -n $JMX_PORT ]]; then o+=("-Dcassandra.jmx.local.port=$JMX_PORT"); fi
  printf '%s\n' "${o[@]}"
}

# ---------------------------------------------------------------------------------------------------------
# start / stop / status
# ---------------------------------------------------------------------------------------------------------

# Wait until: the log says "Startup complete", the port is open, and a CQL handshake succeeds
# (with --auth: a real login as cassandra/cassandra, which only works once the default role exists).
wait_ready() {
  local pid=$1 started=$2 kill_on_timeout=$3 deadline=$((SECONDS + START_TIMEOUT)) probe=""
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      print_log_tail
      die "Cassandra '$NAME' (pid $pid) exited during start-up; logs in $LOG_DIR"
    fi
    if grep -q 'Startup complete' "$SYSTEM_LOG" 2>/dev/null && port_open "$PORT"; then
      if ((AUTH)); then probe=$(cql_probe "$PORT" cassandra cassandra || true)
      else probe=$(cql_probe "$PORT" || true); fi
      if [[ $probe == READY || $probe == AUTH_SUCCESS ]]; then
        log "'$NAME' ready on $ADDRESS:$PORT (pid $pid, $((SECONDS - started)) s, RSS $(rss_mb "$pid"), CQL: $probe)"
        return 0
      fi
    fi
    sleep 0.5
  done
  print_log_tail
  if ((kill_on_timeout)); then
    log "not ready after ${START_TIMEOUT} s (last CQL probe: ${probe:-none}); stopping pid $pid"
    stop_pid "$pid" 20
  fi
  die "'$NAME' not ready after ${START_TIMEOUT} s (last CQL probe: ${probe:-none})"
}

parse_opts() {
  NAME=main PORT=9042 STORAGE_PORT=7000 JMX_PORT="" HEAP="" AUTH=0 KEEP_DATA=0
  while (($#)); do
    case $1 in
      --name) NAME=${2:?--name needs a value}; shift 2 ;;
      --port) PORT=${2:?--port needs a value}; shift 2 ;;
      --storage-port) STORAGE_PORT=${2:?--storage-port needs a value}; shift 2 ;;
      --jmx-port) JMX_PORT=${2:?--jmx-port needs a value}; shift 2 ;;
      --heap) HEAP=${2:?--heap needs a value}; shift 2 ;;
      --auth) AUTH=1; shift ;;
      --keep-data) KEEP_DATA=1; shift ;;
      -h|--help) usage; exit 0 ;;
      *) die "unknown option: $1 (see --help)" ;;
    esac
  done
  [[ -n $HEAP ]] || { [[ $NAME == main ]] && HEAP=1G || HEAP=512M; }
  set_instance "$NAME"
}

cmd_start() {
  parse_opts "$@"
  local pid probe
  if pid=$(running_pid); then
    # Judge readiness by how that instance was configured, not by this command line's options.
    local want_auth=$AUTH
    PORT=$(awk '/^native_transport_port:/ {print $2}' "$YAML")
    if grep -q '^authenticator: PasswordAuthenticator' "$YAML"; then AUTH=1; else AUTH=0; fi
    ((want_auth == AUTH)) || log "WARNING: '$NAME' is running with auth=$AUTH, not the requested auth=$want_auth"
    log "'$NAME' already running (pid $pid, port $PORT); waiting until it is ready"
    wait_ready "$pid" "$SECONDS" 0
    return 0
  fi
  if port_open "$PORT"; then
    probe=$(cql_probe "$PORT" || true)
    case $probe in
      READY|AUTHENTICATE)
        if [[ $probe == AUTHENTICATE && $AUTH -eq 0 ]] || [[ $probe == READY && $AUTH -eq 1 ]]; then
          die "a Cassandra already answers on $ADDRESS:$PORT but its auth mode differs (it says $probe); stop it or use another --port"
        fi
        log "a Cassandra already answers on $ADDRESS:$PORT ($probe); not starting another"
        return 0 ;;
      *) die "port $ADDRESS:$PORT is in use by something that does not speak CQL" ;;
    esac
  fi
  port_open "$STORAGE_PORT" && die "storage port $STORAGE_PORT is in use (another instance?); pass --storage-port"
  if [[ -n $JMX_PORT ]] && port_open "$JMX_PORT"; then die "JMX port $JMX_PORT is in use"; fi

  cmd_fetch
  local java; java=$(find_java)

  mkdir -p "$INST"
  if ((KEEP_DATA == 0)); then rm -rf "$INST/data"; fi   # fresh node by default
  mkdir -p "$INST/data"
  # Keep the previous run's logs one generation back; "Startup complete" must come from this run.
  rm -rf "$LOG_DIR.prev"
  [[ -d $LOG_DIR ]] && mv "$LOG_DIR" "$LOG_DIR.prev"
  mkdir -p "$LOG_DIR"
  write_yaml
  write_logback

  local -a opts
  mapfile -t opts < <(jvm_opts)
  log "starting '$NAME': Cassandra $CASSANDRA_VERSION on $ADDRESS:$PORT (storage $STORAGE_PORT, heap $HEAP, auth $AUTH) with $java"
  # As root the JVM holds CAP_IPC_LOCK, so Cassandra's mlockall(MCL_CURRENT) succeeds and faults the whole heap
  # into RAM (measured: +2.6 s start-up, ~+800 MB RSS). A test server needs no locked memory: drop just that
  # capability and mlockall fails with a harmless "Unable to lock JVM memory (ENOMEM)" warning, as it does
  # for non-root users under the default RLIMIT_MEMLOCK.
  local -a launcher=()
  if ((EUID == 0)) && command -v setpriv >/dev/null; then launcher=(setpriv --bounding-set=-ipc_lock); fi
  local started=$SECONDS
  # setsid + nohup: the node outlives the shell (and process group) that started it; stop it with `stop`.
  # cwd = instance dir so nothing (hs_err, jna temp files) lands in the repo.
  (
    cd "$INST"
    exec nohup setsid "${launcher[@]}" "$java" "${opts[@]}" -cp "$LIB_DIR/*" org.apache.cassandra.service.CassandraDaemon \
      </dev/null >"$CONSOLE_LOG" 2>&1
  ) &
  pid=$!
  echo "$pid" >"$PID_FILE"
  wait_ready "$pid" "$started" 1
}

# SIGTERM runs Cassandra's shutdown hook (drain: flush memtables, close ports); SIGKILL if it hangs.
stop_pid() {
  local pid=$1 grace=$2 started=$SECONDS
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && ((SECONDS - started < grace)); do sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid still alive after $grace s; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
}

cmd_stop() {
  parse_opts "$@"
  local pid started=$SECONDS
  if ! pid=$(running_pid); then
    log "'$NAME' is not running (no live pid from $PID_FILE)"
    rm -f "$PID_FILE"
    return 0
  fi
  log "stopping '$NAME' (pid $pid) with SIGTERM"
  stop_pid "$pid" 60
  log "'$NAME' stopped in $((SECONDS - started)) s"
}

cmd_status() {
  parse_opts "$@"
  local pid probe
  if pid=$(running_pid); then
    probe=$(cql_probe "$(awk '/^native_transport_port:/ {print $2}' "$YAML")" || echo "no CQL answer")
    echo "'$NAME': running, pid $pid, RSS $(rss_mb "$pid"), $(grep -E '^(native_transport_port|storage_port|authenticator):' "$YAML" | tr '\n' ' ')CQL: $probe"
    echo "  log: $SYSTEM_LOG"
  else
    echo "'$NAME': not running"
    return 3
  fi
}

main() {
  local cmd=${1:-}
  [[ -n $cmd ]] || { usage; exit 2; }
  shift
  case $cmd in
    fetch) cmd_fetch ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status "$@" ;;
    -h|--help|help) usage ;;
    *) usage; exit 2 ;;
  esac
}

main "$@"
