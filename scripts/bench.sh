#!/usr/bin/env bash
# `make bench`: every performance target of the project, measured and printed.
# Speed targets live here, never in timed tests. SHORT=1 for a quick pass.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${ENTITLE_TEST_POSTGRES_URL:-}" ]; then
  ENTITLE_TEST_POSTGRES_URL=$(.ci/postgres.sh start)
  export ENTITLE_TEST_POSTGRES_URL
fi
benchtime=${BENCHTIME:-5s}
[ -n "${SHORT:-}" ] && benchtime=1s

section() { printf '\n== %s ==\n' "$*"; }

section "Licensing server over loopback HTTP (target: >= 2,000 check-ins/s on each database)"
go test -run '^$' -bench 'BenchmarkHTTP(Checkin|Activate)' -benchtime "$benchtime" ./server/e2e/ | grep -E '^Benchmark|ok|FAIL'

section "Licensing service in process (no HTTP)"
go test -run '^$' -bench 'Benchmark(Checkin|Activate)' -benchtime "$benchtime" ./server/devices/ | grep -E '^Benchmark|ok|FAIL'

section "Lease signing and verification"
go test -run '^$' -bench . -benchtime "$benchtime" ./pkg/lease/ | grep -E '^Benchmark|ok|FAIL'

section "Agent local API (target: >= 0.9 x bare net/http at 64 connections, median < 100 us on one connection)"
go test -run '^$' -bench BenchmarkEntitlement -benchtime "$benchtime" ./agent/localapi/ | grep -E '^Benchmark|ok|FAIL'
scripts/bench-agent.sh

section "Signature profiles (targets: full scan of 10,000 < 1 s; file written -> visible < 250 ms)"
go test -run '^$' -bench 'Benchmark(FullScan10k|WriteToVisible)' -benchtime 3x ./agent/profiles/ | grep -E '^Benchmark|ok|FAIL'
