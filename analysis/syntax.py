"""SA001: syntax errors. The rest of the file is still analysed.

tree-sitter finds where the file stops parsing (ERROR/MISSING nodes, cheaply, on every keystroke). Each
broken region - the top-level statements holding an error - is then parsed by Python's own compiler (parse
only, `PyCF_ONLY_AST`: nothing is executed), which gives the precise message users know ("expected ':'",
"'(' was never closed") and its exact position. Where Python accepts a region that tree-sitter rejected (a
grammar gap in tree-sitter), no error is reported.
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass
from functools import lru_cache

from .document import Document
from .model import Position, Range

MAX_ERRORS = 20
MAX_REGION_BYTES = 512_000  # beyond this, report tree-sitter's location without asking Python
_EXPECTED = re.compile(r"^expected '(?P<token>[^']{1,3})'$")


@dataclass(frozen=True, slots=True)
class SyntaxProblem:
    message: str
    range: Range
    missing: str | None  # a token that is simply missing and can be inserted at range.start


@lru_cache(maxsize=128)
def _python_error(region: str) -> tuple[str, int, int, int, int] | None:
    """(message, line, column, end line, end column) of Python's first error in `region` (0-based, in str
    characters of the decoded region), or None when Python parses it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning for odd escapes etc. is not our business here
            compile(region, "<region>", "exec", ast.PyCF_ONLY_AST | ast.PyCF_TYPE_COMMENTS, dont_inherit=True)
    except SyntaxError as exc:
        line = max((exc.lineno or 1) - 1, 0)
        col = max((exc.offset or 1) - 1, 0)
        end_line = max((exc.end_lineno or exc.lineno or 1) - 1, line)
        end_col = (exc.end_offset or 0) - 1
        if end_line == line and end_col <= col:
            end_col = col
        return (exc.msg, line, col, end_line, max(end_col, 0))
    except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
        return (f"{exc.__class__.__name__}: {exc}", 0, 0, 0, 0)
    return None


def _regions(doc: Document) -> list[tuple[int, int]]:
    """Byte ranges of runs of top-level statements that hold an error, widened to whole lines."""
    out: list[tuple[int, int]] = []
    source = doc.source
    for child in doc.tree.root_node.children:
        if not (child.has_error or child.is_missing or child.is_error):
            continue
        start = source.rfind(b"\n", 0, child.start_byte) + 1
        end = source.find(b"\n", child.end_byte)
        end = len(source) if end == -1 else end + 1
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


def _position_in_region(doc: Document, region_start: int, text: str, line: int, col: int) -> Position:
    lines = text.splitlines(keepends=True) or [""]
    line = min(line, len(lines) - 1)
    prefix = "".join(lines[:line]) + lines[line][: max(col, 0)]
    return doc.position_of(region_start + len(prefix.encode("utf-8", "replace")))


def _tree_sitter_problem(doc: Document, start: int, end: int) -> SyntaxProblem:
    node = doc.tree.root_node.descendant_for_byte_range(start, max(start, end - 1))
    stack = [node] if node is not None else []
    while stack:
        n = stack.pop()
        if n.is_missing:
            pos = doc.position_of(n.start_byte)
            return SyntaxProblem(f"Syntax error: missing '{n.type}'", Range(pos, pos), n.type)
        if n.is_error:
            line_end = doc.source.find(b"\n", n.start_byte)
            stop = n.end_byte if line_end == -1 else min(n.end_byte, line_end)
            return SyntaxProblem("Syntax error", doc.index.range(n.start_byte, max(stop, n.start_byte)), None)
        stack.extend(c for c in reversed(n.children) if c.has_error or c.is_missing or c.is_error)
    pos = doc.position_of(start)
    return SyntaxProblem("Syntax error", Range(pos, pos), None)


def syntax_problems(doc: Document) -> list[SyntaxProblem]:
    if not doc.tree.root_node.has_error:
        return []
    problems: list[SyntaxProblem] = []
    for start, end in _regions(doc)[:MAX_ERRORS]:
        region = doc.source[start:end]
        if len(region) > MAX_REGION_BYTES:
            problems.append(_tree_sitter_problem(doc, start, end))
            continue
        text = region.decode("utf-8", "replace")
        bom = 1 if text.startswith("\ufeff") else 0  # Python accepts a BOM in bytes only
        found = _python_error(text[bom:])  # a str, so Python's offsets are in characters, not bytes
        if found is None:
            continue
        message, line, col, end_line, end_col = found
        col += bom if line == 0 else 0
        end_col += bom if end_line == 0 else 0
        begin = _position_in_region(doc, start, text, line, col)
        finish = _position_in_region(doc, start, text, end_line, end_col)
        if (finish.line, finish.character) < (begin.line, begin.character):
            finish = begin
        expected = _EXPECTED.match(message)
        problems.append(
            SyntaxProblem(f"Syntax error: {message}", Range(begin, finish), expected.group("token") if expected else None)
        )
    return problems
