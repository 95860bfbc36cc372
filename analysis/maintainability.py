"""File-level figures: lines, source lines and radon's maintainability index (computed off the keystroke path)."""

from __future__ import annotations

import logging
import re

log = logging.getLogger(__name__)


def _mi(source: str) -> float:
    """radon.metrics.mi_visit(source, multi=True) with the linear-time raw counter."""
    import ast

    from radon.metrics import ComplexityVisitor, h_visit_ast, mi_compute

    from .radon_raw import analyze

    tree = ast.parse(source)
    raw = analyze(source)
    comment_lines = raw.comments + raw.multi
    comments = comment_lines / float(raw.sloc) * 100 if raw.sloc != 0 else 0
    return mi_compute(
        h_visit_ast(tree).total.volume, ComplexityVisitor.from_ast(tree).total_complexity, raw.lloc, comments
    )


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
