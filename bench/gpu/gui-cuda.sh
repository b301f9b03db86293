#!/usr/bin/env bash
# Issue 15, item 4: the workbench built against the GPU machine's CUDA LibTorch and Debian 12's
# Qt 6 (bench/gpu/build-cuda.sh with GUI=1), run under Xvfb on the GPU: the demo's jobs
# (GPTQ 4/3 bits, MG-PTQ 2.5/3 bits on the embedded model, each evaluated) on cuda:0, its
# screenshots, the per-run lines it prints, and the GUI test suite on the same build.
# usage: [DEADLINE=epoch] gui-cuda.sh OUT_DIR   (writes OUT_DIR/gui-cuda.log and OUT_DIR/gui-cuda-shots.tar.gz)
set -uo pipefail
cd "$(dirname "$0")/../.."
O=$1
mkdir -p "$O"
source bench/gpu/env.sh
log=$O/gui-cuda.log
source bench/gpu/xserver-files.sh
{
  echo "== machine"; nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
  echo "== Qt: $(ls $root/usr/lib/x86_64-linux-gnu/libQt6Core.so.6.* 2>/dev/null)"
  echo "== ldd of mpq-workbench: libraries not found"
  ldd build-cuda/app/gui/mpq-workbench | grep "not found" || echo "(none)"
  echo "== mpq-workbench --version"; build-cuda/app/gui/mpq-workbench --version
} > "$log" 2>&1

shots=$O/shots
mkdir -p "$shots"
# xvfb-run's own Xvfb at 1280x800; the demo on cuda:0 until its jobs end, then every view saved.
echo "== mpq-workbench --demo --device cuda:0 under Xvfb" >> "$log"
t0=$EPOCHREALTIME
export MPQ_WORKBENCH_HOME=$PWD/gui-cuda-home
rm -rf "$MPQ_WORKBENCH_HOME"
QT_QPA_PLATFORM=xcb timeout 120 xvfb-run -a -s "-screen 0 1280x800x24" \
  build-cuda/app/gui/mpq-workbench --demo --device cuda:0 --screenshots "$shots" --quit-when-idle \
  >> "$log" 2>&1
rc=$?
echo "rc=$rc wall $(python3 -c "print(round($EPOCHREALTIME - $t0, 1))") s" >> "$log"
if [ $rc -ne 0 ] && [ -z "$(ls "$shots")" ]; then
  # Xvfb could not start here: the same run on Qt's offscreen platform, said so in the log.
  echo "== Xvfb failed; the same run with QT_QPA_PLATFORM=offscreen" >> "$log"
  QT_QPA_PLATFORM=offscreen timeout 120 build-cuda/app/gui/mpq-workbench --demo --device cuda:0 \
    --screenshots "$shots" --quit-when-idle >> "$log" 2>&1
  echo "rc=$?" >> "$log"
fi
# What the GUI's jobs recorded: the device of each quantization and evaluation (the session's
# run settings and evaluation records, read back with the CLI).
for f in $(find "$MPQ_WORKBENCH_HOME" -name '*.h5' -o -name '*.mpqs' 2>/dev/null); do
  echo "== session $f" >> "$log"
  build-cuda/app/cli/mpq session ls "$f" >> "$log" 2>&1
done
grep -rhoE '"device(_name)?": *"[^"]*"' "$MPQ_WORKBENCH_HOME" 2>/dev/null | sort | uniq -c >> "$log"
# The same demo on the CPU, for the figures side by side (skipped when DEADLINE, epoch seconds,
# leaves less than 5 minutes for what follows).
if [ -z "${DEADLINE:-}" ] || [ $(( DEADLINE - $(date +%s) )) -gt 300 ]; then
  echo "== the same demo with --device cpu (offscreen)" >> "$log"
  QT_QPA_PLATFORM=offscreen timeout 120 build-cuda/app/gui/mpq-workbench --demo --device cpu --quit-when-idle >> "$log" 2>&1
  echo "rc=$?" >> "$log"
fi
if [ -x build-cuda/tests/tst_gui ]; then
  echo "== tst_gui on this build (offscreen)" >> "$log"
  QT_QPA_PLATFORM=offscreen timeout 120 build-cuda/tests/tst_gui >> "$log" 2>&1; echo "rc=$?" >> "$log"
fi
tar -czf "$O/gui-cuda-shots.tar.gz" -C "$shots" . && rm -rf "$shots"
grep -E "^run |rc=|device|cuda" "$log" | head -40
