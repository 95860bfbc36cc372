"""Find every function in a tree and give each its qualname; cache per-function metrics by text hash.

Only functions whose text changed since the last analysis are measured again: the cache key is a hash of
the function's bytes plus the analyser version, so an edit elsewhere (or lines inserted above, which move
the function) costs a hash, not a walk.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

import tree_sitter

from . import shared_query
from .document import Document, language
from .js_metrics import FUNCTION_TYPES as _JS_FUNCTION_TYPES
from .model import Metrics

_JS_SCAN = (
    "[(function_declaration) (generator_function_declaration) (function_expression) (generator_function)"
    " (arrow_function) (method_definition)] @def\n(comment) @c"
)


PYTHON_SCAN = "(function_definition name: (identifier) @name) @def\n(comment) @c"


@cache
def _scan_query(lang: str) -> tree_sitter.Query:
    if lang == "python":
        return tree_sitter.Query(language(lang), PYTHON_SCAN)
    return tree_sitter.Query(language(lang), _JS_SCAN)


@dataclass(frozen=True, slots=True)
class TreeScan:
    """What one pass of a tree-sitter query over the whole tree finds: functions and comments."""

    # (function_definition, its name); for JavaScript/TypeScript (function node, the node findings sit on)
    functions: list[tuple[tree_sitter.Node, tree_sitter.Node]]
    comments: list[tree_sitter.Node]


def _start(node: tree_sitter.Node) -> int:
    return node.start_byte


def _pair(caps: dict[str, list[tree_sitter.Node]]) -> list[tuple[tree_sitter.Node, tree_sitter.Node]]:
    """(def, name) pairs in document order. Sorted by start, the i-th def and the i-th name belong
    together: a def's name comes before any def nested in its body."""
    defs = sorted(caps.get("def", ()), key=_start)
    names = sorted(caps.get("name", ()), key=_start)
    return list(zip(defs, names))


def scan(doc: Document) -> TreeScan:
    """Functions and comments of the document's current tree, computed once per tree (one query pass)."""
    cached = doc.__dict__.get("_scan")
    if cached is not None and cached[0] is doc.tree:
        return cached[1]
    dialect = getattr(doc, "dialect", doc.language)
    caps = shared_query.captures(doc.tree, "scan") if dialect == "python" else None
    if caps is None:
        caps = tree_sitter.QueryCursor(_scan_query(dialect)).captures(doc.tree.root_node)
    comments = caps.get("c", [])
    comments.sort(key=_start)
    if dialect == "python":
        functions = _pair(caps)
    else:
        defs = sorted(caps.get("def", ()), key=_start)
        functions = [(d, js_anchor(d)) for d in defs]
    result = TreeScan(functions, comments)
    doc.__dict__["_scan"] = (doc.tree, result)
    return result


def iter_functions(
    doc: Document | tree_sitter.Tree, lang: str = "python"
) -> Iterator[tuple[tree_sitter.Node, tree_sitter.Node]]:
    """(function_definition node, name node) pairs in document order, at any depth.

    Given a Document the scan is shared with the other users of the same tree; a bare Tree is queried."""
    if isinstance(doc, Document):
        return iter(scan(doc).functions)
    return iter(_pair(tree_sitter.QueryCursor(_scan_query(lang)).captures(doc.root_node)))


def qualname(func: tree_sitter.Node, name: str) -> str:
    """Python's __qualname__: `Class.method`, `outer.<locals>.inner`."""
    parts = [name]
    node = func.parent
    while node is not None:
        kind = node.type
        if kind == "function_definition" or kind == "class_definition":
            name_node = node.child_by_field_name("name")
            owner = name_node.text.decode("utf-8", "replace") if name_node is not None else "?"
            parts.append(f"{owner}.<locals>" if kind == "function_definition" else owner)
        node = node.parent
    return ".".join(reversed(parts))


def text_key(data: bytes, version: str) -> bytes:
    return hashlib.blake2b(data, digest_size=16, person=version.encode()[:16]).digest()


