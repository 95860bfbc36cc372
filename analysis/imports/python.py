"""Python: imports from a tree-sitter tree, the modules under an import root, and resolution with grimp's
semantics (grimp 3.x, the library behind import-linter).

Extraction (`python_imports`)
    One tree-sitter query finds every `import`, `from ... import` and `from __future__ import` statement
    at any depth; only those few nodes are then looked at in Python. The kind of an import comes from
    its ancestors: inside the body of an `if TYPE_CHECKING:` or `if <anything>.TYPE_CHECKING:` (not its
    `elif`/`else`, which run) at any depth it is `type_checking`; otherwise inside a `def` at any depth
    (methods and nested functions included) it is `function_local`; otherwise `import`, including imports
    in `try:`/`except ImportError:` blocks and class bodies, which run when the module is loaded.

Modules (`PythonModules.build`), as grimp's module finder sees one import root:
    * a module's name is its path from the import root, dotted, without `.py`; a package is named by
      its folder (its `__init__.py`);
    * every folder of the root is a top-level package (grimp is given each one); a folder without
      `__init__.py` is a namespace package, and so is every folder below it down to the first one with
      an `__init__.py`; once inside a regular package, a sub-folder without `__init__.py` and
      everything in it is left out (grimp's "orphans");
    * folders whose names are not identifiers, hidden files and files with extra dots
      (`some.module.py`) are left out; a `.pyi` stub counts only when there is no `.py` beside it
      (grimp ignores stubs), and an `__init__.pyi` marks a package as an `__init__.py` does;
    * top-level `.py` files under the root are modules too (grimp cannot be given those; an importer of
      `manage.py` can). The root's own `__init__.py`, if any, is not a module.

Resolution (`resolve`), grimp's rule for each imported name:
    the name is `module` for `import module` and `module.name` for each name of `from module import
    name` (relative imports first made absolute against the importing module's package: the module
    itself for an `__init__`, else its parent). Then: that name if it is a module (or namespace
    package); else its parent if that is one; else, when its first component is one of the internal
    top-level names, that top-level package; else it is external, named by its first component.
    So `from pkg import sub` points at `pkg.sub` when that is a module and at `pkg` otherwise, and
    `import a.b.c` at `a.b.c`. Relative imports that climb above the top-level package are dropped
    (Python raises ImportError for them).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import tree_sitter

from .. import shared_query
from .languages import query
from .records import ImportRecord

_QUERY = "[(import_statement) (import_from_statement) (future_import_statement)] @import"


def python_imports(tree: tree_sitter.Tree, source: bytes) -> list[ImportRecord]:
    """The imports of a parsed Python file, in source order."""
    caps = shared_query.captures(tree, "imports")
    if caps is None:
        caps = tree_sitter.QueryCursor(query("python", _QUERY)).captures(tree.root_node)
    nodes = caps.get("import", [])
    nodes.sort(key=lambda n: n.start_byte)
    out: list[ImportRecord] = []
    for node in nodes:
        kind = _kind(node, source)
        line = node.start_point.row + 1
        node_type = node.type
        if node_type == "import_statement":
            for child in node.children_by_field_name("name"):
                name = _dotted(child.child_by_field_name("name") if child.type == "aliased_import" else child, source)
                if name:
                    out.append(ImportRecord(name, line, kind))
        elif node_type == "import_from_statement":
            record = _from_import(node, source, line, kind)
            if record is not None:
                out.append(record)
        else:  # future_import_statement
            names = tuple(filter(None, (_imported_name(c, source) for c in node.children_by_field_name("name"))))
            out.append(ImportRecord("__future__", line, kind, names, 0, "from"))
    return out


def _from_import(node: tree_sitter.Node, source: bytes, line: int, kind: str) -> ImportRecord | None:
    module_node = node.child_by_field_name("module_name")
    if module_node is None:
        return None
    level = 0
    if module_node.type == "relative_import":
        module = ""
        for child in module_node.named_children:
            if child.type == "import_prefix":
                level = source[child.start_byte:child.end_byte].count(b".")
            elif child.type == "dotted_name":
                module = _dotted(child, source)
    else:
        module = _dotted(module_node, source)
    if any(c.type == "wildcard_import" for c in node.named_children):
        names: tuple[str, ...] = ("*",)
    else:
        names = tuple(filter(None, (_imported_name(c, source) for c in node.children_by_field_name("name"))))
    if not names or (not module and not level):
        return None  # a statement tree-sitter could only partly parse
    return ImportRecord(module, line, kind, names, level, "from")


def _imported_name(node: tree_sitter.Node, source: bytes) -> str:
    if node.type == "aliased_import":
        node = node.child_by_field_name("name")  # type: ignore[assignment]
    return _dotted(node, source)


def _dotted(node: tree_sitter.Node | None, source: bytes) -> str:
    if node is None:
        return ""
    if node.type == "identifier":
        return source[node.start_byte:node.end_byte].decode("utf-8", "replace")
    # identifiers joined, so `a . b` and comments inside a parenthesised name read as "a.b"
    return ".".join(
        source[c.start_byte:c.end_byte].decode("utf-8", "replace") for c in node.named_children if c.type == "identifier"
    )


def _kind(node: tree_sitter.Node, source: bytes) -> str:
    in_function = False
    child = node
    parent = node.parent
    while parent is not None:
        parent_type = parent.type
        if parent_type == "function_definition":
            in_function = True
        elif parent_type == "if_statement" and child.type == "block":
            consequence = parent.child_by_field_name("consequence")
            if (
                consequence is not None
                and consequence.start_byte == child.start_byte
                and _is_type_checking(parent.child_by_field_name("condition"), source)
            ):
                return "type_checking"
        child, parent = parent, parent.parent
    return "function_local" if in_function else "import"


def _is_type_checking(condition: tree_sitter.Node | None, source: bytes) -> bool:
    while condition is not None and condition.type == "parenthesized_expression" and condition.named_child_count == 1:
        condition = condition.named_children[0]
    if condition is None:
        return False
    if condition.type == "attribute":
        condition = condition.child_by_field_name("attribute")
        if condition is None:
            return False
    return condition.type == "identifier" and source[condition.start_byte:condition.end_byte] == b"TYPE_CHECKING"


# --------------------------------------------------------------------------------------------- modules


@dataclass
class PythonModules:
    """The Python modules under one or more import roots (earlier roots win a name, as on sys.path)."""

    files: dict[str, Path] = field(default_factory=dict)
    """module name -> its file (absolute)"""
    packages: set[str] = field(default_factory=set)
    """names of the modules that are packages (their file is an `__init__`)"""
    namespaces: dict[str, Path] = field(default_factory=dict)
    """namespace package name -> its folder (absolute; the first root's when several hold it)"""
    top_level: set[str] = field(default_factory=set)

    def is_internal(self, name: str) -> bool:
        return name in self.files or name in self.namespaces

    @classmethod
    def build(cls, roots: Iterable[tuple[Path, Iterable[Path]]]) -> PythonModules:
        """`roots`: (import root, the Python files found under it), in priority order."""
        out = cls()
        for root, files in roots:
            out._add_root(Path(root), list(files))
        for name in out.files:
            out.namespaces.pop(name, None)  # a regular package beats a namespace portion of the same name
        out.top_level = {name.partition(".")[0] for name in (*out.files, *out.namespaces)}
        return out

    def _add_root(self, root: Path, files: list[Path]) -> None:
        rels: list[tuple[list[str], Path]] = []
        top = os.path.normpath(root)
        base = "" if top == "." else os.path.join(top, "")  # string work: Path.relative_to is slow over 10 k files
        for path in files:
            text = os.path.normpath(path)
            if not text.startswith(base):
                continue
            rels.append((text[len(base) :].split(os.sep), path if isinstance(path, Path) else Path(path)))
        init_dirs = {tuple(parts[:-1]) for parts, _ in rels if parts[-1] in ("__init__.py", "__init__.pyi")}
        chosen: dict[str, tuple[Path, bool]] = {}
        namespaces: dict[str, Path] = {}
        for parts, path in rels:
            filename = parts[-1]
            if filename.startswith("."):
                continue
            stem, _, suffix = filename.rpartition(".")
            if "." in stem or not stem:
                continue
            dirs = parts[:-1]
            if not all(d.isidentifier() for d in dirs):
                continue
            in_portion = False
            orphan = False
            found_namespaces: list[int] = []
            for i in range(1, len(dirs) + 1):
                if tuple(dirs[:i]) in init_dirs:
                    in_portion = True
                elif in_portion:
                    orphan = True
                    break
                else:
                    found_namespaces.append(i)
            if orphan:
                continue
            if stem == "__init__":
                if not dirs:
                    continue  # the import root's own __init__.py
                name = ".".join(dirs)
            else:
                name = ".".join((*dirs, stem))
            previous = chosen.get(name)
            if previous is not None and not (previous[0].suffix == ".pyi" and suffix == "py"):
                continue  # `.py` beats `.pyi`; otherwise the first file found keeps the name
            chosen[name] = (path, stem == "__init__")
            for i in found_namespaces:
                namespaces.setdefault(".".join(dirs[:i]), root.joinpath(*dirs[:i]))
        for name, (path, is_package) in chosen.items():
            if name in self.files:
                continue  # an earlier root holds it
            self.files[name] = path
            if is_package:
                self.packages.add(name)
        for name, folder in namespaces.items():
            self.namespaces.setdefault(name, folder)


def absolute_base(record: ImportRecord, importer: str, importer_is_package: bool) -> str | None:
    """The absolute module a from-import names (`from ..x import a` -> "pkg.x"); None when it climbs
    above the top-level package."""
    if not record.level:
        return record.module
    parts = importer.split(".")
    if not importer_is_package:
        parts = parts[:-1]
    up = record.level - 1
    if up:
        if up >= len(parts):
            return None
        parts = parts[:-up]
    if not parts:
        return None
    return ".".join((*parts, record.module)) if record.module else ".".join(parts)


def resolve(
    record: ImportRecord, importer: str, importer_is_package: bool, modules: PythonModules
) -> list[tuple[str, bool]]:
    """The modules `record` imports, each as (name, internal); external ones are named by their first
    component. Order follows the names imported, without repeats."""
    base = absolute_base(record, importer, importer_is_package)
    if base is None:
        return []
    candidates = [f"{base}.{name}" for name in record.names] if record.names else [base]
    out: list[tuple[str, bool]] = []
    for candidate in candidates:
        target = _target(candidate, modules)
        if target not in out:
            out.append(target)
    return out


def _target(name: str, modules: PythonModules) -> tuple[str, bool]:
    if modules.is_internal(name):
        return name, True
    parent = name.rpartition(".")[0]
    if parent and modules.is_internal(parent):
        return parent, True
    first = name.partition(".")[0]
    return first, first in modules.top_level
