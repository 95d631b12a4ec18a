#!/usr/bin/env bash
# Sets up the machine, builds Midhurst (release) and runs it on its embedded defaults.
# Until the gateway server lands, "running" means checking the example messages.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DMIDHURST_TESTS=OFF >/dev/null
cmake --build build/release -j "$(nproc)" --target midhurst
build/release/midhurst hl7 check examples/*.hl7
