"""Content codings: each public response is stored raw, gzipped and Brotli-compressed, each computed once
(when first asked for).

A hit picks the best coding the client accepts (br, then gzip, then identity; `q=0` refuses one) and
serves the stored bytes as they are. Each coding is its own representation with its own strong ETag
(RFC 9110 8.8.3: a strong validator changes with the bytes, and gzip and Brotli bytes differ); a
conditional request that names any current representation's ETag gets a 304 carrying that ETag, which is
how a client or a shared cache picks the stored response it already holds (RFC 9111 4.3.4).
"""

import gzip
from functools import lru_cache

import brotli
from django.utils.http import parse_etags

CODINGS = ("br", "gzip", "identity")  # in order of preference
SUFFIX = {"br": "-br", "gzip": "-gz", "identity": ""}
BROTLI_QUALITY = 5  # fast (a few ms for a large page) and within a few percent of the best ratio
GZIP_LEVEL = 6
MIN_SIZE = 200  # smaller bodies are not worth a coding (as Django's GZipMiddleware)


@lru_cache(maxsize=256)  # clients send a handful of distinct values; any others only cost their parse
def accepted_coding(header: str) -> str:
    """The coding to send for an Accept-Encoding header value."""
    if not header:
        return "identity"
    weights: dict[str, float] = {}
    for item in header.split(","):
        name, _, params = item.partition(";")
        name = name.strip().lower()
        if name == "x-gzip":
            name = "gzip"
        weight = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if name:
            weights[name] = weight
    star = weights.get("*", 0.0)
    best, best_weight = "identity", 0.0
    for coding in ("br", "gzip"):
        weight = weights.get(coding, star)
        if weight > best_weight:
            best, best_weight = coding, weight
    if weights.get("identity", 0.0) > best_weight:  # explicitly preferred to every accepted coding
        return "identity"
    return best


def compressible(content_type: str, size: int) -> bool:
    kind = content_type.split(";")[0].strip().lower()
    if size < MIN_SIZE:
        return False
    return kind.startswith("text/") or kind.endswith(("json", "xml", "javascript")) or kind == "image/svg+xml"


def encode(body: bytes, coding: str) -> bytes:
    if coding == "br":
        return brotli.compress(body, quality=BROTLI_QUALITY)
    if coding == "gzip":
        return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
    return body


def etag_for(base: str, coding: str) -> str:
    return f'"{base}{SUFFIX[coding]}"'


def matching_etag(if_none_match: str, base: str, preferred: str) -> str | None:
    """The ETag to answer 304 with, if the client holds a current representation (weak comparison)."""
    if not if_none_match:
        return None
    tags = {tag.removeprefix("W/") for tag in parse_etags(if_none_match)}
    if "*" in tags:
        return etag_for(base, preferred)
    for coding in (preferred, *CODINGS):
        etag = etag_for(base, coding)
        if etag in tags:
            return etag
    return None
