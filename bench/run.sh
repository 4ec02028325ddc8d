#!/usr/bin/env bash
# bench/run.sh — the standard load scenarios of issue 6 on one machine:
# a private redis-server (AOF, appendfsync always), leitai built from this
# tree, and `leitai rehearse` as the load generator, all on loopback. It
# writes every rehearsal's JSON report, the server logs and a markdown
# summary (summary.md) into $OUT, and prints the summary.
#
# Usage:
#   bench/run.sh                       # every scenario, 19,000 voters
#   QUICK=1 bench/run.sh               # the same, 2,000 voters, shorter rounds
#   SCENARIOS="connections ballots-redis" VOTERS=5000 bench/run.sh
#
# Scenarios (SCENARIOS, space-separated; default all, in this order):
#   fanout             for each N in FANOUT_VOTERS (5000 and VOTERS): the
#                      plain-TCP floor for N sockets (bench/floor), N idle
#                      voters through stage changes, the floor again; the
#                      summary gives the stage fan-out as a ratio to it
#   connections        embedded store: VOTERS idle voters, memory per idle
#                      connection, a stage change to every voter, screens
#                      (with the floor for VOTERS sockets before and after)
#   ballots-embedded   sustained ballots on the embedded store (every voter
#                      keeps changing its ballot for WINDOW)
#   ballots-redis      the same on Redis, one instance
#   ballots-rate       the open loop (rehearse --rate): for each store in
#                      RATE_STORES, one server, and for each rate in RATES a
#                      rehearsal of VOTERS voters with ballots arriving at
#                      that rate (Poisson) for RATE_DURATION; the summary
#                      gives the latency curve and the highest rate whose
#                      p99 stays under 50 ms. Run it with redis-benchmark
#                      (the ceiling of cast.lua in the same sitting)
#   restart-embedded   the server is restarted (SIGTERM, start) mid-vote:
#                      every voter reconnects, resynchronises and resends
#   two-instances      2×VOTERS voters over two instances sharing one Redis
#                      (two load processes of VOTERS voters each)
#   restart-two        the two instances restarted mid-vote
#   redis-benchmark    the ceiling: redis-benchmark running cast.lua
#
# Knobs (environment): VOTERS (19000), SCREENS (2), WINDOW (60s, the
# sustained-ballot window), THINK (0-1s, think time while sustaining),
# RAMP (2000 connections/s), SOURCE_IPS (127.0.0.1-127.0.0.16),
# OUT (bench/out/<date>), PPROF (set: servers run with --pprof, and a 20 s
# CPU profile is taken during the connections and ballots scenarios, and
# one of RATE_DURATION less 5 s during each open-loop rate in PPROF_RATES),
# RATES (1000 2000 5000 10000 15000 ballots/s), RATE_STORES (embedded
# redis), RATE_DURATION (20s; QUICK 5s), PPROF_RATES (5000 10000).
#
# Only loopback addresses are used. Needs: go, redis-server, redis-cli,
# redis-benchmark, curl. Run as root to raise the hard open-files limit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

QUICK=${QUICK:-}
PPROF=${PPROF:-}
VOTERS=${VOTERS:-$([ -n "$QUICK" ] && echo 2000 || echo 19000)}
SCREENS=${SCREENS:-2}
WINDOW=${WINDOW:-$([ -n "$QUICK" ] && echo 20s || echo 60s)}
THINK=${THINK:-0-1s}
RAMP=${RAMP:-2000}
SOURCE_IPS=${SOURCE_IPS:-127.0.0.1-127.0.0.16}
FANOUT_VOTERS=${FANOUT_VOTERS:-5000 $VOTERS}
RATES=${RATES:-1000 2000 5000 10000 15000}
RATE_STORES=${RATE_STORES:-embedded redis}
RATE_DURATION=${RATE_DURATION:-$([ -n "$QUICK" ] && echo 5s || echo 20s)}
PPROF_RATES=${PPROF_RATES:-5000 10000}
SCENARIOS=${SCENARIOS:-fanout connections ballots-embedded ballots-redis ballots-rate restart-embedded two-instances restart-two redis-benchmark}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-$ROOT/bench/out/$STAMP}
KEY=bench-host-key-$RANDOM$RANDOM
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/leitai-bench.XXXXXX)

