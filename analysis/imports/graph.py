"""The import graph of a project: modules, module-level edges, external imports, cycles, and queries.

`build_graph(root, settings, language=...)` walks the project (respecting `.gitignore`, the
configuration's `exclude` and the always-skipped tool folders, as `analysis.files.discover` does),
extracts each file's imports (`extract.file_imports`, cacheable by content) and resolves them
(`python.resolve`, `javascript.JsResolver`).

Graph rules (the contract's `graph` shape)
    * Python modules are named dotted from their import root: `import_roots` (a list, relative to
      `root` or absolute, earlier wins a name) when given, else `root/src` when it exists, else `root`.
      Namespace packages are modules too (with their folder as `path`), since imports can name them.
      JavaScript/TypeScript modules are named by their path relative to `root` without the extension
      (`web/src/app`); when two files share that name (`x.ts` beside `x.js`, or a JS file named like a
      Python module) the file found first in resolution order keeps it and the others are named with
      their extension (`web/src/x.js`).
    * An edge is (importer, imported module) with every line importing it (sorted, 1-based) and the
      strongest kind among those imports: import > function_local > type_checking (see
      `records.KINDS`). A module importing itself (`from . import name` in an `__init__`) makes no edge.
    * `external` holds each (importer, external name) once; Python names are the first component of
      the imported module (`os.path` -> `os`), JS/TS names the package (`@scope/pkg`, `lodash`, `node:fs`).
    * `cycles` are the strongly connected components of more than one module over all edges (every
      kind), each sorted, the list sorted.
    * `language="javascript"` or `"typescript"` keeps the modules of that language only; files of the
      other one still resolve (a TypeScript import of a `.js` file is internal, not external) but edges
      to them are left out. `"all"` is Python plus both.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import files as _files
from ..config import Settings
from .extract import cache_key, extract_many
from .javascript import PROBE_EXTENSIONS, JsResolver
from .languages import JS_FAMILY_SUFFIXES, LANGUAGE_CHOICES, PYTHON_SUFFIXES, language_of
from .python import PythonModules, resolve
from .records import KIND_RANK, ImportRecord

OnSkip = Callable[[Path, str], None]

# Parsing runs in this process. Measured on the 2-core machine with django (883 files, 5.7 MB): 0.56 s
# for the whole build in one process against 0.63-0.67 s with two forked workers (parsing is ~70% of
# the time, but the other work and a busy machine eat the gain), so there is no process pool.


# --------------------------------------------------------------------------------------------- data


@dataclass(frozen=True, slots=True)
class ModuleNode:
    name: str
    path: str  # relative to the project root, with "/"
    language: str  # python | javascript | typescript

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "path": self.path, "language": self.language}


@dataclass(frozen=True, slots=True)
class Edge:
    source: str  # the importer ("from")
    target: str  # the imported module ("to")
    lines: tuple[int, ...]
    kind: str

    def to_json(self) -> dict[str, Any]:
        return {"from": self.source, "to": self.target, "lines": list(self.lines), "kind": self.kind}


@dataclass(frozen=True, slots=True)
class ExternalImport:
    source: str
    target: str

    def to_json(self) -> dict[str, str]:
        return {"from": self.source, "to": self.target}


@dataclass
class ImportGraph:
    """The import graph. Lists are sorted: modules by name, edges and external by (from, to), cycles as
    the contract says. The query methods answer with sorted lists of module names."""

    modules: list[ModuleNode] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    external: list[ExternalImport] = field(default_factory=list)
    cycles: list[list[str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(path relative to the root, reason) for files that could not be read; not part of the JSON."""

    def __post_init__(self) -> None:
        self._index: dict[str, Any] | None = None
        # set by build_graph: resolves one module's import records into (internal targets, external names)
        self._resolver: Callable[[str, list[ImportRecord]], list[tuple[str, int, str, bool]]] | None = None

    def with_imports(self, module: str, records: list[ImportRecord]) -> ImportGraph:
        """This graph with `module`'s own imports replaced by `records` (an editor buffer's, say): its
        outgoing edges and external imports are recomputed and the cycles found again. The other modules'
        edges are kept as they are. Unknown modules, or a graph not made by `build_graph`, give `self`."""
        if self._resolver is None or self.module(module) is None:
            return self
        found: dict[str, tuple[set[int], str]] = {}
        external: set[str] = set()
        for target, line, kind, internal in self._resolver(module, records):
            if not internal:
                external.add(target)
                continue
            if target == module:
                continue
            lines, old = found.setdefault(target, (set(), kind))
            lines.add(line)
            if KIND_RANK[kind] < KIND_RANK[old]:
                found[target] = (lines, kind)
        edges = [e for e in self.edges if e.source != module]
        edges += [Edge(module, t, tuple(sorted(lines)), kind) for t, (lines, kind) in found.items()]
        edges.sort(key=lambda e: (e.source, e.target))
        ext = [x for x in self.external if x.source != module] + [ExternalImport(module, t) for t in external]
        ext.sort(key=lambda x: (x.source, x.target))
        out = ImportGraph(self.modules, edges, ext, find_cycles((e.source, e.target) for e in edges), self.skipped)
        out._resolver = self._resolver
        return out

    # -- indexes (built on first query)

    def _indexes(self) -> dict[str, Any]:
        if self._index is None:
            out: dict[str, set[str]] = defaultdict(set)
            into: dict[str, set[str]] = defaultdict(set)
            for edge in self.edges:
                out[edge.source].add(edge.target)
                into[edge.target].add(edge.source)
            cycle_of = {name: cycle for cycle in self.cycles for name in cycle}
            by_path = {m.path: m.name for m in self.modules}
            by_name = {m.name: m for m in self.modules}
            by_pair = {(e.source, e.target): e for e in self.edges}
            self._index = {"out": out, "in": into, "cycle": cycle_of, "path": by_path, "name": by_name, "edge": by_pair}
        return self._index

    def module(self, name: str) -> ModuleNode | None:
        return self._indexes()["name"].get(name)

    def module_for_path(self, path: str | os.PathLike[str]) -> str | None:
        """The module whose file (or namespace folder) is `path`, relative to the root with "/"."""
        return self._indexes()["path"].get(Path(path).as_posix())

    def dependencies_of(self, module: str, transitive: bool = False) -> list[str]:
        """What `module` imports (directly, or at any distance), itself excluded."""
        return self._reach(module, self._indexes()["out"], transitive)

    def dependents_of(self, module: str, transitive: bool = False) -> list[str]:
        """What imports `module` (directly, or at any distance), itself excluded."""
        return self._reach(module, self._indexes()["in"], transitive)

    def cycle_of(self, module: str) -> list[str] | None:
        """The cycle (strongly connected component of more than one module) holding `module`, if any."""
        cycle = self._indexes()["cycle"].get(module)
        return list(cycle) if cycle is not None else None

    def edge(self, source: str, target: str) -> Edge | None:
        return self._indexes()["edge"].get((source, target))

    @staticmethod
    def _reach(start: str, adjacency: dict[str, set[str]], transitive: bool) -> list[str]:
        if not transitive:
            return sorted(adjacency.get(start, ()))
        seen = {start}
        stack = [start]
        while stack:
            for nxt in adjacency.get(stack.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        seen.discard(start)
        return sorted(seen)

    # -- output

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "modules": [m.to_json() for m in self.modules],
            "edges": [e.to_json() for e in self.edges],
            "external": [x.to_json() for x in self.external],
            "cycles": [list(c) for c in self.cycles],
        }

    def to_dot(self, *, external: bool = False) -> str:
        """Graphviz DOT. Edge styles: import solid, function_local dashed, type_checking dotted; modules in
        a cycle are filled. With `external`, external names are grey ellipses."""
        in_cycle = {name for cycle in self.cycles for name in cycle}
        lines = ["digraph imports {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];']
        for m in self.modules:
            attrs = [f"label={_dot_id(m.name)}", f"tooltip={_dot_id(m.path)}"]
            if m.name in in_cycle:
                attrs.append('style=filled, fillcolor="#f8d7da"')
            lines.append(f"  {_dot_id(m.name)} [{', '.join(attrs)}];")
        style = {"import": "", "function_local": " [style=dashed]", "type_checking": " [style=dotted]"}
        for e in self.edges:
            lines.append(f"  {_dot_id(e.source)} -> {_dot_id(e.target)}{style[e.kind]};")
        if external:
            for name in sorted({x.target for x in self.external}):
                lines.append(f'  {_dot_id("ext:" + name)} [label={_dot_id(name)}, shape=ellipse, color=gray, fontcolor=gray];')
            for x in self.external:
                lines.append(f'  {_dot_id(x.source)} -> {_dot_id("ext:" + x.target)} [color=gray];')
        lines.append("}")
        return "\n".join(lines) + "\n"

    def to_mermaid(self, *, external: bool = False) -> str:
        """Mermaid flowchart. Node ids are generated (`m0`, `m1`, ...), names are quoted labels; edges:
        import `-->`, function_local `-->|function_local|`, type_checking `-.->|type_checking|`."""
        ids = {m.name: f"m{i}" for i, m in enumerate(self.modules)}
        lines = ["flowchart LR"]
        for m in self.modules:
            lines.append(f'  {ids[m.name]}["{_mermaid_text(m.name)}"]')
        arrows = {"import": "-->", "function_local": "-->|function_local|", "type_checking": "-.->|type_checking|"}
        for e in self.edges:
            lines.append(f"  {ids[e.source]} {arrows[e.kind]} {ids[e.target]}")
        if external:
            ext_ids = {name: f"x{i}" for i, name in enumerate(sorted({x.target for x in self.external}))}
            for name, node_id in ext_ids.items():
                lines.append(f'  {node_id}(["{_mermaid_text(name)}"])')
            for x in self.external:
                lines.append(f"  {ids[x.source]} -.-> {ext_ids[x.target]}")
        in_cycle = [ids[name] for cycle in self.cycles for name in cycle]
        if in_cycle:
            lines.append("  classDef cycle fill:#f8d7da,stroke:#c00")
            lines.append(f"  class {','.join(in_cycle)} cycle")
        return "\n".join(lines) + "\n"


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _mermaid_text(text: str) -> str:
    # Inside a quoted label only `"` (and newlines) need escaping; Mermaid's entity codes do that.
    return text.replace("#", "#35;").replace('"', "#quot;").replace("\n", " ").replace("<", "#lt;").replace(">", "#gt;")


# --------------------------------------------------------------------------------------------- cycles


def strongly_connected_components(adjacency: dict[str, Iterable[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (no recursion limit). Every component, sorted; in no set order."""
    index_of: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    nodes = set(adjacency)
    for targets in adjacency.values():
        nodes.update(targets)
    for start in sorted(nodes):
        if start in index_of:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(adjacency.get(start, ()))))]
        index_of[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index_of:
                    index_of[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(adjacency.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index_of[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index_of[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def find_cycles(edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """The strongly connected components of more than one module, each sorted, the list sorted."""
    adjacency: dict[str, set[str]] = defaultdict(set)
    for source, target in edges:
        if source != target:
            adjacency[source].add(target)
    return sorted(c for c in strongly_connected_components(adjacency) if len(c) > 1)


# --------------------------------------------------------------------------------------------- discovery


class _SuffixWalker(_files._Walker):
    """`files.discover`'s walk (ignore files, excludes, tool folders, links) for other suffixes."""

    def __init__(self, settings: Settings, root: Path | None, on_skip: OnSkip | None, suffixes: tuple[str, ...]) -> None:
        super().__init__(settings, root, on_skip)
        self.suffixes = suffixes

    def candidate(self, name: str) -> bool:
        return name.endswith(self.suffixes)

    def _take(self, path: Path, absolute: str, is_link: bool, layers: Any, use_exclude: bool) -> bool:
        if not path.name.endswith(self.suffixes) or _files._ignored_by(layers, absolute, False):
            return False
        if is_link and os.path.isdir(absolute):
            return False
        return not (use_exclude and self._excluded_note(path, absolute, False))


def _walk(tops: Iterable[Path], settings: Settings, root: Path, on_skip: OnSkip | None, suffixes: tuple[str, ...]) -> list[Path]:
    walker = _SuffixWalker(settings, root, on_skip, suffixes)
    out: list[Path] = []
    seen: set[str] = set()
    for top in tops:
        found = walker.walk_top(top) if top.is_dir() else ([top] if top.name.endswith(suffixes) and top.exists() else [])
        for path in found:
            key = os.path.abspath(path)
            if key not in seen:
                seen.add(key)
                out.append(Path(key))
    return out


def python_import_roots(root: Path, import_roots: Sequence[str | os.PathLike[str]] | None = None) -> list[Path]:
    """The folders Python module names are dotted from: `import_roots` (relative to `root`) when given
    and not empty, else `root/src` when it is a folder, else `root`."""
    root = Path(os.path.abspath(root))
    if import_roots:
        return [Path(os.path.normpath(root / r)) for r in import_roots]
    src = root / "src"
    return [src] if src.is_dir() else [root]


# --------------------------------------------------------------------------------------------- building


ImportsCache = MutableMapping[str, Any]


class _Builder:
    def __init__(self, root: Path, settings: Settings, on_skip: OnSkip | None, cache: ImportsCache | None) -> None:
        self.root = root
        self.settings = settings
        self.on_skip = on_skip
        self.cache = cache
        self.modules: list[ModuleNode] = []
        self.edges: dict[tuple[str, str], tuple[set[int], str]] = {}
        self.external: set[tuple[str, str]] = set()
        self.skipped: list[tuple[str, str]] = []
        self.py_index: PythonModules | None = None
        self.discovered: list[Path] | None = None  # the project's files, when the caller walked it already
        self.digests: Mapping[str, str] = {}  # absolute path -> content digest, for files the caller read already
        self.js: tuple[JsResolver, dict[str, str], dict[str, str]] | None = None  # resolver, name_of, path by name

    def rel(self, path: str | os.PathLike[str]) -> str:
        return Path(os.path.relpath(path, self.root)).as_posix()

    def add_edge(self, source: str, target: str, line: int, kind: str) -> None:
        if source == target:
            return
        key = (source, target)
        found = self.edges.get(key)
        if found is None:
            self.edges[key] = ({line}, kind)
        else:
            found[0].add(line)
            if KIND_RANK[kind] < KIND_RANK[found[1]]:  # the strongest kind wins (records.KINDS)
                self.edges[key] = (found[0], kind)

    # -- extraction

    def extract(self, paths: list[Path]) -> dict[Path, list[ImportRecord]]:
        """Read every file, take what the cache has, parse the rest."""
        results: dict[Path, list[ImportRecord]] = {}
        todo: list[tuple[Path, bytes, str]] = []
        for path in paths:
            known = self.digests.get(str(path)) if self.cache is not None else None
            if known is not None:  # the caller read this file already: no need to read it again for its key
                cached = self.cache.get(cache_key(path, digest=known))  # type: ignore[union-attr]
                if cached is not None:
                    results[path] = list(cached)
                    continue
            data, reason = _files.read_source(path, self.settings.max_file_size)
            if data is None:
                self.skip(path, reason or "unreadable")
                continue
            key = cache_key(path, data)
            cached = self.cache.get(key) if self.cache is not None else None
            if cached is not None:
                results[path] = list(cached)
            else:
                todo.append((path, data, key))
        if todo:
            items = [(str(path), data) for path, data, _ in todo]
            for (path, _, key), records in zip(todo, extract_many(items)):
                results[path] = records
                if self.cache is not None:
                    self.cache[key] = tuple(records)
        return results

    def skip(self, path: Path, reason: str) -> None:
        self.skipped.append((self.rel(path), reason))
        if self.on_skip is not None:
            self.on_skip(path, reason)

    # -- python

    def python(self, import_roots: list[Path], packages: Sequence[str] | None) -> None:
        roots: list[tuple[Path, list[Path]]] = []
        for import_root in import_roots:
            if self.discovered is not None and not packages:
                prefix = str(import_root).rstrip(os.sep) + os.sep
                roots.append((import_root, [p for p in self.discovered
                                            if p.name.endswith(PYTHON_SUFFIXES) and str(p).startswith(prefix)]))
                continue
            if packages:
                tops = [import_root / p for p in packages if (import_root / p).is_dir()]
                tops += [import_root / f"{p}{s}" for p in packages for s in PYTHON_SUFFIXES if (import_root / f"{p}{s}").is_file()]
            else:
                tops = [import_root] if import_root.is_dir() else []
            roots.append((import_root, _walk(tops, self.settings, self.root, self.on_skip, PYTHON_SUFFIXES)))
        index = PythonModules.build(roots)
        self.py_index = index
        for name, folder in index.namespaces.items():
            self.modules.append(ModuleNode(name, self.rel(folder), "python"))
        for name, path in index.files.items():
            self.modules.append(ModuleNode(name, self.rel(path), "python"))
        by_file = {path: name for name, path in index.files.items()}
        records = self.extract(list(index.files.values()))
        for path, file_records in records.items():
            importer = by_file[path]
            is_package = importer in index.packages
            for record in file_records:
                for target, internal in resolve(record, importer, is_package, index):
                    if internal:
                        self.add_edge(importer, target, record.line, record.kind)
                    else:
                        self.external.add((importer, target))

    # -- javascript / typescript

    def javascript(self, wanted: set[str], taken: set[str]) -> None:
        if self.discovered is not None:
            paths = [p for p in self.discovered if p.name.endswith(JS_FAMILY_SUFFIXES)]
        else:
            paths = _walk([self.root], self.settings, self.root, self.on_skip, JS_FAMILY_SUFFIXES)
        names = _js_names([self.rel(p) for p in paths], taken)
        resolver = JsResolver((str(p) for p in paths), str(self.root))
        chosen = [p for p in paths if language_of(p.name) in wanted]
        name_of = {os.path.normpath(str(p)): names[self.rel(p)] for p in chosen}
        self.js = (resolver, name_of, {name: path for path, name in name_of.items()})
        for p in chosen:
            self.modules.append(ModuleNode(names[self.rel(p)], self.rel(p), language_of(p.name) or "javascript"))
        records = self.extract(chosen)
        for path, file_records in records.items():
            importer = name_of[os.path.normpath(str(path))]
            for record in file_records:
                resolved = resolver.resolve(record.module, str(path))
                if resolved is None:
                    continue
                target, internal = resolved
                if not internal:
                    self.external.add((importer, target))
                elif target in name_of:
                    self.add_edge(importer, name_of[target], record.line, record.kind)

    def graph(self) -> ImportGraph:
        edges = [Edge(s, t, tuple(sorted(lines)), kind) for (s, t), (lines, kind) in self.edges.items()]
        edges.sort(key=lambda e: (e.source, e.target))
        external = sorted(self.external)
        graph = ImportGraph(
            modules=sorted(self.modules, key=lambda m: (m.name, m.path)),
            edges=edges,
            external=[ExternalImport(s, t) for s, t in external],
            cycles=find_cycles((e.source, e.target) for e in edges),
            skipped=self.skipped,
        )
        graph._resolver = self.resolve_module
        return graph

    def resolve_module(self, module: str, records: list[ImportRecord]) -> list[tuple[str, int, str, bool]]:
        """(target, line, kind, internal) for each import of `records`, as the build resolved them."""
        out: list[tuple[str, int, str, bool]] = []
        index = self.py_index
        if index is not None and module in index.files:
            is_package = module in index.packages
            for record in records:
                for target, internal in resolve(record, module, is_package, index):
                    out.append((target, record.line, record.kind, internal))
            return out
        if self.js is not None:
            resolver, name_of, path_of = self.js
            path = path_of.get(module)
            if path is None:
                return out
            for record in records:
                resolved = resolver.resolve(record.module, path)
                if resolved is None:
                    continue
                target, internal = resolved
                if not internal:
                    out.append((target, record.line, record.kind, False))
                elif target in name_of:
                    out.append((name_of[target], record.line, record.kind, True))
        return out


def _js_name_and_rank(rel: str) -> tuple[str, int]:
    """(name without the extension, rank of the extension in resolution order: lower wins a clash)."""
    for extension in (".d.mts", ".d.cts"):
        if rel.endswith(extension):
            return rel[: -len(extension)], len(PROBE_EXTENSIONS)
    for rank, extension in sorted(enumerate(PROBE_EXTENSIONS), key=lambda x: -len(x[1])):
        if rel.endswith(extension):
            return rel[: -len(extension)], rank
    return os.path.splitext(rel)[0], len(PROBE_EXTENSIONS)


def _js_names(rels: list[str], taken: set[str]) -> dict[str, str]:
    """Module name for each JS/TS file path (relative to the root): the path without its extension, or
    the full path for the files that lose a clash."""
    groups: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for rel in rels:
        stem, rank = _js_name_and_rank(rel)
        groups[stem].append((rank, rel))
    out: dict[str, str] = {}
    for stem, members in groups.items():
        members.sort()
        for i, (_, rel) in enumerate(members):
            out[rel] = stem if i == 0 and stem not in taken else rel
    return out


def build_graph(
    root: str | os.PathLike[str],
    settings: Settings | None = None,
    *,
    language: str = "python",
    import_roots: Sequence[str | os.PathLike[str]] | None = None,
    packages: Sequence[str] | None = None,
    on_skip: OnSkip | None = None,
    cache: ImportsCache | None = None,
    discovered: Iterable[str | os.PathLike[str]] | None = None,
    digests: Mapping[str, str] | None = None,
) -> ImportGraph:
    """The import graph of the project at `root` (the folder an editor opens).

    `settings`: `exclude` and `max_file_size` apply; `import_roots` falls back to
    `settings.import_roots` when the settings have it. `packages`: only these top-level Python packages
    (or modules) of the import roots are walked, as `grimp.build_graph(*packages)` does; imports of
    anything else are then external. `cache`: any mapping; extraction results are stored under
    `extract.cache_key` and reused (values are tuples of `ImportRecord`). `discovered`: the project's files
    as `files.discover([root], settings, root)` lists them, when the caller walked the tree already.
    `digests`: absolute path -> blake2b-160 hex digest of files the caller has just read (their cached
    records are then found without reading them again). Raises ValueError for an unknown `language`.
    """
    if language not in LANGUAGE_CHOICES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGE_CHOICES)}, not {language!r}")
    settings = settings or Settings()
    root_path = Path(os.path.abspath(root))
    if import_roots is None:
        import_roots = getattr(settings, "import_roots", None)
    builder = _Builder(root_path, settings, on_skip, cache)
    if discovered is not None:
        builder.discovered = [Path(os.path.abspath(p)) for p in discovered]
    builder.digests = digests or {}
    if language in ("python", "all"):
        builder.python(python_import_roots(root_path, import_roots), packages)
    if language != "python":
        wanted = {"javascript", "typescript"} if language == "all" else {language}
        builder.javascript(wanted, {m.name for m in builder.modules})
    return builder.graph()
