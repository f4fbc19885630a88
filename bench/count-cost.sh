#!/usr/bin/env bash
# What reading a subscription's counts costs on a SQLite file that keeps many delivered events.
#
#   bench/count-cost.sh [CLI_DLL ...]
#
# Makes a data folder in a temp folder: a broker links one app with 3 handlers, then python3's sqlite3 adds EVENTS
# (default 1,000,000) delivered events, each delivered to the 3 handlers. Then, for each Herald CLI dll given
# (default: this checkout's Release build), on a copy of that file: starts `herald up`, times five
# `GET /_herald/v1/acme/dev/apps` (which reads every subscription's counts), and reads the broker's CPU over
# 60 s idle (the backlog gauges read the counts every 10 s). Stops each broker it started. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."

EVENTS=${EVENTS:-1000000}
PORT=${PORT:-18480}
CLIS=("$@")
[ ${#CLIS[@]} -gt 0 ] || CLIS=("src/Herald.Cli/bin/Release/net10.0/Herald.Cli.dll")
work=$(mktemp -d /tmp/herald-count-cost-XXXXXX)
broker=""
cleanup() {
  if [ -n "$broker" ]; then kill -TERM "$broker" 2>/dev/null || true; wait "$broker" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

start_broker() { # CLI_DLL DATA LOG
  HERALD_HOME="$work/home" dotnet "$1" up --port "$PORT" --data "$2" >"$3" 2>&1 &
  broker=$!
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && return 0
    sleep 0.1
  done
  echo "The broker did not become ready; see $3." >&2
  exit 1
}

stop_broker() {
  kill -TERM "$broker"
  wait "$broker" || true
  broker=""
}

# The file: one app with 3 handlers, linked through a broker, then the events and deliveries written directly.
start_broker "${CLIS[0]}" "$work/data" "$work/setup.log"
curl -sf -X PUT -H "Authorization: Bearer $(cat "$work/data/admin.token")" -H 'Content-Type: application/json' \
  "http://127.0.0.1:$PORT/_herald/v1/acme/dev/apps/vtex.listener" \
  -d '{"manifest":{"vendor":"vtex","name":"listener","version":"1.0.0"},"service":{"events":{"h1":{"sender":"vtex.sender","keys":["k"]},"h2":{"sender":"vtex.sender","keys":["k"]},"h3":{"sender":"vtex.sender","keys":["k"]}}},"endpoint":"http://127.0.0.1:9"}' >/dev/null
stop_broker
python3 - "$work/data/herald.db" "$EVENTS" <<'EOF'
import sqlite3, sys, time, uuid
path, n = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(path, isolation_level=None)
now = int(time.time() * 1000)
c.execute("BEGIN")
c.executemany("INSERT INTO events (seq, id, account, workspace, sender, key, subject, body, time) VALUES (?, ?, 'acme', 'dev', 'vtex.sender', 'k', '', ?, ?)",
              ((i + 1, str(uuid.UUID(int=i)), b'{"n":1}', now - 3_600_000 + i // 1000) for i in range(n)))
c.executemany("INSERT INTO deliveries (event_seq, subscription_id, state, attempts, due_at) VALUES (?, ?, 2, 1, ?)",
              ((i // 3 + 1, "acme/dev/vtex.listener/h%d" % (i % 3 + 1), now) for i in range(3 * n)))
# Written behind the counts' back: the next open counts them again from the deliveries.
c.execute("DROP TABLE IF EXISTS subscription_counts")
c.execute("COMMIT")
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
EOF
echo "file: $EVENTS events delivered to 3 subscriptions, $(du -m "$work/data/herald.db" | cut -f1) MiB"

ticks=$(getconf CLK_TCK)
for cli in "${CLIS[@]}"; do
  rm -rf "$work/run" && cp -r "$work/data" "$work/run"
  start_broker "$cli" "$work/run" "$work/run.log"
  times=()
  for _ in 1 2 3 4 5; do
    times+=("$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $(cat "$work/run/admin.token")" "http://127.0.0.1:$PORT/_herald/v1/acme/dev/apps")")
  done
  before=$(awk '{print $14 + $15}' "/proc/$broker/stat")
  sleep 60
  after=$(awk '{print $14 + $15}' "/proc/$broker/stat")
  stop_broker
  echo "$cli: GET apps s: ${times[*]}; idle CPU over 60 s: $(echo "scale=2; ($after - $before) / $ticks" | bc) s"
done