for tool in go redis-server redis-cli redis-benchmark curl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing" >&2; exit 1; }
done

# Open files: each connection is a descriptor in the server and one in the
# load generator. Raise the hard limit when allowed (root), then the soft.
ulimit -Hn 1048576 2>/dev/null || true
ulimit -Sn "$(ulimit -Hn)"
echo "open files: $(ulimit -n)"

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# A free loopback port below the ephemeral range (so that no client socket
# takes it meanwhile).
free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 12000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "bench: no free port" >&2; exit 1
}

echo "building leitai"
go build -o "$OUT/leitai" ./cmd/leitai # kept with the results: profiles need it
LEITAI=$OUT/leitai
go build -o "$OUT/floor" ./bench/floor

# floor NAME N: the plain-TCP fan-out floor of this machine for N sockets
# (one write of 200 bytes per socket from two writers, a client process
# reading), its report in $OUT/NAME.floor.
floor() {
  local name=$1 n=$2
  echo "=== $name: the fan-out floor for $n sockets"
  "$OUT/floor" -n "$n" -rounds 10 -source-ips "$SOURCE_IPS" -json >"$OUT/$name.floor" ||
    echo "bench: floor $name failed" >&2
}

REDIS_PORT=
REDIS_PID=
start_redis() {
  REDIS_PORT=$(free_port)
  mkdir -p "$WORK/redis"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$WORK/redis" --save "" \
    --appendonly yes --appendfsync always --maxclients 100000 --protected-mode no \
    --logfile "$OUT/redis.log" --daemonize no &
  REDIS_PID=$!
  PIDS+=("$REDIS_PID")
  for _ in $(seq 100); do
    redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && return
    sleep 0.1
  done
  echo "bench: redis-server did not start" >&2; exit 1
}
stop_redis() {
  [ -n "$REDIS_PID" ] || return 0
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || kill "$REDIS_PID" 2>/dev/null || true
  wait "$REDIS_PID" 2>/dev/null || true
  REDIS_PID=
  rm -rf "$WORK/redis"
}

# start_leitai NAME PORT [redis]: starts an instance, sets LEITAI_PID_<NAME>
# and, the first time, METRICS_<PORT> (its --metrics-addr port, kept across
# restarts so that a rehearsal keeps reading it).
start_leitai() {
  local name=$1 port=$2 store=${3:-embedded} args=() mvar="METRICS_$2"
  [ -n "${!mvar:-}" ] || printf -v "$mvar" '%s' "$(free_port)"
  args+=(--metrics-addr "127.0.0.1:${!mvar}")
  [ "$store" = redis ] && args+=(--redis "redis://127.0.0.1:$REDIS_PORT/0")
  if [ -n "$PPROF" ]; then
    local pp; pp=$(free_port)
    args+=(--pprof "127.0.0.1:$pp")
    printf -v "PPROF_PORT_$name" '%s' "$pp"
  fi
  mkdir -p "$WORK/data-$name"
  "$LEITAI" --addr "127.0.0.1:$port" --data "$WORK/data-$name" --host-key "$KEY" --voter-rate 100000 \
    --public-url "http://127.0.0.1:$port" --log-level warn "${args[@]}" >>"$OUT/leitai-$name.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  printf -v "LEITAI_PID_$name" '%s' "$pid"
  for _ in $(seq 200); do
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return
    sleep 0.05
  done
  echo "bench: leitai $name did not start (see $OUT/leitai-$name.log)" >&2; exit 1
}
stop_leitai() {
  local name=$1 var="LEITAI_PID_$1"
  local pid=${!var:-}
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  printf -v "$var" '%s' ""
}

# murl PORT...: the metrics URLs of the instances on PORTS, comma-separated.
murl() {
  local out=() v
  for p in "$@"; do v="METRICS_$p"; out+=("http://127.0.0.1:${!v}"); done
  (IFS=,; echo "${out[*]}")
}

# accepted PORT: ballots the instance accepted so far.
accepted() {
  local v="METRICS_$1"
  curl -fsS "http://127.0.0.1:${!v}/metrics" 2>/dev/null |
    awk '/^leitai_ballots_total\{result="accepted"\}/ {printf "%d", $2; found=1} END {if (!found) print 0}'
}

