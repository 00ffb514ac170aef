#!/usr/bin/env bash
# proactor's `serve` example against nginx, serving the same directory, under wrk, in one run.
#
# Neither logs requests (serve --quiet, nginx access_log off).
# Both servers use one thread on CPU 0 (serve --threads 1 under taskset, which pins its
# runtime there; nginx with one worker, worker_cpu_affinity on CPU 0, its master under taskset too); wrk
# runs with one thread on CPU 1. Two files: a small one (SMALL bytes, default 1 KiB) and a
# 1 MiB one. Each run measures every server once per file, the order of the servers rotating
# by one each run (interleaved), for SECONDS each; the table gives medians over RUNS runs of
# requests/s and of the server's CPU time per request (from /proc/PID/stat: user + system,
# every thread; the figure noise blurs least), and ratios of medians against nginx.
#
# usage: crates/proactor-bench/serve-vs-nginx.sh      (run from the workspace root)
#        RUNS=5 SECONDS_PER_RUN=5 CONNS=64 SMALL=1024 SERVERS="serve-uring serve-epoll nginx"
#        KEEP=dir keeps the directory served, the nginx config and every wrk output there.
# Installs wrk and nginx (Debian packages) when they are missing; builds the example.
set -euo pipefail

runs=${RUNS:-5}
seconds=${SECONDS_PER_RUN:-5}
conns=${CONNS:-64}
small=${SMALL:-1024}
read -r -a servers <<<"${SERVERS:-serve-uring serve-epoll nginx}"
server_cpu=${SERVER_CPU:-0}
client_cpu=${CLIENT_CPU:-1}

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
    echo "serve-vs-nginx.sh: installing ${need[*]}" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

cargo build --release -p proactor --example serve >&2
serve_bin=target/release/examples/serve

out=${KEEP:-$(mktemp -d)}
mkdir -p "$out/www" "$out/nginx"
# nginx's worker runs as an unprivileged user: it must be able to reach the files (mktemp -d
# makes a 0700 directory).
chmod 755 "$out" "$out/www"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    [ -n "${KEEP:-}" ] || rm -rf "$out"
}
trap cleanup EXIT

head -c "$small" /dev/urandom >"$out/www/small.bin"
head -c $((1 << 20)) /dev/urandom >"$out/www/large.bin"

# A free port on 127.0.0.1 (the kernel picks it; the small race with other programs is fine).
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

declare -A port pid_of
# worker_cpu_affinity's mask: CPU 0 is the rightmost digit.
mask=1
for _ in $(seq "$server_cpu"); do mask="${mask}0"; done
cat >"$out/nginx/nginx.conf" <<EOF
worker_processes 1;
worker_cpu_affinity $mask;
daemon off;
pid $out/nginx/nginx.pid;
error_log $out/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 100000000;
    keepalive_timeout 60s;
    client_body_temp_path $out/nginx/body;
    proxy_temp_path $out/nginx/proxy;
    fastcgi_temp_path $out/nginx/fastcgi;
    uwsgi_temp_path $out/nginx/uwsgi;
    scgi_temp_path $out/nginx/scgi;
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:NGINX_PORT;
        root $out/www;
    }
}
EOF

# launch SERVER PORT: starts the server in the background on 127.0.0.1:PORT.
launch() {
    local server=$1 p=$2
    case $server in
        serve-uring | serve-epoll)
            local backend=${server#serve-}
            [ "$backend" = uring ] && backend=io_uring
            taskset -c "$server_cpu" "$serve_bin" --root "$out/www" --addr "127.0.0.1:$p" \
                --threads 1 --backend "$backend" --quiet >"$out/$server.log" 2>&1 &
            ;;
        nginx)
            sed -i "s/listen 127.0.0.1:[A-Z_0-9]*;/listen 127.0.0.1:$p;/" "$out/nginx/nginx.conf"
            taskset -c "$server_cpu" "$nginx_bin" -p "$out/nginx" -c "$out/nginx/nginx.conf" \
                >"$out/$server.log" 2>&1 &
            ;;
        *) echo "serve-vs-nginx.sh: unknown server $server" >&2; exit 2 ;;
    esac
    pid_of[$server]=$!
    pids+=("$!")
}

