# Sourced by the GPU scripts: the Debian libraries and programs unpacked by build-cuda.sh.
root=/opt/debroot
export LD_LIBRARY_PATH=$root/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
export PATH=$PATH:$root/usr/bin
export QT_PLUGIN_PATH=$root/usr/lib/x86_64-linux-gnu/qt6/plugins
