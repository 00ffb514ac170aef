#!/usr/bin/env bash
# What noise cannot blur, per request through each copy-bench rr proxy: the user-space
# instructions of the proxy (valgrind --tool=callgrind, collecting only inside `run_proxy`;
# the clients and backends are another process and run natively; the kernel's work, and with
# it io_uring's workers that run the splices, never counts), as a slope over two run lengths:
# (Ir(R2) - Ir(R1)) / (CONNS × (R2 - R1)) cancels every fixed cost (runtime setup, tear-down).
# BEFORE=path adds the proactor proxies of another build of copy-bench, as in copy-rr-ab.sh.
#
# usage: [BEFORE=/path/to/old/copy-bench] crates/proactor-bench/copy-rr-costs.sh [SIZES [PROXY...]]
#        (run from the workspace root; builds the release binary first)
#        CONNS=100, R1=50 and R2=100 requests per connection; KEEP=dir keeps the outputs.
set -euo pipefail

sizes=${1:-64,16k,64k}
shift $(( $# > 1 ? 1 : $# ))
proxies=("$@")
if [ ${#proxies[@]} -eq 0 ]; then
    proxies=(proactor-uring-copy proactor-uring-buffer proactor-epoll-copy proactor-epoll-buffer tokio-copy)
    if [ -n "${BEFORE:-}" ]; then
        proxies+=(proactor-uring-copy@before proactor-epoll-copy@before)
    fi
fi
conns=${CONNS:-100}
r1=${R1:-50}
r2=${R2:-100}

command -v valgrind >/dev/null || { echo "copy-rr-costs.sh: valgrind is missing" >&2; exit 1; }
cargo build --release -p proactor-bench --features peers --bin copy-bench >&2
bin=target/release/copy-bench
out=${KEEP:-$(mktemp -d)}
mkdir -p "$out"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$out"' EXIT

# instructions PROXY SIZE REQUESTS
instructions() {
    local program=$bin proxy=$1
    if [[ $proxy == *@before ]]; then
        program=$BEFORE
        proxy=${proxy%@before}
    fi
    local tag="$out/callgrind-$1-$2-$3"
    valgrind --tool=callgrind --callgrind-out-file="$tag.out" --toggle-collect='*run_proxy*' \
        "$program" rr --only "$proxy" --sizes "$2" --conns "$conns" --requests "$3" \
        --rounds 1 --no-pin >"$tag.log" 2>&1
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$tag.log"
}

echo "| request:response | proxy | user instructions/request |"
echo "|---|---|---:|"
for size in ${sizes//,/ }; do
    for proxy in "${proxies[@]}"; do
        ir1=$(instructions "$proxy" "$size" "$r1")
        ir2=$(instructions "$proxy" "$size" "$r2")
        awk -v a="$ir1" -v b="$ir2" -v n="$(( conns * (r2 - r1) ))" -v s="$size" -v p="$proxy" \
            'BEGIN { printf "| %s | %s | %.0f |\n", s, p, (b - a) / n }'
    done
done
