"""File-level figures: lines, source lines and radon's maintainability index (computed off the keystroke path)."""

from __future__ import annotations

import gc
import logging
import re

log = logging.getLogger(__name__)


def _mi(source: str) -> float:
    """radon.metrics.mi_visit(source, multi=True), to the last bit: radon's own formula (mi_compute) fed
    with radon's figures computed faster - the raw counts by radon_raw, and the Halstead volume and total
    cyclomatic complexity in one walk over the one `ast` (halstead.py). 12x faster than radon on django."""
    import ast

    from radon.metrics import mi_compute

    from .halstead import halstead_volume_and_complexity
    from .radon_raw import analyze

    # ast.parse makes ~10 objects a line, and each batch of 700 wakes the cyclic collector, which finds
    # nothing (an ast has no cycles) but walks ever more of the tree: a fifth of the parse time
    collect = gc.isenabled()
    if collect:
        gc.disable()
    try:
        tree = ast.parse(source)
        volume, complexity = halstead_volume_and_complexity(tree)
        del tree
    finally:
        if collect:
            gc.enable()
    raw = analyze(source)
    comment_lines = raw.comments + raw.multi
    comments = comment_lines / float(raw.sloc) * 100 if raw.sloc != 0 else 0
    return mi_compute(volume, complexity, raw.lloc, comments)


def maintainability_index(source: str) -> float | None:
    """radon's MI (0-100, multi-line strings counted as comments, as `radon mi` does by default).

    None when Python cannot parse the text (radon needs `ast`); the server then keeps the last value."""
    try:
        return round(_mi(source), 2)
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
