#!/usr/bin/env bash
# Loads the API with wrk on loopback: a million incidents stored, the query
# page "last 30 days, Automatic or Manual, newest first" with 50 and with
# 300 rows a page.
# Usage: bench/api_bench.sh [incidents] [seconds]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
incidents=${1:-1000000}
seconds=${2:-15}
data=$(mktemp -d)
out=$(mktemp)
"$root/build/native/bench/reclaim_api_bench" "$data" "$incidents" >"$out" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data" "$out"' EXIT
for _ in $(seq 1 600); do
  grep -q '^port ' "$out" && break
  sleep 0.5
done
grep -v -E '^(token|port) ' "$out"
port=$(awk '/^port /{print $2}' "$out")
token=$(awk '/^token /{print $2}' "$out")
# The default page (50 rows) and the largest (300 rows).
for size in 50 300; do
  url="http://127.0.0.1:$port/api/v1/incidents?range=last_30_days&types=automatic,manual&pageSize=$size"
  echo "wrk: $seconds s, 2 threads, 16 connections, $url"
  wrk -t2 -c16 -d"${seconds}s" --latency -H "Authorization: Bearer $token" "$url"
done