# start SERVER: launches it on a free port and waits until it answers (up to 3 tries, each on
# a new port: on a shared machine another program may take the port between our pick and the
# server's bind); then checks that it serves both files byte for byte.
start() {
    local server=$1 p attempt ready=""
    for attempt in 1 2 3; do
        p=$(free_port)
        launch "$server" "$p"
        for _ in $(seq 200); do
            if curl -sf -o /dev/null "http://127.0.0.1:$p/small.bin"; then
                ready=yes
                break
            fi
            kill -0 "${pid_of[$server]}" 2>/dev/null || break
            sleep 0.1
        done
        [ -n "$ready" ] && break
        echo "serve-vs-nginx.sh: $server did not answer on port $p (try $attempt); its output:" >&2
        cat "$out/$server.log" "$out/nginx/error.log" 2>/dev/null >&2 || true
        kill "${pid_of[$server]}" 2>/dev/null || true
        wait "${pid_of[$server]}" 2>/dev/null || true
    done
    if [ -z "$ready" ]; then
        echo "serve-vs-nginx.sh: $server did not start" >&2
        exit 1
    fi
    port[$server]=$p
    # Same bytes from every server, or the comparison means nothing.
    for file in small.bin large.bin; do
        if ! curl -sf "http://127.0.0.1:$p/$file" | cmp -s - "$out/www/$file"; then
            echo "serve-vs-nginx.sh: $server did not serve $file correctly" >&2
            exit 1
        fi
    done
}

# CPU ticks (user + system, all threads) of a server: the process and, for nginx, its worker.
ticks() {
    local root=$1 total=0 p
    for p in $root $(pgrep -P "$root" || true); do
        if [ -r "/proc/$p/stat" ]; then
            total=$((total + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat")))
        fi
    done
    echo "$total"
}

for server in "${servers[@]}"; do
    start "$server"
done
hz=$(getconf CLK_TCK)
echo "servers on CPU $server_cpu, wrk -t1 -c$conns -d${seconds}s on CPU $client_cpu, $runs runs, files: small.bin ($small B), large.bin (1 MiB)" >&2

: >"$out/results"
for run in $(seq "$runs"); do
    for file in small.bin large.bin; do
        count=${#servers[@]}
        for step in $(seq 0 $((count - 1))); do
            server=${servers[$(((run + step) % count))]}
            before=$(ticks "${pid_of[$server]}")
            timeout $((seconds + 30)) taskset -c "$client_cpu" wrk -t1 -c"$conns" -d"${seconds}s" \
                "http://127.0.0.1:${port[$server]}/$file" >"$out/wrk-$server-$file-$run.txt"
            after=$(ticks "${pid_of[$server]}")
            rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out/wrk-$server-$file-$run.txt")
            errors=$(awk '/Non-2xx|Socket errors/ { print }' "$out/wrk-$server-$file-$run.txt" | tr '\n' ' ')
            cpu_us=$(awk -v t=$((after - before)) -v hz="$hz" -v r="$rps" -v s="$seconds" \
                'BEGIN { printf "%.2f", (r > 0 ? t / hz * 1e6 / (r * s) : 0) }')
            cpu_pct=$(awk -v t=$((after - before)) -v hz="$hz" -v s="$seconds" 'BEGIN { printf "%.0f", t / hz / s * 100 }')
            echo "$file $server $rps $cpu_us $cpu_pct" >>"$out/results"
            echo "run $run $file $server: $rps req/s, server CPU $cpu_pct %, $cpu_us µs/request ${errors}" >&2
        done
    done
done

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
column() { awk -v f="$1" -v s="$2" -v c="$3" '$1 == f && $2 == s { print $c }' "$out/results"; }

echo "| file | server | runs | median req/s | min … max req/s | median MiB/s | server CPU | server CPU µs/request | req/s vs nginx | CPU/request vs nginx |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for file in small.bin large.bin; do
    bytes=$([ "$file" = small.bin ] && echo "$small" || echo $((1 << 20)))
    nginx_rps=$(column "$file" nginx 3 | median)
    nginx_cpu=$(column "$file" nginx 4 | median)
    for server in "${servers[@]}"; do
        rps=$(column "$file" "$server" 3 | median)
        cpu=$(column "$file" "$server" 4 | median)
        pct=$(column "$file" "$server" 5 | median)
        lo=$(column "$file" "$server" 3 | sort -g | head -1)
        hi=$(column "$file" "$server" 3 | sort -g | tail -1)
        n=$(column "$file" "$server" 3 | wc -l)
        awk -v f="$file ($bytes B)" -v s="$server" -v n="$n" -v r="$rps" -v lo="$lo" -v hi="$hi" \
            -v b="$bytes" -v pct="$pct" -v c="$cpu" -v nr="$nginx_rps" -v nc="$nginx_cpu" 'BEGIN {
            printf "| %s | %s | %d | %.0f | %.0f … %.0f | %.0f | %.0f %% | %.2f | %s | %s |\n",
                f, s, n, r, lo, hi, r * b / 1048576, pct, c,
                (nr > 0 ? sprintf("%.2f×", r / nr) : "—"), (nc > 0 ? sprintf("%.2f×", c / nc) : "—") }'
    done
done
