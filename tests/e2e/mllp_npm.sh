#!/usr/bin/env bash
# End-to-end: the real gateway binary on 127.0.0.1, fed by an MLLP client from npm that we
# did not write (node-hl7-client). Run from the repository root:
#   tests/e2e/mllp_npm.sh MIDHURST_BINARY WORK_DIR
# WORK_DIR holds the npm install (reused between runs) and a fresh data directory.
# Exit 77 (ctest: skipped) when Node.js is older than 20, which the client needs.
set -euo pipefail
bin=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "skipped: node-hl7-client needs Node.js 20 or later, this is $(node --version 2>/dev/null || echo none)"
  exit 77
fi

npm_dir=$work/npm-mllp-client
if [ ! -d "$npm_dir/node_modules/node-hl7-client" ]; then
  mkdir -p "$npm_dir"
  npm install --prefix "$npm_dir" --no-audit --no-fund --silent node-hl7-client@4.0.0 >/dev/null
fi
# ES modules resolve packages from the script's own directory.
cp "$here/mllp_npm_client.mjs" "$npm_dir/"

run=$(mktemp -d "$work/e2e-XXXXXX")
cleanup() {
  [ -n "${pid:-}" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$run"
}
trap cleanup EXIT

"$bin" serve --config examples/midhurst.json --http 127.0.0.1:0 --mllp 127.0.0.1:0 \
  --data-dir "$run/data" --port-file "$run/ports.json" >"$run/gateway.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do [ -s "$run/ports.json" ] && break; sleep 0.1; done
[ -s "$run/ports.json" ] || { echo "the gateway did not start:"; cat "$run/gateway.log"; exit 1; }
port=$(node -p "require('$run/ports.json').mllp")

send() { node "$npm_dir/mllp_npm_client.mjs" "$port" "$@"; }
# ADT messages are journaled, mapped and committed: AA, MSA-2 echoing MSH-10.
send AA examples/adt_a01_admit.hl7 examples/adt_a08_eol_preferences.hl7 examples/adt_a03_discharge.hl7
# Resending the admission is a duplicate: ACKed again.
send AA examples/adt_a01_admit.hl7
# An invalid NHS number is an application error.
send AE mappings/hl7v2-care/fixtures/a31-invalid-nhs-number.hl7

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
[ "$status" -eq 0 ] || { echo "the gateway exited $status on SIGTERM:"; cat "$run/gateway.log"; exit 1; }
grep -q '"event":"gateway.stopped"' "$run/gateway.log" || { echo "no gateway.stopped log line"; exit 1; }
echo "ok: the npm MLLP client got the expected ACKs and the gateway stopped cleanly"
