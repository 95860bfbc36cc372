"""Performance insight for Python (SA401-SA404, SA406): static patterns that cost real time inside loops.

`function_hits(func)` reads nothing but one `function_definition` subtree (nested functions, classes and
lambdas are left to their own entries or not run per iteration), so its result is cached by the function's
text like the metrics. Positions in a `Hit` are relative to the function's first byte and row. What depends on
the rest of the module - is `re` imported, does the module use Django or SQLAlchemy - is decided per document
in `findings`, from the import lines.

A statement is "in a loop" when it runs once per iteration: a `for` body (not its iterable, not its `else`),
a `while` condition and body, a comprehension's element, conditions and inner iterables. Loops over a literal
display (`for k in ("a", "b")`) or `range(<small literal>)` run a known handful of times and do not count.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import tree_sitter

from .config import Settings
from .document import Document
from .functions import FunctionCache, iter_functions, text_key
from .model import Finding
from .performance_queries import (
    DJANGO_WRITES,
    NOT_TEXT,
    call_args,
    callee,
    constant_list,
    element_count,
    evaluation,
    in_reported_chain,
    is_list,
    is_plain_string,
    is_text,
    method_of,
    orm_query,
    short,
)
from .performance_scan import Events, _Scan, _scan, file_events, function_events

# Bump when what a function's hits are changes: they are cached under it (and engine.ANALYZER_VERSION has it).
ANALYZER_VERSION = "1"
RULE_IDS = ("SA401", "SA402", "SA403", "SA404", "SA406")

# SA402: a list literal shorter than this is scanned about as fast as a set is hashed (measured: 24 ns vs
# 10 ns for 3 strings, 48 ns vs 10 ns for 8); a list built at run time (list(...), a comprehension) always counts.
MIN_LITERAL_ELEMENTS = 5
# `for i in range(N)` with a literal N below this is a handful of iterations, not a hot loop
SMALL_RANGE = 10

_LOOPS = frozenset({"for_statement", "while_statement"})
_COMPREHENSIONS = frozenset({"list_comprehension", "set_comprehension", "dictionary_comprehension", "generator_expression"})
_SCOPES = frozenset({"function_definition", "class_definition", "lambda", "decorated_definition"})
_DISPLAYS = frozenset({"list", "tuple", "set", "dictionary", "string", "concatenated_string"})
_LIST_MUTATORS = frozenset({b"append", b"extend", b"insert", b"remove", b"pop", b"clear", b"sort", b"reverse", b"__setitem__", b"__delitem__", b"__iadd__"})
_RE_FUNCTIONS = frozenset({b"compile", b"match", b"search", b"fullmatch", b"findall", b"finditer", b"sub", b"subn", b"split"})


@dataclass(frozen=True, slots=True)
class Hit:
    """One finding of a function, located relative to the function's first byte (`start`, `end`) and row."""

    rule: str
    start: int
    end: int
    loop_row: int  # rows below the `def` line of the loop that makes it hot
    message: str  # "{loop_line}" is filled in when the finding is placed
    data: tuple[tuple[str, Any], ...] = ()
    needs: str = ""  # a module-level import the finding depends on: "re", "django" or "sqlalchemy"


# ------------------------------------------------------------------------------------------ the one scan


def _bounded(loop: tree_sitter.Node, scan: _Scan) -> bool:
    """A `for` (or comprehension) over a literal display, a name bound once to one, or range(<small
    literal>): a few iterations, not a hot loop."""
    if loop.type == "for_statement":
        right = loop.child_by_field_name("right")
    elif loop.type in _COMPREHENSIONS:
        clause = next((c for c in loop.named_children if c.type == "for_in_clause"), None)
        right = clause.child_by_field_name("right") if clause is not None else None
    else:
        return False
    if right is None:
        return False
    if right.type == "identifier":
        assigned = scan.assigned.get(right.text, [])
        if len(assigned) == 1 and assigned[0][0].type in _DISPLAYS:
            right = assigned[0][0]
    if right.type in _DISPLAYS:
        return True
    if right.type == "call" and callee(right) == b"range":
        args = [a for a in call_args(right) if a.type != "comment"]
        return bool(args) and all(a.type == "integer" and _small_int(a) for a in args)
    return False


