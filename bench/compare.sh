#!/usr/bin/env bash
# Compares Herald's end-to-end throughput and latency with the no-store relay (the ceiling on this machine) and with
# a peer, MassTransit 8.5 over RabbitMQ (classic and quorum queues), all driven by the same load generator
# (bench/Herald.LoadGen, one driver for every --target) on loopback only. Starts its own RabbitMQ node in a temp folder
# (own HOME and cookie, own epmd, free loopback ports, no plugins) and stops it at the end; every run has a --timeout,
# so the script stops by itself. Prints Markdown tables on stdout; progress and each run's lines go to stderr.
#
#   bench/compare.sh [--events N] [--subscribers "1 3"] [--rounds N] [--rate R] [--rate-events N] [--warmup N] [--timeout SECONDS] [--no-build]
#
# The same settings as environment variables: EVENTS (20000), SUBSCRIBERS ("1 3"), RATE (1000), RATE_EVENTS (EVENTS),
# WARMUP (10000 events published and delivered before each measured run, not counted: long enough for every target's hot
# code to be re-compiled optimised before it is measured; 0 measures from a cold start),
# ROUNDS (1: every full-speed run is made this many times, the targets in a rotated order each round; the tables then give
# each figure's median over the rounds, and each round's ratios below them),
# RUN_TIMEOUT (300 s per run). Needs the .NET 10 SDK; installs Debian's rabbitmq-server with apt-get if missing.
set -euo pipefail

EVENTS=${EVENTS:-20000}
SUBSCRIBERS=${SUBSCRIBERS:-"1 3"}
RATE=${RATE:-1000}
RATE_EVENTS=${RATE_EVENTS:-}
WARMUP=${WARMUP:-10000}
RUN_TIMEOUT=${RUN_TIMEOUT:-300}
ROUNDS=${ROUNDS:-1}
BUILD=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --events) EVENTS=$2; shift 2 ;;
        --subscribers) SUBSCRIBERS=$2; shift 2 ;;
        --rate) RATE=$2; shift 2 ;;
        --rate-events) RATE_EVENTS=$2; shift 2 ;;
        --warmup) WARMUP=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --timeout) RUN_TIMEOUT=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "Unknown argument: $1 (see --help)" >&2; exit 64 ;;
    esac
done
RATE_EVENTS=${RATE_EVENTS:-$EVENTS}
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "ROUNDS must be a whole number of at least 1; found '$ROUNDS'." >&2; exit 64; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOADGEN="$ROOT/bench/Herald.LoadGen/bin/Release/net10.0/Herald.LoadGen.dll"
RABBIT_BIN=/usr/lib/rabbitmq/bin
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

log() { printf '%s\n' "$*" >&2; }

# --- build --------------------------------------------------------------------------------------------------------
if [[ $BUILD == 1 ]]; then
    log "Building bench/Herald.LoadGen (Release)..."
    dotnet build -c Release "$ROOT/bench/Herald.LoadGen" -nologo -v quiet >&2
fi
[[ -f $LOADGEN ]] || { log "No $LOADGEN: build it (dotnet build -c Release bench/Herald.LoadGen) or drop --no-build."; exit 1; }

# --- RabbitMQ from Debian ---------------------------------------------------------------------------------------------
if ! command -v rabbitmq-server >/dev/null 2>&1 && [[ ! -x $RABBIT_BIN/rabbitmq-server ]]; then
    [[ $(id -u) == 0 ]] || { log "rabbitmq-server is not installed; run as root or: apt-get install -y rabbitmq-server"; exit 1; }
    log "Installing Debian's rabbitmq-server..."
    apt-get update >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y rabbitmq-server >&2
fi
# The scripts under /usr/lib/rabbitmq/bin run the node as the caller with the caller's environment (Debian's wrappers
# in /usr/sbin switch to the rabbitmq user and its HOME, which would ignore this run's cookie and folders).
EPMD=$(command -v epmd || ls /usr/lib/erlang/erts-*/bin/epmd 2>/dev/null | head -n 1)

# --- this run's node --------------------------------------------------------------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/herald-bench.XXXXXX")
SERVER_PID=""
EPMD_PID=""
PID_FILE="$TMP/rabbit.pid"

