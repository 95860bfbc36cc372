"""Per-file symbol extraction with one tree-sitter query: source bytes in, `FileSymbols` out.

`file_symbols(module_name, path, source)` depends only on its inputs (see `cache_key`). The work is one
parse and one query traversal; Python then looks only at the captured nodes: definitions, call
callees, identifiers (for the name set, by byte offset, no parent walks), attribute names, string
contents, imports and constructor assignments. Enclosing scopes come from a sweep over byte offsets
of the sorted definitions, not from walking each node's ancestors.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import replace
from pathlib import PurePath

import tree_sitter

from .. import shared_query
from ..imports.languages import parser, query
from ..text import LineIndex, utf16_len
from .model import Assignment, Call, Definition, FileSymbols, ImportBinding, Span

SYMBOLS_VERSION = 1
"""Bumped whenever `file_symbols` could return something different for the same input."""

_QUERY = """
(function_definition) @def
(class_definition) @def
(call function: [(identifier) (attribute)] @call)
(decorator . [(identifier) (attribute)] @deco)
(attribute attribute: (identifier) @attr)
(keyword_argument name: (identifier) @kw)
(identifier) @id
(string_content) @str
[(import_statement) (import_from_statement)] @import
(module (expression_statement [(assignment left: (identifier) @top.lhs) (augmented_assignment left: (identifier) @top.lhs)]))
(assignment left: [(identifier) (attribute)] right: (call function: [(identifier) (attribute)])) @assign
(as_pattern (call function: [(identifier) (attribute)]) alias: (as_pattern_target (identifier))) @assign
"""

_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*\Z")
_STRING_REF = re.compile(
    r"\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*(?::[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)?)\s*(?:\(.*\))?\s*\Z", re.DOTALL
)  # `name`, `pkg.mod.Name`, `pkg.mod:attr`, `factory("arg")`
_FORMAT_PREFIX = re.compile(r"([A-Za-z_]\w*_)(?:%[sd(]|\{)")
_WS = re.compile(rb"\s+")
_OPTIONAL = re.compile(r"(?:[\w.]*\.)?Optional\[(.+)\]\Z")
_LITERAL_START = tuple(b"\"'[{(0123456789") + (ord("-"),)
_STRING_PREFIX = re.compile(rb"[rRbBuUfF]{0,2}['\"]")
TOP_TEST_DIRS = frozenset({"test", "testing"})


def is_test_path(path: str | os.PathLike[str]) -> bool:
    """A test file: `test_*.py`, `*_test.py`, `conftest.py`, anything under a `tests` folder, or under a
    top-level `test`/`testing` folder (deeper ones, like `django/test/`, hold test utilities)."""
    p = PurePath(os.fspath(path))
    stem = p.name.rsplit(".", 1)[0]
    if stem.startswith("test_") or stem.endswith("_test") or stem in ("conftest", "tests"):
        return True
    folders = p.parts[:-1]
    return "tests" in folders or (bool(folders) and folders[0] in TOP_TEST_DIRS)


def cache_key(
    module_name: str, path: str | os.PathLike[str], source: bytes | None = None, *, digest: str | None = None
) -> str:
    """A key under which `file_symbols(module_name, path, source)` may be stored and reused (`digest`: the
    source's blake2b-160 hex digest, when the caller has it instead of the source)."""
    if digest is None:
        digest = hashlib.blake2b(source or b"", digest_size=20).hexdigest()
    return f"symbols/{SYMBOLS_VERSION}/{module_name}/{PurePath(os.fspath(path)).as_posix()}/{digest}"


def file_symbols(module_name: str, path: str | os.PathLike[str], source: bytes) -> FileSymbols:
    """The definitions and references of one Python file.

    `module_name` is its dotted module name (a package is named by its folder; relative imports are
    made absolute against it); `path` is stored as given (with "/") and decides `is_package`
    (`__init__.py`) and `is_test` (`is_test_path`). Syntax errors never raise: whatever tree-sitter
    parsed is reported.
    """
    tree = parser("python").parse(source)
    return tree_symbols(module_name, path, source, tree)


def tree_symbols(
    module_name: str, path: str | os.PathLike[str], source: bytes, tree: tree_sitter.Tree
) -> FileSymbols:
    """`file_symbols` for an already parsed tree (an editor's `Document`)."""
    posix = PurePath(os.fspath(path)).as_posix()
    is_package = posix.rsplit("/", 1)[-1] in ("__init__.py", "__init__.pyi")
    return _Extractor(module_name, is_package, source).run(posix, tree)


class _Extractor:
    def __init__(self, module: str, is_package: bool, source: bytes) -> None:
        self.module = module
        self.is_package = is_package
        self.source = source
        self.simple = source.isascii() and b"\r" not in source
        self.lone_cr = b"\r" in source and source.count(b"\r") != source.count(b"\r\n")
        self._index: LineIndex | None = None

    def span(self, node: tree_sitter.Node) -> Span:
        """The LSP span of a node. tree-sitter's points are (row, byte column): rows are LSP lines
        unless the text has a lone CR, and byte columns are UTF-16 columns on ASCII lines."""
        (a, b), (c, d) = node.start_point, node.end_point
        if self.simple:
            return (a, b, c, d)
        if self.lone_cr:
            return self.byte_span(node.start_byte, node.end_byte)
        return (a, self.utf16_column(node.start_byte, b), c, self.utf16_column(node.end_byte, d))

    def utf16_column(self, offset: int, byte_column: int) -> int:
        prefix = self.source[offset - byte_column : offset]
        return byte_column if prefix.isascii() else utf16_len(prefix.decode("utf-8", "replace"))

    def byte_span(self, start: int, end: int) -> Span:
        if self._index is None:
            self._index = LineIndex(self.source)
        a = self._index.position(start)
        b = self._index.position(end)
        return (a.line, a.character, b.line, b.character)

    def text(self, node: tree_sitter.Node) -> str:
        return self.source[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def run(self, path: str, tree: tree_sitter.Tree) -> FileSymbols:
        src = self.source
        caps = shared_query.captures(tree, "symbols")
        if caps is None:
            caps = tree_sitter.QueryCursor(query("python", _QUERY)).captures(tree.root_node)
        get = caps.get
        def_nodes = sorted(get("def", []), key=_start)
        starts = [n.start_byte for n in def_nodes]
        ends = [n.end_byte for n in def_nodes]
        dynamic: list[str] = []

        # -- __all__ (module-level `__all__ = [...]` / `__all__ += [...]`; `.extend`/`.append` below)
        all_names: list[str] | None = None
        for lhs in get("top.lhs", []):
            if src[lhs.start_byte : lhs.end_byte] != b"__all__" or lhs.parent is None:
                continue
            stmt = lhs.parent
            right = stmt.child_by_field_name("right")
            found = self._strings_in(right) if right is not None else []
            all_names = found if stmt.type == "assignment" else (all_names or []) + found

        # -- definitions
        definitions, excluded = self._definitions(def_nodes, starts, ends)
        if any(d.parent == -1 and d.name == "__getattr__" for d in definitions):
            dynamic.append("module-level __getattr__")

        # -- calls
        call_nodes = sorted(get("call", []), key=_start)
        deco_nodes = sorted(get("deco", []), key=_start)
        calls: list[Call] = []
        scopes = _sweep([n.start_byte for n in call_nodes], starts, ends)
        for node, scope in zip(call_nodes, scopes):
            call = self._call(node, scope, False)
            if call is None:
                continue
            calls.append(call)
            if call.receiver is None:
                if call.name in ("globals", "vars") and "globals()" not in dynamic:
                    dynamic.append("globals()")
                elif (
                    call.name == "getattr"
                    and "getattr with a computed name" not in dynamic
                    and _computed_getattr(node)
                ):
                    dynamic.append("getattr with a computed name")
            elif call.receiver == "__all__" and call.name in ("extend", "append") and scope == -1:
                args = node.next_named_sibling
                if args is not None:
                    all_names = (all_names or []) + self._strings_in(args)
        if deco_nodes:
            for node, scope in zip(deco_nodes, _sweep([n.start_byte for n in deco_nodes], starts, ends)):
                call = self._call(node, scope, True)
                if call is not None:
                    calls.append(call)
            calls.sort(key=lambda c: c.span)

        # -- references
        attr_nodes = get("attr", [])
        for n in attr_nodes:
            excluded.add(n.start_byte)
        for n in get("kw", []):
            excluded.add(n.start_byte)
        names = {src[n.start_byte : n.end_byte] for n in get("id", []) if n.start_byte not in excluded}
        attrs = {src[n.start_byte : n.end_byte] for n in attr_nodes}
        strings: set[str] = set()
        for n in get("str", []):
            if n.end_byte - n.start_byte > 200:
                continue
            text = src[n.start_byte : n.end_byte].decode("utf-8", "replace")
            m = _STRING_REF.match(text)
            if m:
                ref = m.group(1)
                strings.add(ref)
                strings.add(ref.rpartition(":")[2].rpartition(".")[2])
            else:
                m = _FORMAT_PREFIX.match(text)  # "visit_%s", "supports_{}_lookup": a computed name's prefix
                if m:
                    strings.add(m.group(1))

        # -- imports and constructor assignments
        import_nodes = sorted(get("import", []), key=_start)
        imports: list[ImportBinding] = []
        for node, scope in zip(import_nodes, _sweep([n.start_byte for n in import_nodes], starts, ends)):
            imports.extend(self._imports(node, scope))
        assign_nodes = sorted(get("assign", []), key=_start)
        assignments: list[Assignment] = []
        for node, scope in zip(assign_nodes, _sweep([n.start_byte for n in assign_nodes], starts, ends)):
            found = self._assignment(node, scope)
            if found is not None:
                assignments.append(found)

        if all_names:
            listed = set(all_names)
            definitions = [
                replace(d, in_all=True) if d.parent == -1 and d.name in listed else d for d in definitions
            ]

        return FileSymbols(
            module=self.module,
            path=path,
            is_package=self.is_package,
            is_test=is_test_path(path),
            definitions=tuple(definitions),
            imports=tuple(imports),
            calls=tuple(calls),
            assignments=tuple(assignments),
            name_refs=frozenset(b.decode("utf-8", "replace") for b in names),
            attr_refs=frozenset(b.decode("utf-8", "replace") for b in attrs),
            string_refs=frozenset(strings),
            all_names=tuple(dict.fromkeys(all_names)) if all_names is not None else None,
            dynamic=tuple(dynamic),
        )

    # ------------------------------------------------------------------------------------ definitions

    def _definitions(
        self, nodes: list[tree_sitter.Node], starts: list[int], ends: list[int]
    ) -> tuple[list[Definition], set[int]]:
        """Definitions with their qualnames (Python's `__qualname__`), and the byte offsets of their
        name identifiers (which are not references)."""
        src = self.source
        out: list[Definition] = []
        excluded: set[int] = set()
        stack: list[int] = []
        for i, node in enumerate(nodes):
            start = starts[i]
            while stack and ends[stack[-1]] <= start:
                stack.pop()
            parent = stack[-1] if stack else -1
            stack.append(i)
            name_node = node.child_by_field_name("name")
            if name_node is None:
                name = "?"
                span: Span = self.byte_span(node.start_byte, node.start_byte)
            else:
                excluded.add(name_node.start_byte)
                name = src[name_node.start_byte : name_node.end_byte].decode("utf-8", "replace")
                span = self.span(name_node)
            is_class = node.type == "class_definition"
            local = False
            if parent == -1:
                kind = "class" if is_class else "function"
                qual = name
            else:
                owner = out[parent]
                owner_is_class = owner.kind == "class"
                qual = f"{owner.qualname}.{name}" if owner_is_class else f"{owner.qualname}.<locals>.{name}"
                local = owner.local or not owner_is_class
                kind = "class" if is_class else ("method" if owner_is_class else "function")
            decorators = self._decorators(node)
            bases: tuple[str, ...] = ()
            self_name = None
            returns = None
            if is_class:
                bases = self._bases(node)
            else:
                returns = self._returns(node)
                if kind == "method" and "staticmethod" not in decorators:
                    self_name = self._first_parameter(node)
            out.append(
                Definition(
                    qualname=qual,
                    name=name,
                    kind=kind,
                    span=span,
                    line=node.start_point.row + 1,
                    parent=parent,
                    decorators=decorators,
                    bases=bases,
                    self_name=self_name,
                    local=local,
                    returns=returns,
                )
            )
        return out, excluded

    def _decorators(self, node: tree_sitter.Node) -> tuple[str, ...]:
        parent = node.parent
        if parent is None or parent.type != "decorated_definition":
            return ()
        out = []
        for child in parent.named_children:
            if child.type != "decorator" or not child.named_children:
                continue
            expr = child.named_children[0]
            if expr.type == "call":
                expr = expr.child_by_field_name("function") or expr
            out.append(_WS.sub(b"", self.source[expr.start_byte : expr.end_byte]).decode("utf-8", "replace"))
        return tuple(out)

    def _bases(self, node: tree_sitter.Node) -> tuple[str, ...]:
        supers = node.child_by_field_name("superclasses")
        if supers is None:
            return ()
        out = []
        for child in supers.named_children:
            if child.type == "subscript":
                child = child.child_by_field_name("value") or child
            if child.type in ("identifier", "attribute"):
                out.append(
                    _WS.sub(b"", self.source[child.start_byte : child.end_byte]).decode("utf-8", "replace")
                )
        return tuple(out)

    def _returns(self, node: tree_sitter.Node) -> str | None:
        annotation = node.child_by_field_name("return_type")
        if annotation is None:
            return None
        text = _WS.sub(b"", self.source[annotation.start_byte : annotation.end_byte]).decode(
            "utf-8", "replace"
        )
        text = text.strip("\"'")
        m = _OPTIONAL.match(text)
        if m:
            text = m.group(1)
        parts = [p.strip("\"'") for p in text.split("|")]
        parts = [p for p in parts if p != "None"]
        return parts[0] if len(parts) == 1 and _DOTTED.match(parts[0]) else None

    def _first_parameter(self, node: tree_sitter.Node) -> str | None:
        params = node.child_by_field_name("parameters")
        first = params.named_child(0) if params is not None else None  # (not `named_children`: a list of all)
        if first is None:
            return None
        if first.type in ("default_parameter", "typed_default_parameter"):
            first = first.child_by_field_name("name") or first
        elif first.type == "typed_parameter":
            first = first.named_child(0) or first
        return self.text(first) if first.type == "identifier" else None

    # ------------------------------------------------------------------------------------ calls

    def _call(self, fn: tree_sitter.Node, scope: int, decorator: bool) -> Call | None:
        src = self.source
        start, end = fn.start_byte, fn.end_byte
        text = src[start:end]
        if fn.type == "identifier":
            return Call(text.decode("utf-8", "replace"), None, self.span(fn), scope, decorator)
        head, _, tail = text.rpartition(b".")
        name_b = tail.strip()
        if not name_b:
            return None
        row, col = fn.end_point  # the name ends the callee, on one line
        if self.simple:
            span = (row, col - len(name_b), row, col)
        elif self.lone_cr:
            span = self.byte_span(end - len(name_b), end)
        else:
            stop = self.utf16_column(end, col)
            span = (
                row,
                stop - (len(name_b) if name_b.isascii() else utf16_len(name_b.decode("utf-8", "replace"))),
                row,
                stop,
            )
        return Call(name_b.decode("utf-8", "replace"), _receiver(head), span, scope, decorator)

    # ------------------------------------------------------------------------------------ imports

    def _imports(self, node: tree_sitter.Node, scope: int) -> list[ImportBinding]:
        line = node.start_point.row + 1
        out: list[ImportBinding] = []
        if node.type == "import_statement":
            for child in node.children_by_field_name("name"):
                if child.type == "aliased_import":
                    full = _dotted(child.child_by_field_name("name"), self.source)
                    alias = child.child_by_field_name("alias")
                    if full and alias is not None:
                        out.append(ImportBinding(self.text(alias), full, None, line, scope, full))
                else:
                    full = _dotted(child, self.source)
                    if full:
                        out.append(
                            ImportBinding(
                                full.partition(".")[0], full.partition(".")[0], None, line, scope, full
                            )
                        )
            return out
        module_node = node.child_by_field_name("module_name")
        if module_node is None:
            return out
        level = 0
        module = ""
        if module_node.type == "relative_import":
            for child in module_node.named_children:
                if child.type == "import_prefix":
                    level = self.source[child.start_byte : child.end_byte].count(b".")
                elif child.type == "dotted_name":
                    module = _dotted(child, self.source)
        else:
            module = _dotted(module_node, self.source)
        base = _absolute(module, level, self.module, self.is_package)
        if any(c.type == "wildcard_import" for c in node.named_children):
            out.append(ImportBinding("*", base, "*", line, scope, base))
            return out
        for child in node.children_by_field_name("name"):
            if child.type == "aliased_import":
                name = _dotted(child.child_by_field_name("name"), self.source)
                alias = child.child_by_field_name("alias")
                local = self.text(alias) if alias is not None else name
            else:
                name = local = _dotted(child, self.source)
            if name:
                out.append(ImportBinding(local, base, name, line, scope, base))
        return out

    def _assignment(self, node: tree_sitter.Node, scope: int) -> Assignment | None:
        if node.type == "assignment":
            left = node.child_by_field_name("left")
            right = node.child_by_field_name("right")
        else:  # as_pattern: `with X() as y`
            right = node.named_children[0] if node.named_children else None
            alias = node.child_by_field_name("alias")
            left = alias.named_children[0] if alias is not None and alias.named_children else None
        if left is None or right is None:
            return None
        fn = right.child_by_field_name("function")
        if fn is None:
            return None
        target = _WS.sub(b"", self.source[left.start_byte : left.end_byte]).decode("utf-8", "replace")
        value = _WS.sub(b"", self.source[fn.start_byte : fn.end_byte]).decode("utf-8", "replace")
        if not _DOTTED.match(target) or not _DOTTED.match(value):
            return None
        return Assignment(target, value, scope, node.start_point.row)

    def _strings_in(self, node: tree_sitter.Node) -> list[str]:
        out: list[str] = []
        stack = [node]
        while stack:
            n = stack.pop()
            if n.type == "string_content":
                out.append(self.text(n))
            elif n.type not in ("interpolation",):
                stack.extend(reversed(n.children))
        return out


# ---------------------------------------------------------------------------------------- helpers


def _start(node: tree_sitter.Node) -> int:
    return node.start_byte


def _sweep(positions: list[int], starts: list[int], ends: list[int]) -> list[int]:
    """For each byte position (ascending), the index of the innermost definition (sorted by start, as
    properly nested ranges) containing it, or -1."""
    out: list[int] = []
    stack: list[int] = []
    j = 0
    n = len(starts)
    for pos in positions:
        while j < n and starts[j] <= pos:
            while stack and ends[stack[-1]] <= starts[j]:
                stack.pop()
            stack.append(j)
            j += 1
        while stack and ends[stack[-1]] <= pos:
            stack.pop()
        out.append(stack[-1] if stack else -1)
    return out


def _receiver(head: bytes) -> str:
    """Classify the text before a call's last dot."""
    head = head.strip()
    if not head:
        return "<expr>"
    if len(head) > 160:
        return "<expr>"
    compact = _WS.sub(b"", head) if b"\n" in head or b" " in head or b"\t" in head else head
    text = compact.decode("utf-8", "replace")
    if _DOTTED.match(text):
        return text
    if text.startswith("super(") and text.endswith(")") and text.count("(") == 1:
        return "super()"
    first = compact[0]
    if first in _LITERAL_START or _STRING_PREFIX.match(compact):
        return "<literal>"
    if text.endswith("()") and _DOTTED.match(text[:-2]):
        return text
    if text.endswith(")"):
        depth = 0
        for i, ch in enumerate(text):  # `Foo(a, b)` -> `Foo()` when the call's function is dotted
            if ch == "(":
                if depth == 0 and _DOTTED.match(text[:i]):
                    rest = text[i:]
                    if _balanced_whole(rest):
                        return text[:i] + "()"
                    break
                depth += 1
            elif ch == ")":
                depth -= 1
    return "<expr>"


def _balanced_whole(text: str) -> bool:
    """`(...)` whose first parenthesis closes at the very end (no strings considered)."""
    depth = 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i == len(text) - 1
    return False


def _computed_getattr(fn: tree_sitter.Node) -> bool:
    args = fn.next_named_sibling
    if args is None or args.type != "argument_list":
        return False
    positional = [c for c in args.named_children if c.type != "comment"]
    return len(positional) >= 2 and positional[1].type != "string"


def _dotted(node: tree_sitter.Node | None, source: bytes) -> str:
    if node is None:
        return ""
    if node.type == "identifier":
        return source[node.start_byte : node.end_byte].decode("utf-8", "replace")
    return ".".join(
        source[c.start_byte : c.end_byte].decode("utf-8", "replace")
        for c in node.named_children
        if c.type == "identifier"
    )


def _absolute(module: str, level: int, importer: str, is_package: bool) -> str:
    if not level:
        return module
    parts = importer.split(".")
    if not is_package:
        parts = parts[:-1]
    up = level - 1
    if up:
        if up >= len(parts):
            return ""
        parts = parts[:-up]
    if not parts:
        return ""
    return ".".join((*parts, module)) if module else ".".join(parts)
