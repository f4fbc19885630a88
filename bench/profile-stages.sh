#!/usr/bin/env bash
# CPU cost per event by process: 'herald up' in its own process (SQLite in a temp folder) and the load generator
# (publisher and SDK subscribers) against it, N events to S subscribers. With PERF=1 it also records the broker with
# Linux perf (apt-get install linux-perf) for PERF_SECONDS while the load runs, with JIT symbols, into PERF_OUT.
#
#   bench/profile-stages.sh [CHECKOUT]     CHECKOUT: a built Herald checkout (default: this one)
#   env: EVENTS (20000), SUBSCRIBERS (1), PERF (0|1), PERF_SECONDS (8), PERF_OUT (perf.data), BROKER_ENV ("")
#
# Build first: dotnet build -c Release src/Herald.Cli && dotnet build -c Release bench/Herald.LoadGen
set -euo pipefail
root=$(cd "${1:-$(dirname "$0")/..}" && pwd)
events=${EVENTS:-20000}
subscribers=${SUBSCRIBERS:-1}
cli="$root/src/Herald.Cli/bin/Release/net10.0/Herald.Cli.dll"
loadgen="$root/bench/Herald.LoadGen/bin/Release/net10.0/Herald.LoadGen.dll"
[[ -f $cli && -f $loadgen ]] || { echo "Build $cli and $loadgen first (Release)." >&2; exit 1; }
tmp=$(mktemp -d)
mkdir -p "$tmp/home"
broker_pid=""
cleanup() {
    if [[ -n $broker_pid ]]; then kill -TERM "$broker_pid" 2>/dev/null || true; wait "$broker_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# shellcheck disable=SC2086
# The per-app publish limit (5,000/s by default) would refuse part of a fast run; this measures the delivery core.
env HOME="$tmp/home" DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 \
    Herald__PublishPermitsPerSecond=1000000 Herald__PublishBurst=1000000 ${BROKER_ENV:-} \
    dotnet "$cli" up --port "$port" --host 127.0.0.1 --data "$tmp/data" >"$tmp/broker.log" 2>&1 &
broker_pid=$!
deadline=$((SECONDS + 60))
until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; do
    [[ $SECONDS -lt $deadline ]] || { echo "The broker did not start:" >&2; cat "$tmp/broker.log" >&2; exit 1; }
    sleep 0.2
done
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
before=$(ticks "$broker_pid")
/usr/bin/time -f "%U %S" -o "$tmp/time.txt" dotnet "$loadgen" --broker "http://127.0.0.1:$port" --data "$tmp/data" \
    --events "$events" --subscribers "$subscribers" --timeout 300 &
load_pid=$!
if [[ ${PERF:-0} == 1 ]]; then
    sleep 3
    perf record -F 499 -g -p "$broker_pid" -o "${PERF_OUT:-perf.data}" -- sleep "${PERF_SECONDS:-8}" >/dev/null 2>&1
fi
load_status=0
wait "$load_pid" || load_status=$?
after=$(ticks "$broker_pid")
if [[ $load_status != 0 ]]; then
    echo "The load generator failed (exit $load_status): see its lines above; the broker's log follows." >&2
    tail -n 20 "$tmp/broker.log" >&2
    exit "$load_status"
fi
read -r user sys <"$tmp/time.txt"
awk -v b="$before" -v a="$after" -v hz="$hz" -v e="$events" -v s="$subscribers" -v u="$user" -v k="$sys" 'BEGIN {
    broker = (a - b) / hz; load = u + k
    printf "broker CPU: %.2f s = %.0f us/event (%.0f us/delivery)\n", broker, broker * 1e6 / e, broker * 1e6 / (e * s)
    printf "load generator CPU (publisher + %d SDK subscribers): %.2f s = %.0f us/event\n", s, load, load * 1e6 / e
    printf "total: %.0f us/event\n", (broker + load) * 1e6 / e
}'