cleanup() {
    local code=$?
    set +e
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        log "Stopping RabbitMQ node $RABBITMQ_NODENAME..."
        timeout 30 "$RABBIT_BIN/rabbitmqctl" -q stop "$PID_FILE" >/dev/null 2>&1
        for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        local beam=""
        [[ -f $PID_FILE ]] && beam=$(cat "$PID_FILE" 2>/dev/null)
        if kill -0 "$SERVER_PID" 2>/dev/null; then
            log "The node did not stop; killing the processes this script started ($SERVER_PID${beam:+, $beam})."
            [[ -n $beam ]] && kill -KILL "$beam" 2>/dev/null
            kill -KILL "$SERVER_PID" 2>/dev/null
        fi
        wait "$SERVER_PID" 2>/dev/null
    fi
    if [[ -n $EPMD_PID ]] && kill -0 "$EPMD_PID" 2>/dev/null; then
        kill "$EPMD_PID" 2>/dev/null
        wait "$EPMD_PID" 2>/dev/null
    fi
    rm -rf "$TMP"
    exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A port nothing on 127.0.0.1 listens on now, and not one already picked for this run (the caller adds it to PICKED).
PICKED=" "
free_port() {
    local port
    for _ in $(seq 1 500); do
        port=$((20000 + RANDOM % 30000))
        [[ $PICKED == *" $port "* ]] && continue
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    log "No free loopback port found."
    return 1
}

AMQP_PORT=$(free_port); PICKED="$PICKED$AMQP_PORT "
DIST_PORT=$(free_port); PICKED="$PICKED$DIST_PORT "
EPMD_PORT=$(free_port); PICKED="$PICKED$EPMD_PORT "
CTL_DIST_PORT=$(free_port); PICKED="$PICKED$CTL_DIST_PORT "

mkdir -p "$TMP/home" "$TMP/mnesia" "$TMP/log"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$TMP/home/.erlang.cookie"
chmod 400 "$TMP/home/.erlang.cookie"
echo '[].' > "$TMP/enabled_plugins"
: > "$TMP/rabbitmq-env.conf"
: > "$TMP/rabbitmq.conf"

export HOME="$TMP/home"
export RABBITMQ_NODENAME="herald-bench-$$@localhost"
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT=$AMQP_PORT
export RABBITMQ_DIST_PORT=$DIST_PORT
export RABBITMQ_MNESIA_BASE="$TMP/mnesia"
export RABBITMQ_LOG_BASE="$TMP/log"
export RABBITMQ_PID_FILE="$PID_FILE"
export RABBITMQ_CONF_ENV_FILE="$TMP/rabbitmq-env.conf"
export RABBITMQ_CONFIG_FILE="$TMP/rabbitmq.conf"
export RABBITMQ_ENABLED_PLUGINS_FILE="$TMP/enabled_plugins"
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
export RABBITMQ_CTL_DIST_PORT_MIN=$CTL_DIST_PORT RABBITMQ_CTL_DIST_PORT_MAX=$CTL_DIST_PORT
export ERL_EPMD_ADDRESS=127.0.0.1
export ERL_EPMD_PORT=$EPMD_PORT

log "Starting epmd on 127.0.0.1:$EPMD_PORT and RabbitMQ node $RABBITMQ_NODENAME (AMQP 127.0.0.1:$AMQP_PORT, distribution $DIST_PORT) in $TMP..."
"$EPMD" -port "$EPMD_PORT" -address 127.0.0.1 > "$TMP/log/epmd.out" 2>&1 &
EPMD_PID=$!
(cd "$TMP" && exec "$RABBIT_BIN/rabbitmq-server") > "$TMP/log/server.out" 2>&1 &
SERVER_PID=$!

# Poll until the node runs and its AMQP listener answers; each CLI call blocks on its own (no fixed sleeps).
DEADLINE=$((SECONDS + 120))
until "$RABBIT_BIN/rabbitmq-diagnostics" -q check_port_connectivity --timeout 10 >/dev/null 2>&1; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        log "RabbitMQ exited while starting:"; tail -n 30 "$TMP/log/server.out" >&2; exit 1
    fi
    if (( SECONDS > DEADLINE )); then
        log "RabbitMQ did not answer within 120 s:"; tail -n 30 "$TMP/log/server.out" >&2; exit 1
    fi
    "$RABBIT_BIN/rabbitmqctl" -q await_startup --timeout 10 >/dev/null 2>&1 || true
done
log "RabbitMQ $("$RABBIT_BIN/rabbitmqctl" -q version 2>/dev/null || echo '?') is up."
AMQP="amqp://guest:guest@127.0.0.1:$AMQP_PORT/"

# --- runs ---------------------------------------------------------------------------------------------------------------
FAILED=0
declare -A RESULT  # key "label|S|rate|round" -> "accepted total_s pub_p50 pub_p99 e2e_p50 e2e_p99 published_rate" or "failed N"
ROUND=1

# run LABEL S RATE EVENTS loadgen-args...
run() {
    local label=$1 subs=$2 rate=$3 events=$4; shift 4
    local out="$TMP/run-${label// /_}-$subs-$rate-$ROUND.txt" code=0
    log ""
    log "== $label, S=$subs, $([[ $rate == 0 ]] && echo 'as fast as it goes' || echo "$rate events/s"), $events events$( [[ $rate == 0 ]] && (( ROUNDS > 1 )) && echo ", round $ROUND of $ROUNDS")"
    timeout --foreground -k 10 $((RUN_TIMEOUT + 60)) dotnet "$LOADGEN" --events "$events" --subscribers "$subs" --warmup "$WARMUP" --timeout "$RUN_TIMEOUT" "$@" > "$out" 2>&1 || code=$?
    cat "$out" >&2
    # Interrupted (the load generator answers Ctrl+C with 130): stop here, as bash does not when its child handled SIGINT.
    if [[ $code == 130 || $code == 143 ]]; then
        log "Interrupted."
        exit "$code"
    fi
    local published delivered pub e2e
    published=$(grep -m1 '^published: ' "$out" || true)
    delivered=$(grep -m1 '^delivered: ' "$out" || true)
    pub=$(grep -m1 '^publish latency ms: ' "$out" || true)
    e2e=$(grep -m1 'handler latency ms: ' "$out" || true)
    if [[ $code != 0 || -z $published || -z $delivered || -z $pub || -z $e2e ]]; then
        RESULT["$label|$subs|$rate|$ROUND"]="failed $code"
        FAILED=1
        return 0
    fi
    local accepted total pubrate
    accepted=$(sed -E 's/^published: ([0-9]+) accepted.*/\1/' <<< "$published")
    pubrate=$(sed -E 's/.* = ([0-9]+) events\/s$/\1/' <<< "$published")
    total=$(sed -E 's/^delivered: [0-9]+ deliveries in ([0-9.]+) s.*/\1/' <<< "$delivered")
    RESULT["$label|$subs|$rate|$ROUND"]="$accepted $total $(percentiles "$pub") $(percentiles "$e2e") $pubrate"
}
percentiles() { sed -E 's/.*p50 ([0-9.]+) +p99 ([0-9.]+).*/\1 \2/' <<< "$1"; }

TARGETS=("herald" "relay" "masstransit classic" "masstransit quorum")
args_for() {
    case "$1" in
        herald) echo "--target herald" ;;
        relay) echo "--target relay" ;;
        "masstransit classic") echo "--target masstransit --queue classic --amqp $AMQP" ;;
        "masstransit quorum") echo "--target masstransit --queue quorum --amqp $AMQP" ;;
    esac
}

