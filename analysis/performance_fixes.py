"""The mechanical fixes of performance findings, computed on demand (for a code action), never during analysis."""

from __future__ import annotations

import tree_sitter

from .document import Document
from .model import Finding, Range
from .performance_queries import constant_list
from .performance_scan import _scan, function_events


def set_literal_fix(doc: Document, finding: Finding) -> tuple[Range, str] | None:
    """The mechanical fix of an SA402 finding marked `fixable`: the list literal of constants (at the test,
    or where the only-tested variable is assigned) written as a set literal. None when there is none."""
    if finding.rule != "SA402" or finding.data.get("fixable") is not True:
        return None
    start, end = doc.index.offset(finding.range.start), doc.index.offset(finding.range.end)
    node = doc.tree.root_node.named_descendant_for_byte_range(start, end)
    if node is None:
        return None
    literal: tree_sitter.Node | None = node if node.type == "list" else None
    if node.type == "identifier":
        func = node.parent
        while func is not None and func.type != "function_definition":
            func = func.parent
        body = func.child_by_field_name("body") if func is not None else None
        if body is not None:
            assigned = _scan(function_events(func), body).assigned.get(node.text, [])
            if len(assigned) == 1 and assigned[0][0].type == "list":
                literal = assigned[0][0]
    if literal is None or not constant_list(literal):
        return None
    text = literal.text.decode("utf-8")
    return doc.index.node_range(literal), "{" + text[1:-1] + "}"
