#!/usr/bin/env bash
# Runs hookspool's benchmark against a loopback nginx and a delay receiver, side by side with curl,
# wrk and a Go net/http dispatcher (benchmarks/peer/), and prints a table; writes benchmarks/results.json.
#
#   benchmarks/run.sh                 # everything, 3 runs per case (median)
#   BENCH_RUNS=5 benchmarks/run.sh    # more runs per case
#   BENCH_CASES=throughput,startup benchmarks/run.sh   # a subset (see benchmarks/README.md)
#   BENCH_SKIP_BUILD=1 benchmarks/run.sh               # reuse the binary in .build-static as it is
#   BENCH_BIN=/tmp/old/hookspool BENCH_OUT=/tmp/old.json benchmarks/run.sh   # another binary (before/after)
#
# Needs Debian (or Ubuntu) and root, or the packages below already installed. Everything it
# starts listens on 127.0.0.1 only and is stopped on exit.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"

need=()
for tool in nginx:nginx-light wrk:wrk curl:curl hyperfine:hyperfine openssl:openssl python3:python3 go:golang-go gcc:gcc; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || need+=("${tool#*:}")
done
if ((${#need[@]})); then
    echo "installing ${need[*]} from Debian's packages" >&2
    SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

if [[ -z "${BENCH_SKIP_BUILD:-}" && -z "${BENCH_BIN:-}" ]]; then
    # The binary the README deploys: the one .ci/static-binary builds (same flags, same scratch path).
    echo "building hookspool (release, --static-swift-stdlib) into .build-static" >&2
    (cd "$ROOT" && swift build -c release --static-swift-stdlib --scratch-path .build-static --product hookspool >&2)
fi
BIN="${BENCH_BIN:-$ROOT/.build-static/release/hookspool}"
[[ -x "$BIN" ]] || { echo "no release binary at $BIN" >&2; exit 1; }
# The peers: the Go program a user would write instead, and the receiver that answers after a delay.
PEER="$ROOT/.build-bench/peer"
mkdir -p "$PEER"
(cd "$HERE/peer" && GOCACHE="$PEER/cache" GO111MODULE=off go build -o "$PEER/dispatch" dispatch.go)
gcc -O2 -Wall -o "$PEER/receiver" "$HERE/peer/receiver.c"

WORK="$(mktemp -d /tmp/hookspool-bench.XXXXXX)"
NGINX_PID=""
cleanup() {
    if [[ -n "$NGINX_PID" ]] && kill -0 "$NGINX_PID" 2>/dev/null; then
        kill -QUIT "$NGINX_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$NGINX_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# A private CA and a server certificate for 127.0.0.1, for the HTTPS case.
mkdir -p "$WORK/tls"
(
    cd "$WORK/tls"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=hookspool bench CA" \
        -keyout ca.key -out ca.pem 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
        -keyout server.key -out server.csr 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' > ext.cnf
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext.cnf -out server.pem 2>/dev/null
)

# Free loopback ports: plain HTTP (5 for the fan-out), HTTPS with HTTP/1.1 only, HTTPS with h2.
read -r -a PORTS <<< "$(python3 - <<'PY'
import socket
socks = []
for _ in range(7):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
)"
mkdir -p "$WORK/nginx/logs" "$WORK/nginx/tmp"
{
    cat <<NGINX
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
worker_rlimit_nofile 8192;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx/tmp/body;
    proxy_temp_path $WORK/nginx/tmp/proxy;
    fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
    uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
    scgi_temp_path $WORK/nginx/tmp/scgi;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    # Bodies of up to 64 KiB are read into memory and discarded by 'return', never written to disk.
    client_body_buffer_size 64k;
    client_max_body_size 2m;
    http2_max_concurrent_streams 256;
    default_type text/plain;
NGINX
    for port in "${PORTS[@]:0:5}"; do
        echo "    server { listen 127.0.0.1:$port reuseport backlog=4096; location / { return 200 \"ok\n\"; } }"
    done
    cat <<NGINX
    server {
        listen 127.0.0.1:${PORTS[5]} ssl backlog=4096;
        ssl_certificate $WORK/tls/server.pem; ssl_certificate_key $WORK/tls/server.key;
        location / { return 200 "ok\n"; }
    }
    server {
        listen 127.0.0.1:${PORTS[6]} ssl http2 backlog=4096;
        ssl_certificate $WORK/tls/server.pem; ssl_certificate_key $WORK/tls/server.key;
        location / { return 200 "ok\n"; }
    }
}
NGINX
} > "$WORK/nginx/nginx.conf"
"$NGINX" -t -q -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf"
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
NGINX_PID=$!
for _ in $(seq 50); do curl -fs -o /dev/null -X POST -d x "http://127.0.0.1:${PORTS[0]}/" && break; sleep 0.1; done

# The shared-filesystem case: one GlusterFS volume mounted 4 times (as root; see .ci/glusterfs).
if [[ ",${BENCH_CASES:-shared}," == *,shared,* && -z "${BENCH_GLUSTER_MOUNTS:-}" && $(id -u) -eq 0 ]]; then
    BENCH_GLUSTER_MOUNTS="$("$ROOT/.ci/glusterfs" up root 4 | tail -1)"
    export BENCH_GLUSTER_MOUNTS
fi

python3 "$HERE/bench.py" \
    --bin "$BIN" --work "$WORK" --out "${BENCH_OUT:-$HERE/results.json}" \
    --http-ports "${PORTS[*]:0:5}" --https-port "${PORTS[5]}" --h2-port "${PORTS[6]}" \
    --ca "$WORK/tls/ca.pem" --nginx-pid "$NGINX_PID" \
    --go-dispatch "$PEER/dispatch" --receiver "$PEER/receiver"
