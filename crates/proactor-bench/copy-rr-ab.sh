#!/usr/bin/env bash
# copy-bench rr (a request/response proxy, a copy each way per connection): the CPU per
# request of the proxies of this build and, interleaved with them, of the proactor proxies of
# another build of copy-bench (BEFORE=path), named "<proxy>@before" in the table. Used to
# compare `proactor::io::copy` against its previous rule, which spliced every message: build
# copy-bench at the commit before "io::copy splices only bulk streams" and pass it as BEFORE.
# Each round runs every size, and in it every proxy of both builds, once, so load that comes
# and goes on a shared machine spreads over all of them; medians (and min … max) over the
# rounds, ratios against tokio-copy of the same size.
#
# usage: BEFORE=/path/to/old/copy-bench crates/proactor-bench/copy-rr-ab.sh [ROUNDS [SIZES]]
#        (run from the workspace root; builds the release binary first)
#        SIZES as copy-bench rr's --sizes (64,512,4k,16k,64k by default); CONNS=100 REQUESTS=100
#        per run; KEEP=file keeps every run's line there.
set -euo pipefail

rounds=${1:-5}
sizes=${2:-64,512,4k,16k,64k}
conns=${CONNS:-100}
requests=${REQUESTS:-100}
cargo build --release -p proactor-bench --features peers --bin copy-bench >&2
bin=target/release/copy-bench
log=${KEEP:-$(mktemp)}
[ -n "${KEEP:-}" ] || trap 'rm -f "$log"' EXIT
: >"$log"

for round in $(seq 1 "$rounds"); do
    for size in ${sizes//,/ }; do
        "$bin" rr --rounds 1 --sizes "$size" --conns "$conns" --requests "$requests" \
            2>&1 >/dev/null | grep '^round' | sed "s/^round 0/round $round/" >>"$log"
        if [ -n "${BEFORE:-}" ]; then
            "$BEFORE" rr --rounds 1 --sizes "$size" --conns "$conns" --requests "$requests" \
                --only proactor-uring-copy,proactor-epoll-copy 2>&1 >/dev/null |
                grep '^round' | sed "s/^round 0/round $round/; s/\(proactor-[a-z]*-copy\)/\1@before/" >>"$log"
        fi
    done
    echo "round $round of $rounds done" >&2
done

# Lines "round R REQUEST:RESPONSE PROXY µs µs CPU/request RATE requests/s" -> per size and
# proxy: the median CPU per request and its range, and the medians of two paired ratios, each
# taken within one round (runs seconds apart, so the machine's load mostly cancels): against
# tokio-copy, and against the buffer loop of the same backend.
echo "| request:response | proxy | CPU µs/request (median) | min … max | × tokio-copy (paired) | × own buffer loop (paired) | runs |"
echo "|---|---|---:|---:|---:|---:|---:|"
awk '
    function median(list,    n, i, j, x, v) {
        n = split(list, v, " ")
        for (i = 2; i <= n; i++) { x = v[i] + 0; for (j = i - 1; j >= 1 && v[j] + 0 > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
        low = v[1]; high = v[n]; count = n
        return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }
    { key = $3 SUBSEP $4; cpu[$2, $3, $4] = $5; all[key] = all[key] " " $5
      if (!(key in seen)) { seen[key] = 1; order[rows++] = key }
      rounds[$2] = 1 }
    END {
        for (i = 0; i < rows; i++) {
            split(order[i], part, SUBSEP); size = part[1]; proxy = part[2]
            base = proxy ~ /uring/ ? "proactor-uring-buffer" : proxy ~ /epoll/ ? "proactor-epoll-buffer" : ""
            to_tokio = ""; to_base = ""
            for (r in rounds) {
                if (!((r, size, proxy) in cpu)) continue
                if ((r, size, "tokio-copy") in cpu) to_tokio = to_tokio " " cpu[r, size, proxy] / cpu[r, size, "tokio-copy"]
                if (base != "" && (r, size, base) in cpu) to_base = to_base " " cpu[r, size, proxy] / cpu[r, size, base]
            }
            t = (to_tokio == "") ? "-" : sprintf("%.2f", median(to_tokio))
            b = (to_base == "") ? "-" : sprintf("%.2f", median(to_base))
            m = median(all[order[i]])
            printf "| %s | %s | %.1f | %.1f … %.1f | %s | %s | %d |\n", size, proxy, m, low, high, t, b, count
        }
    }' < <(sort -t' ' -k3,3n -k4,4 "$log")
