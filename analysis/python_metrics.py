"""Per-function figures for Python, computed from one tree-sitter `function_definition` subtree.

`compute_metrics(func)` reads nothing but `func`'s own subtree, so its result can be cached under a hash of
the function's text. It never raises on ERROR/MISSING nodes: they are walked like any other node.

Definitions (docs/rules-metrics-notes.md has the long form):

* cyclomatic - radon 6.0.1's `ComplexityVisitor`, node for node: 1 + `if`/`elif` + ternaries + loops (+1 more
  for a loop `else`) + `except` handlers (+1 for a `try ... else`; a `try` with `except*` counts nothing, as radon
  does not know `TryStar`) + one per `and`/`or` + per comprehension `for` clause and its `if` clauses + `assert`
  (whose expression radon does not descend into) + `match` cases (minus one when a case is `case _`/`case name`).
  Nested `def`/`class` (with their decorators, defaults and bases) add nothing; lambdas are part of the body.
* cognitive - SonarSource Cognitive Complexity as sonar-python implements it, plus `match` and direct
  recursion as the white paper asks, and lambdas adding a nesting level.
* loc - physical lines from the `def` line to the last line holding code of the definition.
* params - parameters, without a leading `self`/`cls` and without the bare `*` and `/` markers.
* depth / deepest - how deeply blocks of compound statements nest inside the body.

Only the nodes of the kinds that matter are visited, as one query (run in C) lists them: for the whole file
once on the batch path (`file_events`, shared_query part "metrics"), for the one function in the editor
(`function_events`). A small stack of "frames" restores the walk state when the node that changed it is
left (`_replay`). Visiting every node of the body with a TreeCursor instead cost 1.7x as much on the
standard library.
"""

from __future__ import annotations

from bisect import bisect_left

import tree_sitter

from .model import Metrics

# Bump when any figure's definition changes: cached Metrics are keyed by it.
ANALYZER_VERSION = "1"

# --- what each node kind does during the walk (small ints, dispatched in one if-chain) ---------------------
_IF = 1  # if_statement
_ELIF = 2  # elif_clause
_ELSE = 3  # else_clause (of if, for, while, try)
_LOOP = 4  # for_statement, while_statement (async for is a for_statement)
_TRY = 5  # try_statement
_EXCEPT = 6  # except_clause (also except*)
_FINALLY = 7  # finally_clause
_WITH = 8  # with_statement
_MATCH = 9  # match_statement
_CASE = 10  # case_clause
_BLOCK = 11  # block
_TERNARY = 12  # conditional_expression
_BOOL = 13  # boolean_operator
_COMPREHENSION = 14  # list/set/dict comprehension, generator expression
_ASSERT = 15  # assert_statement
_LAMBDA = 16  # lambda
_CALL = 17  # call (direct recursion)
_DEF = 18  # nested function_definition
_CLASS = 19  # nested class_definition
_DECORATED = 20  # nested decorated_definition

_KIND: dict[str, int] = {
    "if_statement": _IF,
    "elif_clause": _ELIF,
    "else_clause": _ELSE,
    "for_statement": _LOOP,
    "while_statement": _LOOP,
    "try_statement": _TRY,
    "except_clause": _EXCEPT,
    "except_group_clause": _EXCEPT,
    "finally_clause": _FINALLY,
    "with_statement": _WITH,
    "match_statement": _MATCH,
    "case_clause": _CASE,
    "block": _BLOCK,
    "conditional_expression": _TERNARY,
    "boolean_operator": _BOOL,
    "list_comprehension": _COMPREHENSION,
    "set_comprehension": _COMPREHENSION,
    "dictionary_comprehension": _COMPREHENSION,
    "generator_expression": _COMPREHENSION,
    "assert_statement": _ASSERT,
    "lambda": _LAMBDA,
    "call": _CALL,
    "function_definition": _DEF,
    "class_definition": _CLASS,
    "decorated_definition": _DECORATED,
}

