#!/usr/bin/env bash
# Runs the official Engine.IO v4 and Socket.IO v5 protocol test suites against msab's
# conformance fixture (Sources/sio-conformance). Their code is not part of this repository:
# pass a checkout (or a bare git directory) of socketio/socket.io; the suites are copied to a
# temporary directory next to our chai stand-in (interop/expect-stand-in) and run with Node 20,
# Debian's mocha and Debian's node-ws.
#   interop/run-official-suites.sh /path/to/socket.io
#   CONFIGURATION=release interop/run-official-suites.sh /path/to/socket.io
set -euo pipefail
src="${1:?usage: $0 <socket.io checkout or git dir>}"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
for p in mocha node-ws; do dpkg -s "$p" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq mocha node-ws; break; }; done
port="${SUITE_PORT:-3000}"  # the suites say 3000; another port lets two runs share a machine
work="$(mktemp -d)"
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
show() {  # show PATH: the file from a work tree or from git
  if [ -f "$src/$1" ]; then cat "$src/$1"; else git --git-dir="$src" show "HEAD:$1" 2>/dev/null || git -C "$src" show "HEAD:$1"; fi
}
for suite in engine.io-protocol/v4-test-suite socket.io-protocol/v5-test-suite; do
  mkdir -p "$work/$suite"
  show "docs/$suite/test-suite.js" | sed "s#localhost:3000#localhost:$port#" > "$work/$suite/test-suite.js"
  cp "$here/expect-stand-in/node-imports.js" "$work/$suite/node-imports.js"
  echo '{"type":"module"}' > "$work/$suite/package.json"
done
# CONFIGURATION=release tests the release build (the timing races show there); SIO_CONFORMANCE_BIN
# names a binary built elsewhere.
configuration="${CONFIGURATION:-debug}"
bin="${SIO_CONFORMANCE_BIN:-$root/.build/$configuration/sio-conformance}"
[ -n "${SIO_CONFORMANCE_BIN:-}" ] || (cd "$root" && swift build -c "$configuration" --product sio-conformance >/dev/null)
"$bin" --port "$port" & server=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/engine.io/?EIO=4&transport=polling" && break; sleep 0.1; done
status=0
for suite in engine.io-protocol/v4-test-suite socket.io-protocol/v5-test-suite; do
  echo "== $suite"
  (cd "$work/$suite" && NODE_PATH=/usr/share/nodejs mocha --timeout 10000 test-suite.js) || status=1
done
exit $status
