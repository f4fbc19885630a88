#!/usr/bin/env bash
# Where a load run's garbage comes from and what its collections cost: records the load generator's process with
# dotnet-trace (the runtime's allocation samples, one per about 100 KB, each with its stack, and every collection),
# then prints bench/Herald.TraceReport's two reports on it. The recording slows the run: read its shares, not its speed.
#
#   bench/trace-allocations.sh [LOAD GENERATOR ARGUMENTS]
#       default arguments: --target herald --subscribers 3 --events 20000 --warmup 10000 --timeout 300
#   env: TYPE (System.String): the type whose allocating stacks are listed; TRACE_OUT: keep the trace at this path
#
# Installs dotnet-trace as a global dotnet tool when it is missing. Build first:
#   dotnet build -c Release bench/Herald.LoadGen && dotnet build -c Release bench/Herald.TraceReport
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
loadgen="$root/bench/Herald.LoadGen/bin/Release/net10.0/Herald.LoadGen.dll"
report="$root/bench/Herald.TraceReport/bin/Release/net10.0/Herald.TraceReport.dll"
[[ -f $loadgen && -f $report ]] || { echo "Build $loadgen and $report first (Release)." >&2; exit 1; }
export PATH="$PATH:$HOME/.dotnet/tools"
command -v dotnet-trace >/dev/null || dotnet tool install -g dotnet-trace >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trace=${TRACE_OUT:-$tmp/load.nettrace}
args=("$@")
[[ ${#args[@]} -gt 0 ]] || args=(--target herald --subscribers 3 --events 20000 --warmup 10000 --timeout 300)
# The trace is written outside the working directory, which a process may watch for changes.
(cd "$tmp" && dotnet-trace collect --profile gc-verbose --show-child-io -o "$trace" -- dotnet "$loadgen" "${args[@]}") >&2
dotnet "$report" allocations "$trace" --type "${TYPE:-System.String}"
echo
dotnet "$report" gc "$trace"
