#!/usr/bin/env bash
# Installs the Debian 12 dependencies (idempotent) and builds everything into ./build.
# Extra CMake arguments are passed through, e.g. -DMPQ_BUILD_GUI=OFF.
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build build -j"$(nproc)"
