#!/usr/bin/env bash
# A real Elasticsearch on demand, for the tests and the demo:
#   bash scripts/elasticsearch.sh [start]   fetch once, unpack, start a single node on 127.0.0.1:$ES_PORT, wait for it
#   bash scripts/elasticsearch.sh stop      stop the node this script started (pid file) and wait until it is gone
#   bash scripts/elasticsearch.sh status    exit 0 and print the version when a node answers, else exit 3
#
# The distribution is Maven Central's `org.elasticsearch.distribution.integ-test-zip:elasticsearch:<version>`:
# a minimal node built for integration tests (server, x-pack-core, x-pack-security, netty; no bundled JDK, no
# scripting modules such as Painless). It runs on the machine's Java 17 (ES 8 needs Java 17+); ES_JAVA_HOME
# picks another JDK.
# Everything lives outside the repository, under $ES_CACHE_DIR (default ~/.cache/ivr-elasticsearch): the zip, the
# unpacked node, and per port the data, the logs and the pid file. Security is off, the node binds 127.0.0.1 only.
set -uo pipefail

ES_VERSION="${ES_VERSION:-8.19.2}"
ES_PORT="${ES_PORT:-9200}"
ES_HEAP="${ES_HEAP:-512m}"
ES_START_TIMEOUT_S="${ES_START_TIMEOUT_S:-300}"
# Elasticsearch refuses to run as root ("can not run elasticsearch as root"): as root the node runs as the system
# user $ES_RUN_USER (created when missing), and the cache defaults to /var/cache, which that user can reach.
ES_RUN_USER="${ES_RUN_USER:-ivr-es}"
if [ "$(id -u)" = "0" ]; then DEFAULT_CACHE=/var/cache/ivr-elasticsearch; else DEFAULT_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/ivr-elasticsearch"; fi
CACHE_DIR="${ES_CACHE_DIR:-$DEFAULT_CACHE}"
ARTIFACT="org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ES_VERSION}:zip"
ZIP="$CACHE_DIR/elasticsearch-${ES_VERSION}.zip"
HOME_DIR="$CACHE_DIR/elasticsearch-${ES_VERSION}"
RUN_DIR="$CACHE_DIR/node-${ES_PORT}"
PID_FILE="$RUN_DIR/elasticsearch.pid"
LOG_FILE="$RUN_DIR/logs/console.log"
URL="http://127.0.0.1:${ES_PORT}"

say() { echo "[elasticsearch] $*"; }
fail() { echo "[elasticsearch] ERROR: $*" >&2; exit 1; }

# The version when an Elasticsearch node answers on $URL, else nothing. Not `GET /`: the integ-test zip has no
# rest-root module, so `/` answers 405 there; the nodes info API is in the server itself.
answering_version() {
  local body
  body="$(curl -sf -m 3 -H 'accept: application/json' "$URL/_nodes/_local?filter_path=nodes.*.version" 2>/dev/null)" || return 1
  printf '%s' "$body" | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      try { const n = Object.values(JSON.parse(s).nodes)[0]; if (!n || !n.version) process.exit(1); console.log(n.version); }
      catch { process.exit(1); }
    });'
}

# yellow or green: a single node with 1-shard indices is green; yellow would mean replicas it cannot place.
healthy() {
  curl -sf -m 5 "$URL/_cluster/health?wait_for_status=yellow&timeout=2s" 2>/dev/null | grep -qE '"status":"(yellow|green)"'
}

our_pid() {
  [ -f "$PID_FILE" ] || return 1
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && { echo "$pid"; return 0; }
  return 1
}