for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
    for subs in $SUBSCRIBERS; do
        # Each round starts one target later, so that no target always runs first (or right after another).
        for ((i = 0; i < ${#TARGETS[@]}; i++)); do
            t=${TARGETS[$(((i + ROUND - 1) % ${#TARGETS[@]}))]}
            # shellcheck disable=SC2046 # args_for prints separate words on purpose
            run "$t" "$subs" 0 "$EVENTS" $(args_for "$t")
        done
    done
done
ROUND=1
RATE_TARGETS=("herald" "relay" "masstransit classic")
for t in "${RATE_TARGETS[@]}"; do
    # shellcheck disable=SC2046
    run "$t" 1 "$RATE" "$RATE_EVENTS" $(args_for "$t") --rate "$RATE"
done

# --- report -------------------------------------------------------------------------------------------------------------
field() { # field KEY INDEX (1-based); empty when the run failed
    local v=${RESULT[$1]:-failed ?}
    [[ $v == failed* ]] && return 0
    awk -v i="$2" '{ print $i }' <<< "$v"
}
e2e_rate() { local a t; a=$(field "$1" 1); t=$(field "$1" 2); [[ -n $a ]] && awk -v a="$a" -v t="$t" 'BEGIN { if (t > 0) printf "%.0f", a / t }'; }
median_rate() { local m; m=$(median e2e_rate "$1"); [[ -n $m ]] && awk -v m="$m" 'BEGIN { printf "%.0f", m }'; }
cell() { [[ -n $1 ]] && printf '%s' "$1" || printf '%s' "${RESULT[$2|1]:-failed}"; }
# median FUNCTION KEY [FIELD]: the median over the rounds of FUNCTION "KEY|round" [FIELD], over the rounds that did not fail
median() {
    local fn=$1 key=$2 values=() v r
    for ((r = 1; r <= ROUNDS; r++)); do
        v=$("$fn" "$key|$r" "${@:3}")
        [[ -n $v ]] && values+=("$v")
    done
    (( ${#values[@]} )) || return 0
    printf '%s\n' "${values[@]}" | sort -g | awk '{ a[NR] = $1 } END { m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf (m == int(m) ? "%d" : "%.1f"), m }'
}
ratio() { [[ -n $1 && -n $2 ]] && awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }' || printf 'n/a'; }

echo "## End to end: $EVENTS events, as fast as 64 publishers go (after $WARMUP warm-up events)$( (( ROUNDS > 1 )) && echo "; medians of $ROUNDS rounds")"
echo
echo "Machine: $(nproc) cores, $(. /etc/os-release && echo "$PRETTY_NAME"), .NET $(dotnet --list-runtimes | awk '/Microsoft.NETCore.App/ { v = $2 } END { print v }'), RabbitMQ $("$RABBIT_BIN/rabbitmqctl" -q version 2>/dev/null || echo '?'); $(date -u +%Y-%m-%dT%H:%MZ)."
echo
echo "| target | S | end-to-end events/s | publish p99 ms | publish→handler p50 ms | publish→handler p99 ms |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for subs in $SUBSCRIBERS; do
    for t in "${TARGETS[@]}"; do
        k="$t|$subs|0"
        echo "| $t | $subs | $(cell "$(median_rate "$k")" "$k") | $(cell "$(median field "$k" 4)" "$k") | $(cell "$(median field "$k" 5)" "$k") | $(cell "$(median field "$k" 6)" "$k") |"
    done
done
echo
echo "End-to-end events/s = events accepted / seconds from the first publish until every delivery was handled."
echo
echo "| S | ratio | end-to-end events/s | publish→handler p99 |"
echo "| ---: | --- | ---: | ---: |"
for subs in $SUBSCRIBERS; do
    h="herald|$subs|0"
    for other in "masstransit classic" "masstransit quorum" "relay"; do
        o="$other|$subs|0"
        name="Herald/peer (${other#masstransit })"
        [[ $other == relay ]] && name="Herald/relay"
        echo "| $subs | $name | $(ratio "$(median_rate "$h")" "$(median_rate "$o")") | $(ratio "$(median field "$h" 6)" "$(median field "$o" 6)") |"
    done
done
echo
if (( ROUNDS > 1 )); then
    echo "Each round's end-to-end events/s ratios (the table above divides the medians):"
    echo
    echo "| S | round | Herald/peer (classic) | Herald/peer (quorum) | Herald/relay |"
    echo "| ---: | ---: | ---: | ---: | ---: |"
    for subs in $SUBSCRIBERS; do
        for ((r = 1; r <= ROUNDS; r++)); do
            h=$(e2e_rate "herald|$subs|0|$r")
            echo "| $subs | $r | $(ratio "$h" "$(e2e_rate "masstransit classic|$subs|0|$r")") | $(ratio "$h" "$(e2e_rate "masstransit quorum|$subs|0|$r")") | $(ratio "$h" "$(e2e_rate "relay|$subs|0|$r")") |"
        done
    done
    echo
fi
echo "Events/s ratio above 1: Herald is faster; p99 ratio above 1: Herald's latency is higher."
echo
echo "## Fixed rate: $RATE events/s, $RATE_EVENTS events, S=1 (after $WARMUP warm-up events)"
echo
echo "| target | published events/s | publish p99 ms | publish→handler p50 ms | publish→handler p99 ms |"
echo "| --- | ---: | ---: | ---: | ---: |"
for t in "${RATE_TARGETS[@]}"; do
    k="$t|1|$RATE"
    echo "| $t | $(cell "$(field "$k|1" 7)" "$k") | $(cell "$(field "$k|1" 4)" "$k") | $(cell "$(field "$k|1" 5)" "$k") | $(cell "$(field "$k|1" 6)" "$k") |"
done

exit "$FAILED"
