#!/usr/bin/env bash
# System calls (strace -c -f) and user instructions (callgrind) per datagram for
# udp-batch-bench's modes, as slopes between two counts so fixed costs (process start,
# runtime setup) cancel: (X(N2) - X(N1)) / (N2 - N1). Each datagram is sent and received,
# so a figure covers both ends.
#
# usage: crates/proactor-bench/udp-batch-costs.sh [N1 [N2 [BATCH]]]   (from the workspace root)
set -euo pipefail

n1=${1:-20000}
n2=${2:-40000}
batch=${3:-32}
cargo build --release -p proactor-bench --bin udp-batch-bench >&2
bin=target/release/udp-batch-bench
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

syscalls() {
    strace -c -f -o "$out/strace" "$bin" --backend "$1" --mode "$2" --count "$3" --batch "$batch" >/dev/null
    awk '$NF == "total" { print $4 }' "$out/strace"
}

instructions() {
    valgrind --tool=callgrind --callgrind-out-file="$out/callgrind" \
        "$bin" --backend "$1" --mode "$2" --count "$3" --batch "$batch" >/dev/null 2>"$out/log"
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$out/log"
}

printf '%-9s %-5s %14s %18s\n' backend mode syscalls/dgram instructions/dgram
for backend in io_uring epoll; do
    for mode in one ring many; do
        s1=$(syscalls "$backend" "$mode" "$n1")
        s2=$(syscalls "$backend" "$mode" "$n2")
        i1=$(instructions "$backend" "$mode" "$n1")
        i2=$(instructions "$backend" "$mode" "$n2")
        awk -v b="$backend" -v m="$mode" -v s1="$s1" -v s2="$s2" -v i1="$i1" -v i2="$i2" \
            -v n1="$n1" -v n2="$n2" \
            'BEGIN { printf "%-9s %-5s %14.3f %18.0f\n", b, m, (s2 - s1) / (n2 - n1), (i2 - i1) / (n2 - n1) }'
    done
done