# A block owned by one of these is one level deeper for `depth` (if/elif/else share their if's level because
# elif/else clauses are children of the if_statement, not of its block). Not: function/class bodies and the
# body of `match` (which holds the case clauses; a case's own block is the level).
_DEPTH_OWNERS = frozenset({_IF, _ELIF, _ELSE, _LOOP, _TRY, _EXCEPT, _FINALLY, _WITH, _CASE})
# ... and one level deeper for cognitive nesting (sonar-python: every statement list except those of try,
# finally, with, def and class).
_NEST_OWNERS = frozenset({_IF, _ELIF, _ELSE, _LOOP, _EXCEPT, _CASE})

_PARAM_SKIP = frozenset({"keyword_separator", "positional_separator", "comment", "(", ")", ",", "ERROR"})
_SELF_NAMES = (b"self", b"cls")


def compute_metrics(func: tree_sitter.Node, events: Events | None = None) -> Metrics:
    """Cyclomatic and cognitive complexity, length, parameter count and block depth of one function.

    `events`: `file_events` of the function's tree, when the caller has them for all its functions (else
    the function's own are listed by a query over it)."""
    name_node = func.child_by_field_name("name")
    name = name_node.text if name_node is not None else None
    body = func.child_by_field_name("body")
    if body is None:
        cyclomatic, cognitive, depth, deepest_block, loops = 1, 0, 0, None, 0
    else:
        if events is None:
            events = function_events(func)
        cyclomatic, cognitive, depth, deepest_block, loops = _replay(events, body, name or b"")
    deepest = None
    if deepest_block is not None:
        point = _first_statement(deepest_block).start_point
        deepest = (point.row - func.start_point.row, point.column)
    return Metrics(
        cyclomatic=cyclomatic,
        cognitive=cognitive,
        loc=_loc(func),
        params=_params(func.child_by_field_name("parameters")),
        depth=depth,
        deepest=deepest,
        loops=loops,
    )


# ---- the same walk over the nodes that matter only, listed by one query over the file ----------------------

# the kinds of _KIND, by capture name (shared_query part "metrics")
QUERY = """
(if_statement) @if
(elif_clause) @elif
(else_clause) @else
[(for_statement) (while_statement)] @loop
(try_statement) @try
(except_clause) @except
(finally_clause) @finally
(with_statement) @with
(match_statement) @match
(case_clause) @case
(block) @block
(conditional_expression) @ternary
(boolean_operator) @bool
[(list_comprehension) (set_comprehension) (dictionary_comprehension) (generator_expression)] @comp
(assert_statement) @assert
(lambda) @lambda
(call) @call
(function_definition) @def
(class_definition) @class
(decorated_definition) @decorated
"""
_CAPTURE_KIND = {
    "if": _IF, "elif": _ELIF, "else": _ELSE, "loop": _LOOP, "try": _TRY, "except": _EXCEPT,
    "finally": _FINALLY, "with": _WITH, "match": _MATCH, "case": _CASE, "block": _BLOCK, "ternary": _TERNARY,
    "bool": _BOOL, "comp": _COMPREHENSION, "assert": _ASSERT, "lambda": _LAMBDA, "call": _CALL, "def": _DEF,
    "class": _CLASS, "decorated": _DECORATED,
}  # fmt: skip


class Events:
    """The nodes of a file's tree that the walk reacts to, in walk order: by start byte, an enclosing node
    before what it encloses (longer first; a block before the one statement it may wrap whole)."""

    __slots__ = ("call_starts", "calls", "items", "offset", "source", "starts")

    def __init__(
        self,
        items: list[tuple[int, int, int, int, tree_sitter.Node]],
        calls: list[tree_sitter.Node],
        source: bytes,
        offset: int = 0,
    ) -> None:
        self.source = source  # the text they were listed from, which starts at byte `offset` of the file
        self.offset = offset
        items.sort(key=_event_order)
        self.items = items  # (start byte, end byte, kind, 0 for a block else 1, node)
        self.starts = [item[0] for item in items]
        # calls change no walk state: only direct recursion counts them, when the body names the function
        calls.sort(key=_start_byte)
        self.calls = calls
        self.call_starts = [c.start_byte for c in calls]


