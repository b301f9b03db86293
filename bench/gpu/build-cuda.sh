#!/usr/bin/env bash
# Builds against the CUDA LibTorch of the GPU machine's Python. That machine has no Qt and no MIP
# solver: Debian 12's .debs carried in .gpudebs/ (packaging/gpu-debs.sh downloads them) unpack
# into /opt/debroot, and every shared library the machine already has is replaced there by a
# link to the machine's own, so only what is missing (Qt 6, QCustomPlot, GLPK, Xvfb, ...) comes
# from Debian.
#   GUI=1     also build the workbench (needs Qt in .gpudebs/) and the Qt Test suites
#   TARGETS   the targets to build (default: all)
#   CMAKE_ARGS  extra CMake arguments (e.g. -DCMAKE_CXX_FLAGS=-g1 for backtraces with names)
#   DEBS      the folder of .debs (default .gpudebs; .gpudebs-cli: only what the CLI needs, from
#             CLI_ONLY=1 packaging/gpu-debs.sh)
# Source bench/gpu/env.sh afterwards for LD_LIBRARY_PATH, PATH and QT_PLUGIN_PATH.
set -euo pipefail
cd "$(dirname "$0")/../.."
prefix=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
root=/opt/debroot
debs=${DEBS:-.gpudebs}
if ls $debs/*.deb >/dev/null 2>&1; then
  mkdir -p $root && for f in $debs/*.deb; do dpkg -x "$f" $root; done
  # Development files repacked without static libraries (packaging/gpu-debs.sh: ICU, PCRE2).
  for f in $debs/*.tar.gz; do if [ -e "$f" ]; then tar -xzf "$f" -C $root; fi; done
  ln -sfn $root /opt/glpk   # older scripts name /opt/glpk
  lib=$root/usr/lib/x86_64-linux-gnu
  # Some Debian 12 packages (libdbus-1-3, ...) still install into /lib: merge it into /usr/lib.
  if [ -d $root/lib/x86_64-linux-gnu ]; then cp -a $root/lib/x86_64-linux-gnu/. $lib/; fi
  # Prefer the machine's copy of every library it has (newer than Debian 12's).
  for f in $(find $lib -maxdepth 1 -name 'lib*.so.*' -type f); do
    soname=$(objdump -p "$f" 2>/dev/null | awk '/SONAME/{print $2}')
    [ -n "$soname" ] || continue
    sys=$(ldconfig -p | awk -v s="$soname" '$1 == s && $NF !~ /^\/opt\// {print $NF; exit}')
    if [ -n "$sys" ]; then ln -sf "$sys" "$lib/$soname"; rm -f "$f"; fi
  done
  # Development links whose library came from the machine (libpcre2-8.so -> the machine's .so.0).
  for l in $(find $lib -maxdepth 1 -name 'lib*.so' -xtype l); do
    sys=$(ldconfig -p | awk -v s="$(basename "$l")." 'index($1, s) == 1 && $NF !~ /^\/opt\// {print $NF; exit}')
    if [ -n "$sys" ]; then ln -sf "$sys" "$l"; fi
  done
  sed -i "s#^prefix=/usr\$#prefix=$root/usr#" $lib/pkgconfig/*.pc
  export PKG_CONFIG_PATH=$lib/pkgconfig:${PKG_CONFIG_PATH:-}
  prefix="$prefix;$root/usr;$lib/cmake"
fi
source bench/gpu/env.sh
gui=OFF; [ "${GUI:-0}" = 1 ] && gui=ON
cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DMPQ_BUILD_GUI=$gui -DMPQ_BUILD_TESTS=$gui \
      -DCMAKE_PREFIX_PATH="$prefix" ${CMAKE_ARGS:-} > build-cuda.log 2>&1 || { tail -40 build-cuda.log; exit 1; }
# shellcheck disable=SC2086
cmake --build build-cuda -j"$(nproc)" ${TARGETS:+--target $TARGETS} >> build-cuda.log 2>&1 \
  || { grep -E "error|Error" build-cuda.log | head -40; tail -20 build-cuda.log; exit 1; }
echo "build-cuda: ok (GUI $gui)"
