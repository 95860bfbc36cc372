"""What the SA4xx rules read of one function body (analysis/performance.py): assignments, augmented
assignments, membership tests and calls, each with the loops that run it again and again, from the nodes one
query lists (for the whole file on the batch path, shared with the other readers; for one function in the
editor)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from typing import Any

import tree_sitter

from .imports.languages import query


class _Scan:
    """What one walk of a function body collects for the rules."""

    def __init__(self) -> None:
        self.assigned: dict[bytes, list[tuple[tree_sitter.Node, tuple[tree_sitter.Node, ...]]]] = {}
        self.augmented: list[tuple[tree_sitter.Node, tuple[tree_sitter.Node, ...]]] = []
        self.membership: list[tuple[tree_sitter.Node, tree_sitter.Node, tuple[tree_sitter.Node, ...]]] = []
        self.calls: list[tuple[tree_sitter.Node, tuple[tree_sitter.Node, ...]]] = []
        self.loop_targets: dict[int, set[bytes]] = {}  # loop node id -> names bound by its `for` target
        self.declared: set[bytes] = set()  # global / nonlocal names
        self.prefetches = False  # the function calls prefetch_related / uses Prefetch(...)


# the node kinds the scan reacts to, by capture name (shared_query part "performance")
QUERY = """
(for_statement) @for
(while_statement) @while
[(list_comprehension) (set_comprehension) (dictionary_comprehension) (generator_expression)] @comp
(assignment) @assign
(augmented_assignment) @aug
(comparison_operator) @cmp
(call) @call
[(global_statement) (nonlocal_statement)] @declare
[(function_definition) (class_definition) (lambda) (decorated_definition) (interpolation)] @skip
"""


class Events:
    """The nodes of a tree (or of one function's subtree) the scan reacts to: (start, end, capture, node),
    sorted by start."""

    __slots__ = ("items", "starts")

    def __init__(self, caps: dict[str, list[tree_sitter.Node]]) -> None:
        items = [(n.start_byte, n.end_byte, name, n) for name, nodes in caps.items() for n in nodes]
        items.sort(key=_by_start)
        self.items = items
        self.starts = [item[0] for item in items]


def _by_start(item: tuple[int, int, str, tree_sitter.Node]) -> int:
    return item[0]


def _walk_order(item: tuple[int, int, str, tree_sitter.Node]) -> tuple[int, int]:
    # an enclosing node before what it encloses, a later sibling before an earlier one (the rules report the
    # first pattern they meet in this order, so the order is part of what they find)
    return (-item[1], item[0])


def file_events(tree: tree_sitter.Tree) -> Events | None:
    """The `Events` of `tree` when it was primed for them (shared_query part "performance"), else None."""
    from . import shared_query

    caps = shared_query.captures(tree, "performance")
    return None if caps is None else Events(caps)


def function_events(func: tree_sitter.Node) -> Events:
    """The `Events` of one function's subtree (its own query: the editor's path)."""
    return Events(tree_sitter.QueryCursor(query("python", QUERY)).captures(func))


def _scan(events: Events, body: tree_sitter.Node) -> _Scan:
    """What the rules need of one function body, from the listed nodes inside it.

    A node is in a loop's hot part when that part holds it: a `for`'s body (its target is not read at all,
    its iterable and `else` run once), all of a `while` but its `else`, all of a comprehension but its first
    iterable (run once; the first target is not read). Nested definitions, lambdas and f-string
    interpolations are left out, with all they hold."""
    scan = _Scan()
    lo = bisect_left(events.starts, body.start_byte)
    hi = bisect_left(events.starts, body.end_byte, lo)
    inside = [item for item in events.items[lo:hi] if item[1] <= body.end_byte]
    inside.sort(key=_walk_order)
    # enclosing loops: (start, end, loop node, hot ranges, ranges not read)
    frames: list[tuple[int, int, tree_sitter.Node, tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]] = []
    skip_end = -1
    skip_start = 0
    for start, end, kind, node in inside:
        if skip_start <= start and end <= skip_end:
            continue
        while frames and not (frames[-1][0] <= start and end <= frames[-1][1]):
            frames.pop()
        if frames and any(a <= start and end <= b for a, b in frames[-1][4]):
            continue
        loops = tuple(f[2] for f in frames if any(a <= start and end <= b for a, b in f[3]))
        if kind == "skip":
            skip_start, skip_end = start, end
            continue
        if kind == "for":
            left, loop_body = node.child_by_field_name("left"), node.child_by_field_name("body")
            scan.loop_targets[node.id] = set(_bound_names(left))
            hot = ((loop_body.start_byte, loop_body.end_byte),) if loop_body is not None else ()
            unread = ((left.start_byte, left.end_byte),) if left is not None else ()
            frames.append((start, end, node, hot, unread + _unread_of(frames)))
        elif kind == "while":
            other = next((c for c in node.named_children if c.type == "else_clause"), None)
            frames.append((start, end, node, ((start, other.start_byte if other is not None else end),), _unread_of(frames)))
        elif kind == "comp":
            clause = next((c for c in node.named_children if c.type == "for_in_clause"), None)
            right = clause.child_by_field_name("right") if clause is not None else None
            if clause is None:
                hot: tuple[tuple[int, int], ...] = ((start, end),)
                unread: tuple[tuple[int, int], ...] = ()
            elif right is None:
                hot, unread = ((start, clause.start_byte), (clause.end_byte, end)), ((clause.start_byte, clause.end_byte),)
            else:
                hot = ((start, right.start_byte), (right.end_byte, end))
                unread = ((clause.start_byte, right.start_byte), (right.end_byte, clause.end_byte))
            frames.append((start, end, node, hot, unread + _unread_of(frames)))
        elif kind == "assign":
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if left is not None and left.type == "identifier":
                scan.assigned.setdefault(left.text, []).append((right if right is not None else node, loops))
            else:  # `a, b = ...`: a binding of unknown kind (it resets a string, it is not a list)
                for name in _bound_names(left):
                    scan.assigned.setdefault(name, []).append((node, loops))
        elif kind == "aug":
            if loops:
                scan.augmented.append((node, loops))
        elif kind == "cmp":
            if loops:
                _membership(node, loops, scan)
        elif kind == "call":
            if loops:
                scan.calls.append((node, loops))
        else:  # declare: global / nonlocal
            scan.declared.update(c.text for c in node.named_children if c.type == "identifier")
    return scan


def _unread_of(frames: list[Any]) -> tuple[tuple[int, int], ...]:
    """What the enclosing loop leaves unread stays unread inside the loop it holds."""
    return frames[-1][4] if frames else ()


def _bound_names(target: tree_sitter.Node | None) -> Iterator[bytes]:
    if target is None:
        return
    if target.type == "identifier":
        yield target.text
    elif target.type in ("pattern_list", "tuple_pattern", "list_pattern", "tuple", "list"):
        for child in target.named_children:
            yield from _bound_names(child)


def _membership(node: tree_sitter.Node, loops: tuple[tree_sitter.Node, ...], scan: _Scan) -> None:
    children = node.children
    for i, child in enumerate(children):
        if child.type in ("in", "not in") and i + 1 < len(children):
            scan.membership.append((node, children[i + 1], loops))
