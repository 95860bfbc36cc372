"""What comments say: debt markers (SA201) and suppressions (`# sophia: ignore[SA101] -- reason`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import tree_sitter

from .document import Document
from .functions import scan
from .model import Range, Suppression

SUPPRESSION_RE = re.compile(
    r"#\s*sophia:\s*ignore(?:\[(?P<rules>[^\]]*)\])?(?:\s*--\s*(?P<reason>.*?))?\s*(?=#|$)", re.IGNORECASE
)


@lru_cache(maxsize=16)
def marker_pattern(markers: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(m) for m in markers)
    return re.compile(rf"(?<![A-Za-z0-9_])(?P<marker>{alternatives})(?![A-Za-z0-9_])(?:\([^)]*\))?[:\s-]*(?P<text>.*)")


@dataclass(frozen=True, slots=True)
class Marker:
    marker: str
    text: str
    range: Range


def iter_comments(doc: Document) -> Iterator[tree_sitter.Node]:
    return iter(scan(doc).comments)


def scan_comments(doc: Document, markers: tuple[str, ...]) -> tuple[list[Marker], list[Suppression]]:
    """One pass over the comment nodes collecting debt markers and suppression comments."""
    found: list[Marker] = []
    suppressions: list[Suppression] = []
    pattern = marker_pattern(markers) if markers else None
    for node in iter_comments(doc):
        raw = node.text
        text = raw.decode("utf-8", "replace")
        if "sophia" in text.lower():
            for m in SUPPRESSION_RE.finditer(text):
                start = node.start_byte + len(text[: m.start()].encode())
                end = node.start_byte + len(text[: m.end()].rstrip().encode())
                rules = frozenset(r.strip().upper() for r in (m.group("rules") or "").split(",") if r.strip())
                reason = (m.group("reason") or "").strip() or None
                rng = doc.index.range(start, end)
                suppressions.append(Suppression(rng.start.line, rules, reason, rng))
                text = text[: m.start()] + " " * (m.end() - m.start()) + text[m.end():]
        if pattern is None:
            continue
        m = pattern.search(text)
        if m is None:
            continue
        start = node.start_byte + len(text[: m.start()].encode())
        body = m.group("text").rstrip()
        end = node.start_byte + len(text[: m.end("text")].rstrip().encode())
        found.append(Marker(m.group("marker"), body, doc.index.range(start, max(end, start))))
    return found, suppressions
