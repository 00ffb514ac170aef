#!/usr/bin/env bash
# User-space instructions per operation, measured with callgrind as a slope: each variant runs
# twice, with N1 and N2 operations, and (Ir(N2) - Ir(N1)) / (N2 - N1) cancels every fixed cost
# (process start, ring and driver setup, the test file, the warmup). The watchdog thread is
# off (--stall-secs 0) so the process stays single-threaded unless a variant starts threads:
# glibc's pread costs ~30 more instructions in a multi-threaded process.
#
# usage: crates/proactor-bench/callgrind.sh [N1 [N2 [VARIANT...]]]
#        (run from the workspace root; builds the release binary first)
#        BENCH_ARGS="--vec-buffers" crates/proactor-bench/callgrind.sh ...  passes extra flags
#        BIN=file-bench crates/proactor-bench/callgrind.sh ...  measures file-bench's variants
#        KEEP=dir keeps the callgrind outputs there (for callgrind_annotate)
set -euo pipefail

n1=${1:-100000}
n2=${2:-200000}
shift $(( $# > 2 ? 2 : $# ))
variants=("$@")
name=${BIN:-driver-bench}
if [ ${#variants[@]} -eq 0 ]; then
    case $name in
        file-bench) variants=(rand-proactor-uring rand-proactor-epoll rand-tokio rand-compio rand-monoio rand-raw-uring rand-std-pread) ;;
        *) variants=(nop-driver-uring nop-raw-uring nop-driver-epoll read-driver-uring read-raw-uring read-std-pread) ;;
    esac
fi

# driver-bench builds without the peer runtimes; the other benches compare against them.
case $name in
    driver-bench) features=() ;;
    *) features=(--features peers) ;;
esac
cargo build --release -p proactor-bench "${features[@]}" --bin "$name" >&2
bin=target/release/$name
out=${KEEP:-$(mktemp -d)}
mkdir -p "$out"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$out"' EXIT

collected() {
    # Ir of the whole run, from callgrind's summary line.
    valgrind --tool=callgrind --callgrind-out-file="$out/$1-$2.out" \
        "$bin" --only "$1" --ops "$2" --rounds 1 --warmup 1000 --file-mib 16 --stall-secs 0 ${BENCH_ARGS:-} \
        >"$out/$1-$2.log" 2>&1
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$out/$1-$2.log"
}

echo "| variant | Ir at $n1 ops | Ir at $n2 ops | instructions/op (slope) |"
echo "|---|---:|---:|---:|"
for variant in "${variants[@]}"; do
    ir1=$(collected "$variant" "$n1")
    ir2=$(collected "$variant" "$n2")
    slope=$(awk -v a="$ir1" -v b="$ir2" -v n1="$n1" -v n2="$n2" 'BEGIN { printf "%.1f", (b - a) / (n2 - n1) }')
    echo "| $variant | $ir1 | $ir2 | $slope |"
done
