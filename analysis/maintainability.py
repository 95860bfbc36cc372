"""File-level figures: lines, source lines and radon's maintainability index (computed off the keystroke path)."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def maintainability_index(source: str) -> float | None:
    """radon's MI (0-100, multi-line strings counted as comments, as `radon mi` does by default).

    None when Python cannot parse the text (radon needs `ast`); the server then keeps the last value."""
    from radon.metrics import mi_visit

    try:
        return round(mi_visit(source, True), 2)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    except Exception:  # radon on an odd but valid file: say so, do not fail the analysis
        log.exception("radon could not compute the maintainability index")
        return None


def line_counts(source: bytes) -> tuple[int, int]:
    """(loc, sloc): physical lines, and lines that are neither blank nor comment-only."""
    if not source:
        return 0, 0
    lines = source.splitlines()
    sloc = 0
    for line in lines:
        stripped = line.strip()
        if stripped and not stripped.startswith(b"#"):
            sloc += 1
    return len(lines), sloc
