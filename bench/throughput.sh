#!/usr/bin/env bash
# Requests per second of a running codat-mock, measured with wrk from a second process.
# Usage: bench/throughput.sh [PORT] [SECONDS] [CONNECTIONS]
# Needs wrk (Debian: apt-get install wrk). Starts its own server on loopback and stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${1:-4099}; seconds=${2:-5}; connections=${3:-16}
py=.venv/bin/python; [ -x "$py" ] || py=python3
# The request log stays on (it is the default, so its cost counts) but goes nowhere visible.
"$py" -m mockserver.cli serve --port "$port" --log-level warning >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/_mock/health" >/dev/null && break; sleep 0.1; done
auth="Authorization: Basic $(printf bench-key | base64)"
company=$(curl -sf -H "$auth" -H 'content-type: application/json' \
  -d '{"name":"Bench Co"}' "http://127.0.0.1:$port/companies" | "$py" -c 'import json,sys; print(json.load(sys.stdin)["id"])')
for path in /companies "/config/integrations?pageSize=5" "/config/companies/$company/sync/commerce"; do
  rps=$(wrk -t1 -c"$connections" -d"${seconds}s" -H "$auth" "http://127.0.0.1:$port$path" \
        | awk '/Requests\/sec/ {print $2}')
  printf '%-60s %10s req/s\n' "GET $path" "$rps"
done
