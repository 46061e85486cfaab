#!/usr/bin/env bash
# The check-in over loopback HTTP against the bare single-statement floor
# (BenchmarkLoopbackCheckin in server/store), measured in alternating rounds
# (floor, check-in, floor, ...): on a shared machine the load drifts, and the
# ratio of neighbouring runs is steadier than one of two distant runs. The
# ratio reported is the median of the rounds' ratios.
#
#   scripts/bench-floor.sh             5 rounds of 3 s each
#   ROUNDS=7 BENCHTIME=5s scripts/bench-floor.sh
#
# The last line, "RESULT floor=... checkin=... ratio=...", is read by
# scripts/bench.sh (medians of the rounds).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-5}
benchtime=${BENCHTIME:-3s}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go test -c -o "$work/store.test" ./server/store/
run() { # run SUB -> checkins/s
  (cd server/store && "$work/store.test" -test.run '^$' -test.bench "BenchmarkLoopbackCheckin/$1\$" -test.benchtime "$benchtime") |
    awk '/^BenchmarkLoopbackCheckin/ {for (i = 2; i <= NF; i++) if ($i == "checkins/s") print $(i - 1)}'
}
median_of() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {if (NR % 2) print v[(NR+1)/2]; else printf "%.2f\n", (v[NR/2] + v[NR/2+1]) / 2}'; }
floors=(); checkins=(); ratios=()
printf '%-6s %12s %12s %7s\n' round "floor /s" "check-in /s" ratio
for r in $(seq 1 "$rounds"); do
  f=$(run floor); c=$(run checkin)
  ratio=$(awk -v a="$c" -v b="$f" 'BEGIN {printf "%.2f", a / b}')
  floors+=("$f"); checkins+=("$c"); ratios+=("$ratio")
  printf '%-6s %12s %12s %7s\n' "$r" "$f" "$c" "$ratio"
done
printf 'median ratio check-in/floor over %s rounds of %s: %s   (target >= 0.80)\n' "$rounds" "$benchtime" "$(median_of "${ratios[@]}")"
echo "RESULT floor=$(median_of "${floors[@]}") checkin=$(median_of "${checkins[@]}") ratio=$(median_of "${ratios[@]}")"
