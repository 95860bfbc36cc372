"""BM25 (Okapi) over the `analysis.chunks.tokens` of each chunk, implemented here.

Why not `rank-bm25` or `bm25s`: both rebuild their whole index to add or remove one document (the language
server changes a few chunks on every save), `rank-bm25` scores every document for every query (slow at 10k+
chunks), and `bm25s` needs numpy/scipy, which the base install does not have. An inverted index with
incremental add/remove is ~80 lines, scores only the documents that contain a query term, and answers in a
few milliseconds at 10k chunks.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Iterable


class BM25:
    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self._ids: dict[str, int] = {}
        self._keys: dict[int, str] = {}
        self._lengths: dict[int, int] = {}
        self._terms: dict[int, tuple[str, ...]] = {}
        self._postings: dict[str, dict[int, int]] = {}
        self._total = 0
        self._next = 0

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, key: object) -> bool:
        return key in self._ids

    def add(self, key: str, terms: Iterable[str]) -> None:
        if key in self._ids:
            self.remove(key)
        doc = self._next
        self._next += 1
        counts = Counter(terms)
        self._ids[key] = doc
        self._keys[doc] = key
        length = sum(counts.values())
        self._lengths[doc] = length
        self._terms[doc] = tuple(counts)
        self._total += length
        for term, tf in counts.items():
            self._postings.setdefault(term, {})[doc] = tf

    def remove(self, key: str) -> None:
        doc = self._ids.pop(key, None)
        if doc is None:
            return
        del self._keys[doc]
        self._total -= self._lengths.pop(doc)
        for term in self._terms.pop(doc):
            posting = self._postings.get(term)
            if posting is not None:
                posting.pop(doc, None)
                if not posting:
                    del self._postings[term]

    def clear(self) -> None:
        self.__init__(self.k1, self.b)  # type: ignore[misc]

    def search(self, terms: Iterable[str], n: int = 50) -> list[tuple[str, float]]:
        """The `n` best (key, score) for the query terms, best first; [] when no term is known."""
        count = len(self._ids)
        if not count:
            return []
        avg = self._total / count or 1.0
        k1, b = self.k1, self.b
        norm = k1 * (1.0 - b)
        slope = k1 * b / avg
        lengths = self._lengths
        scores: dict[int, float] = {}
        for term in dict.fromkeys(terms):
            posting = self._postings.get(term)
            if not posting:
                continue
            df = len(posting)
            idf = math.log(1.0 + (count - df + 0.5) / (df + 0.5))
            top = idf * (k1 + 1.0)
            get = scores.get
            for doc, tf in posting.items():
                scores[doc] = get(doc, 0.0) + top * tf / (tf + norm + slope * lengths[doc])
        best = heapq.nlargest(n, scores.items(), key=lambda kv: (kv[1], -kv[0]))
        keys = self._keys
        return [(keys[doc], score) for doc, score in best]
