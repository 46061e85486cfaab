#!/usr/bin/env bash
# `make bench`: every performance target of the project, measured and printed,
# then one summary table with the ratios. Speed targets live here, never in
# timed tests. SHORT=1 for a quick pass; WALRUN sets the length of the long
# check-in run (default 100000x check-ins, 20000x with SHORT=1). SCALE=1 adds
# the 1M-device database to the scale benchmark (seeded in bulk; minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${ENTITLE_TEST_POSTGRES_URL:-}" ]; then
  ENTITLE_TEST_POSTGRES_URL=$(.ci/postgres.sh start)
  export ENTITLE_TEST_POSTGRES_URL
fi
benchtime=${BENCHTIME:-5s}
walrun=${WALRUN:-100000x}
if [ -n "${SHORT:-}" ]; then benchtime=1s; walrun=${WALRUN:-20000x}; fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
section() { printf '\n== %s ==\n' "$*"; }
# bench FILE ARGS...: go test -bench, results kept in $out/FILE and printed.
bench() {
  local f=$1; shift
  go test -run '^$' "$@" | grep -E '^Benchmark|^ok|FAIL' | tee "$out/$f"
}
# metric FILE NAME UNIT: the value reported in UNIT by benchmark NAME.
metric() {
  awk -v name="$2" -v unit="$3" '
    { n = $1; sub(/-[0-9]+$/, "", n) }
    n == name { for (i = 2; i <= NF; i++) if ($i == unit) v = $(i - 1) }
    END { print (v == "" ? "n/a" : v) }' "$out/$1"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "n/a" || b == "n/a" || b == 0) print "n/a"; else printf "%.2f", a / b }'; }

section "Licensing server over loopback HTTP, real binary (target: >= 2,000 check-ins/s on each database)"
bench http.txt -bench 'BenchmarkHTTP(Checkin|Activate)' -benchtime "$benchtime" ./server/e2e/

section "Licensing service in process (no HTTP)"
go test -run '^$' -bench 'Benchmark(Checkin|Activate)$' -benchtime "$benchtime" ./server/devices/ | grep -E '^Benchmark|ok|FAIL'

sizes=1000
if [ -n "${SCALE:-}" ]; then sizes=1000,1000000; fi
section "Check-ins and activations in process at ${sizes} devices, both databases, with p99 (target: 1M within 10% of 1k, p99 < 100 ms)"
ENTITLE_BENCH_DEVICES=$sizes bench scale.txt -bench 'BenchmarkScale' -benchtime "$benchtime" -timeout 60m ./server/devices/

section "Organization device list: one page of 50 with its total at 10,000 computers in one organization, each sort, filter and search, both databases (target: < 100 ms a page)"
bench orgdevices.txt -bench 'BenchmarkOrgDeviceList' -benchtime "$benchtime" ./server/devices/

section "Console: the organization's computers page over loopback HTTP (session, role, navigation, one page of 50 with its total, template) at 10,000 computers in one organization, both databases (target: < 100 ms a page)"
bench consolecomputers.txt -bench 'BenchmarkComputersPage' -benchtime "$benchtime" ./server/web/

section "SQLite: long check-in run from 1,000 devices in process, WAL size (bound: store.WALTargetBytes = 16 MiB)"
bench wal.txt -bench 'BenchmarkCheckinWAL' -benchtime "$walrun" ./server/store/

section "Check-in vs the bare single-statement floor (net/http + one UPDATE ... RETURNING, same SQLite file), alternating rounds"
floor_rounds=5
if [ -n "${SHORT:-}" ]; then floor_rounds=3; fi
ROUNDS=$floor_rounds BENCHTIME=$benchtime scripts/bench-floor.sh | tee "$out/floor.txt"
bench floorlog.txt -bench 'BenchmarkLoopbackCheckin/checkin-log-info' -benchtime "$benchtime" ./server/store/

section "Device and license list pages at ${sizes} devices, both databases (target: a page at 1M about as fast as at 1k)"
ENTITLE_BENCH_DEVICES=$sizes bench page.txt -bench 'BenchmarkDevicePage' -benchtime 200x -timeout 60m ./server/devices/

section "Lease signing and verification"
bench lease.txt -bench . -benchtime "$benchtime" ./pkg/lease/

section "Agent local API (target: >= 0.9 x bare net/http at 64 connections, median < 100 us on one connection)"
bench agent-go.txt -bench BenchmarkEntitlement -benchtime "$benchtime" ./agent/localapi/
scripts/bench-agent.sh | tee "$out/agent.txt"

section "Signature profiles (targets: full scan of 10,000 < 1 s; file written -> visible < 250 ms)"
bench profiles.txt -bench 'Benchmark(FullScan10k|WriteToVisible)' -benchtime 3x ./agent/profiles/

section "Remote commands: queued -> acknowledged with ENTITLE_BENCH_AGENTS (default 10,000) agents online (targets: p99 < 1 s, <= 30 KB per agent)"
push_n=1000x
if [ -n "${SHORT:-}" ]; then push_n=200x; export ENTITLE_BENCH_AGENTS=${ENTITLE_BENCH_AGENTS:-1000}; fi
bench push.txt -bench BenchmarkPushLatency -benchtime "$push_n" -timeout 30m ./server/e2e/

