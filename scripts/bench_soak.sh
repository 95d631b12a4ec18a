#!/usr/bin/env bash
# Memory soak: `midhurst serve` over a store of SOAK_PATIENTS synthetic patients (the loader of
# scripts/bench_http.sh), its resident memory read once loaded and then every
# SOAK_SAMPLE_SECONDS under a mixed load held for SOAK_SECONDS, all at once:
#   reads     GET /Patient/{id} and GET /Patient/{id}/$summary        (wrk, random loaded ids)
#   searches  GET /Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|N  (wrk, random NHS numbers)
#   ingest    ADT^A01 over MLLP for random loaded patients, SOAK_MLLP_CONNECTIONS connections,
#             each sending one message at a time and waiting for its ACK
# Prints the series (seconds, VmRSS MiB), the least-squares slope in MiB per minute over the
# whole load and over its second half (the steady state: the first minutes include caches
# warming up), and what each load achieved. Figures only: it fails on a broken run (the gateway
# died, nothing answered), never on a number.
#   SOAK_PATIENTS         patients loaded (default 100000)
#   SOAK_SECONDS          mixed-load duration (default 600)
#   SOAK_SAMPLE_SECONDS   seconds between memory samples (default 30)
#   SOAK_CONNECTIONS      wrk connections per wrk run (default 8; two runs)
#   SOAK_MLLP_CONNECTIONS MLLP connections sending at once (default 1; a shell client each)
#   BUILD_DIR             an optimised build directory (default build/release; built when its
#                         binaries are missing)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench_lib.sh

patients=${SOAK_PATIENTS:-100000}
seconds=${SOAK_SECONDS:-600}
every=${SOAK_SAMPLE_SECONDS:-30}
connections=${SOAK_CONNECTIONS:-8}
mllp_connections=${SOAK_MLLP_CONNECTIONS:-1}
build=${BUILD_DIR:-build/release}
# The development token of examples/midhurst.json's client dev-hospice (system/*.read of Patient).
token=dev-hospice-token

bench_ensure_wrk
if [ ! -x "$build/midhurst" ] || [ ! -x "$build/benchmarks/load_patients" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMIDHURST_TESTS=OFF >/dev/null
  cmake --build "$build" --target midhurst load_patients
fi

bench_make_workdir soak

echo "== memory soak: $patients patients, ${seconds} s of mixed load, a sample every ${every} s"
mkdir -p "$work/data"
"$build/benchmarks/load_patients" --store "sqlite:$work/data/midhurst.db" --count "$patients" \
  --ids "$work/ids.txt" --nhs "$work/nhs.txt"

"$build/midhurst" serve --config examples/midhurst.json --http 127.0.0.1:0 --mllp 127.0.0.1:0 \
  --data-dir "$work/data" --port-file "$work/ports.json" --set log_level=warn \
  --set profile_watch_seconds=0 >"$work/gateway.log" 2>&1 &
gateway=$!
pids+=("$gateway")
bench_wait_for_file "$work/ports.json" "$gateway" || { cat "$work/gateway.log" >&2; exit 1; }
http_port=$(sed -E 's/.*"http": *([0-9]+).*/\1/' "$work/ports.json")
mllp_port=$(sed -E 's/.*"mllp": *([0-9]+).*/\1/' "$work/ports.json")
url="http://127.0.0.1:$http_port"
for _ in $(seq 100); do
  curl -fs "$url/readyz" >/dev/null && break
  sleep 0.1
done
curl -fs "$url/readyz" >/dev/null || { echo "bench_soak: the gateway is not ready" >&2; exit 1; }
echo "gateway memory after loading $patients patients: $(bench_rss_text "$gateway")"

bench_write_pick_lua "$work/pick.lua" "$token"
# The example admission, for any loaded patient: MSH-10 and the NHS number filled in per
# message, the local hospital number dropped (it belongs to the example's patient).
template=$(sed -e 's/RYJ0000000001/@ID@/' -e 's/9449305552/@NHS@/' -e 's/~633^^^RYJ^MR//' \
           examples/adt_a01_admit.hl7)

wrk -t 1 -c "$connections" -d "${seconds}s" --latency -s "$work/pick.lua" "$url" \
  -- "$work/ids.txt" '/Patient/{}' '/Patient/{}/$summary' >"$work/reads.wrk" &
pids+=($!)
load_pids=($!)
wrk -t 1 -c "$connections" -d "${seconds}s" --latency -s "$work/pick.lua" "$url" \
  -- "$work/nhs.txt" '/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number%7C{}' >"$work/searches.wrk" &
pids+=($!)
load_pids+=($!)
for c in $(seq "$mllp_connections"); do
  bench_mllp_send "$mllp_port" "$seconds" "$template" "$work/nhs.txt" "$work/mllp.out.$c" &
  pids+=($!)
  load_pids+=($!)
done

# The series: "seconds KiB", the first at 0 (loaded, idle), then every $every s of load.
series="$work/rss.txt"
echo "0 $(bench_rss_kib "$gateway")" >"$series"
start=$SECONDS
next=$every
while [ "$next" -le "$seconds" ]; do
  sleep $((start + next - SECONDS > 0 ? start + next - SECONDS : 0))
  kill -0 "$gateway" 2>/dev/null || { echo "bench_soak: the gateway died" >&2; cat "$work/gateway.log" >&2; exit 1; }
  echo "$next $(bench_rss_kib "$gateway")" >>"$series"
  next=$((next + every))
done
wait "${load_pids[@]}"

echo "seconds  VmRSS MiB"
awk '{ printf "%7d  %9.1f\n", $1, $2 / 1024 }' "$series"
slope() {  # FROM_SECONDS: least-squares MiB per minute over the samples of the load from then on
  awk -v from="$1" '$1 > 0 && $1 >= from { n++; x = $1 / 60; y = $2 / 1024; sx += x; sy += y; sxx += x * x; sxy += x * y }
    END { d = n * sxx - sx * sx; if (n < 2 || d == 0) print "n/a"; else printf "%+.2f MiB/min over %d samples", (n * sxy - sx * sy) / d, n }' "$series"
}
echo "slope under load: $(slope 0)"
echo "slope over the second half: $(slope $((seconds / 2)))"
echo "gateway memory at the end: $(bench_rss_text "$gateway")"

rps() { awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$1"; }
bad() { awk '/Non-2xx or 3xx/ { n += $NF } /Socket errors/ { n += $NF } END { print n + 0 }' "$1"; }
p99() { awk '$1 == "99%" { print $2 }' "$1"; }
echo "reads and summaries: $(rps "$work/reads.wrk") requests/s, p99 $(p99 "$work/reads.wrk"), $(bad "$work/reads.wrk") errors"
echo "searches: $(rps "$work/searches.wrk") requests/s, p99 $(p99 "$work/searches.wrk"), $(bad "$work/searches.wrk") errors"
read -r sent aa other < <(cat "$work"/mllp.out.* | awk '{ s += $1; a += $2; o += $3 } END { print s + 0, a + 0, o + 0 }')
echo "MLLP ingest over $mllp_connections connection(s): $sent messages ($(awk -v n="$sent" -v s="$seconds" 'BEGIN { printf "%.0f", n / s }')/s), $aa AA, $other other"
[ "$sent" -gt 0 ] || { echo "bench_soak: no MLLP message was answered" >&2; exit 1; }
kill -0 "$gateway" 2>/dev/null || { echo "bench_soak: the gateway died" >&2; cat "$work/gateway.log" >&2; exit 1; }
