#!/usr/bin/env bash
# Measures the licensing server's check-ins/s and activations/s over loopback
# HTTP against the real binary, on SQLite and PostgreSQL.
# Usage: scripts/bench-server.sh [benchtime]   (default 5s)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${ENTITLE_TEST_POSTGRES_URL:-}" ]; then
  ENTITLE_TEST_POSTGRES_URL=$(.ci/postgres.sh start)
  export ENTITLE_TEST_POSTGRES_URL
fi
go test -run '^$' -bench 'BenchmarkHTTP(Checkin|Activate)' -benchtime "${1:-5s}" ./server/e2e/