def _small_int(node: tree_sitter.Node) -> bool:
    try:
        return int(node.text.decode().replace("_", ""), 0) < SMALL_RANGE
    except ValueError:
        return False


# ------------------------------------------------------------------------------------------ small readers


def _inside(loop: tree_sitter.Node, node: tree_sitter.Node) -> bool:
    return loop.start_byte <= node.start_byte and node.end_byte <= loop.end_byte


def _hot(node: tree_sitter.Node, loops: tuple[tree_sitter.Node, ...], scan: _Scan) -> tuple[tree_sitter.Node, ...]:
    """The loops of `loops` that run `node` again and again: not a bounded loop, not one that a `break`
    following `node` in its block leaves, none when a `return` or `raise` follows it."""
    left = {lp.id for lp in loops if _bounded(lp, scan)}
    child, parent = node, node.parent
    while parent is not None and loops and parent.id != loops[0].id:
        if parent.type == "block":
            after = child.next_named_sibling
            while after is not None:
                if after.type in ("return_statement", "raise_statement"):
                    return ()
                if after.type == "break_statement":
                    inner = next((lp for lp in reversed(loops) if _inside(lp, parent)), None)
                    if inner is not None:
                        left.add(inner.id)
                    break
                after = after.next_named_sibling
        child, parent = parent, parent.parent
    return tuple(lp for lp in loops if lp.id not in left)


# ------------------------------------------------------------------------------------------ the rules


def function_hits(func: tree_sitter.Node, events: Events | None = None) -> tuple[Hit, ...]:
    """Every SA4xx pattern in one function's own body (nested functions are their own entries).
    `events`: `file_events` of its tree, when the caller has them (else the function's own are listed)."""
    body = func.child_by_field_name("body")
    if body is None:
        return ()
    text = body.text
    if b"for" not in text and b"while" not in text:
        return ()  # no loop (most functions): nothing to walk
    scan = _scan(events if events is not None else function_events(func), body)
    scan.prefetches = b"prefetch_related" in text or b"Prefetch(" in text
    base_byte, base_row = func.start_byte, func.start_point.row
    hits: list[Hit] = []

    def hit(rule: str, node: tree_sitter.Node, loop: tree_sitter.Node, message: str, needs: str = "", **data: Any) -> None:
        hits.append(Hit(rule, node.start_byte - base_byte, node.end_byte - base_byte,
                        loop.start_point.row - base_row, message, tuple(data.items()), needs))

    _string_building(scan, hit)
    _list_membership(scan, body, hit)
    _calls(scan, hit)
    hits.sort(key=lambda h: (h.start, h.rule))
    return tuple(hits)


def _string_building(scan: _Scan, hit: Any) -> None:
    """SA401: `s += <str>` in a loop, when `s` is evidently a string and lives across the loop's iterations."""
    seen: set[tuple[bytes, int]] = set()
    for node, loops in scan.augmented:
        op = node.child_by_field_name("operator")
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if op is None or op.text != b"+=" or left is None or right is None:
            continue
        loops = _hot(node, loops, scan)
        if not loops:
            continue
        loop = loops[-1]
        if left.type == "identifier":
            assigned = scan.assigned.get(left.text, [])
            if any(v.type in NOT_TEXT for v, _ in assigned):
                continue
            if not (is_text(right) or any(is_text(v) for v, _ in assigned)):
                continue
            # assigned afresh inside the loop: the string is rebuilt each iteration, it does not grow across them
            if any(loop in where for _, where in assigned):
                continue
            if left.text in scan.loop_targets.get(loop.id, ()) or _searches(loop, left.text):
                continue
        elif left.type == "attribute":
            if not (right.type in ("string", "concatenated_string")):
                continue
        else:
            continue
        key = (left.text, loop.id)
        if key in seen:
            continue
        seen.add(key)
        name = left.text.decode("utf-8", "replace")
        hit("SA401", node, loop,
            f"'{name}' is built with += inside the loop on line {{loop_line}}: each += copies the whole string; "
            "collect the parts in a list and \"\".join() them once",
            pattern=f"{name} += ...", target=name)


