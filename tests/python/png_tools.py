"""A tiny PNG reader/writer (zlib + numpy) for checking screenshots: no Pillow needed.

Supports what Chromium and vl-convert write: 8-bit greyscale, RGB, RGBA (non-interlaced).
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}


def chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, payload) of every chunk; CRCs verified."""
    if data[:8] != SIGNATURE:
        raise ValueError("not a PNG (bad signature)")
    out, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, payload = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        if zlib.crc32(kind + payload) != crc:
            raise ValueError(f"bad CRC in {kind!r}")
        out.append((kind, payload))
        pos += 12 + length
        if kind == b"IEND":
            break
    return out


def size(data: bytes) -> tuple[int, int]:
    kind, ihdr = chunks(data)[0]
    assert kind == b"IHDR"
    width, height = struct.unpack(">II", ihdr[:8])
    return width, height


def decode(data: bytes) -> np.ndarray:
    """Pixels as a (height, width, channels) uint8 array."""
    parts = chunks(data)
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", parts[0][1])
    if depth != 8 or colour not in CHANNELS or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}")
    bpp = CHANNELS[colour]
    raw = zlib.decompress(b"".join(p for k, p in parts if k == b"IDAT"))
    stride = width * bpp
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(height, stride + 1)
    out = np.zeros((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.int32)
    for y in range(height):
        kind, line = rows[y, 0], rows[y, 1:].astype(np.int32)
        if kind == 0:
            cur = line
        elif kind == 2:
            cur = (line + prev) & 0xFF
        elif kind == 1:  # Sub: cumulative per channel
            cur = line.reshape(width, bpp).cumsum(axis=0).reshape(stride) & 0xFF
        elif kind in (3, 4):
            cur = np.zeros(stride, dtype=np.int32)
            up = prev.tolist()
            vals = line.tolist()
            res = [0] * stride
            for i in range(stride):
                a = res[i - bpp] if i >= bpp else 0
                b = up[i]
                if kind == 3:
                    res[i] = (vals[i] + ((a + b) >> 1)) & 0xFF
                else:
                    c = up[i - bpp] if i >= bpp else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                    res[i] = (vals[i] + pred) & 0xFF
            cur = np.array(res, dtype=np.int32)
        else:
            raise ValueError(f"bad filter type {kind}")
        out[y] = cur
        prev = cur
    return out.reshape(height, width, bpp)


def encode(pixels: np.ndarray) -> bytes:
    """An RGB(A) array as PNG bytes (filter 0) — for cropping screenshots to look at."""
    height, width, bpp = pixels.shape
    colour = {3: 2, 4: 6}[bpp]
    raw = b"".join(b"\x00" + pixels[y].tobytes() for y in range(height))

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")