class FunctionCache:
    """A bounded LRU of Metrics keyed by function text hash + analyser version. Shared by all documents."""

    def __init__(self, max_entries: int = 100_000) -> None:
        self._data: OrderedDict[bytes, Metrics] = OrderedDict()
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._data)

    def get_or_compute(self, key: bytes, compute: Callable[[], Metrics]) -> Metrics:
        found = self._data.get(key)
        if found is not None:
            self._data.move_to_end(key)
            self.hits += 1
            return found
        self.misses += 1
        value = compute()
        self._data[key] = value
        if len(self._data) > self.max_entries:
            self._data.popitem(last=False)
        return value

    def clear(self) -> None:
        self._data.clear()


# --------------------------------------------------------------------------------------------- JS / TS names

_JS_WRAPPERS = frozenset({"parenthesized_expression", "as_expression", "satisfies_expression", "non_null_expression"})
_JS_CLASSES = frozenset({"class_declaration", "abstract_class_declaration", "class"})


def _js_text(node: tree_sitter.Node) -> str:
    text = node.text.decode("utf-8", "replace")
    if node.type == "string" and len(text) >= 2:
        return text[1:-1]
    return text


def _js_binding(node: tree_sitter.Node) -> tree_sitter.Node | None:
    """The name a value is bound to: the variable it initialises, the property or field it is assigned to,
    `default` of `export default`. None when the value is anonymous (an argument, a returned value...)."""
    child, parent = node, node.parent
    while parent is not None and parent.type in _JS_WRAPPERS:
        child, parent = parent, parent.parent
    if parent is None:
        return None
    t = parent.type
    if t == "variable_declarator":
        name = parent.child_by_field_name("name")
        return name if name is not None and name.type == "identifier" else None
    if t == "assignment_expression":
        left = parent.child_by_field_name("left")
        if left is None or child == left:
            return None
        if left.type == "member_expression":
            return left.child_by_field_name("property")
        return left if left.type == "identifier" else None
    if t == "pair":
        return parent.child_by_field_name("key")
    if t in ("field_definition", "public_field_definition"):
        return parent.child_by_field_name("property") or parent.child_by_field_name("name")
    if t == "export_statement":
        for c in parent.children:
            if c.type == "default":
                return c
    return None


def _js_anonymous_anchor(func: tree_sitter.Node) -> tree_sitter.Node:
    for c in func.children:
        if c.type in ("=>", "function", "function*"):
            return c
    return func.child(0) or func


def js_anchor(func: tree_sitter.Node) -> tree_sitter.Node:
    """The node a JavaScript/TypeScript function's findings sit on: its name, the name it is bound to, or
    for an anonymous function its `function` keyword or `=>`."""
    name = func.child_by_field_name("name")
    if name is not None:
        return name
    bound = _js_binding(func)
    return bound if bound is not None else _js_anonymous_anchor(func)


def _js_own_name(node: tree_sitter.Node) -> str:
    """The name of a function or class node as it reads in a qualname."""
    name = node.child_by_field_name("name")
    if name is None:
        name = _js_binding(node)
    if name is None:
        return f"<anonymous:{node.start_point.row + 1}>"
    return _js_text(name)


def js_identity(func: tree_sitter.Node) -> tuple[str, str, bytes]:
    """(name, qualname, component name) of a JavaScript/TypeScript function node.

    The qualname reads like Python's: `Class.method`, `outer.<locals>.inner`, an object literal bound to a
    name is a namespace (`api.get`); an anonymous function is `<anonymous:LINE>` (1-based). The component
    name is what SonarJS checks for a capital letter to recognise a React component: the function's own
    name, or the variable it initialises (b"" otherwise)."""
    name = _js_own_name(func)
    parts = [name]
    node = func.parent
    while node is not None:
        t = node.type
        if t in _JS_FUNCTION_TYPES:
            parts.append(f"{_js_own_name(node)}.<locals>")
        elif t in _JS_CLASSES:
            parts.append(_js_own_name(node))
        elif t == "object":
            bound = _js_binding(node)
            if bound is not None:
                parts.append(_js_text(bound))
        node = node.parent
    component = b""
    if func.type != "method_definition":
        own = func.child_by_field_name("name")
        if own is not None:
            component = own.text
        elif func.parent is not None and func.parent.type == "variable_declarator":
            declared = func.parent.child_by_field_name("name")
            if declared is not None and declared.type == "identifier":
                component = declared.text
    return name, ".".join(reversed(parts)), component


