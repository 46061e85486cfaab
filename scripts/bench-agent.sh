#!/usr/bin/env bash
# Benchmarks the agent's hot path against a bare net/http server returning a
# constant JSON body of the same size, and reports the agent's footprint.
#
#   scripts/bench-agent.sh            full run (wrk 10 s per target, 3 rounds, 60 s idle CPU)
#   SHORT=1 scripts/bench-agent.sh    quick run (wrk 3 s, 5 s idle CPU)
#   ROUNDS=5 scripts/bench-agent.sh   more alternating rounds
#
# The two targets run side by side and are measured in alternating rounds
# (agent, baseline, agent, ...): the machine's load drifts, and a ratio of
# neighbouring runs is steadier than one of two distant runs. The ratio
# reported is the median of the rounds' ratios.
#
# The last line, "RESULT agent_ratio=... agent_cpu_ratio=... ...", is read
# by scripts/bench.sh.
#
# Needs wrk and curl. Uses bin/entitle when ENTITLE_BIN is unset (builds it).
set -euo pipefail
cd "$(dirname "$0")/.."

short=${SHORT:-}
dur=10s; idle=60
if [ -n "$short" ]; then dur=3s; idle=5; fi
conns=64; threads=2
rounds=${ROUNDS:-3}

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
# wrk_run URL PID -> "requests/s p50 p99 total cpu_us_per_request" (the CPU
# time the server PID spent per request: steadier than requests/s on a
# shared machine)
wrk_run() {
  local c0 c1
  c0=$(cpu_ticks "$2")
  wrk -t"$threads" -c"$conns" -d"$dur" --latency "$1" >"$work/wrk.txt"
  c1=$(cpu_ticks "$2")
  awk -v ticks=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" '
    /Requests\/sec:/ {rps=$2}
    /^ +50%/ {p50=$2}
    /^ +99%/ {p99=$2}
    /requests in/ {total=$1}
    / Non-2xx/ {bad=$NF}
    END {if (bad != "") {print "non-2xx responses: " bad > "/dev/stderr"; exit 1}; printf "%s %s %s %s %.1f\n", rps, p50, p99, total, ticks * 1e6 / hz / total}
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

"$work/baseline" --size "$size" --addr-file "$work/base.addr" &
base=$!; pids+=("$base")
wait_file "$work/base.addr"
base_url="http://$(cat "$work/base.addr")/"
# A second yardstick: the same bare server sending the response headers the
# agent sends (its security headers), to tell what they cost from what the
# agent's own code costs. The target is against the plain baseline.
hdr_args=()
while IFS= read -r h; do hdr_args+=(--header "$h"); done < <(curl -fsS -D - -o /dev/null "$url" | tr -d '\r' |
  grep -iv -E '^(HTTP/|date:|content-length:|content-type:|$)')
"$work/baseline" --size "$size" --addr-file "$work/hdr.addr" "${hdr_args[@]}" &
hdr=$!; pids+=("$hdr")
wait_file "$work/hdr.addr"
hdr_url="http://$(cat "$work/hdr.addr")/"

rows=(); ratios=(); cratios=(); hratios=(); a_total=0
for r in $(seq 1 "$rounds"); do
  read -r a_rps a_p50 a_p99 n a_cpu < <(wrk_run "$url" "$agent")
  read -r b_rps b_p50 b_p99 _ b_cpu < <(wrk_run "$base_url" "$base")
  read -r h_rps _ _ _ h_cpu < <(wrk_run "$hdr_url" "$hdr")
  a_total=$((a_total + n))
  ratio=$(awk -v a="$a_rps" -v b="$b_rps" 'BEGIN {printf "%.2f", a / b}')
  cratio=$(awk -v a="$a_cpu" -v b="$b_cpu" 'BEGIN {printf "%.2f", b / a}')
  hratio=$(awk -v a="$a_cpu" -v b="$h_cpu" 'BEGIN {printf "%.2f", b / a}')
  ratios+=("$ratio"); cratios+=("$cratio"); hratios+=("$hratio")
  rows+=("$(printf '%-6s %12s %9s %9s %7s %12s %9s %9s %7s %7s %7s %12s %7s %7s' "$r" "$a_rps" "$a_p50" "$a_p99" "$a_cpu" "$b_rps" "$b_p50" "$b_p99" "$b_cpu" "$ratio" "$cratio" "$h_rps" "$h_cpu" "$hratio")")
done
kill "$hdr"; wait "$hdr" 2>/dev/null || true
rss_after=$(rss_kb "$agent")
kill "$base"; wait "$base" 2>/dev/null || true
median_of() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {if (NR % 2) print v[(NR+1)/2]; else printf "%.2f\n", (v[NR/2] + v[NR/2+1]) / 2}'; }
median=$(median_of "${ratios[@]}")
cmedian=$(median_of "${cratios[@]}")
hmedian=$(median_of "${hratios[@]}")

# Idle CPU of the agent.
hz=$(getconf CLK_TCK)
c0=$(cpu_ticks "$agent"); sleep "$idle"; c1=$(cpu_ticks "$agent")
idle_ms=$(( (c1 - c0) * 1000 / hz ))

printf '\nwrk -t%s -c%s -d%s, body %s bytes, %s alternating rounds\n\n' "$threads" "$conns" "$dur" "$size" "$rounds"
printf '%-6s %12s %9s %9s %7s %12s %9s %9s %7s %7s %7s %12s %7s %7s\n' "round" "agent req/s" "p50" "p99" "cpu-us" "bare req/s" "p50" "p99" "cpu-us" "ratio" "cpu" "+hdrs req/s" "cpu-us" "cpu"
printf '%s\n' "${rows[@]}"
printf '(cpu-us: server CPU time per request; ratio: requests/s agent/bare; cpu: bare CPU per request / agent CPU per request;\n'
printf ' +hdrs: the bare server sending the agent'"'"'s %s extra response headers)\n' "$(( ${#hdr_args[@]} / 2 ))"
printf '%-52s %s   (target >= 0.90)\n' "median ratio agent/bare net/http, req/s" "$median"
printf '%-52s %s\n' "median ratio agent/bare net/http, CPU" "$cmedian"
printf '%-52s %s\n\n' "median ratio agent/bare net/http + same headers, CPU" "$hmedian"
printf '%-44s %s\n' "start to first entitlement answer" "${start_ms} ms"
printf '%-44s %s\n' "agent RSS after start" "$(( rss_start / 1024 )) MiB (${rss_start} kB)"
printf '%-44s %s\n' "agent RSS after $a_total requests" "$(( rss_after / 1024 )) MiB (${rss_after} kB)"
printf '%-44s %s\n' "agent CPU time over ${idle} s idle" "${idle_ms} ms"
if [ "$a_total" -lt 100000 ]; then echo "note: fewer than 100k requests were made (raise the duration)" >&2; fi
echo "RESULT agent_ratio=$median agent_cpu_ratio=$cmedian agent_cpu_ratio_same_headers=$hmedian"
