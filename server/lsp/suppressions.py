"""Text edits that suppress a finding: on its line (`# sophia: ignore[...]`) or for the project (pyproject.toml).

Pure text in, text out (no protocol types), so the edits are easy to test and reuse.
"""

from __future__ import annotations

import re

from sophia_artemis.analysis import AnalysisResult, Document, Finding, Range
from sophia_artemis.analysis.config import TOOL_KEY

# PEP 8 wants two spaces before an inline comment; ruff/pycodestyle would flag one.
INLINE_GAP = "  "
_STRING_NODES = {"string", "concatenated_string", "template_string"}


def suppression_comment(rules: list[str], reason: str | None, dialect: str = "python") -> str:
    """`# sophia: ignore[...]` (`// sophia: ignore[...]` in JavaScript and TypeScript)."""
    mark = "#" if dialect == "python" else "//"
    comment = f"{mark} sophia: ignore[{', '.join(rules)}]"
    return f"{comment} -- {reason}" if reason else comment


def line_suppression(doc: Document, result: AnalysisResult, finding: Finding) -> tuple[Range, str] | None:
    """The (range, new text) that suppresses `finding` on its first line, or None when no comment can go
    there (the line ends inside a multi-line string, or continues with a backslash)."""
    line = finding.range.start.line
    index = doc.index
    dialect = getattr(doc, "dialect", "python")
    if line >= index.line_count:
        return None
    for s in result.suppressions:
        if s.line == line and s.rules:
            # merge into the existing comment, keeping its reason
            rules = sorted(s.rules | {finding.rule.upper()})
            return s.range, suppression_comment(rules, s.reason, dialect)
    raw = index.line_bytes(line)
    if raw.rstrip().endswith(b"\\"):
        return None
    eol = index.starts[line] + len(raw)
    if _inside_string(doc, eol):
        return None
    end = index.position(eol)
    gap = "" if not raw.strip() else INLINE_GAP
    return Range(end, end), gap + suppression_comment([finding.rule], None, dialect)


def _inside_string(doc: Document, offset: int) -> bool:
    node = doc.tree.root_node.descendant_for_byte_range(offset, offset)
    while node is not None:
        if node.type in _STRING_NODES:
            return node.start_byte < offset < node.end_byte
        node = node.parent
    return False


class ProjectEditError(ValueError):
    """pyproject.toml cannot be edited safely (it does not parse, or the table has an odd shape)."""


def add_project_ignore(text: str, rule: str) -> str:
    """`text` (a pyproject.toml, possibly empty) with `rule` added to `[tool.sophia-artemis] ignore`.

    tomlkit keeps every other byte - comments, order, spacing - as it was."""
    import tomlkit  # imported on first use: it costs a sizeable share of the server's start-up time
    from tomlkit.items import Array, Table

    try:
        doc = tomlkit.parse(text)
    except Exception as exc:
        raise ProjectEditError(f"pyproject.toml does not parse: {exc}") from exc
    if text and not text.endswith("\n"):
        # tomlkit appends new tables right after the last byte; keep them on a line of their own
        doc = tomlkit.parse(text + "\n")
    tool = doc.get("tool")
    if tool is None:
        tool = tomlkit.table(is_super_table=True)
        doc.append("tool", tool)
    if not isinstance(tool, (Table, dict)):
        raise ProjectEditError("pyproject.toml: 'tool' is not a table")
    table = tool.get(TOOL_KEY)
    if table is None:
        table = tomlkit.table()
        tool.append(TOOL_KEY, table)
    if not isinstance(table, dict):
        raise ProjectEditError(f"pyproject.toml: [tool.{TOOL_KEY}] is not a table")
    ignore = table.get("ignore")
    if ignore is None:
        array = tomlkit.array()
        array.append(rule)
        table["ignore"] = array
    elif isinstance(ignore, (Array, list)):
        if rule not in [str(v).strip().upper() for v in ignore]:
            ignore.append(rule)
    elif isinstance(ignore, str):
        items = [v for v in re.split(r"[,\s]+", ignore) if v]
        if rule not in [v.upper() for v in items]:
            items.append(rule)
        array = tomlkit.array()
        array.extend(items)
        table["ignore"] = array
    else:
        raise ProjectEditError(f"pyproject.toml: [tool.{TOOL_KEY}] ignore is neither a list nor a string")
    return tomlkit.dumps(doc)
