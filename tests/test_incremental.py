"""Incremental analysis equals a fresh analysis of the same text, over random edit sequences on real files.

The reference applies each LSP edit to a plain Python string with its own UTF-16 arithmetic; the system under
test edits the tree-sitter tree in place, re-parses incrementally and measures only functions whose text
changed (shared FunctionCache). After every edit both the text and the full analysis must be identical.
"""

from __future__ import annotations

import argparse
import shlex
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sophia_artemis.analysis.config import Settings
from sophia_artemis.analysis.document import Document
from sophia_artemis.analysis.engine import analyze
from sophia_artemis.analysis.functions import FunctionCache
from sophia_artemis.analysis.model import Range

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

# Real code: stdlib modules shipped with the interpreter running the tests, plus a non-ASCII fixture.
REAL_FILES = {
    "textwrap": Path(textwrap.__file__),
    "shlex": Path(shlex.__file__),
    "argparse-head": Path(argparse.__file__),
    "unicode": FIXTURES / "real" / "unicode_sample.py",
}

SNIPPETS = [
    "x",
    " ",
    "\n",
    "\n    ",
    ":",
    "(",
    ")",
    "é",
    "😀",
    "if a and b or c:\n        pass\n",
    "for i in range(3):\n    ",
    "def g(a, b, *c, **d):\n    return a if b else c\n",
    "# TODO: later\n",
    "  # sophia: ignore[SA101]",
    "while x:\n        try:\n            y()\n        except E:\n            z()\n",
    "lambda q: q or 1",
    "'''",
    "\r\n",
]


def _load(name: str) -> str:
    text = REAL_FILES[name].read_text(encoding="utf-8")
    if name == "argparse-head":
        text = "\n".join(text.splitlines()[:700]) + "\n"
    return text


def _utf16_offsets(line: str) -> list[int]:
    """str index for each UTF-16 column at a code point boundary (column -> index)."""
    table = {0: 0}
    col = 0
    for i, ch in enumerate(line):
        col += 2 if ord(ch) > 0xFFFF else 1
        table[col] = i + 1
    return table


def _lsp_lines(text: str) -> list[tuple[int, int]]:
    """(start index, end index without terminator) of each LSP line (\\n, \\r\\n and \\r)."""
    lines = []
    start = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "\r\n":
            end = i
            if ch == "\r" and i + 1 < len(text) and text[i + 1] == "\n":
                i += 1
            lines.append((start, end))
            start = i + 1
        i += 1
    lines.append((start, len(text)))
    return lines


def _reference_offset(text: str, line: int, column: int) -> int:
    lines = _lsp_lines(text)
    if line >= len(lines):
        return len(text)
    start, end = lines[line]
    table = _utf16_offsets(text[start:end])
    col = min(column, max(table))
    while col not in table:  # inside a surrogate pair: clients never send that; snap left
        col -= 1
    return start + table[col]


@st.composite
def edits(draw, text_len_hint: int = 400):
    line = draw(st.integers(min_value=0, max_value=text_len_hint))
    col = draw(st.integers(min_value=0, max_value=90))
    span_lines = draw(st.sampled_from([0, 0, 0, 1, 2, 5]))
    end_col = draw(st.integers(min_value=0, max_value=90))
    insert = draw(st.one_of(st.sampled_from(SNIPPETS), st.just("")))
    return line, col, span_lines, end_col, insert


def _snap(text: str, line: int, col: int) -> tuple[int, int]:
    """Clamp to an existing line and a code-point boundary, as a real client's positions are."""
    lines = _lsp_lines(text)
    line = min(line, len(lines) - 1)
    start, end = lines[line]
    table = _utf16_offsets(text[start:end])
    col = min(col, max(table))
    while col not in table:
        col -= 1
    return line, col


def _fingerprint(result):
    return (
        [(f.rule, f.severity, f.message, f.range, sorted(f.data.items()), f.related) for f in result.findings],
        [(fn.qualname, fn.def_line, fn.range, fn.name_range, fn.metrics) for fn in result.functions],
        [(f.rule, f.range) for f in result.suppressed],
        result.file,
    )


CONFIG = Settings()


@pytest.mark.parametrize("name", sorted(REAL_FILES))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_incremental_equals_fresh(name, data):
    text = _load(name)
    doc = Document(text, version=1)
    cache = FunctionCache()
    analyze(doc, CONFIG, cache)  # warm the cache like an open document
    line_count = len(_lsp_lines(text))
    steps = data.draw(st.lists(edits(line_count), min_size=1, max_size=8), label="edits")
    for version, (line, col, span, end_col, insert) in enumerate(steps, start=2):
        line, col = _snap(text, line, col)
        end_line, end_col = _snap(text, line + span, end_col if span else col + (end_col % 4))
        start = _reference_offset(text, line, col)
        end = max(start, _reference_offset(text, end_line, end_col))
        text = text[:start] + insert + text[end:]
        doc.apply_change(Range.of(line, col, end_line, end_col), insert, version)
        assert doc.source == text.encode("utf-8")
        incremental = analyze(doc, CONFIG, cache)
        fresh = analyze(Document(text), CONFIG, None)
        assert _fingerprint(incremental) == _fingerprint(fresh)


def test_only_changed_functions_are_measured_again():
    text = _load("textwrap")
    doc = Document(text)
    cache = FunctionCache()
    first = analyze(doc, CONFIG, cache)
    misses = cache.misses
    # an edit inside one function body: exactly that function (and its enclosing ones) is re-measured
    target = next(f for f in first.functions if f.qualname == "TextWrapper._split")
    body_line = target.range.start.line + 2
    doc.apply_change(Range.of(body_line, 0, body_line, 0), "        x = 1\n", 2)
    analyze(doc, CONFIG, cache)
    assert cache.misses - misses == 1
    # lines inserted above every function move them all but change none: no function is re-measured
    doc.apply_change(Range.of(0, 0, 0, 0), "\n\n\n", 3)
    misses = cache.misses
    moved = analyze(doc, CONFIG, cache)
    assert cache.misses == misses
    assert moved.functions[0].def_line == first.functions[0].def_line + 3
