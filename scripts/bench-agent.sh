#!/usr/bin/env bash
# Benchmarks the agent's hot path against a bare net/http server returning a
# constant JSON body of the same size, and reports the agent's footprint.
#
#   scripts/bench-agent.sh            full run (wrk 10 s per target, 60 s idle CPU)
#   SHORT=1 scripts/bench-agent.sh    quick run (wrk 3 s, 5 s idle CPU)
#
# Needs wrk and curl. Uses bin/entitle when ENTITLE_BIN is unset (builds it).
set -euo pipefail
cd "$(dirname "$0")/.."

short=${SHORT:-}
dur=10s; idle=60
if [ -n "$short" ]; then dur=3s; idle=5; fi
conns=64; threads=2

command -v wrk >/dev/null || { echo "bench-agent: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
command -v curl >/dev/null || { echo "bench-agent: curl is not installed" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

bin=${ENTITLE_BIN:-}
if [ -z "$bin" ]; then
  go build -o "$work/entitle" ./agent/cmd/entitle
  bin="$work/entitle"
fi
go build -o "$work/baseline" ./agent/localapi/internal/benchbaseline

now_ns() { date +%s%N; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
wait_file() { for _ in $(seq 1 500); do [ -s "$1" ] && return 0; sleep 0.01; done; echo "bench-agent: no $1" >&2; return 1; }
# wrk_run URL -> "requests/s p50 p99 total"
wrk_run() {
  wrk -t"$threads" -c"$conns" -d"$dur" --latency "$1" >"$work/wrk.txt"
  awk '
    /Requests\/sec:/ {rps=$2}
    /^ +50%/ {p50=$2}
    /^ +99%/ {p99=$2}
    /requests in/ {total=$1}
    / Non-2xx/ {bad=$NF}
    END {if (bad != "") {print "non-2xx responses: " bad > "/dev/stderr"; exit 1}; print rps, p50, p99, total}
  ' "$work/wrk.txt"
}

# A real licensing server (SQLite in the work folder) with the demo license,
# so the benchmarked answer is the full active one, lease included.
go build -o "$work/entitle-server" ./server/cmd/entitle-server
srv() { "$work/entitle-server" --db "sqlite:$work/server.db" --log-level warn "$@"; }
license_key=$(srv demo --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["license_key"])')
key=$(srv keys show --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["keys"][0]["public_key"])')
# Started directly (not through srv) so $! is the server itself and cleanup stops it.
"$work/entitle-server" --db "sqlite:$work/server.db" --log-level warn serve --listen 127.0.0.1:0 \
  --addr-file "$work/server.addr" >/dev/null 2>"$work/server.log" &
pids+=($!)
wait_file "$work/server.addr"

mkdir -p "$work/state" "$work/profiles"
agent_flags=(--state-dir "$work/state" --profile-dir "$work/profiles" --server-url "http://$(cat "$work/server.addr")" --pinned-key "$key")
t0=$(now_ns)
"$bin" service run --listen 127.0.0.1:0 "${agent_flags[@]}" --addr-file "$work/agent.addr" --log-level warn >/dev/null 2>"$work/agent.log" &
agent=$!; pids+=("$agent")
wait_file "$work/agent.addr"
addr=$(cat "$work/agent.addr")
url="http://$addr/v1/entitlement"
until curl -fsS -o /dev/null "$url" 2>/dev/null; do sleep 0.002; done
t1=$(now_ns)
start_ms=$(( (t1 - t0) / 1000000 ))
"$bin" --listen "$addr" "${agent_flags[@]}" activate --license-key "$license_key" >/dev/null
curl -fsS "$url" | grep -q '"entitled":true' || { echo "bench-agent: the agent did not become entitled" >&2; exit 1; }
sleep 0.5
rss_start=$(rss_kb "$agent")
size=$(curl -fsS "$url" | wc -c)

read -r a_rps a_p50 a_p99 a_total < <(wrk_run "$url")
rss_after=$(rss_kb "$agent")

"$work/baseline" --size "$size" --addr-file "$work/base.addr" &
base=$!; pids+=("$base")
wait_file "$work/base.addr"
read -r b_rps b_p50 b_p99 _ < <(wrk_run "http://$(cat "$work/base.addr")/")
kill "$base"; wait "$base" 2>/dev/null || true

# Idle CPU of the agent.
hz=$(getconf CLK_TCK)
c0=$(cpu_ticks "$agent"); sleep "$idle"; c1=$(cpu_ticks "$agent")
idle_ms=$(( (c1 - c0) * 1000 / hz ))

ratio=$(awk -v a="$a_rps" -v b="$b_rps" 'BEGIN {printf "%.2f", a / b}')
printf '\nwrk -t%s -c%s -d%s, body %s bytes\n\n' "$threads" "$conns" "$dur" "$size"
printf '%-28s %12s %10s %10s\n' "target" "requests/s" "p50" "p99"
printf '%-28s %12s %10s %10s\n' "entitle /v1/entitlement" "$a_rps" "$a_p50" "$a_p99"
printf '%-28s %12s %10s %10s\n' "bare net/http baseline" "$b_rps" "$b_p50" "$b_p99"
printf '%-28s %12s   (target >= 0.90)\n\n' "ratio agent/baseline" "$ratio"
printf '%-44s %s\n' "start to first entitlement answer" "${start_ms} ms"
printf '%-44s %s\n' "agent RSS after start" "$(( rss_start / 1024 )) MiB (${rss_start} kB)"
printf '%-44s %s\n' "agent RSS after $a_total requests" "$(( rss_after / 1024 )) MiB (${rss_after} kB)"
printf '%-44s %s\n' "agent CPU time over ${idle} s idle" "${idle_ms} ms"
if [ "$a_total" -lt 100000 ]; then echo "note: fewer than 100k requests were made (raise the duration)" >&2; fi
