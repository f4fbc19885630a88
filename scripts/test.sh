#!/usr/bin/env bash
# Builds Herald and runs every test project; prints one closing line "N passed, N failed".
# Installs what the tests need when it is missing (nats-server, chromium, Node.js and npm, through apt-get; the .NET SDK
# is expected on the machine).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v dotnet >/dev/null 2>&1; then
  echo "The .NET 10 SDK is required (https://dot.net); 'dotnet' is not on PATH." >&2
  exit 1
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# Installs a Debian package quietly with apt-get (as root, or through sudo), updating the package lists only when the
# first try fails.
install_package() {
  echo "Installing $1 (apt-get install -y $1) for $2."
  local as_root=()
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  fi
  local apt_get=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq)
  if ! "${apt_get[@]}" install -y "$1" >/dev/null 2>&1; then
    "${apt_get[@]}" update >/dev/null
    "${apt_get[@]}" install -y "$1" >/dev/null
  fi
}

# The NATS store's tests start real nats-server processes. Debian's package puts it in /usr/sbin, which is not on
# every user's PATH.
export PATH="$PATH:/usr/sbin"
if ! command -v nats-server >/dev/null 2>&1; then
  install_package nats-server "the NATS store's tests"
fi

# The dashboard's tests drive Debian's headless Chromium (/usr/bin/chromium) with PuppeteerSharp, which never
# downloads a browser of its own.
if [ ! -x /usr/bin/chromium ] && [ -z "${HERALD_CHROMIUM:-}" ]; then
  install_package chromium "the dashboard's tests"
fi

# The node app tests link a VTEX IO node app: herald link installs its npm packages (from the npm registry, then
# npm's cache), compiles it with its own TypeScript and runs it with Node.js.
if ! command -v node >/dev/null 2>&1; then
  install_package nodejs "the node app tests"
fi
if ! command -v npm >/dev/null 2>&1; then
  install_package npm "the node app tests"
fi

# trx files go under tests/ (ignored by git), one per test project.
results="$(pwd)/tests/TestResults"
rm -rf "$results"
mkdir -p "$results"

dotnet build Herald.slnx -c Release -nologo -clp:ErrorsOnly

set +e
# -m:1 runs the test projects one after another: the CLI and end-to-end tests both build and run the
# sample apps as real processes, and on a 2-core machine they are steadier apart.
dotnet test Herald.slnx -c Release --no-build -nologo -m:1 \
  --logger "trx" --results-directory "$results" \
  --blame-hang --blame-hang-timeout 10m
status=$?
set -e

passed=0
failed=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(echo "$counters" | sed -n 's/.* passed="\([0-9]*\)".*/\1/p')
  f=$(echo "$counters" | sed -n 's/.* failed="\([0-9]*\)".*/\1/p')
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  # Each failed test by name, so that the last lines of a long log still say which one failed.
  { grep -o '<UnitTestResult [^>]*>' "$trx" | grep 'outcome="Failed"' || true; } |
    sed -n 's/.* testName="\([^"]*\)".*/FAILED: \1/p' | sed 's/&quot;/"/g; s/&amp;/\&/g'
done

if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
  echo "No test results were found in $results." >&2
  status=1
fi

echo "$passed passed, $failed failed"
exit $status
