# Sourced by the GUI scripts on the GPU machine: Xvfb finds its keyboard compiler, keyboard data
# and fonts at fixed paths; a bare machine has none of them, so they come from the tree that
# build-cuda.sh unpacked (only where missing).
root=/opt/debroot
[ -x /usr/bin/xkbcomp ] || cp $root/usr/bin/xkbcomp /usr/bin/xkbcomp
[ -d /usr/share/X11/xkb ] || { mkdir -p /usr/share/X11 && cp -r $root/usr/share/X11/xkb /usr/share/X11/xkb; }
[ -d /usr/share/fonts/truetype/dejavu ] || { mkdir -p /usr/share/fonts/truetype && cp -r $root/usr/share/fonts/truetype/dejavu /usr/share/fonts/truetype/; }
[ -e /etc/fonts/fonts.conf ] || { mkdir -p /etc/fonts && cp -r $root/etc/fonts/. /etc/fonts/; }
