#!/usr/bin/env bash
# Sets up the machine and runs every test: the Catch2 suites under AddressSanitizer and
# UndefinedBehaviorSanitizer (through ctest), then each libFuzzer target for a bounded time.
#   FUZZ_SECONDS  seconds per fuzz target (default 60; 0 skips fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

jobs=$(nproc)
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMIDHURST_SANITIZE=ON -DMIDHURST_BENCHMARKS=OFF
cmake --build build/asan -j "$jobs"
ctest --test-dir build/asan -j "$jobs" --output-on-failure

fuzz_seconds=${FUZZ_SECONDS:-60}
if [ "$fuzz_seconds" -gt 0 ]; then
  CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMIDHURST_FUZZ=ON
  cmake --build build/fuzz -j "$jobs"
  tests/fuzz/run.sh build/fuzz "$fuzz_seconds"
fi
