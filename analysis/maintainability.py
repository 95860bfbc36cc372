"""File-level figures: lines, source lines and radon's maintainability index (computed off the keystroke path)."""

from __future__ import annotations

import gc
import logging
import re
from typing import Any

log = logging.getLogger(__name__)


def _mi(source: str, tree: Any = None) -> float:
    """radon.metrics.mi_visit(source, multi=True), to the last bit: radon's own formula (mi_compute) fed
    with radon's figures computed faster - the raw counts by radon_raw, and the Halstead volume and total
    cyclomatic complexity read off `tree`, the tree-sitter tree of `source` (halstead_ts.py), or, without
    a tree or for a file that tree cannot give them exactly for, in one walk over the `ast` (halstead.py).

    Without a tree the `ast` path is taken: parsing with tree-sitter here would cost as much as `ast.parse`
    (0.72 s against 0.75 s on django), and only CPython says whether the text is Python at all."""
    from radon.metrics import mi_compute

    from .radon_raw import analyze

    figures = _from_tree(source, tree) if tree is not None else None
    volume, complexity = figures if figures is not None else _from_ast(source)
    raw = analyze(source)
    comment_lines = raw.comments + raw.multi
    comments = comment_lines / float(raw.sloc) * 100 if raw.sloc != 0 else 0
    return mi_compute(volume, complexity, raw.lloc, comments)


def _from_tree(source: str, tree: Any) -> tuple[float, int] | None:
    """(Halstead volume, cyclomatic total) from tree-sitter's tree; None when it cannot give radon's."""
    from .halstead_ts import Unmapped, volume_and_complexity

    try:
        if not source.isascii():
            source.encode("utf-8")  # a lone surrogate: the tree (of UTF-8 bytes) is not quite this text
        return volume_and_complexity(tree)
    except (Unmapped, UnicodeEncodeError) as e:
        log.debug("maintainability index from ast: %s", e)
        return None


def _from_ast(source: str) -> tuple[float, int]:
    import ast

    from .halstead import halstead_volume_and_complexity

    # ast.parse makes ~10 objects a line, and each batch of 700 wakes the cyclic collector, which finds
    # nothing (an ast has no cycles) but walks ever more of the tree: a fifth of the parse time
    collect = gc.isenabled()
    if collect:
        gc.disable()
    try:
        tree = ast.parse(source)
        return halstead_volume_and_complexity(tree)
    finally:
        if collect:
            gc.enable()


def maintainability_index(source: str, tree: Any = None) -> float | None:
    """radon's MI (0-100, multi-line strings counted as comments, as `radon mi` does by default).

    `tree`: the tree-sitter tree of `source` when the caller has one (a Document's): the figures are then
    read off it, unless it has a syntax error or a construct halstead_ts cannot map (then `ast` is used).
    None when Python cannot parse the text (radon needs `ast`); the server then keeps the last value."""
    try:
        return round(_mi(source, tree), 2)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    except Exception:  # radon on an odd but valid file: say so, do not fail the analysis
        log.exception("radon could not compute the maintainability index")
        return None


_CODE_LINE = re.compile(rb"\n[ \t\f\v]*[^ \t\f\v\r\n#]")  # anchored on a literal: scans at C speed


def line_counts(source: bytes) -> tuple[int, int]:
    """(loc, sloc): physical lines, and lines that are neither blank nor comment-only."""
    if not source:
        return 0, 0
    if b"\r" in source:  # CR line ends: let splitlines decide what a line is
        lines = source.splitlines()
        return len(lines), sum(1 for ln in lines if (st := ln.strip()) and not st.startswith(b"#"))
    return len(source.splitlines()), len(_CODE_LINE.findall(b"\n" + source))
