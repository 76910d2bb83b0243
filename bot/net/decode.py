"""Streaming body decoding with a hard cap on *decoded* bytes.

We decode ourselves (bot/net/http1.py hands over the raw body) because a few KB of gzip can inflate to
gigabytes: every zlib call gets `max_length`, so memory stays near the cap whatever arrives.
"""

from __future__ import annotations

import zlib

from bot.net.errors import FetchError, TooLarge

ACCEPT_ENCODING = "gzip, deflate"
_ALIASES = {"x-gzip": "gzip", "x-deflate": "deflate"}


def parse_content_encoding(header: str | None) -> str:
    """'identity', 'gzip' or 'deflate'; anything else (br, chains like 'gzip, gzip') is refused."""
    codings = [c.strip().lower() for c in (header or "").split(",")]
    codings = [_ALIASES.get(c, c) for c in codings if c and c != "identity"]
    if not codings:
        return "identity"
    if len(codings) > 1:
        raise FetchError(f"unsupported content encoding chain ({len(codings)} layers)")
    if codings[0] not in ("gzip", "deflate"):
        raise FetchError(f"unsupported content encoding {codings[0][:20]!r}")
    return codings[0]


class BodyDecoder:
    """Feed raw chunks, get the decoded body; raises TooLarge once decoded bytes pass `cap`."""

    def __init__(self, encoding: str, cap: int, label: str = "response") -> None:
        self.encoding = encoding
        self.label = label
        self.cap = cap
        self.raw_bytes = 0
        self._parts: list[bytes] = []
        self._size = 0
        self._z: zlib._Decompress | None = None
        self._raw_deflate_tried = False
        self._members = 0
        self._member_out = 0
        if encoding != "identity":
            self._z = zlib.decompressobj(31 if encoding == "gzip" else 15)

    @property
    def size(self) -> int:
        return self._size

    def _emit(self, data: bytes) -> None:
        if self._size + len(data) > self.cap:
            raise TooLarge(f"{self.label} is larger than the {self.cap:,}-byte limit")
        if data:
            self._parts.append(data)
            self._size += len(data)

    def _inflate(self, data: bytes) -> None:
        assert self._z is not None
        while data:
            if self._z.eof:
                if self.encoding != "gzip":
                    return  # trailing bytes after a deflate stream: ignore them
                self._members += 1  # concatenated gzip members are legal: start the next one
                self._member_out = 0
                self._z = zlib.decompressobj(31)
            try:
                out = self._z.decompress(data, self.cap - self._size + 1)
            except zlib.error:
                if self._members:
                    return  # junk after a complete gzip member, as browsers tolerate
                if self.encoding == "deflate" and not self._raw_deflate_tried and self._size == 0:
                    self._raw_deflate_tried = True  # some servers send deflate without the zlib header
                    self._z = zlib.decompressobj(-15)
                    continue
                raise FetchError(f"{self.label} is not valid {self.encoding} data") from None
            self._emit(out)
            self._member_out += len(out)
            data = self._z.unused_data + self._z.unconsumed_tail if self._z.eof else self._z.unconsumed_tail

    def feed(self, chunk: bytes) -> None:
        self.raw_bytes += len(chunk)
        if self.raw_bytes > self.cap:
            raise TooLarge(f"{self.label} is larger than the {self.cap:,}-byte limit")
        if self._z is None:
            self._emit(chunk)
        else:
            self._inflate(chunk)

    def finish(self) -> bytes:
        """Return the whole decoded body; a compressed stream that stops midway is an error."""
        if self._z is not None:
            trailing_junk = self._members > 0 and self._member_out == 0
            if not self._z.eof and self.raw_bytes and not trailing_junk:
                raise FetchError(f"{self.label} is truncated ({self.encoding} stream ends early)")
        body = b"".join(self._parts)
        self._parts = [body]
        return body
