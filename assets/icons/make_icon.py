"""Draws Hearth's app icon (a house with a flame) as RGBA PNGs using only the Python stdlib.

Tauri needs an RGBA PNG (colour type 6); an RGB one fails `generate_context!` at compile time.
Run: python3 assets/icons/make_icon.py  (writes icon.png 256 px and 32x32.png, 128x128.png)
"""
import math
import os
import struct
import zlib


def pixel(x, y, n):
    """Colour of pixel (x, y) on an n x n canvas, as (r, g, b, a)."""
    u, v = (x + 0.5) / n, (y + 0.5) / n
    # Rounded square background, deep blue.
    r = 0.18
    dx = max(abs(u - 0.5) - (0.5 - r), 0)
    dy = max(abs(v - 0.5) - (0.5 - r), 0)
    if math.hypot(dx, dy) > r:
        return (0, 0, 0, 0)
    col = (28, 52, 84, 255)
    # House: roof triangle and body.
    roof = v >= 0.18 and v <= 0.45 and abs(u - 0.5) <= (v - 0.18) * 1.25
    body = 0.42 <= v <= 0.82 and 0.24 <= u <= 0.76
    if roof or body:
        col = (244, 236, 220, 255)
    # Flame inside the body: a teardrop in amber.
    fx, fy = (u - 0.5) / 0.13, (v - 0.66) / 0.15
    if fy > -1.6 and ((fy >= 0 and fx * fx + fy * fy <= 1) or (fy < 0 and abs(fx) <= (1 + fy / 1.6) * math.sqrt(max(0.0, 1 - (fy / 1.6) ** 2)) + 0.0 and abs(fx) <= 1 + fy / 1.6)):
        col = (240, 140, 30, 255)
    return col


def png(n):
    rows = b"".join(b"\x00" + bytes(c for x in range(n) for c in pixel(x, y, n)) for y in range(n))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", n, n, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    for name, n in (("icon.png", 256), ("32x32.png", 32), ("128x128.png", 128)):
        with open(os.path.join(here, name), "wb") as f:
            f.write(png(n))
