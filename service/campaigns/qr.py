"""QR codes as PNG and SVG, cached (a link's code never changes).

``qrcode`` computes the module matrix; the images are drawn here: the PNG with
a minimal zlib encoder (no Pillow/pypng needed), the SVG as one path in module
units (a viewBox, no mm sizing, no ids), so pages size it with CSS and can
inline many codes.
"""

import struct
import zlib
from functools import lru_cache

import qrcode
from qrcode.constants import ERROR_CORRECT_M

BORDER = 4


@lru_cache(maxsize=4096)
def matrix(data: str) -> tuple[tuple[bool, ...], ...]:
    """The QR modules for ``data``, quiet zone included (True = dark)."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=BORDER, box_size=1)
    qr.add_data(data)
    qr.make(fit=True)
    return tuple(tuple(bool(v) for v in row) for row in qr.get_matrix())


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)


@lru_cache(maxsize=1024)
def png(data: str, scale: int = 10) -> bytes:
    """8-bit greyscale PNG, ``scale`` pixels per module."""
    m = matrix(data)
    size = len(m) * scale
    raw = bytearray()
    for row in m:
        line = bytes([0]) + b"".join((b"\x00" if dark else b"\xff") * scale for dark in row)
        raw += line * scale
    ihdr = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
            + _chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + _chunk(b"IEND", b""))


@lru_cache(maxsize=4096)
def svg(data: str) -> str:
    """Standalone SVG; one ``<path>``, each horizontal run of dark modules one sub-path."""
    m = matrix(data)
    n = len(m)
    parts = []
    for y, row in enumerate(m):
        x = 0
        while x < n:
            if row[x]:
                start = x
                while x < n and row[x]:
                    x += 1
                parts.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}" shape-rendering="crispEdges">'
            f'<rect width="{n}" height="{n}" fill="#fff"/><path fill="#000" d="{"".join(parts)}"/></svg>')
