#!/usr/bin/env bash
# Compares Herald's stores on this machine: the embedded SQLite store, NATS JetStream on one server (R1) and on a
# 3-node cluster (R3), driven by the same load generator (bench/Herald.LoadGen, its own broker in-process) on loopback
# only. Starts its own nats-server processes in a temp folder and stops them by PID at the end; every run has a
# --timeout, so the script stops by itself. Prints Markdown tables on stdout; each run's lines go to stderr.
#
#   bench/compare-stores.sh [--events N] [--subscribers S] [--rate R] [--warmup N] [--timeout SECONDS] [--no-build]
#
# Defaults: 20000 events, S=1, 1000 events/s for the fixed-rate run, 1000 warm-up events, 300 s per run. Needs the
# .NET 10 SDK and nats-server (apt-get install nats-server).
set -euo pipefail

EVENTS=20000 SUBS=1 RATE=1000 WARMUP=1000 RUN_TIMEOUT=300 BUILD=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --events) EVENTS=$2; shift 2 ;;
        --subscribers) SUBS=$2; shift 2 ;;
        --rate) RATE=$2; shift 2 ;;
        --warmup) WARMUP=$2; shift 2 ;;
        --timeout) RUN_TIMEOUT=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "Unknown argument: $1 (see --help)" >&2; exit 64 ;;
    esac
done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOADGEN="$ROOT/bench/Herald.LoadGen/bin/Release/net10.0/Herald.LoadGen.dll"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 PATH="$PATH:/usr/sbin"
log() { printf '%s\n' "$*" >&2; }
command -v nats-server >/dev/null || { log "nats-server is not installed: apt-get install -y nats-server"; exit 1; }
if [[ $BUILD == 1 ]]; then
    dotnet build -c Release "$ROOT/bench/Herald.LoadGen" -nologo -v quiet >&2
fi

