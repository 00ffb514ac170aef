#!/usr/bin/env bash
# User-space instructions (callgrind) and syscalls (strace -c -f) per accepted connection of
# each accept-bench server, as a slope between two runs of N1 and N2 connections (which
# cancels process start, runtime setup and tear-down). The server is pinned to CPU 0 and
# exits after its N-th connection; the client (4 threads, pinned to CPU 1) connects and
# resets each connection at once.
#
# usage: crates/proactor-bench/accept-costs.sh [N1 [N2 [SERVER...]]]
#        (run from the workspace root; builds the release binary first)
set -euo pipefail

n1=${1:-5000}
n2=${2:-10000}
shift $(( $# > 2 ? 2 : $# ))
servers=("$@")
if [ ${#servers[@]} -eq 0 ]; then
    servers=(proactor-uring proactor-uring-incoming proactor-epoll proactor-epoll-incoming tokio)
fi

command -v valgrind >/dev/null || { echo "accept-costs.sh: valgrind is missing (apt-get install valgrind)" >&2; exit 1; }
command -v strace >/dev/null || { echo "accept-costs.sh: strace is missing (apt-get install strace)" >&2; exit 1; }
cargo build --release -p proactor-bench --features peers --bin accept-bench >&2
bin=target/release/accept-bench
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# measured TOOL SERVER N: runs the server under TOOL ("callgrind" or "strace") for N connections.
measured() {
    local tool=$1 server=$2 conns=$3 tag="$out/$1-$2-$3"
    local wrapper
    case $tool in
        callgrind) wrapper=(valgrind --tool=callgrind --callgrind-out-file="$tag.out") ;;
        strace) wrapper=(strace -c -f -o "$tag.out") ;;
    esac
    : >"$tag.port"
    timeout 900 "${wrapper[@]}" "$bin" server --kind "$server" --addr 127.0.0.1:0 \
        --conns "$conns" --cpu 0 >"$tag.port" 2>"$tag.log" &
    local pid=$!
    local address=""
    for _ in $(seq 3000); do
        address=$(sed -n 's/^listening on //p' "$tag.port")
        [ -n "$address" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$address" ]; then
        echo "accept-costs.sh: $server did not start under $tool:" >&2
        cat "$tag.log" >&2
        kill "$pid" 2>/dev/null || true
        return 1
    fi
    "$bin" client --addr "$address" --conns "$conns" --threads 4 --cpu 1
    wait "$pid"
}

instructions() { sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$out/callgrind-$1-$2.log"; }
syscalls() { awk '$1 ~ /^[0-9.]+$/ && NF >= 5 { print $NF, $4 }' "$out/strace-$1-$2.out"; }

echo "Per accepted connection, slope between $n1 and $n2 connections:"
echo
echo "| server | instructions/accept | syscalls/accept | syscalls/accept by name |"
echo "|---|---:|---:|---|"
for server in "${servers[@]}"; do
    slope="—"
    if measured callgrind "$server" "$n1" && measured callgrind "$server" "$n2"; then
        slope=$(awk -v a="$(instructions "$server" "$n1")" -v b="$(instructions "$server" "$n2")" \
            -v n1="$n1" -v n2="$n2" 'BEGIN { printf "%.0f", (b - a) / (n2 - n1) }')
    fi
    sc_slope="—" ; by_name="strace failed"
    if measured strace "$server" "$n1" && measured strace "$server" "$n2"; then
        sc_slope=$(awk -v a="$(syscalls "$server" "$n1" | awk '$1 == "total" { print $2 }')" \
            -v b="$(syscalls "$server" "$n2" | awk '$1 == "total" { print $2 }')" \
            -v n1="$n1" -v n2="$n2" 'BEGIN { printf "%.3f", (b - a) / (n2 - n1) }')
        by_name=$(join -a2 -e0 -o 0,1.2,2.2 <(syscalls "$server" "$n1" | sort) <(syscalls "$server" "$n2" | sort) |
            awk -v n1="$n1" -v n2="$n2" '$1 != "total" { s = ($3 - $2) / (n2 - n1); if (s >= 0.005) printf "%s %.3f\n", $1, s }' |
            sort -k2 -g -r | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }')
    fi
    echo "| $server | $slope | $sc_slope | $by_name |"
done
