"""Find every function in a tree and give each its qualname; cache per-function metrics by text hash.

Only functions whose text changed since the last analysis are measured again: the cache key is a hash of
the function's bytes plus the analyser version, so an edit elsewhere (or lines inserted above, which move
the function) costs a hash, not a walk.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from functools import lru_cache

import tree_sitter

from .document import language
from .model import Metrics


@lru_cache(maxsize=None)
def _function_query(lang: str) -> tree_sitter.Query:
    return tree_sitter.Query(language(lang), "(function_definition name: (identifier) @name) @def")


def iter_functions(tree: tree_sitter.Tree, lang: str = "python") -> Iterator[tuple[tree_sitter.Node, tree_sitter.Node]]:
    """(function_definition node, name node) pairs in document order, at any depth."""
    cursor = tree_sitter.QueryCursor(_function_query(lang))
    for _, caps in cursor.matches(tree.root_node):
        yield caps["def"][0], caps["name"][0]


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
