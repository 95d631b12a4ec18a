#!/usr/bin/env bash
# Sets up the machine, builds Midhurst (release) and runs the gateway on its embedded
# defaults: the example configuration, a SQLite store under data/, the profiles in mappings/.
# Stop it with Ctrl-C (SIGINT) or SIGTERM; extra arguments go to `midhurst serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DMIDHURST_TESTS=OFF >/dev/null
cmake --build build/release -j "$(nproc)" --target midhurst
exec build/release/midhurst serve --config examples/midhurst.json "$@"
