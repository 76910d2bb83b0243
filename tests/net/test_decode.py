"""The capped streaming decoder: gzip/deflate/identity, bombs, chains and truncation."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib

import pytest

from bot.net import FetchError, TooLarge
from bot.net.decode import BodyDecoder, parse_content_encoding

MiB = 1024 * 1024


def gzip_of_zeros(megabytes: int) -> bytes:
    """A gzip bomb built in 1 MiB steps so the test itself stays small in memory."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(MiB)
    parts = [comp.compress(zeros) for _ in range(megabytes)]
    parts.append(comp.flush())
    return b"".join(parts)


def feed_all(decoder: BodyDecoder, data: bytes, step: int = 65536) -> None:
    for i in range(0, len(data), step):
        decoder.feed(data[i : i + step])


@pytest.mark.parametrize(
    ("header", "expected"),
    [(None, "identity"), ("", "identity"), ("identity", "identity"), ("gzip", "gzip"),
     ("X-GZIP", "gzip"), ("deflate", "deflate"), ("identity, gzip", "gzip")],
)
def test_accepted_encodings(header: str | None, expected: str) -> None:
    assert parse_content_encoding(header) == expected


@pytest.mark.parametrize("header", ["gzip, gzip, gzip, gzip", "gzip, deflate", "br", "zstd", "compress"])
def test_refused_encodings(header: str) -> None:
    with pytest.raises(FetchError) as info:
        parse_content_encoding(header)
    assert not isinstance(info.value, TooLarge)


def test_identity_under_and_over_cap() -> None:
    d = BodyDecoder("identity", 10)
    d.feed(b"0123456789")
    assert d.finish() == b"0123456789"
    d = BodyDecoder("identity", 10, label="response from http://h/")
    with pytest.raises(TooLarge, match="response from http://h/ is larger than the 10-byte limit"):
        d.feed(b"01234567890")


def test_gzip_byte_by_byte_and_concatenated_members() -> None:
    d = BodyDecoder("gzip", 1000)
    for b in gzip.compress(b"hello ") + gzip.compress(b"world"):
        d.feed(bytes([b]))
    assert d.finish() == b"hello world"


def test_gzip_trailing_padding_is_tolerated() -> None:
    d = BodyDecoder("gzip", 1000)
    d.feed(gzip.compress(b"feed") + b"\0\0\0\0")
    assert d.finish() == b"feed"


def test_deflate_with_and_without_zlib_header() -> None:
    d = BodyDecoder("deflate", 100)
    d.feed(zlib.compress(b"wrapped"))
    assert d.finish() == b"wrapped"
    raw = zlib.compressobj(6, zlib.DEFLATED, -15)
    d = BodyDecoder("deflate", 100)
    d.feed(raw.compress(b"raw deflate") + raw.flush())
    assert d.finish() == b"raw deflate"


def test_truncated_and_garbage_gzip_are_errors() -> None:
    d = BodyDecoder("gzip", 10_000)
    d.feed(gzip.compress(b"x" * 5000)[:-4])
    with pytest.raises(FetchError, match="truncated"):
        d.finish()
    with pytest.raises(FetchError, match="not valid gzip"):
        BodyDecoder("gzip", 100).feed(b"this is not gzip")


def test_exactly_at_cap_is_fine() -> None:
    d = BodyDecoder("gzip", 4096)
    d.feed(gzip.compress(bytes(4096)))
    assert len(d.finish()) == 4096


def test_gzip_bomb_aborts_near_cap_with_bounded_memory() -> None:
    bomb = gzip_of_zeros(100)  # ~100 KB inflating to 100 MiB
    assert len(bomb) < 200_000
    cap = 2 * MiB
    decoder = BodyDecoder("gzip", cap)
    tracemalloc.start()
    try:
        with pytest.raises(TooLarge):
            feed_all(decoder, bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert decoder.size <= cap
    assert decoder.raw_bytes < len(bomb)  # stopped before reading the whole bomb
    assert peak < 4 * cap, peak


def test_raw_bytes_are_capped_too() -> None:
    """A stream that inflates to nothing (empty deflate blocks) still ends at the cap."""
    comp = zlib.compressobj(6, zlib.DEFLATED, 31)
    empty_blocks = b"".join(comp.compress(b"") + comp.flush(zlib.Z_FULL_FLUSH) for _ in range(100))
    d = BodyDecoder("gzip", 200)
    with pytest.raises(TooLarge):
        feed_all(d, empty_blocks * 3, step=50)
