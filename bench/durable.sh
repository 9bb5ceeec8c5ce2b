#!/usr/bin/env bash
# What --state costs: POST /companies and GET /companies/{id} per second, in memory and with
# a state file, measured with wrk on loopback (one server at a time, each started here).
# Usage: bench/durable.sh [SECONDS] [CONNECTIONS]
# Needs wrk (Debian: apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}; connections=${2:-8}
py=.venv/bin/python; [ -x "$py" ] || py=python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"name": "Bench Co"}'
wrk.headers["Content-Type"] = "application/json"
LUA
auth="Authorization: Basic $(printf bench-key | base64)"

measure() {  # $1: label, then the serve flags
  local label=$1; shift
  local port  # a free one: other benches may be running on their own fixed ports
  port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$py" -m mockserver.cli serve --port "$port" --quiet --log-level warning "$@" >/dev/null 2>&1 &
  local server=$!
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/_mock/health" >/dev/null && break; sleep 0.1; done
  local company
  company=$(curl -sf -H "$auth" -H 'content-type: application/json' -d '{"name":"Bench Co"}' \
    "http://127.0.0.1:$port/companies" | "$py" -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  local post get
  post=$(wrk -t1 -c"$connections" -d"${seconds}s" -s "$work/post.lua" -H "$auth" \
    "http://127.0.0.1:$port/companies" | awk '/Requests\/sec/ {print $2}')
  get=$(wrk -t1 -c"$connections" -d"${seconds}s" -H "$auth" \
    "http://127.0.0.1:$port/companies/$company" | awk '/Requests\/sec/ {print $2}')
  kill "$server"; wait "$server" 2>/dev/null || true
  printf '%-28s POST /companies %9s req/s   GET /companies/{id} %9s req/s\n' "$label" "$post" "$get"
}

measure "in memory"
measure "--state (WAL, NORMAL)" --state "$work/state.db"
