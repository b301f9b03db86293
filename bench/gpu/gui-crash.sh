#!/usr/bin/env bash
# Issue 15: where the workbench crashes on the GPU machine. Runs the demo (offscreen, then under
# Xvfb) inside cuda-gdb (the machine's only debugger; it debugs host code too) and prints the
# crashing thread's backtrace and every thread's top frames. Build with CMAKE_ARGS=-DCMAKE_CXX_FLAGS=-g1
# for function names. usage: gui-crash.sh OUT_DIR [DEVICE]   (writes OUT_DIR/gui-crash.log)
set -uo pipefail
cd "$(dirname "$0")/../.."
O=$1; dev=${2:-cpu}
mkdir -p "$O"
source bench/gpu/env.sh
log=$O/gui-crash.log
source bench/gpu/xserver-files.sh
export MPQ_WORKBENCH_HOME=$PWD/gui-crash-home
gdbrun() {
  timeout 240 cuda-gdb -q -batch -ex "set pagination off" -ex "set print thread-events off" \
    -ex run -ex "info threads" -ex bt -ex "thread apply all bt 12" --args "$@"
}
{
  echo "== offscreen, --device $dev"
  rm -rf "$MPQ_WORKBENCH_HOME"
  QT_QPA_PLATFORM=offscreen gdbrun build-cuda/app/gui/mpq-workbench --demo --device "$dev" --quit-when-idle
  echo "== xvfb: does Xvfb itself start?"
  ( Xvfb :77 -screen 0 1280x800x24 > "$O/xvfb.log" 2>&1 & echo $! > /tmp/xvfb.pid ); sleep 3
  if kill -0 "$(cat /tmp/xvfb.pid)" 2>/dev/null; then
    echo "Xvfb :77 running"
    rm -rf "$MPQ_WORKBENCH_HOME"
    DISPLAY=:77 QT_QPA_PLATFORM=xcb gdbrun build-cuda/app/gui/mpq-workbench --demo --device "$dev" --quit-when-idle
    kill "$(cat /tmp/xvfb.pid)"
  else
    echo "Xvfb exited:"; cat "$O/xvfb.log"
  fi
} > "$log" 2>&1
grep -nE "SIGSEGV|signal|^#[0-9]+ |rc=|run |Xvfb" "$log" | head -60
