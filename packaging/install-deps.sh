#!/usr/bin/env bash
# Installs every build, test and run dependency of MPQ Workbench from Debian 12 packages.
# Idempotent: packages already present are left as they are. Run as root (or with sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ccache
  libtorch-dev                       # LibTorch (CPU) — the engine's tensor library
  libopenblas0-openmp                # optimised BLAS for libtorch (Debian defaults to reference BLAS)
  libhdf5-dev                        # session files
  libsentencepiece-dev               # reference tokenizer for the conformance test only
  libeigen3-dev nlohmann-json3-dev zlib1g-dev
  libpcre2-dev libicu-dev            # Hugging Face tokenizer.json: regular expressions, Unicode normalization
  libglpk-dev                        # mixed integer programming (MXQ); CBC is optional (MPQ_WITH_CBC)
  qt6-base-dev qt6-svg-dev libqcustomplot-dev libgl-dev   # GUI
  xvfb xauth                         # headless GUI tests and screenshots
  clang libclang-rt-14-dev           # sanitizer and fuzz presets (ASan/UBSan, libFuzzer; docs/hardening.md)
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