def _start_byte(node: tree_sitter.Node) -> int:
    return node.start_byte


def _event_order(item: tuple[int, int, int, int, tree_sitter.Node]) -> tuple[int, int, int]:
    return (item[0], -item[1], item[3])


def file_events(tree: tree_sitter.Tree) -> Events | None:
    """The `Events` of `tree` when it was primed for them (shared_query part "metrics"), else None."""
    from . import shared_query

    caps = shared_query.captures(tree, "metrics")
    return None if caps is None else _events(caps, tree.root_node.text or b"")


def function_events(func: tree_sitter.Node) -> Events:
    """The `Events` of one function's subtree (its own query: the editor's path)."""
    from .imports.languages import query

    caps = tree_sitter.QueryCursor(query("python", QUERY)).captures(func)
    return _events(caps, func.text or b"", func.start_byte)


def _events(caps: dict[str, list[tree_sitter.Node]], source: bytes, offset: int = 0) -> Events:
    items: list[tuple[int, int, int, int, tree_sitter.Node]] = []
    for name, nodes in caps.items():
        if name != "call":
            kind = _CAPTURE_KIND[name]
            tie = 0 if kind == _BLOCK else 1
            items.extend((n.start_byte, n.end_byte, kind, tie, n) for n in nodes)
    return Events(items, caps.get("call", []), source, offset)


def _replay(events: Events, body: tree_sitter.Node, name: bytes) -> tuple[int, int, int, tree_sitter.Node | None, int]:
    """The figures of the function whose body is `body`, from the listed nodes inside it, in walk order.

    A node of some kinds changes the walk's state (nesting, depth, whether cyclomatic counts, which compound
    statement owns the next block) and saves the state before it in a frame, restored once a node starts at
    or after its end. Byte ranges nest as the tree does (a zero-width node that error recovery inserts at
    the very end of another is taken as its last child, which it nearly always is)."""
    depth_owners = _DEPTH_OWNERS
    nest_owners = _NEST_OWNERS
    name_len = len(name)
    cc = 1
    cog = 0
    max_depth = 0
    deepest_block = None
    loops = 0
    bool_members: set[tuple[int, int]] = set()
    nest = 0
    depth = 0
    cc_on = True
    owner = 0
    in_class = False
    frames: list[tuple[int, int, int, bool, int, bool]] = []  # (end byte of the node that pushed it, state)
    push = frames.append

    body_start, body_end = body.start_byte, body.end_byte
    if name_len and events.source.find(name, body_start - events.offset, body_end - events.offset) >= 0:
        calls = events.calls
        j = bisect_left(events.call_starts, body_start)
        while j < len(calls) and calls[j].start_byte < body_end:
            cog += _recursive(calls[j], name, name_len)
            j += 1
    items = events.items
    i = bisect_left(events.starts, body_start)
    n = len(items)
    if i < n and items[i][0] == body_start and items[i][1] == body_end and items[i][2] == _BLOCK:
        i += 1  # the body itself: the walk starts with its children
    while i < n:
        start, end, k, _, node = items[i]
        i += 1
        if start >= body_end and (start > body_end or end > start):
            break
        if frames and frames[-1][0] <= start:
            # (a zero-width node error recovery put at the very end of another is taken as its last child)
            while frames and (frames[-1][0] < start or (frames[-1][0] == start and end > start)):
                _, nest, depth, cc_on, owner, in_class = frames.pop()
        if k == _BLOCK:
            push((end, nest, depth, cc_on, owner, in_class))
            if owner in depth_owners:
                depth += 1
                if depth > max_depth:
                    max_depth = depth
                    deepest_block = node
            if owner in nest_owners:
                nest += 1
            owner = 0
        elif k == _BOOL:
            if cc_on:
                cc += 1
            if (start, end) not in bool_members:
                cog += _bool_sequences(node, bool_members)
        elif k == _TERNARY:
            if cc_on:
                cc += 1
            cog += 1 + nest
            push((end, nest, depth, cc_on, owner, in_class))
            nest += 1
        elif k == _IF or k == _LOOP:
            if k == _LOOP:
                loops += 1
            if cc_on:
                cc += 1
            cog += 1 + nest
            push((end, nest, depth, cc_on, owner, in_class))
            owner = k
        elif k == _ELIF or k == _ELSE:
            # radon: a loop's `else` is +1 (a try's `else` is counted at the try); an if's `else` is 0
            if cc_on and (k == _ELIF or owner == _LOOP):
                cc += 1
            cog += 1
            push((end, nest, depth, cc_on, owner, in_class))
            owner = k
        elif k == _COMPREHENSION:
            loops += 1
            if cc_on:
                for child in node.children:
                    ct = child.type
                    if ct == "for_in_clause" or ct == "if_clause":
                        cc += 1
        elif k == _TRY:
            if cc_on:
                cc += _try_cyclomatic(node)
            push((end, nest, depth, cc_on, owner, in_class))
            owner = k
        elif k == _EXCEPT:
            cog += 1 + nest
            push((end, nest, depth, cc_on, owner, in_class))
            owner = k
        elif k == _FINALLY or k == _WITH or k == _CASE:
            push((end, nest, depth, cc_on, owner, in_class))
            owner = k
        elif k == _MATCH:
            if cc_on:
                cc += _match_cyclomatic(node)
            cog += 1 + nest
            push((end, nest, depth, cc_on, owner, in_class))
            owner = k
        elif k == _ASSERT:
            if cc_on:
                cc += 1
                push((end, nest, depth, cc_on, owner, in_class))
                cc_on = False
        elif k == _LAMBDA:
            push((end, nest, depth, cc_on, owner, in_class))
            nest += 1
        elif k == _DEF:
            push((end, nest, depth, cc_on, owner, in_class))
            if in_class:
                nest = 0
            elif not _is_wrapper(node):
                nest += 1
            cc_on = False
            owner = k
            in_class = False
        elif k == _CLASS:
            push((end, nest, depth, cc_on, owner, in_class))
            nest = 0
            cc_on = False
            owner = k
            in_class = True
        else:  # _DECORATED
            push((end, nest, depth, cc_on, owner, in_class))
            cc_on = False
    return cc, cog, max_depth, deepest_block, loops


