"""Identity of entries and articles: entry keys, canonical URLs and content hashes."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.models import Entry

# Query parameters that identify a campaign or a click, never the article.
TRACKING_PARAMS = {
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid",
    "_hsenc", "_hsmi", "mkt_tok", "ref", "ref_src", "ref_url", "cmpid", "ncid", "ocid", "sr_share",
    "spm", "share", "smid", "soc_src", "soc_trk", "cmp", "at_medium", "at_campaign", "rss", "feature",
}
TRACKING_PREFIXES = ("utm_", "at_", "pk_", "mtm_", "hsa_", "oly_", "vero_")
DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str | None) -> str | None:
    """Drop tracking parameters, fragments, default ports and case noise; sort the query."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https", "file"):
        return None
    host = (parts.hostname or "").lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    netloc = host
    if parts.port and parts.port != DEFAULT_PORTS.get(scheme):
        netloc = f"{host}:{parts.port}"
    path = re.sub(r"/{2,}", "/", parts.path or "/")
    if len(path) > 1:
        path = path.rstrip("/")
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)]
    query.sort()
    # http and https copies of one page are one article
    return urlunsplit(("https" if scheme == "http" else scheme, netloc, path, urlencode(query), ""))


_NON_WORD = re.compile(r"\W+")
# ASCII bytes that `\W` matches, as spaces: for ASCII text a byte table does the regex's
# work four times faster (every entry's text is hashed on a first poll)
_ASCII_NON_WORD = bytes(c if chr(c).isalnum() or c == 0x5F else 0x20 for c in range(128)).ljust(256, b" ")


def ascii_word_runs(text: str) -> list[str]:
    """The runs of word characters (`\\w`) of ASCII `text`, lower-cased (its casefold), in order."""
    return text.lower().encode("ascii").translate(_ASCII_NON_WORD).decode("ascii").split()


def normalize_text(text: str) -> str:
    """Casefolded words joined by single spaces: punctuation, spacing and Unicode form do
    not make two texts different."""
    if text.isascii():  # already NFKC
        return " ".join(ascii_word_runs(text))
    text = unicodedata.normalize("NFKC", text)
    return _NON_WORD.sub(" ", text.casefold()).strip()


def content_hash(title: str, text: str) -> str:
    digest = hashlib.sha256(normalize_text(f"{title}\n{text}").encode("utf-8"))
    return digest.hexdigest()[:32]


def _fallback_key(entry: Entry) -> str:
    # title and date only: an edited body must not turn an item into a new one
    basis = "\x1f".join([normalize_text(entry.title), entry.published.isoformat() if entry.published else ""])
    return "h:" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]


def assign_keys(entries: list[Entry], guids: list[str | None]) -> list[Entry]:
    """Give each entry a key unique within the document: its guid when the guid is unique
    there, else its link when that is unique, else a hash of its title and date.
    A feed that repeats or churns GUIDs is still deduplicated downstream by canonical URL
    and content hash, so a changed key never means a second post. Exact repeats within
    the document are dropped; the entries kept are returned in order."""
    def counts(values: list[str | None]) -> dict[str, int]:
        seen: dict[str, int] = {}
        for value in values:
            if value:
                seen[value] = seen.get(value, 0) + 1
        return seen

    links = [canonical_url(e.url) for e in entries]
    guid_counts, link_counts = counts(guids), counts(links)
    used: set[str] = set()
    kept: list[Entry] = []
    for entry, guid, link in zip(entries, guids, links, strict=True):
        if guid and guid_counts[guid] == 1:
            key = "g:" + guid.strip()[:500]
        elif link and link_counts[link] == 1:
            key = "u:" + link[:500]
        else:
            key = _fallback_key(entry)
        if key in used:  # the same item twice in one document
            continue
        used.add(key)
        entry.key = key
        entry.canonical_url = link
        kept.append(entry)
    return kept