TMP=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_node NAME CLIENT_PORT HTTP_PORT [CLUSTER_PORT ROUTE_PORTS...]
start_node() {
    local name=$1 client=$2 http=$3 conf="$TMP/$1.conf"; shift 3
    {
        echo "server_name: $name"; echo "listen: 127.0.0.1:$client"; echo "http: 127.0.0.1:$http"; echo "max_payload: 8MB"
        echo "jetstream { store_dir: \"$TMP/$name\", max_memory_store: 256MB, max_file_store: 4GB }"
        if [[ $# -gt 0 ]]; then
            local listen=$1; shift
            echo "cluster { name: bench, listen: 127.0.0.1:$listen, routes: ["
            for r in "$@"; do echo "  nats-route://127.0.0.1:$r"; done
            echo "] }"
        fi
    } > "$conf"
    nats-server -c "$conf" > "$TMP/$name.log" 2>&1 &
    PIDS+=($!)
}
wait_ready() { # wait_ready HTTP_PORT...
    local deadline=$((SECONDS + 30))
    for port in "$@"; do
        until curl -sf "http://127.0.0.1:$port/healthz?js-enabled-only=true" >/dev/null; do
            [[ $SECONDS -lt $deadline ]] || { log "nats-server on :$port did not start"; cat "$TMP"/*.log >&2; exit 1; }
            sleep 0.2
        done
    done
}

r1_client=$(free_port); r1_http=$(free_port)
start_node r1 "$r1_client" "$r1_http"
c=(); h=(); k=()
for i in 1 2 3; do c+=("$(free_port)"); h+=("$(free_port)"); k+=("$(free_port)"); done
for i in 0 1 2; do start_node "n$((i + 1))" "${c[$i]}" "${h[$i]}" "${k[$i]}" "${k[@]}"; done
wait_ready "$r1_http" "${h[@]}"
R1="nats://127.0.0.1:$r1_client"
R3="nats://127.0.0.1:${c[0]},nats://127.0.0.1:${c[1]},nats://127.0.0.1:${c[2]}"

declare -A RESULT
run() { # run LABEL RATE loadgen-args...
    local label=$1 rate=$2 out="$TMP/run-$1-$2.txt"; shift 2
    log ""; log "== $label, S=$SUBS, $([[ $rate == 0 ]] && echo 'as fast as it goes' || echo "$rate events/s"), $EVENTS events"
    local extra=(); [[ $rate != 0 ]] && extra=(--rate "$rate")
    timeout --foreground -k 10 $((RUN_TIMEOUT + 60)) dotnet "$LOADGEN" --events "$EVENTS" --subscribers "$SUBS" --warmup "$WARMUP" \
        --timeout "$RUN_TIMEOUT" "${extra[@]}" "$@" > "$out" 2>&1 || true
    cat "$out" >&2
    local published delivered pub e2e
    published=$(grep -m1 '^published: ' "$out" || true); delivered=$(grep -m1 '^delivered: ' "$out" || true)
    pub=$(grep -m1 '^publish latency ms: ' "$out" || true); e2e=$(grep -m1 'handler latency ms: ' "$out" || true)
    if [[ -z $published || -z $delivered || -z $pub || -z $e2e ]]; then RESULT["$label|$rate"]="failed"; return 0; fi
    local accepted total
    accepted=$(sed -E 's/^published: ([0-9]+) accepted.*/\1/' <<< "$published")
    total=$(sed -E 's/^delivered: [0-9]+ deliveries in ([0-9.]+) s.*/\1/' <<< "$delivered")
    RESULT["$label|$rate"]="$(awk -v a="$accepted" -v t="$total" 'BEGIN { printf "%.0f", a / t }') $(sed -E 's/.*p50 ([0-9.]+) +p99 ([0-9.]+).*/\1 \2/' <<< "$pub") $(sed -E 's/.*p50 ([0-9.]+) +p99 ([0-9.]+).*/\1 \2/' <<< "$e2e")"
}

run sqlite 0 --store sqlite
run "nats R1" 0 --store "$R1" --replicas 1
run "nats R3" 0 --store "$R3" --replicas 3
run sqlite "$RATE" --store sqlite
run "nats R3" "$RATE" --store "$R3" --replicas 3

f() { local v=${RESULT[$1]:-failed}; [[ $v == failed ]] && echo "" || awk -v i="$2" '{ print $i }' <<< "$v"; }
echo "## Stores: $EVENTS events, S=$SUBS, as fast as 64 publishers go (after $WARMUP warm-up events)"
echo
echo "Machine: $(nproc) cores, nats-server $(nats-server --version | sed 's/nats-server: //'), $(date -u +%Y-%m-%dT%H:%MZ)."
echo
echo "| store | end-to-end events/s | publish p50 ms | publish p99 ms | publish→handler p50 ms | publish→handler p99 ms |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for s in sqlite "nats R1" "nats R3"; do
    echo "| $s | $(f "$s|0" 1) | $(f "$s|0" 2) | $(f "$s|0" 3) | $(f "$s|0" 4) | $(f "$s|0" 5) |"
done
echo
sq=$(f "sqlite|0" 1)
for s in "nats R1" "nats R3"; do
    v=$(f "$s|0" 1)
    echo "$s / sqlite, end-to-end events/s: $([[ -n $v && -n $sq ]] && awk -v a="$v" -v b="$sq" 'BEGIN { printf "%.2f", a / b }' || echo n/a)"
done
echo
echo "## Fixed rate: $RATE events/s, $EVENTS events, S=$SUBS"
echo
echo "| store | publish p50 ms | publish p99 ms | publish→handler p50 ms | publish→handler p99 ms |"
echo "| --- | ---: | ---: | ---: | ---: |"
for s in sqlite "nats R3"; do
    echo "| $s | $(f "$s|$RATE" 2) | $(f "$s|$RATE" 3) | $(f "$s|$RATE" 4) | $(f "$s|$RATE" 5) |"
done
