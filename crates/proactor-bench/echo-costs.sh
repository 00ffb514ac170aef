#!/usr/bin/env bash
# What noise cannot blur, per echo round trip of each echo-bench server:
#   - user-space instructions (valgrind --tool=callgrind, the server process only), and
#   - syscalls (strace -c -f, every thread of the server process),
# each as a slope over two run lengths: the server runs once with R1 and once with R2 round
# trips (C connections, M-byte messages, from `echo-bench client --round-trips`), exits by
# itself after its C-th connection closed (--exit-after-conns), and
# (count(R2) - count(R1)) / (R2 - R1) cancels every fixed cost (process start, runtime setup,
# accepting, tear-down). The client runs natively, pinned to CPU 1; the server to CPU 0.
#
# usage: crates/proactor-bench/echo-costs.sh [R1 [R2 [SERVER...]]]
#        (run from the workspace root; builds the release binary first)
#        CONNS=10 SIZE=128 are the defaults; KEEP=dir keeps the callgrind/strace outputs there.
set -euo pipefail

r1=${1:-20000}
r2=${2:-40000}
shift $(( $# > 2 ? 2 : $# ))
servers=("$@")
if [ ${#servers[@]} -eq 0 ]; then
    servers=(proactor-uring proactor-epoll tokio compio monoio raw-uring raw-uring-defer)
fi
conns=${CONNS:-10}
size=${SIZE:-128}

command -v valgrind >/dev/null || { echo "echo-costs.sh: valgrind is missing (apt-get install valgrind)" >&2; exit 1; }
command -v strace >/dev/null || { echo "echo-costs.sh: strace is missing (apt-get install strace)" >&2; exit 1; }
cargo build --release -p proactor-bench --features peers --bin echo-bench >&2
bin=target/release/echo-bench
out=${KEEP:-$(mktemp -d)}
mkdir -p "$out"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$out"' EXIT

# measured TOOL SERVER R: runs the server under TOOL ("callgrind" or "strace") for R round trips.
measured() {
    local tool=$1 server=$2 rounds=$3 tag="$out/$1-$2-$3"
    local wrapper
    case $tool in
        callgrind) wrapper=(valgrind --tool=callgrind --callgrind-out-file="$tag.out") ;;
        strace) wrapper=(strace -c -f -o "$tag.out") ;;
    esac
    : >"$tag.port"
    timeout 900 "${wrapper[@]}" "$bin" server --kind "$server" --addr 127.0.0.1:0 --size "$size" \
        --cpu 0 --exit-after-conns "$conns" >"$tag.port" 2>"$tag.log" &
    local pid=$!
    local address=""
    for _ in $(seq 3000); do
        address=$(sed -n 's/^listening on //p' "$tag.port")
        [ -n "$address" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$address" ]; then
        echo "echo-costs.sh: $server did not start under $tool:" >&2
        cat "$tag.log" >&2
        kill "$pid" 2>/dev/null || true
        return 1
    fi
    "$bin" client --addr "$address" --conns "$conns" --size "$size" --round-trips "$rounds" \
        --cpu 1 >"$tag.client"
    wait "$pid"
}

# Ir of the whole server run, from callgrind's summary line.
instructions() { sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$out/callgrind-$1-$2.log"; }
# "name calls" for every syscall, plus "total calls".
syscalls() {
    awk '$1 ~ /^[0-9.]+$/ && NF >= 5 { print $NF, $4 }' "$out/strace-$1-$2.out"
}

echo "Per round trip, $conns connections × $size B, slope between $r1 and $r2 round trips:"
echo
echo "| server | Ir at $r1 | Ir at $r2 | instructions/rt | syscalls at $r1 | syscalls at $r2 | syscalls/rt | syscalls/rt by name |"
echo "|---|---:|---:|---:|---:|---:|---:|---|"
for server in "${servers[@]}"; do
    ir=("—" "—") ; slope="—"
    if measured callgrind "$server" "$r1" && measured callgrind "$server" "$r2"; then
        ir=("$(instructions "$server" "$r1")" "$(instructions "$server" "$r2")")
        slope=$(awk -v a="${ir[0]}" -v b="${ir[1]}" -v n1="$r1" -v n2="$r2" \
            'BEGIN { printf "%.0f", (b - a) / (n2 - n1) }')
    fi
    sc=("—" "—") ; sc_slope="—" ; by_name="strace failed"
    if measured strace "$server" "$r1" && measured strace "$server" "$r2"; then
        sc=("$(syscalls "$server" "$r1" | awk '$1 == "total" { print $2 }')"
            "$(syscalls "$server" "$r2" | awk '$1 == "total" { print $2 }')")
        sc_slope=$(awk -v a="${sc[0]}" -v b="${sc[1]}" -v n1="$r1" -v n2="$r2" \
            'BEGIN { printf "%.3f", (b - a) / (n2 - n1) }')
        by_name=$(join -a2 -e0 -o 0,1.2,2.2 <(syscalls "$server" "$r1" | sort) <(syscalls "$server" "$r2" | sort) |
            awk -v n1="$r1" -v n2="$r2" '$1 != "total" { s = ($3 - $2) / (n2 - n1); if (s >= 0.005) printf "%s %.3f\n", $1, s }' |
            sort -k2 -g -r | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }')
    fi
    echo "| $server | ${ir[0]} | ${ir[1]} | $slope | ${sc[0]} | ${sc[1]} | $sc_slope | $by_name |"
done