def _recursive(call: tree_sitter.Node, name: bytes, name_len: int) -> int:
    """1 for a call of the function itself by name (`name(...)`, `self.name(...)`, `cls.name(...)`)."""
    callee = call.child(0)
    if callee is None:
        return 0
    ct = callee.type
    if ct == "identifier":
        return int(callee.end_byte - callee.start_byte == name_len and callee.text == name)
    if ct == "attribute":
        attr = callee.child_by_field_name("attribute")
        if attr is not None and attr.end_byte - attr.start_byte == name_len:
            obj = callee.child_by_field_name("object")
            return int(obj is not None and obj.type == "identifier" and obj.text in _SELF_NAMES and attr.text == name)
    return 0


def _bool_sequences(root: tree_sitter.Node, members: set[tuple[int, int]]) -> int:
    """Runs of like operators in the chain of `and`/`or` rooted at `root`, read left to right.

    Operands that are themselves `and`/`or` expressions - parenthesized or not - belong to the chain
    (recorded in `members` so the walk does not count them again); anything else starts a new chain.
    """
    ops: list[tuple[int, str]] = []
    stack = [root]
    while stack:
        node = stack.pop()
        for child in node.children:
            t = child.type
            if t == "and" or t == "or":
                ops.append((child.start_byte, t))
            elif t == "boolean_operator":
                members.add((child.start_byte, child.end_byte))
                stack.append(child)
            elif t == "parenthesized_expression":
                stack.append(child)
    if not ops:
        return 0
    ops.sort()
    runs = 1
    previous = ops[0][1]
    for _, t in ops:
        if t != previous:
            runs += 1
            previous = t
    return runs


def _try_cyclomatic(node: tree_sitter.Node) -> int:
    """radon: handlers + 1 for an `else`; a `try` with `except*` is an ast.TryStar, which radon ignores."""
    handlers = 0
    has_else = False
    for child in node.children:
        t = child.type
        if t == "except_clause":
            for token in child.children:
                if token.type == "*":
                    return 0
            handlers += 1
        elif t == "except_group_clause":
            return 0
        elif t == "else_clause":
            has_else = True
    return handlers + has_else


