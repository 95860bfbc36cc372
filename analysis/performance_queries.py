"""SA406: database queries inside loops (N+1) for Django and SQLAlchemy, read off tree-sitter call nodes; and
the small node readers every SA4xx rule shares (what a call calls, is a value evidently a string or a list).

Querysets (Django) and `session.query(...)` (SQLAlchemy) are lazy: building one in a loop costs nothing, running
it does. A chain counts as a query when it ends in a method that runs it (`.get()`, `.count()`, `.first()`,
`.create()`...), or when the loop iterates it, or `list()`/`len()`/`bool()`/`if`/`[i]` consume it. A related
manager of the row being iterated (`author.book_set.all()`, `author.books.exists()`) counts unless the function
prefetches (`prefetch_related`, `Prefetch(...)`): then `.all()` reads rows already fetched.
"""

from __future__ import annotations

from typing import Any

import tree_sitter

_DJANGO_QUERIES = frozenset({
    b"get", b"filter", b"exclude", b"all", b"count", b"exists", b"first", b"last", b"values", b"values_list",
    b"aggregate", b"annotate", b"order_by", b"select_related", b"prefetch_related", b"get_or_create",
    b"update_or_create", b"create", b"update", b"delete", b"in_bulk", b"latest", b"earliest", b"only", b"defer",
})
# a related manager (`author.book_set`, `author.books`) is only recognised by these argument-less calls
_MANAGER_CALLS = frozenset({b"all", b"exists", b"first", b"last"})
# Django querysets are lazy: only these (or iterating, list(), len(), bool(), [i]) send a query
_DJANGO_EVALUATE = frozenset({
    b"get", b"count", b"exists", b"first", b"last", b"aggregate", b"get_or_create", b"update_or_create",
    b"create", b"update", b"delete", b"in_bulk", b"latest", b"earliest", b"contains", b"explain",
})
DJANGO_WRITES = frozenset({b"create", b"update", b"delete", b"get_or_create", b"update_or_create"})
_SQLA_EVALUATE = frozenset({b"all", b"first", b"one", b"one_or_none", b"scalar", b"count", b"get", b"delete", b"update"})
_CONSUMERS = frozenset({b"list", b"tuple", b"set", b"frozenset", b"dict", b"len", b"sorted", b"bool", b"sum", b"any", b"all", b"max", b"min"})
_SQLA_SESSION = frozenset({b"query", b"get", b"scalar", b"scalars", b"execute"})
_SQLA_STATEMENTS = frozenset({b"select", b"text"})


def callee(call: tree_sitter.Node) -> bytes | None:
    """The called name of `name(...)`, None for anything else."""
    func = call.child_by_field_name("function")
    return func.text if func is not None and func.type == "identifier" else None


def call_args(call: tree_sitter.Node) -> list[tree_sitter.Node]:
    args = call.child_by_field_name("arguments")
    return list(args.named_children) if args is not None and args.type == "argument_list" else []


def method_of(call: tree_sitter.Node) -> tuple[tree_sitter.Node, bytes] | None:
    """(receiver, method name) of `receiver.method(...)`."""
    func = call.child_by_field_name("function")
    if func is None or func.type != "attribute":
        return None
    obj, attr = func.child_by_field_name("object"), func.child_by_field_name("attribute")
    if obj is None or attr is None:
        return None
    return obj, attr.text


