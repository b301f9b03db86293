#!/usr/bin/env bash
# Runs the test suite (CTest). Tests that need the shared data read MPQ_DATA_DIR; this script
# points it at ../shared/data when it is not set and that folder exists.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${MPQ_DATA_DIR:-}" ] && [ -d ../shared/data ]; then
  export MPQ_DATA_DIR="$(cd ../shared/data && pwd)"
fi
echo "test: MPQ_DATA_DIR=${MPQ_DATA_DIR:-<unset: data-dependent tests will skip>}"
ctest --test-dir build --output-on-failure --timeout 1500 "$@"
