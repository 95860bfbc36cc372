"""Find every function in a tree and give each its qualname; cache per-function metrics by text hash.

Only functions whose text changed since the last analysis are measured again: the cache key is a hash of
the function's bytes plus the analyser version, so an edit elsewhere (or lines inserted above, which move
the function) costs a hash, not a walk.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import tree_sitter

from .document import Document, language
from .model import Metrics


@lru_cache(maxsize=None)
def _scan_query(lang: str) -> tree_sitter.Query:
    return tree_sitter.Query(language(lang), "(function_definition name: (identifier) @name) @def\n(comment) @c")


@dataclass(frozen=True, slots=True)
class TreeScan:
    """What one pass of a tree-sitter query over the whole tree finds: functions and comments."""

    functions: list[tuple[tree_sitter.Node, tree_sitter.Node]]  # (function_definition, its name)
    comments: list[tree_sitter.Node]


def _start(node: tree_sitter.Node) -> int:
    return node.start_byte


def _pair(caps: dict[str, list[tree_sitter.Node]]) -> list[tuple[tree_sitter.Node, tree_sitter.Node]]:
    """(def, name) pairs in document order. Sorted by start, the i-th def and the i-th name belong
    together: a def's name comes before any def nested in its body."""
    defs = sorted(caps.get("def", ()), key=_start)
    names = sorted(caps.get("name", ()), key=_start)
    return list(zip(defs, names))


def scan(doc: Document) -> TreeScan:
    """Functions and comments of the document's current tree, computed once per tree (one query pass)."""
    cached = doc.__dict__.get("_scan")
    if cached is not None and cached[0] is doc.tree:
        return cached[1]
    caps = tree_sitter.QueryCursor(_scan_query(doc.language)).captures(doc.tree.root_node)
    comments = caps.get("c", [])
    comments.sort(key=_start)
    result = TreeScan(_pair(caps), comments)
    doc.__dict__["_scan"] = (doc.tree, result)
    return result


def iter_functions(
    doc: Document | tree_sitter.Tree, lang: str = "python"
) -> Iterator[tuple[tree_sitter.Node, tree_sitter.Node]]:
    """(function_definition node, name node) pairs in document order, at any depth.

    Given a Document the scan is shared with the other users of the same tree; a bare Tree is queried."""
    if isinstance(doc, Document):
        return iter(scan(doc).functions)
    return iter(_pair(tree_sitter.QueryCursor(_scan_query(lang)).captures(doc.root_node)))


def qualname(func: tree_sitter.Node, name: str) -> str:
    """Python's __qualname__: `Class.method`, `outer.<locals>.inner`."""
    parts = [name]
    node = func.parent
    while node is not None:
        kind = node.type
        if kind == "function_definition" or kind == "class_definition":
            name_node = node.child_by_field_name("name")
            owner = name_node.text.decode("utf-8", "replace") if name_node is not None else "?"
            parts.append(f"{owner}.<locals>" if kind == "function_definition" else owner)
        node = node.parent
    return ".".join(reversed(parts))


def text_key(data: bytes, version: str) -> bytes:
    return hashlib.blake2b(data, digest_size=16, person=version.encode()[:16]).digest()


class FunctionCache:
    """A bounded LRU of Metrics keyed by function text hash + analyser version. Shared by all documents."""

    def __init__(self, max_entries: int = 100_000) -> None:
        self._data: OrderedDict[bytes, Metrics] = OrderedDict()
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._data)

    def get_or_compute(self, key: bytes, compute: Callable[[], Metrics]) -> Metrics:
        found = self._data.get(key)
        if found is not None:
            self._data.move_to_end(key)
            self.hits += 1
            return found
        self.misses += 1
        value = compute()
        self._data[key] = value
        if len(self._data) > self.max_entries:
            self._data.popitem(last=False)
        return value

    def clear(self) -> None:
        self._data.clear()
