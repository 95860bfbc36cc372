"""JavaScript and TypeScript: imports from a tree-sitter tree, and resolving specifiers to files.

Extraction (`js_imports`) finds, with one query per grammar:
    * `import x from "m"`, `import "m"`, `import * as x from "m"` (form "import");
    * `export ... from "m"`, `export * from "m"` (form "export");
    * `require("m")` (form "require") and `import("m")` (form "dynamic"), only with a string literal (a
      template literal without `${}` counts as one) as the first argument;
    * TypeScript `import x = require("m")` (form "require").
    Kinds: `import type ...` and `export type ... from` are `type_checking` (inline `import { type A }`
    specifiers do not make the statement type-only); a `require(...)` or `import(...)` inside a function,
    arrow function or method is `function_local`; the rest is `import`.

Resolution (`JsResolver.resolve`), for a specifier written in a file:
    1. relative (`./x`, `../x`, `.`, `..`) or absolute specifiers: against the file's folder;
    2. otherwise, the nearest `tsconfig.json` (else `jsconfig.json`) at or above the file, inside the
       project: its `paths` patterns (best match, each substitution tried in order), then `baseUrl`;
    3. otherwise the specifier is external, named by its package: `@scope/name` or the first segment
       (`lodash/fp` -> `lodash`, `node:fs/promises` -> `node:fs`; Node built-ins are external too).
    A candidate path is probed among the project's JS/TS files only (no file system access): the path
    itself, the TypeScript spelling of a `.js`/`.jsx`/`.mjs`/`.cjs` path (`./x.js` finding `x.ts`), then
    the path plus `.ts .tsx .js .jsx .mjs .cjs .mts .cts .d.ts`, then `/index` plus each of them. A
    relative specifier that finds no source file (a stylesheet, an image, a missing file) is not a
    module dependency and is dropped.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import tree_sitter

from .languages import query
from .records import ImportRecord
from .tsconfig import CONFIG_NAMES, CompilerPaths, load_compiler_paths

_STRING = "[(string) (template_string)] @source"

_QUERY_COMMON = f"""
(import_statement source: (string) @source) @static
(export_statement source: (string) @source) @export
(call_expression function: (identifier) @_require arguments: (arguments . {_STRING}) (#eq? @_require "require")) @require
(call_expression function: (import) arguments: (arguments . {_STRING})) @dynamic
"""
_QUERY_TS_EXTRA = """
(import_statement (import_require_clause source: (string) @source)) @require
"""

_FUNCTIONS = frozenset(
    {
        "function_declaration",
        "function_expression",
        "function",
        "arrow_function",
        "method_definition",
        "generator_function_declaration",
        "generator_function",
    }
)

PROBE_EXTENSIONS = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts", ".d.ts")
_TS_SPELLINGS = {".js": (".ts", ".tsx", ".d.ts"), ".jsx": (".tsx",), ".mjs": (".mts", ".d.mts"), ".cjs": (".cts", ".d.cts")}


def _query_source(dialect: str) -> str:
    return _QUERY_COMMON + (_QUERY_TS_EXTRA if dialect in ("typescript", "tsx") else "")


def js_imports(tree: tree_sitter.Tree, source: bytes, dialect: str) -> list[ImportRecord]:
    """The imports of a parsed JavaScript / TypeScript / TSX file, in source order."""
    cursor = tree_sitter.QueryCursor(query(dialect, _query_source(dialect)))
    found: dict[int, ImportRecord] = {}
    for _, captures in cursor.matches(tree.root_node):
        sources = captures.get("source")
        if not sources:
            continue
        text = _literal(sources[0], source)
        if text is None:
            continue
        for form in ("static", "export", "require", "dynamic"):
            nodes = captures.get(form)
            if nodes:
                node = nodes[0]
                break
        else:  # pragma: no cover - every pattern has one of them
            continue
        if form in ("static", "export"):
            kind = "type_checking" if _type_only(node, source) else "import"
            form = "import" if form == "static" else "export"
        elif node.type == "import_statement":  # import x = require("m")
            kind = "type_checking" if _type_only(node, source) else "import"
        else:
            kind = "function_local" if _in_function(node) else "import"
        record = ImportRecord(text, node.start_point.row + 1, kind, (), 0, form)
        found.setdefault(node.start_byte, record)
    return [found[k] for k in sorted(found)]


def _literal(node: tree_sitter.Node, source: bytes) -> str | None:
    if node.type == "template_string" and any(c.type == "template_substitution" for c in node.named_children):
        return None
    raw = source[node.start_byte + 1:node.end_byte - 1].decode("utf-8", "replace")
    if "\\" in raw:
        raw = _unescape(raw)
    return raw or None


def _unescape(raw: str) -> str:
    try:
        return raw.encode("latin-1", "backslashreplace").decode("unicode_escape")
    except UnicodeDecodeError:
        return raw


def _type_only(statement: tree_sitter.Node, source: bytes) -> bool:
    """`import type ...` / `export type ... from`: a `type` keyword right after import/export (the grammar
    may wrap it in an ERROR node for newer syntax such as `export type * from`)."""
    children = statement.children
    if len(children) < 2:
        return False
    second = children[1]
    if second.type == "type" and not second.is_named:
        return True
    return second.type == "ERROR" and source[second.start_byte:second.end_byte].strip() == b"type"


def _in_function(node: tree_sitter.Node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type in _FUNCTIONS:
            return True
        parent = parent.parent
    return False


# --------------------------------------------------------------------------------------------- resolving


def package_name(specifier: str) -> str:
    """The package an external specifier names: `@scope/name`, or its first path segment."""
    if "://" in specifier:
        scheme, _, rest = specifier.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}"
    parts = specifier.split("/")
    if specifier.startswith("@") and len(parts) > 1:
        return f"{parts[0]}/{parts[1]}"
    return parts[0]


def is_relative(specifier: str) -> bool:
    return specifier in (".", "..") or specifier.startswith(("./", "../"))


class JsResolver:
    """Resolves specifiers among a known set of JS/TS files (absolute, normalised paths)."""

    def __init__(self, files: Iterable[str], project_root: str) -> None:
        self.files = {os.path.normpath(f) for f in files}
        self.root = os.path.normpath(os.path.abspath(project_root))
        self._configs: dict[str, CompilerPaths | None] = {}
        self._loaded: dict[str, CompilerPaths] = {}

    def resolve(self, specifier: str, importer: str) -> tuple[str, bool] | None:
        """(file, True) for a project file, (package, False) for an external one, None to drop."""
        folder = os.path.dirname(importer)
        if is_relative(specifier) or specifier.startswith("/"):
            found = self.probe(os.path.join(folder, specifier))
            return (found, True) if found else None
        config = self.config_for(folder)
        if config is not None:
            for candidate in config.patterns(specifier):
                found = self.probe(candidate)
                if found:
                    return found, True
            if config.base_url is not None:
                found = self.probe(os.path.join(config.base_url, specifier))
                if found:
                    return found, True
        return package_name(specifier), False

    def probe(self, candidate: str) -> str | None:
        base = os.path.normpath(candidate)
        files = self.files
        if base in files:
            return base
        stem, ext = os.path.splitext(base)
        for alternative in _TS_SPELLINGS.get(ext, ()):
            if stem + alternative in files:
                return stem + alternative
        for extension in PROBE_EXTENSIONS:
            if base + extension in files:
                return base + extension
        index = os.path.join(base, "index")
        for extension in PROBE_EXTENSIONS:
            if index + extension in files:
                return index + extension
        return None

    def config_for(self, folder: str) -> CompilerPaths | None:
        """The nearest tsconfig.json (else jsconfig.json) at or above `folder`, not above the project."""
        folder = os.path.normpath(folder)
        chain: list[str] = []
        found: CompilerPaths | None = None
        current = folder
        while True:
            if current in self._configs:
                found = self._configs[current]
                break
            chain.append(current)
            config_path = next(
                (p for p in (os.path.join(current, n) for n in CONFIG_NAMES) if os.path.isfile(p)), None
            )
            if config_path is not None:
                found = self._load(config_path)
                break
            parent = os.path.dirname(current)
            if current == self.root or parent == current or not (current + os.sep).startswith(self.root + os.sep):
                break
            current = parent
        for folder_seen in chain:
            self._configs[folder_seen] = found
        return found

    def _load(self, path: str) -> CompilerPaths:
        loaded = self._loaded.get(path)
        if loaded is None:
            loaded = self._loaded[path] = load_compiler_paths(path)
        return loaded
