#!/usr/bin/env bash
# Sets up the machine, builds Midhurst optimised and runs every benchmark. Benchmarks print
# figures; they are not tests and never fail on a number. Run them on a quiet machine.
#   BENCH_MB  megabytes the HL7v2 corpus is replicated to (default 50)
#   BENCH_SECONDS  seconds per timed figure (default 3)
#   BENCH_HTTP_*, BENCH_RSS_SECONDS  the FHIR read benchmarks' settings (scripts/bench_http.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DMIDHURST_TESTS=OFF >/dev/null
cmake --build build/release -j "$(nproc)"
echo "== HL7v2 parse (one core)"
build/release/benchmarks/hl7_parse_bench --mb "${BENCH_MB:-50}"
echo "== Store: group commit on SQLite (WAL, synchronous=FULL)"
build/release/benchmarks/store_bench --seconds "${BENCH_SECONDS:-3}"
echo "== ADT -> care mapping (one core)"
build/release/benchmarks/mapping_bench --seconds "${BENCH_SECONDS:-3}"
echo "== MLLP ingest under load: the gateway (durable ACKs) against a fixed-ACK Asio server"
build/release/benchmarks/mllp_load_bench --binary build/release/midhurst --seconds "${BENCH_SECONDS:-3}"
echo "== FHIR reads under load (wrk): the gateway against a fixed-body Beast server"
BUILD_DIR=build/release scripts/bench_http.sh
