#!/bin/bash
# `make cluster`: a redis-server and two msab nodes on loopback, sharing rooms through Redis.
# Both nodes use one JWT secret and one internal key (kept in .msab/cluster/), so a token minted
# for one is good on the other; each has its own data directory and its own UDP port range.
# Ctrl-C stops all three.
set -euo pipefail
BIN=${MSAB_BIN:?MSAB_BIN must point at the msab binary}
REDIS_PORT=${REDIS_PORT:-6390}
PORT_A=${PORT_A:-3031}
PORT_B=${PORT_B:-3032}
DIR=${CLUSTER_DIR:-.msab/cluster}
mkdir -p "$DIR/node-a" "$DIR/node-b"
[ -s "$DIR/jwt-secret" ] || (umask 077; head -c 48 /dev/urandom | base64 | tr -d '\n' > "$DIR/jwt-secret")
[ -s "$DIR/internal-key" ] || (umask 077; head -c 24 /dev/urandom | base64 | tr -d '\n' > "$DIR/internal-key")
export MSAB_JWT_SECRET=$(cat "$DIR/jwt-secret") MSAB_INTERNAL_KEY=$(cat "$DIR/internal-key")
export REDIS_HOST=127.0.0.1 REDIS_PORT HOST=${HOST:-127.0.0.1}

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
  --logfile "$DIR/redis.log" &
pids+=($!)
PORT=$PORT_A MSAB_DATA_DIR="$DIR/node-a" MEDIASOUP_RTC_MIN_PORT=40000 MEDIASOUP_RTC_MAX_PORT=40099 "$BIN" serve > "$DIR/node-a.log" 2>&1 &
pids+=($!)
PORT=$PORT_B MSAB_DATA_DIR="$DIR/node-b" MEDIASOUP_RTC_MIN_PORT=40100 MEDIASOUP_RTC_MAX_PORT=40199 "$BIN" serve > "$DIR/node-b.log" 2>&1 &
pids+=($!)
for port in "$PORT_A" "$PORT_B"; do
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
done
TOKEN=$("$BIN" token --user 1 --name "Test User" --role demo=owner)
cat <<INFO
msab cluster: redis-server on 127.0.0.1:$REDIS_PORT, two nodes sharing rooms through it
  node A: http://127.0.0.1:$PORT_A   (log: $DIR/node-a.log)
  node B: http://127.0.0.1:$PORT_B   (log: $DIR/node-b.log)
  health: curl http://127.0.0.1:$PORT_A/health
a token for user 1 (owner of room "demo"), good on both nodes:
  $TOKEN
more tokens: MSAB_JWT_SECRET=\$(cat $DIR/jwt-secret) $BIN token --user 7 --name Alice
Ctrl-C stops all three.
INFO
wait -n "${pids[@]}"
