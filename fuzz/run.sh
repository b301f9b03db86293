#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for MINUTES each, one after the other, from the
# `fuzz` preset's build (build-sanitize): `bash fuzz/run.sh MINUTES [TARGET...]`.
# Each target starts from its committed seeds (fuzz/corpus/<name>/, never modified) and keeps
# what it learns in build-sanitize/fuzz-work/<name>/corpus; crashes, leaks and timeouts go to
# build-sanitize/fuzz-work/<name>/ as crash-*, leak-*, timeout-* files (replay one with
# `build-sanitize/fuzz/fuzz_<name> FILE`). A summary line per target: executions, exec/s,
# coverage, findings. docs/hardening.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
minutes="${1:?usage: fuzz/run.sh MINUTES [TARGET...]}"
shift
build=build-sanitize
if [ ! -d "$build/fuzz" ]; then
  echo "fuzz/run.sh: no $build; first: cmake --preset fuzz && cmake --build --preset fuzz" >&2
  exit 2
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in fuzz/fuzz_*.cpp; do n=$(basename "$f" .cpp); targets+=("${n#fuzz_}"); done
fi
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/fuzz/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
for t in "${targets[@]}"; do
  bin="$build/fuzz/fuzz_$t"
  work="$build/fuzz-work/$t"
  mkdir -p "$work/corpus"
  maxlen=65536 # at least the largest seed, so that no seed is cut
  for f in "fuzz/corpus/$t"/*; do [ -f "$f" ] && [ "$(stat -c %s "$f")" -gt "$maxlen" ] && maxlen=$(stat -c %s "$f"); done
  dict=()
  [ -f "fuzz/$t.dict" ] && dict=(-dict="$root/fuzz/$t.dict")
  # fuzz/<name>.flags: extra libFuzzer flags for one target (one per line), e.g. session's
  # -detect_leaks=0 (leaks are then checked once, at exit, instead of after every input).
  flags=()
  [ -f "fuzz/$t.flags" ] && mapfile -t flags < <(grep -v '^#' "fuzz/$t.flags" | grep .)
  set +e
  (cd "$work" && "$root/$bin" corpus "$root/fuzz/corpus/$t" -max_total_time=$((minutes * 60)) \
      -timeout=10 -rss_limit_mb=4096 -max_len=$maxlen -print_final_stats=1 "${dict[@]}" "${flags[@]}" \
      > log.txt 2>&1)
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log.txt" | grep -o '[0-9]*$' || echo '?')
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$work/log.txt" | grep -o '[0-9]*$' || echo '?')
  cov=$(grep -o 'cov: [0-9]*' "$work/log.txt" | tail -1 || true)
  findings=$(ls "$work" | grep -c -E '^(crash|leak|timeout|oom|slow-unit)-' || true)
  echo "fuzz_$t: exit $rc, $execs executions ($speed/s), $cov, $findings findings (log: $work/log.txt)"
done