def _searches(loop: tree_sitter.Node, name: bytes) -> bool:
    """A `while` loop that stops on the string itself (`while name in taken: name += "_"`, or an `if` naming
    it that breaks out): it looks for the first free value and runs a few times, not once per item."""
    if loop.type != "while_statement":
        return False

    def names(node: tree_sitter.Node | None) -> bool:
        return node is not None and any(n.type == "identifier" and n.text == name for n in _descendants(node))

    if names(loop.child_by_field_name("condition")):
        return True
    body = loop.child_by_field_name("body")
    for statement in body.named_children if body is not None else ():
        if statement.type == "if_statement" and names(statement.child_by_field_name("condition")):
            consequence = statement.child_by_field_name("consequence")
            if consequence is not None and any(
                c.type in ("break_statement", "return_statement") for c in consequence.named_children
            ):
                return True
    return False


def _descendants(node: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(n.children)


def _list_membership(scan: _Scan, body: tree_sitter.Node, hit: Any) -> None:
    """SA402: `x in <list>` in a loop, the list a literal or a local list built once and never changed."""
    for comparison, right, loops in scan.membership:
        loops = _hot(comparison, loops, scan)
        if not loops:
            continue
        loop = loops[0]
        if right.type == "list":
            if not constant_list(right) or element_count(right) < MIN_LITERAL_ELEMENTS:
                continue
            hit("SA402", right, loop,
                f"Membership test on a list of {element_count(right)} constants inside the loop on line {{loop_line}}: "
                "a set literal is hashed once, a list is scanned on every test",
                pattern=f"in {short(right, 40)}", collection="literal", elements=element_count(right), fixable=True)
            continue
        if right.type != "identifier" or right.text in scan.declared:
            continue
        assigned = scan.assigned.get(right.text, [])
        if len(assigned) != 1:
            continue
        value, where = assigned[0]
        if not is_list(value):
            continue
        # the list is built outside the loop that repeats the test
        outer = [lp for lp in loops if lp not in where]
        if not outer:
            continue
        if value.type == "list" and (not constant_list(value) or element_count(value) < MIN_LITERAL_ELEMENTS):
            continue
        uses = _uses(body, right.text)
        if uses is None:  # changed somewhere: a list being built, a stack, a queue
            continue
        name = right.text.decode("utf-8", "replace")
        fixable = value.type == "list" and uses == "membership"
        hit("SA402", right, outer[0],
            f"'{name}' is a list searched by `in` inside the loop on line {{loop_line}}: each test scans it; "
            "build a set once before the loop",
            pattern=f"in {name}", collection=name, elements=element_count(value) if value.type == "list" else None,
            fixable=fixable)


def _uses(body: tree_sitter.Node, name: bytes) -> str | None:
    """How a list named `name` is used in the whole body, nested functions included: None when anything
    may change it (a mutating method, item or augmented assignment, `del`, a second binding), "membership"
    when it is only the right side of `in`, "read" otherwise."""
    kind = "membership"
    bindings = 0
    stack = [body]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.type != "identifier" or node.text != name:
            continue
        parent = node.parent
        if parent is None:
            return None
        pt = parent.type
        if pt == "assignment" and parent.child_by_field_name("left") == node:
            bindings += 1
            continue
        if pt == "comparison_operator" and node.prev_sibling is not None and node.prev_sibling.type in ("in", "not in"):
            continue
        if pt == "attribute" and parent.child_by_field_name("object") == node:
            attr = parent.child_by_field_name("attribute")
            if attr is None or attr.text in _LIST_MUTATORS:
                return None
        elif pt == "subscript" and parent.parent is not None and parent.parent.type in (
            "assignment", "augmented_assignment", "delete_statement"
        ) or pt in ("augmented_assignment", "delete_statement", "global_statement", "nonlocal_statement"):
            return None
        elif pt in ("pattern_list", "tuple_pattern", "for_statement", "for_in_clause", "as_pattern_target", "keyword_argument"):
            if pt == "keyword_argument" and parent.child_by_field_name("value") == node:
                kind = "read"
                continue
            return None
        kind = "read"
    return kind if bindings == 1 else None


def _calls(scan: _Scan, hit: Any) -> None:
    """SA403 (pop(0)/insert(0, x) on a local list), SA404 (re with a constant pattern), SA406 (ORM queries)."""
    reported_orm: set[int] = set()
    for call, loops in scan.calls:
        found = method_of(call)
        if found is None:
            continue
        receiver, method = found
        loops = _hot(call, loops, scan)
        if not loops:
            continue
        args = call_args(call)
        loop = loops[0]
        if method in (b"pop", b"insert") and receiver.type == "identifier":
            first = args[0] if args else None
            if first is None or first.type != "integer" or first.text != b"0" or (method == b"pop") != (len(args) == 1):
                continue
            assigned = scan.assigned.get(receiver.text, [])
            if not assigned or not all(is_list(v) for v, _ in assigned):
                continue
            # a list made afresh in a loop lives one iteration: only loops inside that one repeat on it
            loops = tuple(lp for lp in loops if not any(lp in where for _, where in assigned))
            if not loops:
                continue
            loop = loops[0]
            name = receiver.text.decode("utf-8", "replace")
            call_text = f"{name}.{method.decode()}(0{'' if method == b'pop' else ', ...'})"
            hit("SA403", call, loop,
                f"'{call_text}' inside the loop on line {{loop_line}} moves every element of the list each time: "
                f"use collections.deque ({'popleft()' if method == b'pop' else 'appendleft(x)'})",
                pattern=call_text, collection=name)
        elif receiver.type == "identifier" and receiver.text == b"re" and method in _RE_FUNCTIONS:
            pattern = _pattern_arg(args)
            if pattern is None or not is_plain_string(pattern):
                continue
            if method != b"compile" and len(loops) < 2:
                continue  # re's own cache makes one loop cheap enough; nested loops multiply the lookups
            fn = method.decode()
            hit("SA404", call, loop,
                f"re.{fn}() with a constant pattern inside the loop on line {{loop_line}}: every call looks the "
                "pattern up in re's cache (512 entries, flushed when full); compile it once at module level",
                needs="re", pattern=short(pattern, 60), function=fn)
        else:
            query = orm_query(receiver, method, args, call, loops, scan)
            if query is None or in_reported_chain(call, reported_orm):
                continue
            framework, text = query
            last = evaluation(call, framework)
            if last is None:
                continue  # a lazy queryset that is built here, not run here
            reported_orm.add(call.id)
            if framework == "sqlalchemy":
                fix = "load what the loop needs in one query before it (selectinload/joinedload, IN (...))"
            elif last in DJANGO_WRITES:
                fix = "batch the writes (bulk_create, bulk_update, one update() or delete() on a queryset)"
            else:
                fix = "fetch it for all rows before the loop (select_related/prefetch_related, filter(..._in=...))"
            hit("SA406", call, loop,
                f"Database query inside the loop on line {{loop_line}}: '{text}' runs once per iteration (N+1); {fix}",
                needs=framework, pattern=text, framework=framework)


def _pattern_arg(args: list[tree_sitter.Node]) -> tree_sitter.Node | None:
    for a in args:
        if a.type == "keyword_argument":
            name = a.child_by_field_name("name")
            if name is not None and name.text == b"pattern":
                return a.child_by_field_name("value")
        elif a.type != "comment":
            return a
    return None


# ------------------------------------------------------------------------------------------ per document

_IMPORT_LINE = re.compile(rb"^[ \t]*(?:from[ \t]+([\w.]+)[ \t]+import[ \t]+([^\n#;]*)|import[ \t]+([^\n#;]*))", re.MULTILINE)


def module_uses(source: bytes) -> frozenset[str]:
    """Which of "re", "django", "sqlalchemy" the module imports (at any level: import lines are read as text).

    A module importing from a `models` module (`from .models import Book`) counts as Django: that is how
    views and services reach the ORM without importing django.db themselves."""
    found: set[str] = set()
    for m in _IMPORT_LINE.finditer(source):
        frm, names, plain = m.group(1), m.group(2), m.group(3)
        modules = [frm] if frm is not None else [p.strip().split()[0] for p in plain.split(b",") if p.strip()]
        for mod in modules:
            top = mod.split(b".")[0]
            if mod == b"re":
                found.add("re")
            elif top == b"django" or mod.endswith(b"models") or (frm is not None and re.search(rb"\bmodels\b", names)):
                found.add("django")
            elif top in (b"sqlalchemy", b"flask_sqlalchemy", b"sqlmodel"):
                found.add("sqlalchemy")
    return frozenset(found)


def _side_cache(cache: FunctionCache) -> FunctionCache:
    """Hits live in a FunctionCache of their own next to the metrics one (same keys by text, separate counts)."""
    side = cache.__dict__.get("_performance")
    if side is None:
        side = cache.__dict__["_performance"] = FunctionCache(cache.max_entries)
    return side


def findings(
    doc: Document, settings: Settings, cache: FunctionCache | None = None, functions: list[Any] | None = None
) -> list[Finding]:
    """SA4xx findings of a Python document; each function's hits come from `cache` when its text is known.
    `functions`: the document's measured functions (engine.measure_functions), whose loop counts spare the
    loopless ones a walk."""
    if doc.language != "python" or not any(settings.enabled(r) for r in RULE_IDS):
        return []
    side = _side_cache(cache) if cache is not None else None
    source = doc.source
    out: list[Finding] = []
    uses: frozenset[str] | None = None
    # functions known to hold no loop (most of them) are left out: every pattern needs one. They are known by
    # the line they start on (two cannot share one), which is tree-sitter's row unless a CR ends lines.
    loopless = set() if b"\r" in source else {f.range.start.line for f in functions or () if not f.metrics.loops}
    events = file_events(doc.tree)  # when the tree was primed for them (the batch path)
    for func, _name in iter_functions(doc):
        if func.start_point.row in loopless:
            continue
        if side is None or func.has_error:  # as for metrics: recovery inside an error depends on the text around
            hits = function_hits(func, events)
        else:
            key = text_key(source[func.start_byte:func.end_byte], "perf" + ANALYZER_VERSION)
            hits = side.get_or_compute(key, lambda f=func: function_hits(f, events))  # type: ignore[arg-type,return-value]
        for h in hits:
            if not settings.enabled(h.rule):
                continue
            if h.needs:
                if uses is None:
                    uses = module_uses(source)
                if h.needs not in uses:
                    continue
            loop_line = func.start_point.row + h.loop_row + 1
            data = {k: v for k, v in h.data if v is not None}
            data = {"loop_line": loop_line, **data}
            out.append(Finding(
                rule=h.rule,
                severity=settings.severity_of(h.rule),
                message=h.message.format(loop_line=loop_line),
                range=doc.index.range(func.start_byte + h.start, func.start_byte + h.end),
                data=data,
            ))
    return out

