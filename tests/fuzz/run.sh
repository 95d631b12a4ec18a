#!/usr/bin/env bash
# Runs every libFuzzer target of a MIDHURST_FUZZ build for a bounded time.
#
#   tests/fuzz/run.sh BUILD_DIR SECONDS
#
# For each target it makes a fresh, writable work corpus under BUILD_DIR/fuzz-work/TARGET/
# (the shared corpus is read-only), seeds it from the shared corpus (../shared/corpus/hl7v2 and
# hl7v2-raw beside the repository, or $MIDHURST_CORPUS_DIR), runs the target for SECONDS, and
# prints one summary line. Crash, leak and timeout inputs are written to
# BUILD_DIR/fuzz-work/TARGET/artifacts/. Exits non-zero iff any target failed (libFuzzer exits
# non-zero on a crash, a sanitizer report, a leak or a timeout).
set -euo pipefail

if [ $# -ne 2 ] || ! [[ $2 =~ ^[0-9]+$ ]]; then
  echo "usage: $0 BUILD_DIR SECONDS" >&2
  exit 2
fi
build_dir=$(cd "$1" && pwd)
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
repo_root=$(cd "$here/../.." && pwd)
corpus_root=${MIDHURST_CORPUS_DIR:-$repo_root/../shared/corpus}
if [ ! -d "$corpus_root/hl7v2" ]; then
  echo "run.sh: no seed corpus at $corpus_root/hl7v2" >&2
  exit 2
fi

# Copies the HL7v2 messages as they are.
seed_hl7() {
  local out=$1 f
  for f in "$corpus_root"/hl7v2/*; do cp "$f" "$out/$(basename "$f")"; done
  if [ -d "$corpus_root/hl7v2-raw" ]; then
    for f in "$corpus_root"/hl7v2-raw/*; do cp "$f" "$out/raw__$(basename "$f")"; done
  fi
}

# Wraps each message in an MLLP frame, plus a few multi-frame and malformed streams. Each seed
# starts with the 5 control bytes fuzz_mllp_decoder.cc expects: a max_frame_bytes selector
# (0: 1 MiB, 4: 16, 6: 1000), then four read sizes (octal here).
seed_mllp() {
  local out=$1 f prev="" i=0
  for f in "$corpus_root"/hl7v2/* "$corpus_root"/hl7v2-raw/*; do
    [ -f "$f" ] || continue
    i=$((i + 1))
    { printf '\000\100\007\001\377'; printf '\013'; cat "$f"; printf '\034\015'; } >"$out/frame_$i"
    if [ -n "$prev" ] && [ $((i % 10)) -eq 0 ]; then
      # Two frames with a stray newline between them, in 1-byte and 3-byte reads.
      { printf '\000\001\003\001\003'; printf '\013'; cat "$prev"; printf '\034\015\n\013'; cat "$f"
        printf '\034\015'; } >"$out/pair_$i"
      # The same with a 1000-byte limit (some frames too large) and no CR after the first end block.
      { printf '\006\200\040\001\000'; printf '\013'; cat "$prev"; printf '\034\013'; cat "$f"
        printf '\034\015'; } >"$out/pair_nocr_$i"
    fi
    prev=$f
  done
  printf '\000\005\005\005\005junk\013MSH|^~\\&|A\013MSH|^~\\&|B\034\015\034\015\013cut' >"$out/malformed_1"
  printf '\004\002\001\000\011\013\034\015\013\034\013xxxxxxxxxxxxxxxxxxxxxxxx\034\015\r\n' >"$out/malformed_2"
}

if ! compgen -G "$build_dir/tests/fuzz/fuzz_*" >/dev/null; then
  echo "run.sh: no fuzz targets under $build_dir/tests/fuzz (configure with -DMIDHURST_FUZZ=ON)" >&2
  exit 2
fi

status=0
for bin in "$build_dir"/tests/fuzz/fuzz_*; do
  [ -f "$bin" ] && [ -x "$bin" ] || continue
  target=$(basename "$bin")
  work="$build_dir/fuzz-work/$target"
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"
  case "$target" in
    fuzz_mllp_decoder) seed_mllp "$work/corpus" ;;
    *) seed_hl7 "$work/corpus" ;;
  esac
  chmod -R u+w "$work/corpus"
  seeds=$(find "$work/corpus" -type f | wc -l)

  rc=0
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -dict="$here/hl7v2.dict" -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/log" 2>&1 || rc=$?

  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
  last=$(grep -E '^#[0-9]+' "$work/log" | tail -n 1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
  if [ "$rc" -eq 0 ]; then
    echo "$target: ok, ${execs:-?} executions in ${seconds}s, coverage ${cov:-?} edges, ${ft:-?} features, corpus ${seeds} seeds -> ${corp:-?} inputs"
  else
    status=1
    echo "$target: FAILED (exit $rc) after ${execs:-?} executions; log $work/log; artifacts:"
    ls -1 "$work/artifacts" | sed 's/^/  /'
    grep -E 'ERROR: |SUMMARY: |invariant broken|Test unit written' "$work/log" | head -n 20 | sed 's/^/  /' || true
  fi
done
exit $status