result() { sed -n 's/^RESULT .*'"$1"'=\([^ ]*\).*$/\1/p' "$out/agent.txt"; }
agent_ratio=$(result agent_ratio)
agent_cpu=$(result agent_cpu_ratio)
agent_hdr=$(result agent_cpu_ratio_same_headers)
wal_max=$(metric wal.txt BenchmarkCheckinWAL wal-MiB-max)
wal_n=$(awk '/^BenchmarkCheckinWAL/ {print $2}' "$out/wal.txt")
svc_1k=$(metric wal.txt BenchmarkCheckinWAL checkins/s)
floor_result() { sed -n 's/^RESULT .*'"$1"'=\([^ ]*\).*$/\1/p' "$out/floor.txt"; }
floor=$(floor_result floor)
loop=$(floor_result checkin)
floor_ratio=$(floor_result ratio)
floor_cpu=$(floor_result cpu_ratio)
http_sq=$(metric http.txt BenchmarkHTTPCheckin/sqlite checkins/s)
http_pg=$(metric http.txt BenchmarkHTTPCheckin/postgres checkins/s)
act_sq=$(metric http.txt BenchmarkHTTPActivate/sqlite activations/s)
act_pg=$(metric http.txt BenchmarkHTTPActivate/postgres activations/s)

section "Summary"
row() { printf '%-62s %14s %8s  %s\n' "$@"; }
row "measure" "value" "ratio" "target"
row "agent GET /v1/entitlement vs bare net/http, req/s (wrk -c64)" "median" "$agent_ratio" ">= 0.90"
row "agent GET /v1/entitlement vs bare net/http, CPU per request" "median" "$agent_cpu" ">= 0.90"
row "  same, bare net/http sending the agent's headers, CPU" "median" "$agent_hdr" ""
row "SQLite -wal file, largest during ${wal_n:-?} check-ins (MiB)" "$wal_max" "" "<= 16 (bound), < 64 (issue 15)"
row "check-in in process, SQLite, 1k devices (/s)" "$svc_1k" "" ""
row "check-in over loopback, in-process server, SQLite (/s; median of rounds)" "$loop" "$floor_ratio" ">= 0.80 of the floor"
row "  bare single-statement floor, same file (/s)" "$floor" "1.00" ""
row "  check-in vs floor, CPU per request" "median" "$floor_cpu" ""
row "check-in over loopback, real binary, SQLite (/s)" "$http_sq" "" ">= 2,000"
row "check-in over loopback, real binary, PostgreSQL (/s)" "$http_pg" "" ">= 2,000"
row "activation over loopback, real binary, SQLite (/s)" "$act_sq" "" ""
row "activation over loopback, real binary, PostgreSQL (/s)" "$act_pg" "" ""
# scale ROW-LABEL DB KIND UNIT: rate and p99 at 1k and (SCALE=1) 1M devices.
scale() {
  local k1 m1 p1k p1m
  k1=$(metric scale.txt "BenchmarkScale/1k/$2/$3" "$4")
  p1k=$(metric scale.txt "BenchmarkScale/1k/$2/$3" p99-ms)
  row "$1, 1k devices (/s; p99 ${p1k} ms)" "$k1" "1.00" "p99 < 100 ms"
  m1=$(metric scale.txt "BenchmarkScale/1M/$2/$3" "$4")
  p1m=$(metric scale.txt "BenchmarkScale/1M/$2/$3" p99-ms)
  row "$1, 1M devices (/s; p99 ${p1m} ms)" "$m1" "$(ratio "$m1" "$k1")" ">= 0.90 of 1k, p99 < 100 ms"
}
scale "check-in in process, SQLite" sqlite checkin checkins/s
scale "check-in in process, PostgreSQL" postgres checkin checkins/s
scale "activation in process, SQLite" sqlite activate activations/s
scale "activation in process, PostgreSQL" postgres activate activations/s
for db in sqlite postgres-2; do
  row "command latency p50 / p99, $(metric push.txt BenchmarkPushLatency/$db agents) agents, $db (ms)" \
    "$(metric push.txt BenchmarkPushLatency/$db p50-ms) / $(metric push.txt BenchmarkPushLatency/$db p99-ms)" "" "p99 < 1000"
  row "  server memory per connected agent, $db (KiB)" "$(metric push.txt BenchmarkPushLatency/$db KiB/agent)" "" "<= 30"
done
for db in sqlite postgres; do
  for c in last_seen last_seen_deep hostname_asc user search; do
    row "organization device list, 10k computers, $c, $db (ms/page)" "$(metric orgdevices.txt BenchmarkOrgDeviceList/$db/$c ms/page)" "" "< 100"
  done
  for kind in devices-first devices-middle licenses; do
    k1=$(metric page.txt "BenchmarkDevicePage/1k/$db/$kind" ms/page)
    m1=$(metric page.txt "BenchmarkDevicePage/1M/$db/$kind" ms/page)
    row "page of 50, $kind, $db, 1k / 1M devices (ms)" "$k1 / $m1" "$(ratio "$m1" "$k1")" "1M a small multiple of 1k"
  done
done
for db in sqlite postgres; do
  for c in last_seen hostname user online search member; do
    row "console computers page, 10k computers, $c, $db (ms/page)" "$(metric consolecomputers.txt BenchmarkComputersPage/$db/$c ms/page)" "" "< 100"
  done
done
