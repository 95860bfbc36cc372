"""SA501 "similar code exists": near-duplicate functions, from the vectors of the semantic store.

`SimilarityIndex` holds the function and method vectors of one project (read once from the store with
`SemanticMemory.export_vectors`, then kept up to date file by file). A function matches another when both hold:

    cosine(vectors) >= THRESHOLD         the store's own embeddings (name, signature, docstring, body head)
    code ratio      >= CODE_THRESHOLD    difflib's ratio over the two functions' code tokens

The second test keeps the rule explainable and quiet: the embeddings read mostly names and docstrings, so two
`get` methods with different bodies are close in vector space but not in code. Pairs never reported:
the function with itself (same path and qualname), a function and the functions nested in it, a test and
the code it tests (exactly one side in a test file or named test_*), stubs (a body of `...`, `pass`, a
docstring or `raise NotImplementedError`; `@overload`, `@abstractmethod`), and functions under MIN_LINES lines.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from sophia_artemis.analysis.chunks import Chunk, embedding_text

log = logging.getLogger(__name__)

RULE = "SA501"
THRESHOLD = 0.9  # cosine similarity of the stored embeddings
CODE_THRESHOLD = 0.7  # difflib ratio of the code tokens
MIN_LINES = 5  # lines of code in the body: signature, docstring, comments and blank lines not counted
CANDIDATES = 10  # nearest vectors looked at per function
FUNCTION_KINDS = ("function", "method")

_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+|\S")
_STUB_DECORATOR = re.compile(r"^\s*@(?:\w+\.)*(?:overload|abstractmethod|abc\.abstractmethod)\b", re.MULTILINE)
_STUB_BODY = re.compile(r"^(?:\.\.\.|pass|raise NotImplementedError(?:\(.*\))?|return NotImplemented)$")


@dataclass(slots=True)
class Entry:
    """One function of the project as the store knows it."""

    key: str
    path: str
    qualname: str
    hash: str
    text: str
    row: int  # in SimilarityIndex.matrix
    range: tuple[int, int, int, int] | None = None

    @property
    def tokens(self) -> list[str]:
        return code_tokens(self.text)


@dataclass(frozen=True, slots=True)
class Match:
    path: str
    qualname: str
    score: float  # cosine
    code: float  # code ratio
    range: tuple[int, int, int, int] | None = None  # known for matches in the open document

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "qualname": self.qualname, "score": round(self.score, 3)}


def is_test(path: str, qualname: str = "") -> bool:
    p = PurePosixPath(path)
    name = p.name
    return (
        name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
        or any(part in ("tests", "test", "testing") for part in p.parts[:-1])
        or qualname.rsplit(".", 1)[-1].startswith("test_")
    )


def _body_lines(text: str) -> list[str]:
    """The statements after the signature and docstring, stripped (comments and blanks dropped)."""
    code = re.sub(r'("""|\'\'\')[\s\S]*?\1', "", text, count=1)
    lines = [ln.strip() for ln in code.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith(("#", "@"))]
    # drop the signature: up to the first line ending the header with ':'
    for i, ln in enumerate(lines):
        if ln.endswith(":") or re.search(r":\s*(#.*)?$", ln):
            return lines[i + 1:]
    return lines[1:]


def is_stub(text: str) -> bool:
    if _STUB_DECORATOR.search(text.split("def ", 1)[0] if "def " in text else ""):
        return True
    body = _body_lines(text)
    return all(_STUB_BODY.match(ln) or ln in ('"""', "'''") for ln in body)


def eligible(kind: str, text: str) -> bool:
    """A function or method with at least MIN_LINES lines of code in its body, and not a stub."""
    return kind in FUNCTION_KINDS and len(_body_lines(text)) >= MIN_LINES and not is_stub(text)


def code_tokens(text: str) -> list[str]:
    return _TOKEN.findall("\n".join(_body_lines(text)))


def code_ratio(a: Sequence[str], b: Sequence[str], floor: float = 0.0) -> float:
    """difflib's ratio of two token lists; below `floor` an upper bound of it is returned (cheaper)."""
    if not a or not b:
        return 0.0
    m = difflib.SequenceMatcher(None, a, b, autojunk=False)
    quick = m.real_quick_ratio()
    if quick < floor:
        return quick
    quick = m.quick_ratio()
    if quick < floor:
        return quick
    return m.ratio()


def _related(a: str, b: str) -> bool:
    """One qualname nested inside the other (`f` and `f.<locals>.g`)."""
    return b.startswith(a + ".") or a.startswith(b + ".")


def excluded(path: str, qualname: str, other_path: str, other_qualname: str) -> bool:
    if path == other_path and (qualname == other_qualname or _related(qualname, other_qualname)):
        return True
    return is_test(path, qualname) != is_test(other_path, other_qualname)