fetch() {
  [ -f "$ZIP" ] && return 0
  mkdir -p "$CACHE_DIR"
  local tmp="$CACHE_DIR/.download-$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  if command -v mvn >/dev/null 2>&1; then
    say "fetching $ARTIFACT with mvn dependency:copy (once; cached in $CACHE_DIR)"
    if ! mvn -q -B -Dstyle.color=never dependency:copy -Dartifact="$ARTIFACT" -DoutputDirectory="$tmp" -Dmdep.overWriteReleases=true >"$tmp/mvn.log" 2>&1; then
      local why
      # mvn's first error line, without colours and the "Failed to execute goal ... on project standalone-pom:" prefix
      why="$(sed -e 's/\x1b\[[0-9;]*m//g' "$tmp/mvn.log" | grep -m1 'ERROR' | sed -e 's/^\[ERROR\] *//' -e 's/^Failed to execute goal .* on project [^:]*: //' | cut -c1-220)"
      rm -rf "$tmp"
      fail "cannot download $ARTIFACT from Maven Central: ${why:-mvn dependency:copy failed}"
    fi
  elif command -v curl >/dev/null 2>&1; then
    local url="https://repo1.maven.org/maven2/org/elasticsearch/distribution/integ-test-zip/elasticsearch/${ES_VERSION}/elasticsearch-${ES_VERSION}.zip"
    say "fetching $url (mvn not found; once; cached in $CACHE_DIR)"
    local code
    code="$(curl -sSL -o "$tmp/elasticsearch-${ES_VERSION}.zip" -w '%{http_code}' "$url" 2>"$tmp/curl.err")"
    if [ "$code" != "200" ]; then
      local why; why="$(head -c 240 "$tmp/curl.err")"
      rm -rf "$tmp"
      fail "cannot download $url: ${why:-HTTP $code}"
    fi
  else
    fail "cannot download Elasticsearch: neither mvn nor curl is installed (apt-get install maven)"
  fi
  mv "$tmp/elasticsearch-${ES_VERSION}.zip" "$ZIP" || { rm -rf "$tmp"; fail "the download left no elasticsearch-${ES_VERSION}.zip in $tmp"; }
  rm -rf "$tmp"
}

