"""One pass of tree-sitter's query engine for several readers of the same Python tree.

Each reader of a file (the function scan, the per-function metrics, radon's Halstead counts, the import records, the symbols) has a
query of its own. Run one after another over a whole-project walk, the four passes cost 2.3x what one
query made of all their patterns costs (four of them): most of a query's time is spent stepping through the tree, not
in the captures. `prime(tree, parts)` runs that combined query once; each reader then asks `captures(tree,
part)` first and runs its own query only when the tree was not primed for it (the editor, which reads a
tree only for what a keystroke needs, never primes).

One slot, held until the next `prime` or `release`: a reader on another tree (another thread's) gets None
and queries on its own, so a race costs time, never a wrong answer.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from functools import cache

import tree_sitter

Captures = dict[str, list[tree_sitter.Node]]

_CAPTURE = re.compile(r"@([\w.]+)")
_SEP = "__"  # part + _SEP + the reader's own capture name


# part -> (module of this package, the name of its query text)
_SOURCES = {
    "scan": ("functions", "PYTHON_SCAN"),
    "metrics": ("python_metrics", "QUERY"),
    "performance": ("performance_scan", "QUERY"),
    "halstead": ("halstead_ts", "_QUERY"),
    "imports": ("imports.python", "_QUERY"),
    "symbols": ("symbols.extract", "_QUERY"),
}
PARTS = tuple(_SOURCES)


def _part_query(part: str) -> str:
    if part not in _SOURCES:
        raise ValueError(f"no query part {part!r}")
    module, name = _SOURCES[part]
    return getattr(importlib.import_module(f"{__package__}.{module}"), name)


@cache
def _combined(parts: frozenset[str]) -> tree_sitter.Query:
    from .document import language

    text = "\n".join(_CAPTURE.sub(lambda m, p=part: f"@{p}{_SEP}{m.group(1)}", _part_query(part)) for part in sorted(parts))
    return tree_sitter.Query(language("python"), text)


_slot: tuple[tree_sitter.Tree, dict[str, Captures]] | None = None


def prime(tree: tree_sitter.Tree, parts: Iterable[str]) -> None:
    """Run the combined query of `parts` over `tree` and keep what each part captured."""
    global _slot
    wanted = frozenset(parts)
    raw = tree_sitter.QueryCursor(_combined(wanted)).captures(tree.root_node)
    split: dict[str, Captures] = {part: {} for part in wanted}
    for name, nodes in raw.items():
        part, _, own = name.partition(_SEP)
        split[part][own] = nodes
    _slot = (tree, split)


def captures(tree: tree_sitter.Tree, part: str) -> Captures | None:
    """What `part`'s query captured on `tree`, if `tree` was primed for it (a fresh dict: readers may sort
    its lists in place); None otherwise."""
    slot = _slot
    if slot is None or slot[0] is not tree:
        return None
    found = slot[1].get(part)
    return None if found is None else {name: list(nodes) for name, nodes in found.items()}


def release() -> None:
    global _slot
    _slot = None


__all__ = ["PARTS", "captures", "prime", "release"]
