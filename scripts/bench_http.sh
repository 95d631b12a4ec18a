#!/usr/bin/env bash
# FHIR read benchmarks: `midhurst serve` over a store of BENCH_HTTP_PATIENTS synthetic patients,
# loaded with wrk, each figure next to the ceiling measured in the same run (a minimal Beast
# server answering a fixed 1 KiB body, benchmarks/http_ceiling_server.cc). Scenarios:
#   ceiling   GET / on the ceiling server
#   read      GET /Patient/{id}                       (random ids of the loaded patients)
#   search    GET /Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|N   (random NHS numbers)
#   summary   GET /Patient/{id}/$summary
# Each scenario prints requests/s, p50/p99 latency, its share of the ceiling, errors, and the
# CPU time (user + system) the serving process spent per request answered. Then a mixed load
# of the three for BENCH_RSS_SECONDS, with the gateway's resident memory
# (VmRSS, and its peak VmHWM, from /proc) after loading, after the scenarios and after the mix.
# A route the gateway does not have yet prints "not available (404)". Figures only: never fails
# on a number, only on a broken run.
#   BENCH_HTTP_PATIENTS     patients loaded (default 100000)
#   BENCH_HTTP_SECONDS      seconds per scenario (default 15)
#   BENCH_HTTP_CONNECTIONS  wrk connections (default 64); BENCH_HTTP_THREADS wrk threads (default 2)
#   BENCH_RSS_SECONDS       seconds of mixed load before the last memory reading (default 60)
#   BUILD_DIR               an optimised build directory (default build/release; built when
#                           its binaries are missing)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

patients=${BENCH_HTTP_PATIENTS:-100000}
seconds=${BENCH_HTTP_SECONDS:-15}
connections=${BENCH_HTTP_CONNECTIONS:-64}
wrk_threads=${BENCH_HTTP_THREADS:-2}
rss_seconds=${BENCH_RSS_SECONDS:-60}
build=${BUILD_DIR:-build/release}
# The development token of examples/midhurst.json's client dev-hospice (system/Patient.read).
token=dev-hospice-token

# shellcheck source=scripts/bench_lib.sh
. scripts/bench_lib.sh
bench_ensure_wrk