unpack() {
  [ -x "$HOME_DIR/bin/elasticsearch" ] && return 0
  say "unpacking $ZIP"
  local tmp="$CACHE_DIR/.unpack-$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  if command -v unzip >/dev/null 2>&1; then unzip -q "$ZIP" -d "$tmp" || { rm -rf "$tmp" "$ZIP"; fail "cannot unpack $ZIP (removed; run again to download it afresh)"; }
  elif command -v python3 >/dev/null 2>&1; then python3 -m zipfile -e "$ZIP" "$tmp" || { rm -rf "$tmp" "$ZIP"; fail "cannot unpack $ZIP (removed; run again to download it afresh)"; }
  else rm -rf "$tmp"; fail "cannot unpack $ZIP: install unzip"
  fi
  chmod +x "$tmp/elasticsearch-${ES_VERSION}"/bin/* 2>/dev/null
  mv "$tmp/elasticsearch-${ES_VERSION}" "$HOME_DIR" && rm -rf "$tmp"
}

java_home() {
  if [ -n "${ES_JAVA_HOME:-}" ]; then echo "$ES_JAVA_HOME"; return; fi
  if [ -n "${JAVA_HOME:-}" ]; then echo "$JAVA_HOME"; return; fi
  if ! command -v java >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    say "no Java found: installing Debian's openjdk-17-jre-headless" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null) >&2 || return 1
  fi
  local java; java="$(command -v java)" || return 1
  dirname "$(dirname "$(readlink -f "$java")")"
}

start() {
  local v
  if v="$(answering_version)"; then
    if our_pid >/dev/null; then say "already running on $URL (pid $(our_pid)), Elasticsearch $v"
    else say "already answering on $URL (not started by this script), Elasticsearch $v"; fi
    wait_healthy && return 0
    fail "the node on $URL answers but its cluster health is not yellow/green"
  fi
  if ! our_pid >/dev/null; then
    fetch
    unpack
    local jh; jh="$(java_home)" || fail "no Java found: Elasticsearch $ES_VERSION needs Java 17+ (apt-get install openjdk-17-jre-headless, or set ES_JAVA_HOME)"
    mkdir -p "$RUN_DIR/data" "$RUN_DIR/logs" "$RUN_DIR/tmp"
    # Its own copy of the config directory (the node writes its keystore there), beside its data.
    # jvm.options names logs/gc.log, hs_err and heap dumps relative to ES_HOME (the launcher cds there), which
    # the node's user may not write: point them at the run directory.
    if [ ! -f "$RUN_DIR/config/elasticsearch.yml" ]; then
      cp -r "$HOME_DIR/config" "$RUN_DIR/config"
      sed -i -e "s#file=logs/gc.log#file=$RUN_DIR/logs/gc.log#" -e "s#ErrorFile=logs/#ErrorFile=$RUN_DIR/logs/#" \
        -e "s#ReplayDataFile=logs/#ReplayDataFile=$RUN_DIR/logs/#" -e "s#HeapDumpPath=data#HeapDumpPath=$RUN_DIR/data#" \
        "$RUN_DIR/config/jvm.options"
    fi
    : >"$LOG_FILE"
    local as_user=()
    if [ "$(id -u)" = "0" ]; then
      if ! id -u "$ES_RUN_USER" >/dev/null 2>&1; then
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$ES_RUN_USER" \
          || fail "running as root, and the user $ES_RUN_USER (Elasticsearch refuses root) cannot be created; set ES_RUN_USER"
      fi
      chown -R "$ES_RUN_USER" "$RUN_DIR"
      as_user=(runuser -u "$ES_RUN_USER" --)
    fi
    say "starting Elasticsearch $ES_VERSION on $URL (heap $ES_HEAP, data $RUN_DIR/data, log $LOG_FILE)"
    # Settings: https://www.elastic.co/guide/en/elasticsearch/reference/8.19/important-settings.html;
    # disk watermarks off so a nearly full dev disk does not block shard allocation (disk-allocator settings).
    (cd "$RUN_DIR" && exec nohup "${as_user[@]}" env ES_JAVA_HOME="$jh" ES_PATH_CONF="$RUN_DIR/config" ES_TMPDIR="$RUN_DIR/tmp" \
      ES_JAVA_OPTS="-Xms$ES_HEAP -Xmx$ES_HEAP ${ES_EXTRA_JAVA_OPTS--XX:TieredStopAtLevel=1}" \
      "$HOME_DIR/bin/elasticsearch" -p "$PID_FILE" \
      -Ediscovery.type=single-node \
      -Enetwork.host=127.0.0.1 \
      -Ehttp.port="$ES_PORT" \
      -Etransport.port=0 \
      -Ecluster.name="ivr-test-$ES_PORT" \
      -Enode.name="ivr-test-$ES_PORT" \
      -Epath.data="$RUN_DIR/data" \
      -Epath.logs="$RUN_DIR/logs" \
      -Expack.security.enabled=false \
      -Ecluster.routing.allocation.disk.threshold_enabled=false \
      -Eaction.destructive_requires_name=false \
      >>"$LOG_FILE" 2>&1 </dev/null) &
    local launcher=$!
    echo "$launcher" >"$RUN_DIR/launcher.pid"
  fi
  local deadline=$((SECONDS + ES_START_TIMEOUT_S))
  while [ $SECONDS -lt $deadline ]; do
    if v="$(answering_version)" && healthy; then
      say "ready on $URL: Elasticsearch $v (pid $(our_pid || echo '?'))"
      return 0
    fi
    if ! our_pid >/dev/null && [ -f "$RUN_DIR/launcher.pid" ] && ! kill -0 "$(cat "$RUN_DIR/launcher.pid")" 2>/dev/null; then
      say "Elasticsearch exited during start; last lines of $LOG_FILE:" >&2
      tail -n 30 "$LOG_FILE" >&2
      exit 1
    fi
    sleep 1
  done
  say "Elasticsearch did not answer on $URL within ${ES_START_TIMEOUT_S}s; last lines of $LOG_FILE:" >&2
  tail -n 30 "$LOG_FILE" >&2
  exit 1
}

wait_healthy() {
  local deadline=$((SECONDS + 60))
  while [ $SECONDS -lt $deadline ]; do healthy && return 0; sleep 1; done
  return 1
}

stop() {
  local pid
  if ! pid="$(our_pid)"; then
    rm -f "$PID_FILE" "$RUN_DIR/launcher.pid"
    if answering_version >/dev/null; then say "a node answers on $URL but this script did not start it (no pid in $PID_FILE): left alone"
    else say "not running on $URL"; fi
    return 0
  fi
  say "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null
  local deadline=$((SECONDS + 60))
  while kill -0 "$pid" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then say "pid $pid still alive after 60 s; SIGKILL"; kill -KILL "$pid" 2>/dev/null; sleep 1; fi
    sleep 0.2
  done
  # The port is free once the process is gone; make sure nothing of ours still answers.
  rm -f "$PID_FILE" "$RUN_DIR/launcher.pid"
  say "stopped"
}

status() {
  local v
  if v="$(answering_version)"; then
    say "running on $URL: Elasticsearch $v$(our_pid >/dev/null && echo " (pid $(our_pid))")"
    return 0
  fi
  if our_pid >/dev/null; then say "pid $(our_pid) alive but not answering on $URL (starting?)"; return 3; fi
  say "not running on $URL"
  return 3
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: bash scripts/elasticsearch.sh [start|stop|status]" >&2; exit 2 ;;
esac
