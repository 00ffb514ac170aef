#!/usr/bin/env bash
# The hyper server's user-space instructions per request, measured with callgrind as a slope:
# each kind serves one connection of N1 and then N2 keep-alive requests from
# `hyper-bench --client`, and (Ir(N2) - Ir(N1)) / (N2 - N1) cancels every fixed cost. Stable on
# a noisy machine where wrk's requests/s are not.
#
#   crates/proactor-bench/hyper-callgrind.sh [N1=2000] [N2=6000]
#   KINDS="proactor-uring tokio" measures only those kinds (tokio must be among them for the
#   ratios); KEEP=dir keeps the callgrind outputs there (for callgrind_annotate); BIN=path
#   measures that hyper-bench binary (another commit's build) instead of building this one.
set -euo pipefail
n1=${1:-2000}
n2=${2:-6000}
read -r -a kinds <<<"${KINDS:-proactor-uring proactor-epoll tokio}"
cd "$(dirname "$0")/../.."
if [ -z "${BIN:-}" ]; then
    cargo build --release -q -p proactor-bench --features peers --bin hyper-bench
fi
bin=${BIN:-target/release/hyper-bench}
out=${KEEP:-$(mktemp -d)}
mkdir -p "$out"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$out"' EXIT

instructions() {
    local kind=$1 requests=$2
    valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="$out/$kind-$requests.out" \
        "$bin" --kind "$kind" --one >"$out/$kind-$requests.log" 2>"$out/$kind-$requests.err" &
    local server=$!
    for _ in $(seq 1 200); do grep -q "listening on" "$out/$kind-$requests.log" && break; sleep 0.05; done
    "$bin" --client "$(sed -n 's/^listening on //p' "$out/$kind-$requests.log")" --requests "$requests"
    wait "$server"
    sed -n 's/^summary: //p' "$out/$kind-$requests.out"
}

printf '%-16s %14s\n' kind "Ir/request"
declare -A per
for kind in "${kinds[@]}"; do
    a=$(instructions "$kind" "$n1")
    b=$(instructions "$kind" "$n2")
    per[$kind]=$(( (b - a) / (n2 - n1) ))
    printf '%-16s %14d\n' "$kind" "${per[$kind]}"
done
[ -n "${per[tokio]:-}" ] || exit 0
for kind in "${kinds[@]}"; do
    printf '%s / tokio = %.2f\n' "$kind" "$(echo "${per[$kind]} / ${per[tokio]}" | bc -l)"
done
