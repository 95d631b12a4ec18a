# Pieces the load scripts share (sourced, not run): scripts/bench_http.sh and
# scripts/bench_soak.sh use them. Each function says what it needs and what it sets.

# Installs wrk (and curl) when missing: a benchmark tool, not a build or test dependency.
bench_ensure_wrk() {
  command -v wrk >/dev/null 2>&1 && command -v curl >/dev/null 2>&1 && return 0
  echo "bench: installing wrk and curl"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends wrk curl
}

# FILE PID: waits until FILE is non-empty; fails when PID exits first or after 60 s.
bench_wait_for_file() {
  for _ in $(seq 600); do
    [ -s "$1" ] && return 0
    kill -0 "$2" 2>/dev/null || { echo "bench: process $2 exited before writing $1" >&2; return 1; }
    sleep 0.1
  done
  echo "bench: timed out waiting for $1" >&2
  return 1
}

# PID: its resident memory (VmRSS) in KiB.
bench_rss_kib() {
  awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# PID: its CPU time so far (user + system, /proc/PID/stat fields 14 and 15) in clock ticks.
bench_cpu_ticks() {
  # The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  sed -E 's/^.*\) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# PID: "VmRSS N MiB  VmHWM N MiB" (now, and the peak so far).
bench_rss_text() {
  awk '/^VmRSS|^VmHWM/ { printf "%s %.0f MiB  ", $1, $2 / 1024 }' "/proc/$1/status"
}

# FILE TOKEN: writes a wrk script whose every request is a random line of the list file
# (wrk argument 1) put into one of the path templates (arguments 2..; "{}" marks the value),
# with the bearer TOKEN.
bench_write_pick_lua() {
  cat >"$1" <<'EOF'
local values, templates = {}, {}
function init(args)
  for line in io.lines(args[1]) do values[#values + 1] = line end
  for i = 2, #args do templates[#templates + 1] = args[i] end
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16))
end
function request()
  local path = templates[math.random(#templates)]:gsub("{}", values[math.random(#values)])
  return wrk.format("GET", path, { ["Authorization"] = "Bearer @TOKEN@", ["Accept"] = "application/fhir+json" })
end
EOF
  sed -i "s/@TOKEN@/$2/" "$1"
}

# PORT SECONDS TEMPLATE NHS_LIST OUT: sends HL7v2 messages over one MLLP connection, one at a
# time (each waits for its ACK), for SECONDS. Each message is TEMPLATE with its MSH-10
# (@ID@) made unique and its NHS number (@NHS@) a random line of NHS_LIST: updates to known
# patients. Reconnects when the connection drops. Writes "SENT AA OTHER" to OUT.
bench_mllp_send() {
  local port=$1 seconds=$2 template=$3 out=$5
  local -a nhs
  mapfile -t nhs <"$4"
  local end=$((SECONDS + seconds)) sent=0 aa=0 other=0 ack
  while [ "$SECONDS" -lt "$end" ]; do
    exec 3<>"/dev/tcp/127.0.0.1/$port" || { sleep 1; continue; }
    while [ "$SECONDS" -lt "$end" ]; do
      local pick=$(( (RANDOM * 32768 + RANDOM) % ${#nhs[@]} ))
      local message=${template//@ID@/SOAK$BASHPID-$sent}
      message=${message//@NHS@/${nhs[pick]}}
      printf '\x0b%s\x1c\r' "$message" >&3 || break
      IFS= read -r -d $'\x1c' -u 3 ack || break
      IFS= read -r -n 1 -u 3 _ || break  # the CR that ends the frame
      sent=$((sent + 1))
      if [[ $ack == *$'\r'MSA\|AA\|* ]]; then aa=$((aa + 1)); else other=$((other + 1)); fi
    done
    exec 3<&- 3>&-
  done
  echo "$sent $aa $other" >"$out"
}

# NAME: sets `work` to a new temporary directory and `pids` to an empty list; on exit, every
# process in `pids` is stopped (TERM, then waited for) and the directory removed.
bench_make_workdir() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/midhurst-$1-XXXXXX")
  pids=()
  trap bench_cleanup EXIT
}

bench_cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
