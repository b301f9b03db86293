#!/usr/bin/env bash
# Builds the Debian package: mpq, mpq-workbench, the desktop entry, icons, AppStream metainfo,
# man pages (help2man) and the demo model, with Depends from dpkg-shlibdeps.
# Output: build-deb/mpq-workbench_<version>_<arch>.deb. Extra CMake arguments are passed through.
# Needs packaging/install-deps.sh's packages plus help2man and dpkg-dev (installed here if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for p in help2man dpkg-dev file; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
# A build of its own: installed under /usr, without tests and fuzz targets.
cmake -S . -B build-deb -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
      -DMPQ_BUILD_TESTS=OFF -DMPQ_BUILD_FUZZ=OFF "$@"
cmake --build build-deb -j"$(nproc)"
(cd build-deb && cpack -G DEB)
deb=$(ls -t build-deb/mpq-workbench_*.deb | head -1)
echo "deb: $deb"
dpkg-deb --info "$deb" | sed -n '/Package:/,$p'
