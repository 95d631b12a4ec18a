#!/usr/bin/env bash
# Installs the pinned npm packages the end-to-end tests use into DIR/node_modules (reused
# between runs, never committed), then runs COMMAND with E2E_NPM_DIR=DIR.
#   tests/e2e/with_npm.sh DIR COMMAND [ARG...]
# Exit 77 (ctest: skipped) when Node.js is older than 20 (the clients need it) or npm is missing.
set -euo pipefail
dir=$1
shift
packages=(node-hl7-client@4.0.0 fhir-kit-client@2.0.3)

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ] || ! command -v npm >/dev/null; then
  echo "skipped: the npm clients need Node.js 20 or later and npm; this is $(node --version 2>/dev/null || echo no node)"
  exit 77
fi
mkdir -p "$dir"
(
  # ctest runs tests in parallel: one install at a time.
  flock 9
  stamp="$dir/.installed"
  if [ "$(cat "$stamp" 2>/dev/null)" != "${packages[*]}" ]; then
    npm install --prefix "$dir" --no-audit --no-fund --no-save --silent "${packages[@]}" >/dev/null
    echo "${packages[*]}" >"$stamp"
  fi
) 9>"$dir/.lock"
E2E_NPM_DIR=$dir exec "$@"
