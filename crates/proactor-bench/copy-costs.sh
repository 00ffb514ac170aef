#!/usr/bin/env bash
# What noise cannot blur, per MiB copied by each copy-bench middle:
#   - user-space instructions of the middle (valgrind --tool=callgrind, collecting only inside
#     `run_middle`, so the source and sink threads do not count; io_uring's kernel workers
#     and the kernel's own work are not user space and never count), and
#   - the middle's system calls (strace -c -f, every thread, minus the `read` and `write`
#     rows: those are the source's and the sink's, which no middle uses),
# instructions as a slope over two run lengths (M1 and M2 MiB): (Ir(M2) - Ir(M1)) / (M2 - M1)
# cancels every fixed cost (process start, runtime setup, connecting). System calls are given
# per MiB of the M2 run (setup included, a few dozen calls): on io_uring their count follows
# how often the middle waited, not the bytes, so a slope of two runs is noise there.
#
# usage: crates/proactor-bench/copy-costs.sh [M1 [M2 [VARIANT...]]]
#        (run from the workspace root; builds the release binary first)
#        KEEP=dir keeps the callgrind/strace outputs there.
set -euo pipefail

m1=${1:-64}
m2=${2:-128}
shift $(( $# > 2 ? 2 : $# ))
variants=("$@")
if [ ${#variants[@]} -eq 0 ]; then
    variants=(proactor-uring-splice proactor-uring-buffer proactor-epoll-splice proactor-epoll-buffer tokio-copy)
fi

command -v valgrind >/dev/null || { echo "copy-costs.sh: valgrind is missing" >&2; exit 1; }
command -v strace >/dev/null || { echo "copy-costs.sh: strace is missing" >&2; exit 1; }
cargo build --release -p proactor-bench --features peers --bin copy-bench >&2
bin=target/release/copy-bench
out=${KEEP:-$(mktemp -d)}
mkdir -p "$out"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$out"' EXIT

instructions() {
    local tag="$out/callgrind-$1-$2"
    valgrind --tool=callgrind --callgrind-out-file="$tag.out" --toggle-collect='*run_middle*' \
        "$bin" --only "$1" --mib "$2" --rounds 1 --no-pin >"$tag.log" 2>&1
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$tag.log"
}

# syscalls VARIANT MIB: "total splice io_uring_enter epoll_wait recvfrom sendto" calls.
syscalls() {
    local tag="$out/strace-$1-$2"
    strace -c -f -o "$tag.out" "$bin" --only "$1" --mib "$2" --rounds 1 >"$tag.log" 2>&1
    awk '$NF ~ /^[a-z_0-9]+$/ && $NF != "syscall" && $NF != "total" {
            name = $NF
            if (name != "read" && name != "write") { total += $4; count[name] = $4 }
         }
         END { printf "%d %d %d %d %d %d\n", total, count["splice"], count["io_uring_enter"],
               count["epoll_wait"], count["recvfrom"], count["sendto"] }' "$tag.out"
}

slope() { awk -v a="$1" -v b="$2" -v m1="$m1" -v m2="$m2" 'BEGIN { printf "%.1f", (b - a) / (m2 - m1) }'; }

per_mib() { awk -v n="$1" -v m="$m2" 'BEGIN { printf "%.1f", n / m }'; }

echo "| variant | user instructions/MiB | syscalls/MiB | splice | io_uring_enter | epoll_wait | recvfrom | sendto |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for variant in "${variants[@]}"; do
    ir1=$(instructions "$variant" "$m1")
    ir2=$(instructions "$variant" "$m2")
    read -r -a calls <<<"$(syscalls "$variant" "$m2")"
    row="| $variant | $(slope "$ir1" "$ir2")"
    for i in 0 1 2 3 4 5; do
        row="$row | $(per_mib "${calls[$i]}")"
    done
    echo "$row |"
done
