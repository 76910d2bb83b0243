"""Feed bytes made safe to hand to feedparser: one ASCII-compatible encoding, no DOCTYPE.

The DOCTYPE scan works on bytes, so a document in UTF-16/32 (or any encoding that does
not spell `<!DOCTYPE` in ASCII, such as UTF-7) is first re-encoded as UTF-8 with its
declaration fixed. The charset the HTTP server declared wins over the document's own
declaration, as feedparser's HTTP handling does (RFC 3023); without one, the declaration
and then feedparser's detection decide.
"""

from __future__ import annotations

import codecs
import re

_DOCTYPE_AT = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_DTD_TOKEN = re.compile(rb"<!--.*?-->|<\?.*?\?>|\"[^\"]*\"|'[^']*'|[\[\]>]", re.DOTALL)
_XML_DECL_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*)(["'])[^"']*\2""")
_XML_DECL_BYTES = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:\-]{1,40})["']""")
_UTF_BOMS = ((b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"),
             (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le"),
             (b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"),
             (b"\x00<\x00?", "utf-16-be"), (b"<\x00?\x00", "utf-16-le"))
_PROBE = "<?xml <!DOCTYPE <!-- --> ]>'\" abc"


def _codec(name: str | None) -> str | None:
    """The Python codec for a charset name, or None when unknown."""
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("\"'")).name
    except (LookupError, ValueError):
        return None


def _ascii_compatible(codec: str) -> bool:
    """Bytes of ASCII markup mean the same in this codec, both ways: UTF-7 (`+ADw-` is `<`) and
    the stateful ISO-2022/HZ codecs can spell markup without those bytes, so they are not."""
    if codec.replace("-", "_").startswith(("utf_7", "iso2022", "hz")):
        return False
    try:
        return _PROBE.encode(codec) == _PROBE.encode("ascii") and _PROBE.encode("ascii").decode(codec) == _PROBE
    except (UnicodeError, LookupError):
        return False


def _reencode(data: bytes, codec: str) -> bytes | None:
    try:
        text = data.decode(codec).lstrip("\ufeff")
    except (UnicodeDecodeError, LookupError):
        return None
    return _XML_DECL_ENCODING.sub(r"\1\2utf-8\2", text, count=1).encode("utf-8")


def normalize_encoding(data: bytes, http_charset: str | None = None) -> tuple[bytes, str | None]:
    """(bytes in an ASCII-compatible encoding, the charset feedparser should be told or None)."""
    for bom, codec in _UTF_BOMS:
        if data.startswith(bom):  # a UTF-16/32 document cannot be read as anything else
            converted = _reencode(data, codec)
            return (converted, "utf-8") if converted is not None else (data, None)
    declared = _codec(http_charset)
    if declared is None:
        found = _XML_DECL_BYTES.match(data)
        own = _codec(found.group(1).decode("ascii")) if found else None
        if own and not _ascii_compatible(own):
            converted = _reencode(data, own)
            if converted is not None:
                return converted, "utf-8"
        return data, None
    if _ascii_compatible(declared):
        return data, declared
    converted = _reencode(data, declared)
    return (converted, "utf-8") if converted is not None else (data, None)


def to_utf8(data: bytes) -> bytes:
    """UTF-16/32 documents re-encoded as UTF-8 (declaration fixed); others unchanged."""
    return normalize_encoding(data)[0]


def _skip(data: bytes, start: int, end_mark: bytes) -> int | None:
    end = data.find(end_mark, start)
    return None if end < 0 else end + len(end_mark)


def _doctype_end(data: bytes, start: int) -> int:
    """Where the DOCTYPE starting at `start` ends, internal subset included."""
    depth = 0
    for token in _DTD_TOKEN.finditer(data, start + len(b"<!DOCTYPE")):
        mark = token.group()
        if mark == b"[":
            depth += 1
        elif mark == b"]":
            depth -= 1
        elif mark == b">" and depth <= 0:
            return token.end()
    return len(data)  # never closed: nothing after it is a document


def strip_doctype(data: bytes) -> bytes:
    """Remove the document's DOCTYPE declarations, internal subsets included, wherever they end.

    Only a real declaration goes: one in the prolog, outside comments, processing
    instructions and CDATA (`<!-- no <!DOCTYPE here -->` is a comment). Feeds need no DTD;
    removing it means no entity is ever defined (billion laughs, quadratic blowup, external
    entities) and no system id is ever seen, whatever its size (feedparser's own filter
    reads only the first 64 KiB)."""
    if _DOCTYPE_AT.search(data) is None:
        return data
    out: list[bytes] = []
    kept = 0
    pos = 0
    while True:
        pos = data.find(b"<", pos)
        if pos < 0:
            break
        head = data[pos:pos + 9]
        if head.startswith(b"<!--"):
            end = _skip(data, pos + 4, b"-->")
        elif head.startswith(b"<?"):
            end = _skip(data, pos + 2, b"?>")
        elif head.startswith(b"<![CDATA["):
            end = _skip(data, pos + 9, b"]]>")
        elif head.upper() == b"<!DOCTYPE":
            out.append(data[kept:pos])
            pos = kept = _doctype_end(data, pos)
            continue
        elif head.startswith(b"<!"):
            end = _skip(data, pos + 2, b">")
        else:
            break  # the root element: a DOCTYPE after this point is content, not a declaration
        # an unclosed comment or instruction hides nothing: scan on as if it were not there
        pos = end if end is not None else pos + 2
    out.append(data[kept:])
    return b"".join(out)
