#!/usr/bin/env bash
# Verifies the .deb in a fresh Debian 12 root: debootstrap (minbase) once into a cache, copy it,
# install the package there with apt (which pulls its Depends from Debian), then inside the
# chroot run `mpq --version`, `mpq eval --demo` and `mpq-workbench --demo --quit-when-idle` under
# xvfb-run, with a screenshot of the demo. Needs root, debootstrap and network access to a mirror.
#
#   bash packaging/verify-deb.sh [PACKAGE.deb]      (default: the newest build-deb/*.deb)
#
# Environment: MPQ_VERIFY_ROOT (cache folder, default /var/tmp/mpq-verify-deb),
# MPQ_DEBIAN_MIRROR (default http://deb.debian.org/debian). Output: the log on stdout and
# $MPQ_VERIFY_ROOT/out/ (the screenshot and the programs' output).
set -euo pipefail
cd "$(dirname "$0")/.."
deb="${1:-$(ls -t build-deb/mpq-workbench_*.deb 2>/dev/null | head -1)}"
[ -f "$deb" ] || { echo "verify-deb: no .deb (run bash packaging/deb.sh first)" >&2; exit 1; }
base="${MPQ_VERIFY_ROOT:-/var/tmp/mpq-verify-deb}"
mirror="${MPQ_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
pristine="$base/bookworm-minbase"
root="$base/root"
out="$base/out"
[ "$(id -u)" -eq 0 ] || { echo "verify-deb: needs root (debootstrap, chroot)" >&2; exit 1; }
command -v debootstrap >/dev/null || apt-get install -y -qq --no-install-recommends debootstrap

if [ ! -x "$pristine/usr/bin/apt-get" ]; then
  echo "verify-deb: debootstrap bookworm (minbase) into $pristine"
  rm -rf "$pristine"
  debootstrap --variant=minbase bookworm "$pristine" "$mirror"
  cat > "$pristine/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SOURCES
fi

# A fresh copy for every run: nothing of an earlier verification stays.
cleanup() {
  for m in dev/pts dev proc sys; do
    mountpoint -q "$root/$m" && umount -l "$root/$m" || true
  done
}
trap cleanup EXIT
cleanup
rm -rf "$root" "$out"
cp -a "$pristine" "$root"
mkdir -p "$out"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"

cp "$deb" "$root/tmp/"
name=$(basename "$deb")
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

echo "verify-deb: installing $name with apt in the fresh root"
in_root apt-get update -qq
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "/tmp/$name" xvfb xauth
echo "verify-deb: installed packages in the root: $(in_root dpkg-query -W | wc -l)"
in_root dpkg -L mpq-workbench | grep -E 'bin/|\.desktop|metainfo|hicolor|man1|demo/' | sed 's/^/  /'

echo "== mpq --version";           in_root mpq --version | tee "$out/version.txt"
echo "== mpq-workbench --version"; in_root env QT_QPA_PLATFORM=offscreen mpq-workbench --version | tee -a "$out/version.txt"
echo "== mpq eval --demo";         in_root mpq eval --demo | tee "$out/eval-demo.txt"
echo "== man mpq";                 in_root zcat /usr/share/man/man1/mpq.1.gz | head -5
echo "== mpq-workbench --demo --quit-when-idle (xvfb-run)"
in_root xvfb-run -a -s "-screen 0 1280x800x24" \
  mpq-workbench --demo --quit-when-idle --screenshots /tmp/shots | tee "$out/gui-demo.txt"
cp "$root/tmp/shots/"*.png "$out/" 2>/dev/null || true
echo "verify-deb: OK ($(ls "$out" | wc -l) files in $out)"