class SimilarityIndex:
    """Function vectors of one project, for near-duplicate lookups (numpy, cosine on normalised rows)."""

    def __init__(self) -> None:
        import numpy as np

        self._np = np
        self.entries: dict[str, Entry] = {}  # key -> entry
        self._by_name: dict[tuple[str, str], Entry] = {}
        self.matrix = np.zeros((0, 0), dtype=np.float32)
        self._free: list[int] = []
        self.loaded = False

    def __len__(self) -> int:
        return len(self.entries)

    def load(self, dumped: tuple[list[str], list[list[float]], list[dict[str, Any]], list[str]] | None,
             ranges: dict[str, tuple[int, int, int, int]] | None = None) -> int:
        """Fill from `SemanticMemory.export_vectors()`; `ranges`: key -> (sl, sc, el, ec) from the catalogue."""
        np = self._np
        self.entries.clear()
        self._by_name.clear()
        self._free = []
        if dumped is None:
            self.matrix = np.zeros((0, 0), dtype=np.float32)
            self.loaded = True
            return 0
        ids, vecs, metas, docs = dumped
        keep = [i for i, m in enumerate(metas) if m.get("kind") in FUNCTION_KINDS]
        rows = np.asarray([vecs[i] for i in keep], dtype=np.float32) if keep else np.zeros((0, 0), np.float32)
        if len(rows):
            rows /= np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
        self.matrix = rows
        for row, i in enumerate(keep):
            m = metas[i]
            e = Entry(ids[i], str(m.get("path")), str(m.get("qualname")), str(m.get("hash")), docs[i] or "", row,
                      (ranges or {}).get(ids[i]))
            self.entries[e.key] = e
            self._by_name[(e.path, e.qualname)] = e
        self.loaded = True
        return len(self.entries)

    def vector(self, path: str, qualname: str, hash_: str) -> Any | None:
        e = self._by_name.get((path, qualname))
        if e is None or e.hash != hash_:
            return None
        return self.matrix[e.row].copy()

    def replace_file(self, path: str, chunks: Sequence[Chunk], vectors: Sequence[Any]) -> None:
        """The functions of `path` are now `chunks` (with their vectors, same order)."""
        np = self._np
        for key in [k for k, e in self.entries.items() if e.path == path]:
            e = self.entries.pop(key)
            self._by_name.pop((e.path, e.qualname), None)
            self.matrix[e.row] = 0.0
            self._free.append(e.row)
        for chunk, vec in zip(chunks, vectors):
            if chunk.kind not in FUNCTION_KINDS:
                continue
            v = np.asarray(vec, dtype=np.float32)
            v = v / max(float(np.linalg.norm(v)), 1e-12)
            if self.matrix.size == 0:
                self.matrix = np.zeros((0, len(v)), dtype=np.float32)
            if self._free:
                row = self._free.pop()
            else:
                row = len(self.matrix)
                self.matrix = np.vstack([self.matrix, v[None, :]])
            self.matrix[row] = v
            r = chunk.range
            e = Entry(chunk.key, path, chunk.qualname, chunk.hash, chunk.text, row,
                      (r.start.line, r.start.character, r.end.line, r.end.character))
            self.entries[e.key] = e
            self._by_name[(e.path, e.qualname)] = e

    def neighbours(self, vec: Any, n: int = CANDIDATES) -> list[tuple[Entry, float]]:
        np = self._np
        if self.matrix.size == 0 or not self.entries:
            return []
        v = np.asarray(vec, dtype=np.float32)
        v = v / max(float(np.linalg.norm(v)), 1e-12)
        sims = self.matrix @ v
        n = min(n + len(self._free), len(sims))
        top = np.argpartition(-sims, n - 1)[:n] if n < len(sims) else np.arange(len(sims))
        by_row = {e.row: e for e in self.entries.values()}
        out = [(by_row[int(r)], float(sims[r])) for r in top if int(r) in by_row]
        return sorted(out, key=lambda es: -es[1])


def find_similar(
    index: SimilarityIndex,
    path: str,
    chunks: Sequence[Chunk],
    embed: Callable[[list[str]], list[Any]],
    *,
    threshold: float = THRESHOLD,
    code_threshold: float = CODE_THRESHOLD,
    cache: dict[str, Any] | None = None,
) -> dict[str, Match]:
    """For each eligible function chunk of the document at `path` (its current text), the best match above
    both thresholds: elsewhere in the project (the index) or in the same document. Key: chunk key."""
    np = index._np
    funcs = [c for c in chunks if eligible(c.kind, c.text)]
    if not funcs:
        return {}
    vectors: dict[str, Any] = {}
    todo: list[Chunk] = []
    for c in funcs:
        v = index.vector(path, c.qualname, c.hash)
        if v is None and cache is not None:
            v = cache.get(c.hash)
        if v is None:
            todo.append(c)
        else:
            vectors[c.key] = v
    if todo:
        for c, v in zip(todo, embed([embedding_text(c) for c in todo])):
            a = np.asarray(v, dtype=np.float32)
            vectors[c.key] = a / max(float(np.linalg.norm(a)), 1e-12)
            if cache is not None:
                if len(cache) > 5000:
                    cache.clear()
                cache[c.hash] = vectors[c.key]
    tokens = {c.key: code_tokens(c.text) for c in funcs}
    out: dict[str, Match] = {}
    for c in funcs:
        v = vectors[c.key]
        candidates: list[tuple[str, str, float, list[str], tuple[int, int, int, int] | None]] = []
        for e, sim in index.neighbours(v):
            if e.path == path:
                continue  # the stored copy of this document is stale: its functions are compared below
            if sim >= threshold and not excluded(path, c.qualname, e.path, e.qualname):
                candidates.append((e.path, e.qualname, sim, e.tokens, e.range))
        for other in funcs:
            if other.key == c.key or excluded(path, c.qualname, path, other.qualname):
                continue
            sim = float(v @ vectors[other.key])
            if sim >= threshold:
                r = other.range
                candidates.append((path, other.qualname, sim, tokens[other.key],
                                   (r.start.line, r.start.character, r.end.line, r.end.character)))
        best: Match | None = None
        for p, qn, sim, toks, rng in sorted(candidates, key=lambda x: -x[2]):
            ratio = code_ratio(tokens[c.key], toks, code_threshold)
            if ratio >= code_threshold and (best is None or sim > best.score):
                best = Match(p, qn, sim, ratio, rng)
        if best is not None:
            out[c.key] = best
    return out