def _match_cyclomatic(node: tree_sitter.Node) -> int:
    """radon: number of cases, minus one if any case is `case _:` or a bare capture `case name:`."""
    body = node.child_by_field_name("body")
    if body is None:
        return 0
    cases = 0
    catch_all = False
    for child in body.children:
        if child.type == "case_clause":
            cases += 1
            if not catch_all and _is_irrefutable_case(child):
                catch_all = True
    return max(0, cases - catch_all)


def _is_irrefutable_case(case: tree_sitter.Node) -> bool:
    """True for what radon sees as `MatchAs(pattern=None)`: `_`, a bare name, either in parentheses."""
    patterns = []
    for child in case.children:
        t = child.type
        if t == "case_pattern":
            patterns.append(child)
        elif t == ",":  # `case x, y:` / `case x,:` is a sequence pattern
            return False
    if len(patterns) != 1:
        return False
    pattern = patterns[0]
    while True:
        parts = [c for c in pattern.children if c.type != "comment"]
        if len(parts) != 1:
            return False
        inner = parts[0]
        t = inner.type
        if t == "_":
            return True
        if t == "dotted_name":
            return inner.named_child_count == 1
        if t == "tuple_pattern":  # `(p)` is a group, `(p,)` a sequence
            elements = [c for c in inner.children if c.type not in ("(", ")", "comment")]
            if len(elements) == 1 and elements[0].type == "case_pattern":
                pattern = elements[0]
                continue
        return False


def _is_wrapper(func: tree_sitter.Node) -> bool:
    """sonar-python: a def that is the body of a decorator-style function adds no nesting.

    That is a def (decorated or not) sitting directly in another function's body whose every other
    statement is `return <name>`.
    """
    statement = func
    parent = func.parent
    if parent is not None and parent.type == "decorated_definition":
        statement = parent
        parent = parent.parent
    if parent is None or parent.type != "block":
        return False
    owner = parent.parent
    if owner is None or owner.type != "function_definition":
        return False
    for child in parent.named_children:
        t = child.type
        if t == "comment" or (child.start_byte == statement.start_byte and t == statement.type):
            continue
        if t != "return_statement":
            return False
        values = [c for c in child.named_children if c.type != "comment"]
        if len(values) != 1 or values[0].type != "identifier":
            return False
    return True


def _params(parameters: tree_sitter.Node | None) -> int:
    if parameters is None:
        return 0
    count = 0
    first = True
    for child in parameters.children:
        t = child.type
        if t in _PARAM_SKIP or not child.is_named:
            continue
        if first:
            first = False
            if _param_name(child) in _SELF_NAMES:
                continue
        count += 1
    return count


def _param_name(param: tree_sitter.Node) -> bytes | None:
    t = param.type
    if t == "identifier":
        return param.text
    if t == "typed_parameter":
        head = param.child(0)
        return head.text if head is not None and head.type == "identifier" else None
    if t == "default_parameter" or t == "typed_default_parameter":
        name = param.child_by_field_name("name")
        return name.text if name is not None and name.type == "identifier" else None
    return None


def _loc(func: tree_sitter.Node) -> int:
    """Lines from the `def` line to the last line holding code (trailing comments of the body excluded)."""
    node = func
    while node.child_count:
        index = node.child_count - 1
        child = node.child(index)
        while child is not None and child.type == "comment" and index > 0:
            index -= 1
            child = node.child(index)
        if child is None or child.type == "comment":
            break
        node = child
    end = node.end_point
    start_row = func.start_point.row
    end_row = end.row
    if end.column == 0 and end_row > start_row and node.end_byte > node.start_byte:
        end_row -= 1  # a token ending with a newline ends on the line before
    return max(1, end_row - start_row + 1)


def _first_statement(block: tree_sitter.Node) -> tree_sitter.Node:
    for child in block.children:
        if child.is_named and child.type != "comment":
            return child
    return block