if [ ! -x "$build/midhurst" ] || [ ! -x "$build/benchmarks/load_patients" ] ||
   [ ! -x "$build/benchmarks/http_ceiling_server" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMIDHURST_TESTS=OFF >/dev/null
  cmake --build "$build" --target midhurst load_patients http_ceiling_server
fi

bench_make_workdir bench-http

echo "== FHIR reads: $patients patients, wrk $wrk_threads threads x $connections connections, ${seconds} s per scenario"
mkdir -p "$work/data"
"$build/benchmarks/load_patients" --store "sqlite:$work/data/midhurst.db" --count "$patients" \
  --ids "$work/ids.txt" --nhs "$work/nhs.txt"

"$build/benchmarks/http_ceiling_server" --port-file "$work/ceiling.port" >"$work/ceiling.log" 2>&1 &
ceiling_pid=$!
pids+=("$ceiling_pid")
"$build/midhurst" serve --config examples/midhurst.json --http 127.0.0.1:0 --mllp 127.0.0.1:0 \
  --data-dir "$work/data" --port-file "$work/ports.json" --set log_level=warn \
  >"$work/gateway.log" 2>&1 &
gateway_pid=$!
pids+=("$gateway_pid")
bench_wait_for_file "$work/ceiling.port" "$ceiling_pid"
bench_wait_for_file "$work/ports.json" "$gateway_pid" || { cat "$work/gateway.log" >&2; exit 1; }
ceiling_url="http://127.0.0.1:$(tr -d '[:space:]' <"$work/ceiling.port")"
gateway_url="http://127.0.0.1:$(sed -E 's/.*"http": *([0-9]+).*/\1/' "$work/ports.json")"
for _ in $(seq 100); do
  curl -fs "$gateway_url/readyz" >/dev/null && break
  sleep 0.1
done

rss() { bench_rss_text "$gateway_pid"; }
echo "gateway memory after loading $patients patients: $(rss)"

# One request template per scenario: PATH with {} replaced by a random line of LIST.
bench_write_pick_lua "$work/pick.lua" "$token"

to_ms() {  # wrk latency text (850.00us, 1.20ms, 2.01s) -> milliseconds
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'
}

ceiling_rps=""
printf '%-10s %12s %10s %10s %12s %10s %12s\n' scenario "requests/s" "p50 ms" "p99 ms" "of ceiling" "errors" "cpu us/req"
run() {  # NAME URL LIST TEMPLATE...
  local name=$1 url=$2 list=$3
  shift 3
  local out="$work/$name.wrk"
  # The serving process's CPU time (user + system) over the run, per request answered: a figure
  # that stays meaningful when other work shares the machine, unlike requests/s.
  local server_pid=$gateway_pid cpu_before cpu_after
  [ "$url" = "$gateway_url" ] || server_pid=$ceiling_pid
  cpu_before=$(bench_cpu_ticks "$server_pid")
  wrk -t "$wrk_threads" -c "$connections" -d "${seconds}s" --latency -s "$work/pick.lua" "$url" \
    -- "$list" "$@" >"$out"
  cpu_after=$(bench_cpu_ticks "$server_pid")
  local rps p50 p99 errors share
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
  # Answers other than 2xx/3xx, and requests wrk gave up on (its timeout is 2 s).
  errors=$(awk '/Non-2xx or 3xx/ { n += $NF } /Socket errors/ { n += $NF } END { print n + 0 }' "$out")
  [ -n "$ceiling_rps" ] || ceiling_rps=$rps
  share=$(awk -v a="$rps" -v b="$ceiling_rps" 'BEGIN { printf "%.0f%%", (b > 0 ? 100 * a / b : 0) }')
  local requests cpu_us
  requests=$(awk '/requests in/ { print $1 }' "$out")
  cpu_us=$(awk -v t="$((cpu_after - cpu_before))" -v n="$requests" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.0f", (n > 0 ? t * 1e6 / hz / n : 0) }')
  printf '%-10s %12s %10s %10s %12s %10s %12s\n' "$name" "$rps" "$p50" "$p99" "$share" "$errors" "$cpu_us"
}
# A scenario runs only when its route answers 200 for one sample value.
available() {  # NAME PATH
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
         -H "Accept: application/fhir+json" "$gateway_url$2")
  if [ "$code" = 200 ]; then return 0; fi
  printf '%-10s %12s\n' "$1" "not available ($code)"
  return 1
}

first_id=$(head -1 "$work/ids.txt")
first_nhs=$(head -1 "$work/nhs.txt")
search='/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number%7C{}'
mixed_ids=()
run ceiling "$ceiling_url" "$work/ids.txt" '/'
if available read "/Patient/$first_id"; then
  run read "$gateway_url" "$work/ids.txt" '/Patient/{}'
  mixed_ids+=('/Patient/{}')
fi
search_ok=no
if available search "${search//\{\}/$first_nhs}"; then
  run search "$gateway_url" "$work/nhs.txt" "$search"
  search_ok=yes
fi
if available summary "/Patient/$first_id/\$summary"; then
  run summary "$gateway_url" "$work/ids.txt" '/Patient/{}/$summary'
  mixed_ids+=('/Patient/{}/$summary')
fi
echo "gateway memory after the scenarios: $(rss)"

# The mixed period: reads and summaries by id and searches by NHS number, from two wrk runs at
# once (each picks from its own list), half the connections each.
if [ ${#mixed_ids[@]} -gt 0 ] || [ "$search_ok" = yes ]; then
  half=$(( connections / 2 > 0 ? connections / 2 : 1 ))
  mixed_pids=()
  if [ ${#mixed_ids[@]} -gt 0 ]; then
    wrk -t 1 -c "$half" -d "${rss_seconds}s" --latency -s "$work/pick.lua" "$gateway_url" \
      -- "$work/ids.txt" "${mixed_ids[@]}" >"$work/mixed-ids.wrk" &
    mixed_pids+=($!)
  fi
  if [ "$search_ok" = yes ]; then
    wrk -t 1 -c "$half" -d "${rss_seconds}s" --latency -s "$work/pick.lua" "$gateway_url" \
      -- "$work/nhs.txt" "$search" >"$work/mixed-nhs.wrk" &
    mixed_pids+=($!)
  fi
  wait "${mixed_pids[@]}"
  total=$(cat "$work"/mixed-*.wrk | awk '/^Requests\/sec:/ { s += $2 } END { printf "%.0f", s }')
  echo "mixed load for ${rss_seconds} s: $total requests/s in all"
  echo "gateway memory after the mixed load: $(rss)"
fi
kill -0 "$gateway_pid" 2>/dev/null || { echo "bench_http: the gateway died" >&2; cat "$work/gateway.log" >&2; exit 1; }
