#!/usr/bin/env bash
# Builds engine + mpq against the CUDA LibTorch of the GPU machine's Python (no Qt there).
set -euo pipefail
cd "$(dirname "$0")/../.."
prefix=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
# GLPK for MXQ's program: the machine has none; Debian's .debs (carried in .gpudebs/) unpack to /opt/glpk.
if ls .gpudebs/*.deb >/dev/null 2>&1; then
  mkdir -p /opt/glpk && for f in .gpudebs/*.deb; do dpkg -x "$f" /opt/glpk; done
  prefix="$prefix;/opt/glpk/usr"
  export LD_LIBRARY_PATH=/opt/glpk/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
fi
cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DMPQ_BUILD_GUI=OFF -DMPQ_BUILD_TESTS=OFF \
      -DCMAKE_PREFIX_PATH="$prefix" > build-cuda.log 2>&1 || { tail -40 build-cuda.log; exit 1; }
cmake --build build-cuda -j"$(nproc)" >> build-cuda.log 2>&1 || { grep -E "error|Error" build-cuda.log | head -40; tail -20 build-cuda.log; exit 1; }
echo "build-cuda: ok"
