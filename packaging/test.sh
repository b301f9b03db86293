#!/usr/bin/env bash
# Runs the test suite (CTest). Tests that need the shared data read MPQ_DATA_DIR; this script
# points it at ../shared/data when it is not set and that folder exists. Without it, the cases on
# the embedded demo model (resources/demo/model) still run; only those that need the larger
# shared models skip. At the end: how many Qt Test cases passed, failed and skipped, and why.
set -uo pipefail
cd "$(dirname "$0")/.."
# MPQ_NO_DATA=1 runs as on a clone without the data folder (MPQ_DATA_DIR unset).
if [ -n "${MPQ_NO_DATA:-}" ]; then
  unset MPQ_DATA_DIR
elif [ -z "${MPQ_DATA_DIR:-}" ] && [ -d ../shared/data ]; then
  export MPQ_DATA_DIR="$(cd ../shared/data && pwd)"
fi
echo "test: MPQ_DATA_DIR=${MPQ_DATA_DIR:-<unset: cases that need the shared data will skip>}"
results=build/test-results
rm -rf "$results"
mkdir -p "$results"
ctest --test-dir build --output-on-failure --timeout 1500 "$@"
rc=$?

# Qt Test's totals per suite ("Totals: 5 passed, 0 failed, 2 skipped, 0 blacklisted, 123ms").
shopt -s nullglob
logs=("$results"/*.txt)
if [ ${#logs[@]} -gt 0 ]; then
  awk '
    /^Totals:/ { p += $2; f += $4; s += $6; suites++ }
    /^SKIP   :/ {
      msg = $0; sub(/^SKIP   : [^ (]+(\([^)]*\))? /, "", msg); why[msg]++
    }
    END {
      printf "test: %d Qt Test suites: %d cases passed, %d failed, %d skipped\n", suites, p, f, s
      if (s > 0) {
        print "test: skipped, and why (count  reason):"
        n = 0
        for (m in why) lines[n++] = sprintf("%5d  %s", why[m], m)
        # sort by count, largest first
        for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (lines[j] + 0 > lines[i] + 0) { t = lines[i]; lines[i] = lines[j]; lines[j] = t }
        for (i = 0; i < n; i++) print "test:   " lines[i]
      }
    }' "${logs[@]}"
  # Skipped cases per suite, so that a suite whose cases all skip stands out.
  for f in "${logs[@]}"; do
    s=$(awk '/^Totals:/ { print $6 }' "$f")
    [ "${s:-0}" != "0" ] && printf 'test:   %-16s %s\n' "$(basename "$f" .txt)" "$(grep '^Totals:' "$f")"
  done
fi
exit $rc
