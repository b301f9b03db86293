"""The engine's calibration tokens file (MPQCAL01: 8-byte magic, little-endian int64 window count and
int64 window length, then the int32 token ids row by row; docs/data.md), read and written with the
standard library only, for the reference scripts beside this file."""
import struct

MAGIC = b"MPQCAL01"


def read_calibration(path):
    """The windows of a tokens file, as lists of token ids."""
    with open(path, "rb") as f:
        magic = f.read(8)
        if magic != MAGIC:
            raise ValueError("%s: not a calibration tokens file (magic %r)" % (path, magic))
        n, length = struct.unpack("<qq", f.read(16))
        data = f.read()
    if len(data) != 4 * n * length:
        raise ValueError("%s: %d bytes of ids, expected %d windows of %d" % (path, len(data), n, length))
    flat = struct.unpack("<%di" % (n * length), data)
    return [list(flat[i * length:(i + 1) * length]) for i in range(n)]


def write_calibration(path, windows):
    """Writes windows of equal length (sequences of ints) as a tokens file."""
    length = len(windows[0]) if windows else 0
    if any(len(w) != length for w in windows):
        raise ValueError("windows of different lengths")
    with open(path, "wb") as f:
        f.write(MAGIC)
        f.write(struct.pack("<qq", len(windows), length))
        for w in windows:
            f.write(struct.pack("<%di" % length, *w))
