"""Images and speech for the models that answer with them, made up deterministically from a seed.

What a client does with such an answer is decode it (``Part.as_image()``, a PCM player), so the bytes
are real: a PNG drawn here (a small gradient whose colours come from the seed), a fixed small JPEG
(the 3.x image models answer in JPEG; a JPEG encoder is out of proportion here), and 16-bit mono PCM
at 24 kHz, a quiet tone about as long as speaking the text would take.
"""

from __future__ import annotations

import base64
import math
import struct
import zlib

SAMPLE_RATE = 24_000
_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAoHBwgHBgoICAgLCgoLDhgQDg0NDh0VFhEYIx8lJCIfIiEmKzcvJik0KSEiMEExNDk7Pj4+JS5ESUM8"
    "SDc9Pjv/2wBDAQoLCw4NDhwQEBw7KCIoOzs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozv/wAARCAAQABAD"
    "ASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKB"
    "kaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZ"
    "mqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQF"
    "BgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5"
    "OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX"
    "2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwClbWfTite2s+nFT21n04rXtrPpxW9fEnNleL2P/9k="
)


def png(seed: bytes, size: int = 64) -> bytes:
    """A ``size`` x ``size`` RGB gradient, its colours drawn from ``seed``."""
    red, green, blue = seed[0], seed[1], seed[2]
    rows = b"".join(
        b"\x00" + bytes((red + x * 2) % 256 if i == 0 else (green + y * 2) % 256 if i == 1 else blue
                        for x in range(size) for i in range(3))
        for y in range(size)
    )  # fmt: skip

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def jpeg(seed: bytes) -> bytes:
    """A small JPEG (the same one every time)."""
    return _JPEG


def speech_seconds(text: str) -> float:
    """About as long as saying ``text``: 0.4 s a word, and half a second of breath."""
    return 0.5 + 0.4 * len(text.split())


def pcm(seed: bytes, seconds: float) -> bytes:
    """16-bit little-endian mono PCM at 24 kHz: a quiet tone whose pitch comes from ``seed``."""
    pitch = 180 + seed[0]
    count = int(SAMPLE_RATE * seconds)
    step = 2 * math.pi * pitch / SAMPLE_RATE
    return struct.pack(f"<{count}h", *(int(3000 * math.sin(step * n)) for n in range(count)))
