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
run() { # run SUB -> "checkins/s cpu-us/op"
  (cd server/store && "$work/store.test" -test.run '^$' -test.bench "BenchmarkLoopbackCheckin/$1\$" -test.benchtime "$benchtime") |
    awk '/^BenchmarkLoopbackCheckin/ {for (i = 2; i <= NF; i++) {if ($i == "checkins/s") r = $(i - 1); if ($i == "cpu-us/op") c = $(i - 1)}; print r, c}'
}
median_of() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {if (NR % 2) print v[(NR+1)/2]; else printf "%.2f\n", (v[NR/2] + v[NR/2+1]) / 2}'; }
floors=(); checkins=(); ratios=(); cratios=()
printf '%-6s %12s %9s %12s %9s %7s %7s\n' round "floor /s" "cpu-us" "check-in /s" "cpu-us" ratio cpu
for r in $(seq 1 "$rounds"); do
  read -r f fc < <(run floor)
  read -r c cc < <(run checkin)
  ratio=$(awk -v a="$c" -v b="$f" 'BEGIN {printf "%.2f", a / b}')
  cratio=$(awk -v a="$cc" -v b="$fc" 'BEGIN {printf "%.2f", b / a}')
  floors+=("$f"); checkins+=("$c"); ratios+=("$ratio"); cratios+=("$cratio")
  printf '%-6s %12s %9s %12s %9s %7s %7s\n' "$r" "$f" "$fc" "$c" "$cc" "$ratio" "$cratio"
done
printf '(cpu-us: the process CPU time per check-in, the load client included; ratio: check-ins/s check-in/floor;\n'
printf ' cpu: floor CPU per check-in / check-in CPU per check-in)\n'
printf 'median ratio check-in/floor over %s rounds of %s, req/s: %s   (target >= 0.80)\n' "$rounds" "$benchtime" "$(median_of "${ratios[@]}")"
printf 'median ratio check-in/floor, CPU per request:        %s\n' "$(median_of "${cratios[@]}")"
echo "RESULT floor=$(median_of "${floors[@]}") checkin=$(median_of "${checkins[@]}") ratio=$(median_of "${ratios[@]}") cpu_ratio=$(median_of "${cratios[@]}")"