# rehearse NAME ARGS...: one rehearsal, its report in $OUT/NAME.json.
rehearse() {
  local name=$1; shift
  echo "=== $name: leitai rehearse $*"
  local rc=0
  "$LEITAI" rehearse --host-key "$KEY" --source-ips "$SOURCE_IPS" --ramp "$RAMP" --json --progress 5s "$@" \
    >"$OUT/$name.json" 2> >(tee "$OUT/$name.progress" >&2) || rc=$?
  echo "=== $name: exit $rc"
  echo "$name $rc" >>"$OUT/exit-codes"
}

# profile_during NAME INSTANCE PORT: with PPROF set, once voting has begun
# (ballots accepted) takes a 20 s CPU profile of the instance into
# $OUT/NAME-cpu.pb.gz (go tool pprof -top "$OUT/leitai" FILE).
profile_during() {
  [ -n "$PPROF" ] || return 0
  local name=$1 var="PPROF_PORT_$2" port=$3 deadline=$((SECONDS + 600))
  until [ "$(accepted "$port")" -ge 1000 ]; do
    [ $SECONDS -lt $deadline ] || return 0
    sleep 0.5
  done
  curl -fsS "http://127.0.0.1:${!var}/debug/pprof/profile?seconds=20" -o "$OUT/$name-cpu.pb.gz" || true
}

# profile_rate NAME INSTANCE PORT SECONDS: with PPROF set, once ballots
# flow again on the instance (1,000 more accepted than when called), takes
# a CPU profile of SECONDS into $OUT/NAME-cpu.pb.gz.
profile_rate() {
  [ -n "$PPROF" ] || return 0
  local name=$1 var="PPROF_PORT_$2" port=$3 secs=$4 deadline=$((SECONDS + 600)) base
  base=$(accepted "$port")
  until [ "$(accepted "$port")" -ge $((base + 1000)) ]; do
    [ $SECONDS -lt $deadline ] || return 0
    sleep 0.2
  done
  curl -fsS "http://127.0.0.1:${!var}/debug/pprof/profile?seconds=$secs" -o "$OUT/$name-cpu.pb.gz" || true
}

# restart_during NAME PORTS STORE: waits until voting has begun (ballots
# accepted), then restarts the instances on PORTS (names i1, i2, ...).
restart_during() {
  local store=$1; shift
  local ports=("$@") deadline=$((SECONDS + 600))
  until [ "$(accepted "${ports[0]}")" -ge 1000 ]; do
    [ $SECONDS -lt $deadline ] || { echo "bench: no ballots within 10 min" >&2; return; }
    sleep 0.5
  done
  sleep 2
  echo "=== restarting ${#ports[@]} instance(s)"
  local i=1
  for p in "${ports[@]}"; do stop_leitai "i$i"; i=$((i + 1)); done
  i=1
  for p in "${ports[@]}"; do start_leitai "i$i" "$p" "$store"; i=$((i + 1)); done
}

SUSTAIN=(--change 1 --max-changes 1000000 --think "$THINK" --contestants 1 --present 1s --window "$WINDOW")

