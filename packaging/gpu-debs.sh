#!/usr/bin/env bash
# Downloads (here, on Debian 12) the .debs that the GPU machine lacks for building and running
# the workbench against its CUDA LibTorch: Qt 6 (runtime, headers, CMake files, moc/rcc/uic),
# QCustomPlot, the OpenGL headers Qt's CMake files ask for, the xcb platform's libraries, Xvfb
# with its keyboard data and a font, and GLPK for MXQ. They travel in .gpudebs/ (about 41 MB) and
# bench/gpu/build-cuda.sh unpacks them with dpkg -x, keeping the machine's own copy of every
# library it already has. docs/packaging.md, "The workbench on a CUDA workstation".
# With CLI_ONLY=1: only what `mpq` needs (GLPK, the ICU 72 runtime that Debian's ICU headers
# match, and the development tarball below) into .gpudebs-cli/ (about 13 MB), for
# `GUI=0 DEBS=.gpudebs-cli bench/gpu/build-cuda.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${CLI_ONLY:-0}" = 1 ]; then
  folder=.gpudebs-cli
  packages=(libglpk40 libglpk-dev libamd2 libcolamd2 libsuitesparseconfig5 libltdl7 libgmp10 libicu72 libpcre2-8-0)
else
  folder=.gpudebs
fi
mkdir -p $folder
cd $folder
[ "${CLI_ONLY:-0}" = 1 ] || packages=(
  # Qt 6 and QCustomPlot: runtime, development files and tools
  libqt6core6 libqt6gui6 libqt6widgets6 libqt6printsupport6 libqt6dbus6 libqt6network6 libqt6opengl6
  libqt6openglwidgets6 libqt6svg6 libqt6svgwidgets6 libqt6concurrent6 libqt6sql6 libqt6test6 libqt6xml6
  qt6-qpa-plugins qt6-base-dev qt6-base-dev-tools qmake6 qmake6-bin qt6-svg-dev libqcustomplot2.1-qt6 libqcustomplot-dev
  libicu72 libdouble-conversion3 libb2-1 libmd4c0 libpcre2-16-0 libdbus-1-3
  # what Qt's CMake files look for (OpenGL, Vulkan headers)
  libgl-dev libglx-dev libopengl-dev libegl-dev libvulkan-dev
  libegl1 libgl1 libglx0 libglvnd0 libopengl0 libgles2 libglapi-mesa libxcb-glx0 libdrm2
  # the xcb platform plugin
  libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0 libxcb-xinerama0 libxcb-xinput0
  libxcb-xkb1 libxkbcommon-x11-0 libxkbcommon0 libxcb-randr0 libxcb-shape0 libxcb-sync1 libxcb-xfixes0
  libxcb-util1 libxcb-render0 libxcb-shm0 libxcb1 libx11-6 libx11-xcb1 libx11-data libxau6 libxdmcp6
  libsm6 libice6 libxext6 libxrandr2 libxrender1
  libfontconfig1 fontconfig-config fonts-dejavu-core libfreetype6 libharfbuzz0b libgraphite2-3 libpng16-16
  libglib2.0-0 libmtdev1 libinput10 libts0 libevdev2 libwacom9 libwacom-common libgudev-1.0-0
  # Xvfb
  xvfb xserver-common libxfont2 libpixman-1-0 libfontenc1 x11-xkb-utils xkb-data xauth libxmuu1
  libxshmfence1 libxkbfile1 libunwind8 libbsd0 libmd0
  # GLPK (MXQ's mixed integer program)
  libglpk40 libglpk-dev libamd2 libcolamd2 libsuitesparseconfig5 libltdl7 libgmp10
)
apt-get download "${packages[@]}"
# The engine's ICU and PCRE2 development files (the machine has only their runtimes), without the
# static libraries (10 MB of the 11), as one tarball that build-cuda.sh unpacks beside the .debs.
tmp=$(mktemp -d)
(cd "$tmp" && apt-get download libicu-dev libpcre2-dev && mkdir root && for f in *.deb; do dpkg -x "$f" root; done \
  && find root -name '*.a' -delete && rm -rf root/usr/share/doc root/usr/share/man root/usr/bin)
tar -czf dev-headers-icu-pcre2.tar.gz -C "$tmp/root" .
rm -rf "$tmp"
du -sh .
