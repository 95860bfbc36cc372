"""analysis/shared_query.py: one combined query must capture exactly what each reader's own query does."""

from __future__ import annotations

import ast
import dataclasses
import enum
import inspect
import typing
from pathlib import Path

import pytest
import tree_sitter
from sophia_artemis.analysis import shared_query
from sophia_artemis.analysis.config import Settings
from sophia_artemis.analysis.document import Document, language
from sophia_artemis.analysis.project import file_facts

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SOURCES = [Path(m.__file__) for m in (ast, dataclasses, enum, inspect, typing)] + sorted(FIXTURES.rglob("*.py"))[:40]


def _own(part: str, tree: tree_sitter.Tree) -> dict[str, list[tuple[int, int, str]]]:
    caps = tree_sitter.QueryCursor(tree_sitter.Query(language("python"), shared_query._part_query(part))).captures(tree.root_node)
    return _plain(caps)


def _plain(caps: dict[str, list[tree_sitter.Node]]) -> dict[str, list[tuple[int, int, str]]]:
    return {name: sorted((n.start_byte, n.end_byte, n.type) for n in nodes) for name, nodes in caps.items() if nodes}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_combined_query_captures_what_each_part_does(path: Path) -> None:
    tree = Document(path.read_bytes(), "python").tree
    shared_query.prime(tree, shared_query.PARTS)
    try:
        for part in shared_query.PARTS:
            shared = shared_query.captures(tree, part)
            assert shared is not None
            assert _plain(shared) == _own(part, tree), part
    finally:
        shared_query.release()


def test_an_unprimed_tree_or_part_gets_none() -> None:
    a = Document(b"def f():\n    return 1\n", "python").tree
    b = Document(b"def g():\n    return 2\n", "python").tree
    shared_query.prime(a, ["scan"])
    try:
        assert shared_query.captures(b, "scan") is None  # another tree: its reader queries on its own
        assert shared_query.captures(a, "symbols") is None  # a part not primed
        found = shared_query.captures(a, "scan")
        assert found is not None and [n.text for n in found["name"]] == [b"f"]
        found["name"].clear()  # a reader may sort or change its lists: the slot keeps its own
        assert [n.text for n in shared_query.captures(a, "scan")["name"]] == [b"f"]
    finally:
        shared_query.release()
    assert shared_query.captures(a, "scan") is None


def test_file_facts_are_the_same_with_and_without_the_shared_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings()
    paths = SOURCES[:5]
    shared = [file_facts(p, p.name, "pkg." + p.stem, settings) for p in paths]
    assert shared_query._slot is None  # released after each file
    monkeypatch.setattr(shared_query, "prime", lambda *a, **k: None)
    own = [file_facts(p, p.name, "pkg." + p.stem, settings) for p in paths]
    for a, b in zip(shared, own):
        assert dataclasses.asdict(a) == dataclasses.asdict(b)


@pytest.mark.parametrize("path", SOURCES[:5], ids=lambda p: p.name)
@pytest.mark.parametrize("mangle", [False, True], ids=["as-is", "mangled"])
def test_metrics_from_the_file_query_equal_each_function_s_own(path: Path, mangle: bool) -> None:
    """The batch path (one query for the file) and the editor's (one query per function) give the same
    figures, on error-free code and on code with syntax errors (zero-width recovery nodes)."""
    import random

    from sophia_artemis.analysis import python_metrics
    from sophia_artemis.analysis.functions import iter_functions

    data = bytearray(path.read_bytes())
    if mangle:
        rnd = random.Random(path.name)
        for _ in range(8):
            i = rnd.randrange(len(data))
            data[i:i] = rnd.choice([b":", b"(", b")", b"\n    ", b"if ", b"else", b"\n"])
    doc = Document(bytes(data), "python")
    shared_query.prime(doc.tree, ["scan", "metrics"])
    try:
        events = python_metrics.file_events(doc.tree)
        assert events is not None
        functions = [func for func, _ in iter_functions(doc)]
        assert functions
        for func in functions:
            assert python_metrics.compute_metrics(func, events) == python_metrics.compute_metrics(func), func.start_point
    finally:
        shared_query.release()