for sc in $SCENARIOS; do
  case $sc in
  fanout)
    # Stage changes only (long think time: no ballots), minutes apart from
    # the floor on both sides.
    for n in $FANOUT_VOTERS; do
      floor "fanout-$n-before" "$n"
      P=$(free_port); start_leitai i1 "$P"
      rehearse "fanout-$n" --url "http://127.0.0.1:$P" --metrics-url "$(murl "$P")" --voters "$n" --screens "$SCREENS" \
        --contestants 6 --think 60s --change 0 --present 1s --window 1s --settle 2s
      stop_leitai i1
      floor "fanout-$n-after" "$n"
    done ;;
  connections)
    floor connections-before "$VOTERS"
    P=$(free_port); start_leitai i1 "$P"
    profile_during connections i1 "$P" &
    PROF_PID=$!
    rehearse connections --url "http://127.0.0.1:$P" --metrics-url "$(murl "$P")" --voters "$VOTERS" --screens "$SCREENS" \
      --contestants 2 --think 1s-10s --change 0 --present 3s --window 12s --settle 5s
    wait "$PROF_PID"
    stop_leitai i1
    floor connections-after "$VOTERS" ;;
  ballots-embedded)
    P=$(free_port); start_leitai i1 "$P"
    profile_during ballots-embedded i1 "$P" &
    PROF_PID=$!
    rehearse ballots-embedded --url "http://127.0.0.1:$P" --metrics-url "$(murl "$P")" --voters "$VOTERS" --screens "$SCREENS" "${SUSTAIN[@]}"
    wait "$PROF_PID"
    stop_leitai i1 ;;
  ballots-redis)
    start_redis; P=$(free_port); start_leitai i1 "$P" redis
    profile_during ballots-redis i1 "$P" &
    PROF_PID=$!
    rehearse ballots-redis --url "http://127.0.0.1:$P" --metrics-url "$(murl "$P")" --voters "$VOTERS" --screens "$SCREENS" "${SUSTAIN[@]}"
    wait "$PROF_PID"
    stop_leitai i1; stop_redis ;;
  ballots-rate)
    # One server per store; one rehearsal per rate (a fresh event, every
    # voter connected again), one contestant whose window is RATE_DURATION.
    secs=${RATE_DURATION%s}
    for store in $RATE_STORES; do
      if [ "$store" = redis ]; then start_redis; fi
      P=$(free_port); start_leitai i1 "$P" "$store"
      for rate in $RATES; do
        PROF_PID=
        if [[ " $PPROF_RATES " == *" $rate "* ]]; then
          profile_rate "rate-$store-$rate" i1 "$P" $((secs > 8 ? secs - 5 : secs)) &
          PROF_PID=$!
        fi
        rehearse "rate-$store-$rate" --url "http://127.0.0.1:$P" --metrics-url "$(murl "$P")" --voters "$VOTERS" \
          --screens "$SCREENS" --contestants 1 --present 1s --rate "$rate" --duration "$RATE_DURATION"
        [ -z "$PROF_PID" ] || wait "$PROF_PID"
      done
      stop_leitai i1
      if [ "$store" = redis ]; then stop_redis; fi
    done ;;
  restart-embedded)
    P=$(free_port); start_leitai i1 "$P"
    rehearse restart-embedded --url "http://127.0.0.1:$P" --metrics-url "$(murl "$P")" --voters "$VOTERS" --screens "$SCREENS" \
      --contestants 3 --think 1s-8s --change 0.3 --present 2s --window 20s &
    RPID=$!
    restart_during embedded "$P"
    wait "$RPID" || true
    stop_leitai i1 ;;
  two-instances)
    # 2×VOTERS voters: one load process holds at most ~19,500 sockets (the
    # open-files limit), so two run side by side, each with VOTERS voters
    # of its own event spread over both instances (each process's host
    # drives its event through another instance). Each instance holds
    # VOTERS voters; the summary adds the two reports up.
    start_redis; P1=$(free_port); P2=$(free_port)
    start_leitai i1 "$P1" redis; start_leitai i2 "$P2" redis
    TWO=(--voters "$VOTERS" --screens "$SCREENS" --contestants 2 --think 1s-10s --change 0.2 --present 3s --window 15s --settle 5s)
    rehearse two-instances.1 --url "http://127.0.0.1:$P1,http://127.0.0.1:$P2" --metrics-url "$(murl "$P1" "$P2")" "${TWO[@]}" &
    RPID=$!
    rehearse two-instances.2 --url "http://127.0.0.1:$P2,http://127.0.0.1:$P1" --metrics-url "$(murl "$P2" "$P1")" "${TWO[@]}" || true
    wait "$RPID" || true
    stop_leitai i1; stop_leitai i2; stop_redis ;;
  restart-two)
    start_redis; P1=$(free_port); P2=$(free_port)
    start_leitai i1 "$P1" redis; start_leitai i2 "$P2" redis
    rehearse restart-two --url "http://127.0.0.1:$P1,http://127.0.0.1:$P2" --metrics-url "$(murl "$P1" "$P2")" --voters "$VOTERS" \
      --screens "$SCREENS" --contestants 3 --think 1s-8s --change 0.3 --present 2s --window 20s &
    RPID=$!
    restart_during redis "$P1" "$P2"
    wait "$RPID" || true
    stop_leitai i1; stop_leitai i2; stop_redis ;;
  redis-benchmark)
    # The ceiling: Redis alone running cast.lua for fresh voters, as the
    # Redis store does for each ballot (EVALSHA, the same 10 keys and 11
    # arguments, audit log entry included), on an event that leitai
    # created and opened.
    start_redis; P=$(free_port); start_leitai i1 "$P" redis
    EV=bench-ceiling
    curl -fsS -H "Authorization: Bearer $KEY" -X POST "http://127.0.0.1:$P/api/events" \
      -d '{"id":"'$EV'","title":"ceiling","contestants":[{"id":"c1","name":"c1"}],"panels":[{"id":"audience","name":"a","weight":60}],"rules":{"min":60,"max":100,"step":0.5,"trim":1,"decimals":2}}' >/dev/null
    for a in next open; do
      curl -fsS -H "Authorization: Bearer $KEY" -X POST "http://127.0.0.1:$P/api/events/$EV/stage" -d '{"action":"'$a'"}' >/dev/null
    done
    stop_leitai i1
    SHA=$(redis-cli -p "$REDIS_PORT" script load "$(cat voting/redisstore/cast.lua)")
    REV=$(redis-cli -p "$REDIS_PORT" hget "leitai:{$EV}:event" rev)
    K="leitai:{$EV}:"
    NOW=$(($(date +%s) * 1000))
    for pipe in 1 16; do
      echo "=== redis-benchmark cast.lua, 50 clients, pipeline $pipe"
      redis-benchmark -p "$REDIS_PORT" -c 50 -n $([ -n "$QUICK" ] && echo 100000 || echo 500000) -P "$pipe" -r 100000000 --csv \
        EVALSHA "$SHA" 10 "${K}event" "${K}stage" "${K}receipts" "${K}ballots" "${K}voter:v__rand_int__" \
        "${K}scores:c1:audience" "${K}agg:c1" "${K}ranking" "${K}holders" "${K}audit" \
        "00000000-0000-4000-8000-__rand_int__" "fp" "$REV" "$NOW" "v__rand_int__" c1 audience 800000 '{"b":1}' \
        "d__rand_int__" "$EV" \
        | tee "$OUT/redis-benchmark-P$pipe.csv"
    done
    stop_redis ;;
  *)
    echo "bench: unknown scenario $sc" >&2; exit 2 ;;
  esac