def short(node: tree_sitter.Node, limit: int = 60) -> str:
    text = " ".join(node.text.decode("utf-8", "replace").split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def evaluation(call: tree_sitter.Node, framework: str) -> bytes | None:
    """The method (or b"" for iteration and friends) that makes the query chain starting at `call` run;
    None when the chain is only built here (querysets and Query objects are lazy)."""
    top, last = call, method_of(call)[1]  # type: ignore[index]
    while top.parent is not None and top.parent.type == "attribute" and top.parent.parent is not None \
            and top.parent.parent.type == "call":
        attr = top.parent.child_by_field_name("attribute")
        last = attr.text if attr is not None else b""
        top = top.parent.parent
    if framework == "sqlalchemy":
        if method_of(call)[1] != b"query":  # type: ignore[index]
            return last  # execute / get / scalars run at once
        if last in _SQLA_EVALUATE:
            return last
    elif last in _DJANGO_EVALUATE:
        return last
    parent = top.parent
    if parent is None:
        return None
    pt = parent.type
    if pt in ("for_statement", "for_in_clause") and parent.child_by_field_name("right") == top:
        return b""
    if pt in ("if_statement", "while_statement", "not_operator", "boolean_operator", "elif_clause"):
        return b""
    if pt == "subscript" and parent.child_by_field_name("value") == top:
        index = parent.child_by_field_name("subscript")
        return b"" if index is not None and index.type == "integer" else None
    if pt == "argument_list" and parent.parent is not None and callee(parent.parent) in _CONSUMERS:
        return b""
    return None


def in_reported_chain(call: tree_sitter.Node, reported: set[int]) -> bool:
    """True when `call` is part of a chain already reported (`Book.objects.filter(...).first()`)."""
    node = call.parent
    while node is not None and node.type in ("attribute", "call", "argument_list"):
        if node.id in reported:
            return True
        node = node.parent
    return False


def orm_query(
    receiver: tree_sitter.Node, method: bytes, args: list[tree_sitter.Node], call: tree_sitter.Node,
    loops: tuple[tree_sitter.Node, ...], scan: Any,
) -> tuple[str, str] | None:
    """("django" | "sqlalchemy", what reads in the message) when `call` queries the database."""
    if receiver.type == "attribute":
        manager = receiver.child_by_field_name("attribute")
        owner = receiver.child_by_field_name("object")
        if manager is None or owner is None:
            return None
        if manager.text in (b"objects", b"_default_manager") and method in _DJANGO_QUERIES and owner.type in ("identifier", "attribute"):
            last = owner.child_by_field_name("attribute") if owner.type == "attribute" else owner
            if last is not None and last.text[:1].isupper():  # Model.objects, app.models.Model.objects
                return "django", f"{short(receiver, 50)}.{method.decode()}(...)"
        # a related manager of the row being iterated: `for a in authors: a.book_set.all()` (not when the
        # function prefetches: then .all() reads the prefetched rows)
        row = owner.type == "identifier" and any(owner.text in scan.loop_targets.get(lp.id, ()) for lp in loops)
        related = (manager.text.endswith(b"_set") and method in _DJANGO_QUERIES) or (method in _MANAGER_CALLS and not args)
        if row and related and not scan.prefetches:
            return "django", f"{short(receiver, 50)}.{method.decode()}()"
        if manager.text.endswith(b"session") and _sqlalchemy_call(method, args):
            return "sqlalchemy", f"{short(receiver, 40)}.{method.decode()}(...)"
        return None
    if receiver.type == "identifier" and receiver.text.endswith(b"session") and _sqlalchemy_call(method, args):
        return "sqlalchemy", f"{receiver.text.decode()}.{method.decode()}(...)"
    return None


def _sqlalchemy_call(method: bytes, args: list[tree_sitter.Node]) -> bool:
    if method not in _SQLA_SESSION:
        return False
    if method == b"query":
        return True
    first = next((a for a in args if a.type != "comment"), None)
    if method == b"get":
        return len(args) >= 2 and first is not None and first.type in ("identifier", "attribute")
    return first is not None and first.type == "call" and _statement_call(first)


def _statement_call(node: tree_sitter.Node) -> bool:
    """select(...), select(...).where(...)..., text(...)."""
    while node.type == "call":
        func = node.child_by_field_name("function")
        if func is None:
            return False
        if func.type == "identifier":
            return func.text in _SQLA_STATEMENTS
        if func.type != "attribute":
            return False
        inner = func.child_by_field_name("object")
        if inner is None:
            return False
        node = inner
    return False


# ------------------------------------------------------------------------------------------ value readers

_CONSTANTS = frozenset({"string", "concatenated_string", "integer", "float", "true", "false", "none"})


def is_plain_string(node: tree_sitter.Node) -> bool:
    """A string literal (or implicit concatenation of them) without f-string interpolation."""
    if node.type == "concatenated_string":
        return all(is_plain_string(c) for c in node.named_children if c.type != "comment")
    return node.type == "string" and not any(c.type == "interpolation" for c in node.children)


def is_text(node: tree_sitter.Node) -> bool:
    """Evidently a str or bytes value: a literal, an f-string, str(...), "sep".join(...), "..." % x."""
    t = node.type
    if t in ("string", "concatenated_string"):
        return True
    if t == "call":
        if callee(node) in (b"str", b"bytes"):
            return True
        found = method_of(node)
        return found is not None and found[0].type in ("string", "concatenated_string")
    if t == "binary_operator":
        left = node.child_by_field_name("left")
        return left is not None and left.type in ("string", "concatenated_string")
    return False


NOT_TEXT = frozenset({"list", "tuple", "dictionary", "set", "integer", "float", "list_comprehension",
                       "set_comprehension", "dictionary_comprehension", "generator_expression", "true", "false"})


def is_list(node: tree_sitter.Node) -> bool:
    """Evidently a new list: a display, a comprehension, list(...), sorted(...)."""
    t = node.type
    return t in ("list", "list_comprehension") or (t == "call" and callee(node) in (b"list", b"sorted"))


def constant_list(node: tree_sitter.Node) -> bool:
    """A list display of hashable constants only (numbers, strings, None, bools, tuples of those)."""
    def hashable(n: tree_sitter.Node) -> bool:
        if n.type in _CONSTANTS:
            return n.type not in ("string", "concatenated_string") or is_plain_string(n)
        if n.type == "tuple":
            return all(hashable(c) for c in n.named_children if c.type != "comment")
        if n.type == "unary_operator":
            arg = n.child_by_field_name("argument")
            return arg is not None and arg.type in ("integer", "float")
        return False

    elements = [c for c in node.named_children if c.type != "comment"]
    return node.type == "list" and bool(elements) and all(hashable(c) for c in elements)


def element_count(node: tree_sitter.Node) -> int:
    return sum(1 for c in node.named_children if c.type != "comment")
