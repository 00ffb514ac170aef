#!/usr/bin/env bash
# hyper on proactor against hyper on tokio, with wrk: each server on one thread pinned to CPU 0,
# wrk (1 thread) pinned to CPU 1; the kinds run in turn in every round (the order rotating), and
# the table gives each kind's median requests/s over the rounds and its ratio to tokio's median.
#
#   crates/proactor-bench/hyper-wrk.sh [ROUNDS=5] [SECONDS=5] [CONNECTIONS=64]
#   BASELINE=path/to/hyper-bench adds that binary's proactor kinds (another commit's build) as
#   baseline-proactor-uring and baseline-proactor-epoll, in the same rounds.
set -euo pipefail
rounds=${1:-5}
seconds=${2:-5}
connections=${3:-64}
kinds=(proactor-uring proactor-epoll tokio)
if [ -n "${BASELINE:-}" ]; then
    kinds+=(baseline-proactor-uring baseline-proactor-epoll)
fi
cd "$(dirname "$0")/../.."
cargo build --release -q -p proactor-bench --features peers --bin hyper-bench
bin=target/release/hyper-bench
command -v wrk >/dev/null || { echo "hyper-wrk.sh: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
declare -A results
for round in $(seq 1 "$rounds"); do
    # The order rotates by one each round, so no kind always runs first or last.
    for turn in $(seq 0 $(( ${#kinds[@]} - 1 ))); do
        kind=${kinds[$(( (turn + round) % ${#kinds[@]} ))]}
        out=$(mktemp)
        case $kind in
            baseline-*) "$BASELINE" --kind "${kind#baseline-}" --cpu 0 >"$out" & ;;
            *) "$bin" --kind "$kind" --cpu 0 >"$out" & ;;
        esac
        server=$!
        for _ in $(seq 1 100); do grep -q "listening on" "$out" && break; sleep 0.05; done
        address=$(sed -n 's/^listening on //p' "$out")
        rate=$(taskset -c 1 wrk -t1 -c"$connections" -d"${seconds}s" "http://$address/" |
            awk '/Requests\/sec/ {print $2}')
        kill "$server"; wait "$server" 2>/dev/null || true
        rm -f "$out"
        echo "round $round $kind ${rate} req/s"
        results[$kind]="${results[$kind]:-} $rate"
    done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
tokio=$(echo "${results[tokio]}" | median)
printf '%-16s %14s %8s\n' kind "median req/s" "vs tokio"
for kind in "${kinds[@]}"; do
    m=$(echo "${results[$kind]}" | median)
    printf '%-16s %14.0f %8.2f\n' "$kind" "$m" "$(echo "$m / $tokio" | bc -l)"
done