done

# The machine and the summary.
{
  echo "## Load rehearsal — $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- Machine: $(nproc) CPUs ($(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)), $(free -g | awk '/^Mem:/ {print $2}') GB RAM, $(uname -sr)"
  echo "- $(go version | cut -d' ' -f3-), $(redis-server --version | cut -d' ' -f3), server + Redis + load generator on the same machine, loopback only"
  echo "- VOTERS=$VOTERS SCREENS=$SCREENS WINDOW=$WINDOW THINK=$THINK RAMP=$RAMP SOURCE_IPS=$SOURCE_IPS"
  echo "- open loop: RATES=$RATES RATE_STORES=$RATE_STORES RATE_DURATION=$RATE_DURATION; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  shopt -s nullglob
  reports=("$OUT"/*.json "$OUT"/*.floor)
  shopt -u nullglob
  if ((${#reports[@]})); then go run ./bench/summary "${reports[@]}"; fi
  for pipe in 1 16; do
    f=$OUT/redis-benchmark-P$pipe.csv
    [ -s "$f" ] || continue
    echo
    printf -- '- Ceiling, redis-benchmark running cast.lua for fresh voters, 50 clients, pipeline %s: ' "$pipe"
    # The last seven CSV fields: rps, avg, min, p50, p95, p99, max.
    tail -1 "$f" | awk -F'","' '{gsub(/"/, "", $NF); printf "**%s ballots/s**, latency ms avg %s, p50 %s, p95 %s, p99 %s, max %s\n", $(NF-6), $(NF-5), $(NF-3), $(NF-2), $(NF-1), $NF}'
  done
  echo
  echo "Exit codes: $(tr '\n' ' ' <"$OUT/exit-codes" 2>/dev/null)"
} >"$OUT/summary.md"
cat "$OUT/summary.md"
echo "results in $OUT"
