"""Architecture rules over the import graph: SA301 (import cycle) and SA302 (architecture violation).

Pure like the rest of `analysis`: the graph (`imports.build_graph`), the settings and the project's files in,
`Finding`s out. The command line builds the graph once per project root and adds these findings to the files
it reports; the language server wiring is a later step.

Contracts come from two places, both checked:
    * `[tool.sophia-artemis.architecture]`: `layers` (highest first, `"a | b"` independent siblings,
      `"a : b"` siblings that may import each other), `containers`, `forbidden` (a list of
      `{source = ..., forbidden = [...]}`), `independence` (a list of module lists) and `import_linter`
      (default true: also honour the project's import-linter contracts).
    * import-linter's own configuration, as import-linter finds it: the first of `setup.cfg` (`[importlinter]`),
      `.importlinter` (INI) and `pyproject.toml` (`[tool.importlinter]`) that has one. Contract types
      `layers`, `forbidden` and `independence` are honoured with their options `containers`, `layers`,
      `source_modules`, `forbidden_modules`, `modules` and `ignore_imports` (`*` one component, `**` any).
      Only direct imports are checked: `allow_indirect_imports` is read and has no effect, since a direct
      import is a violation either way.

A module belongs to a contract's module `m` when it is `m` or inside it (`m.sub`). Every edge kind counts
(`import`, `function_local`, `type_checking`), as import-linter's default does.

SA301 cycle-edge rule (deterministic): for each cycle (strongly connected component of more than one module,
as `ImportGraph.cycles` gives them) the path starts at the component's smallest module name `m0` and follows
the shortest path back to `m0` (breadth-first inside the component, neighbours in name order). The finding
sits on the first import line of the path's last edge, `mk -> m0` (the import that closes the cycle); the
other edges of the path are its related information.
"""

from __future__ import annotations

import configparser
import os
import re
import sys
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .model import Finding, Range, Related

# `config` imports this module (to validate the `architecture` table) and the import graph imports `config`, so
# this module imports neither: `graph` arguments are `imports.ImportGraph`s and `settings` arguments
# `config.Settings`, duck-typed. The caller (the command line) builds the graph.
ImportGraph = Any
Settings = Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONTRACT_TYPES = ("layers", "forbidden", "independence")
ARCHITECTURE_KEYS = ("layers", "containers", "forbidden", "independence", "import_linter")
CYCLE_NAMES_SHOWN = 5


# --------------------------------------------------------------------------------------------- data


@dataclass(frozen=True, slots=True)
class Layer:
    """One entry of a `layers` list: its sibling modules; `independent` when written `a | b`."""

    modules: tuple[str, ...]
    independent: bool = True


@dataclass(frozen=True, slots=True)
class Contract:
    name: str
    type: str  # layers | forbidden | independence
    layers: tuple[Layer, ...] = ()
    containers: tuple[str, ...] = ()
    source_modules: tuple[str, ...] = ()
    forbidden_modules: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    ignore_imports: tuple[tuple[str, str], ...] = ()
    allow_indirect_imports: bool = False  # read, no effect: only direct imports are checked


@dataclass(frozen=True, slots=True)
class ArchitectureSettings:
    contracts: tuple[Contract, ...] = ()
    import_linter: bool = True


# --------------------------------------------------------------------------------------------- parsing


def _names(value: Any) -> tuple[str, ...] | None:
    """A module list: a list of strings, a string (newline or comma separated), None when malformed."""
    if isinstance(value, str):
        value = [v for v in re.split(r"[\n,]", value)]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        items = tuple(v.split("#", 1)[0].strip() for v in value)
        return tuple(v for v in items if v)
    return None


def _layer(text: str) -> Layer | None:
    text = text.strip()
    independent = ":" not in text
    parts = tuple(p.strip().strip("()").strip() for p in re.split(r"[|:]", text))  # "(x)": optional layer
    if not parts or not all(re.fullmatch(r"[\w.]+", p) for p in parts):
        return None
    return Layer(parts, independent)


def _layers(value: Any) -> tuple[Layer, ...] | None:
    names = _names(value)
    if names is None:
        return None
    layers = [_layer(n) for n in names]
    if any(layer is None for layer in layers):
        return None
    return tuple(layer for layer in layers if layer is not None)


def _ignore_imports(value: Any) -> tuple[tuple[str, str], ...] | None:
    names = _names(value)
    if names is None:
        return None
    out = []
    for item in names:
        if "->" not in item:
            return None
        left, right = (p.strip() for p in item.split("->", 1))
        out.append((left, right))
    return tuple(out)


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no", "1", "0", "on", "off"):
        return value.strip().lower() in ("true", "yes", "1", "on")
    return None


def contract_from_options(name: str, options: Mapping[str, Any]) -> tuple[Contract | None, str | None]:
    """An import-linter contract from its options; (None, problem) for an unsupported or malformed one."""
    kind = str(options.get("type", "")).strip()
    if kind not in CONTRACT_TYPES:
        return None, f"contract '{name}': type {kind!r} is not checked (only {', '.join(CONTRACT_TYPES)})"
    parsed: dict[str, Any] = {}
    parsers = {
        "layers": _layers,
        "containers": _names,
        "source_modules": _names,
        "forbidden_modules": _names,
        "modules": _names,
        "ignore_imports": _ignore_imports,
        "allow_indirect_imports": _bool,
    }
    for key, parse in parsers.items():
        if key in options:
            value = parse(options[key])
            if value is None:
                return None, f"contract '{name}': option '{key}' is malformed ({options[key]!r})"
            parsed[key] = value
    required = {"layers": ("layers",), "forbidden": ("source_modules", "forbidden_modules"),
                "independence": ("modules",)}[kind]
    missing = [key for key in required if not parsed.get(key)]
    if missing:
        return None, f"contract '{name}': missing '{missing[0]}'"
    return Contract(name=name, type=kind, **parsed), None


def parse_architecture(source: str, value: Any) -> tuple[ArchitectureSettings | None, list[str]]:
    """The `architecture` settings table: (settings, problems). A bad key is named and ignored."""
    if not isinstance(value, Mapping):
        return None, [f"{source}: setting 'architecture' must be a table, got {value!r}; ignored"]
    problems: list[str] = []
    contracts: list[Contract] = []
    options = {re.sub(r"(?<!^)(?=[A-Z])", "_", str(k)).lower().replace("-", "_"): (k, v) for k, v in value.items()}

    def bad(key: str, item: Any, expected: str) -> None:
        problems.append(f"{source}: setting 'architecture.{key}' must be {expected}, got {item!r}; ignored")

    for key, (raw, _) in options.items():
        if key not in ARCHITECTURE_KEYS:
            problems.append(
                f"{source}: unknown setting 'architecture.{raw}' (known: {', '.join(ARCHITECTURE_KEYS)}); ignored"
            )
    import_linter = True
    if "import_linter" in options:
        flag = options["import_linter"][1]
        if isinstance(flag, bool):
            import_linter = flag
        else:
            bad("import_linter", flag, "true or false")
    containers: tuple[str, ...] = ()
    if "containers" in options:
        parsed_containers = _names(options["containers"][1])
        if parsed_containers is None:
            bad("containers", options["containers"][1], "a list of module names")
        else:
            containers = parsed_containers
    if "layers" in options:
        layers = _layers(options["layers"][1])
        if layers is None or not layers:
            bad("layers", options["layers"][1], 'a list of module names, highest first ("a | b" for siblings)')
        else:
            contracts.append(Contract("architecture.layers", "layers", layers=layers, containers=containers))
    if "forbidden" in options:
        items = options["forbidden"][1]
        if isinstance(items, Mapping):
            items = [items]
        if not isinstance(items, list):
            bad("forbidden", items, "a list of tables {source = ..., forbidden = [...]}")
        else:
            for i, item in enumerate(items):
                src = _names(item.get("source")) if isinstance(item, Mapping) else None
                banned = _names(item.get("forbidden")) if isinstance(item, Mapping) else None
                extra = set(item) - {"source", "forbidden", "name"} if isinstance(item, Mapping) else set()
                if not src or not banned or extra:
                    bad(f"forbidden[{i}]", item, "a table {source = \"mod\", forbidden = [\"mod\", ...]}")
                    continue
                name = str(item.get("name") or f"architecture.forbidden[{i}]")
                contracts.append(Contract(name, "forbidden", source_modules=src, forbidden_modules=banned))
    if "independence" in options:
        groups = options["independence"][1]
        if not isinstance(groups, list):
            bad("independence", groups, "a list of module lists")
        else:
            for i, group in enumerate(groups):
                mods = _names(group) if isinstance(group, list) else None
                if not mods or len(mods) < 2:
                    bad(f"independence[{i}]", group, "a list of at least two module names")
                    continue
                contracts.append(Contract(f"architecture.independence[{i}]", "independence", modules=mods))
    return ArchitectureSettings(tuple(contracts), import_linter), problems


def read_import_linter(root: Path) -> tuple[list[Contract], list[str]]:
    """The import-linter contracts of the project at `root`: the first of setup.cfg, .importlinter and
    pyproject.toml that configures import-linter (its own order). Never raises; problems are messages."""
    root = Path(root)
    for filename in ("setup.cfg", ".importlinter"):
        path = root / filename
        if not path.is_file():
            continue
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, OSError, UnicodeDecodeError) as exc:
            return [], [f"{path}: cannot read import-linter configuration ({exc}); ignored"]
        if not parser.has_section("importlinter"):
            continue
        raw = []
        for section in parser.sections():
            if section.startswith("importlinter:contract:"):
                options = dict(parser.items(section))
                raw.append((options.get("name") or section.split(":", 2)[2], options))
        return _contracts(path, raw)
    path = root / "pyproject.toml"
    if path.is_file():
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError):
            return [], []  # the settings already report a pyproject.toml that cannot be read
        table = data.get("tool", {}).get("importlinter")
        if isinstance(table, Mapping):
            items = table.get("contracts", [])
            raw = [
                (str(c.get("name") or c.get("id") or f"contract {i}"), c)
                for i, c in enumerate(items if isinstance(items, list) else [])
                if isinstance(c, Mapping)
            ]
            return _contracts(path, raw)
    return [], []


def _contracts(path: Path, raw: Iterable[tuple[str, Mapping[str, Any]]]) -> tuple[list[Contract], list[str]]:
    contracts, problems = [], []
    for name, options in raw:
        contract, problem = contract_from_options(name, options)
        if contract is not None:
            contracts.append(contract)
        elif problem:
            problems.append(f"{path}: {problem}; not checked")
    return contracts, problems


# --------------------------------------------------------------------------------------------- checking


def _inside(module: str, parent: str) -> bool:
    return module == parent or module.startswith(parent + ".")


def _owner(module: str, candidates: Iterable[str]) -> str | None:
    """The most specific candidate holding `module`."""
    best = None
    for c in candidates:
        if _inside(module, c) and (best is None or len(c) > len(best)):
            best = c
    return best


def _pattern(text: str) -> re.Pattern[str]:
    parts = []
    for part in text.split("."):
        parts.append(r"[^.]+(?:\.[^.]+)*" if part == "**" else r"[^.]+" if part == "*" else re.escape(part))
    return re.compile(r"\.".join(parts) + r"\Z")


def _ignored(contract: Contract, importer: str, imported: str) -> bool:
    return any(
        _pattern(left).match(importer) and _pattern(right).match(imported) for left, right in contract.ignore_imports
    )


@dataclass(frozen=True, slots=True)
class Violation:
    contract: str
    importer: str
    imported: str
    lines: tuple[int, ...]  # 1-based
    rule: str  # what was broken, in words


def _layer_violations(contract: Contract, importer: str, imported: str) -> str | None:
    containers = contract.containers or ("",)
    for container in containers:
        prefix = f"{container}." if container else ""
        where: dict[str, tuple[int, str]] = {}
        for module, key in ((importer, "importer"), (imported, "imported")):
            for index, layer in enumerate(contract.layers):
                owner = _owner(module, (prefix + m for m in layer.modules))
                if owner is not None:
                    where[key] = (index, owner)
                    break
        if len(where) < 2:
            continue
        (i_idx, i_mod), (t_idx, t_mod) = where["importer"], where["imported"]
        if i_idx > t_idx:
            return f"lower layer '{i_mod}' must not import higher layer '{t_mod}'"
        if i_idx == t_idx and i_mod != t_mod and contract.layers[i_idx].independent:
            return f"independent layers '{i_mod}' and '{t_mod}' must not import each other"
    return None


def _internal_rule(contract: Contract, importer: str, imported: str) -> str | None:
    if contract.type == "layers":
        return _layer_violations(contract, importer, imported)
    if contract.type == "forbidden":
        src = _owner(importer, contract.source_modules)
        banned = _owner(imported, contract.forbidden_modules)
        if src is not None and banned is not None and not _inside(importer, banned):
            return f"'{src}' must not import '{banned}'"
        return None
    a = _owner(importer, contract.modules)
    b = _owner(imported, contract.modules)
    if a is not None and b is not None and a != b:
        return f"independent modules '{a}' and '{b}' must not import each other"
    return None


def _external_candidates(record: Any) -> list[str]:
    if record.level:
        return []
    out = [record.module]
    out.extend(f"{record.module}.{n}" for n in record.names if n != "*")
    return out


def find_violations(graph: ImportGraph, contracts: Iterable[Contract], root: Path) -> list[Violation]:
    """Every direct import that breaks a contract, with its lines. Forbidden modules that are not in the
    graph (third-party packages) are matched against the importing file's imports as written."""
    from .imports.extract import file_imports

    contracts = list(contracts)
    out: list[Violation] = []
    internal = {m.name for m in graph.modules}
    for edge in graph.edges:
        for contract in contracts:
            rule = _internal_rule(contract, edge.source, edge.target)
            if rule and not _ignored(contract, edge.source, edge.target):
                out.append(Violation(contract.name, edge.source, edge.target, edge.lines, rule))
    records_cache: dict[str, list[Any]] = {}
    for contract in contracts:
        if contract.type != "forbidden":
            continue
        external = [f for f in contract.forbidden_modules if not any(_inside(m, f) or _inside(f, m) for m in internal)]
        if not external:
            continue
        tops = {f.split(".")[0] for f in external}
        for ext in graph.external:
            src = _owner(ext.source, contract.source_modules)
            node = graph.module(ext.source)
            if src is None or ext.target not in tops or node is None or not node.path.endswith((".py", ".pyi")):
                continue
            if node.path not in records_cache:
                try:
                    data = (Path(root) / node.path).read_bytes()
                    records_cache[node.path] = file_imports(node.path, data)
                except (OSError, ValueError):
                    records_cache[node.path] = []
            found: dict[tuple[str, str], set[int]] = {}
            for record in records_cache[node.path]:
                for name in _external_candidates(record):
                    banned = _owner(name, external)
                    if banned is not None and not _ignored(contract, ext.source, name):
                        found.setdefault((banned, record.module), set()).add(record.line)
                        break
            for (banned, written), lines in sorted(found.items()):
                out.append(Violation(contract.name, ext.source, written, tuple(sorted(lines)),
                                     f"'{src}' must not import '{banned}'"))
    return out


def cycle_path(graph: ImportGraph, cycle: list[str]) -> list[str]:
    """The shortest path m0 -> ... -> mk (-> m0) inside the cycle from its smallest module (see the module
    docstring); [m0, m1, ..., mk]."""
    members = set(cycle)
    start = min(cycle)
    parents: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in graph.dependencies_of(node):
            if nxt not in members:
                continue
            if nxt == start:
                path = [node]
                while parents[path[-1]] is not None:
                    path.append(parents[path[-1]])  # type: ignore[arg-type]
                return list(reversed(path))
            if nxt not in parents:
                parents[nxt] = node
                queue.append(nxt)
    return sorted(cycle)  # not reached for a real strongly connected component


def _shorten(names: list[str]) -> str:
    if len(names) <= CYCLE_NAMES_SHOWN:
        return ", ".join(names)
    return ", ".join(names[:CYCLE_NAMES_SHOWN]) + f" and {len(names) - CYCLE_NAMES_SHOWN} more"


class _Lines:
    """Import-line ranges of the project's files (0-based, UTF-16 columns), read on demand."""

    def __init__(self, root: Path, texts: Mapping[str, str] | None = None) -> None:
        self.root = root
        self.cache: dict[str, list[str]] = {rel: text.splitlines() for rel, text in (texts or {}).items()}

    def range(self, rel: str, line: int) -> Range:
        if rel not in self.cache:
            try:
                self.cache[rel] = (self.root / rel).read_bytes().decode("utf-8", "replace").splitlines()
            except OSError:
                self.cache[rel] = []
        lines = self.cache[rel]
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        stripped = text.rstrip()
        start = len(stripped) - len(stripped.lstrip())
        return Range.of(line - 1, _utf16(stripped[:start]), line - 1, _utf16(stripped))


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def architecture_findings(
    graph: ImportGraph,
    root: Path,
    settings: Settings,
    extra_contracts: Iterable[Contract] = (),
    *,
    texts: Mapping[str, str] | None = None,
) -> dict[str, list[Finding]]:
    """SA301 and SA302 findings by file (absolute path, as `os.path.abspath` gives it). `related` paths are
    absolute too; a caller that prints them makes them relative. Unsuppressed: see `apply_suppressions`.
    SA301 covers JavaScript/TypeScript cycles too; contracts (SA302) name Python modules only. `texts`:
    the current text of files (relative path -> text) that differ from the disk, such as open editor
    buffers, for the ranges of their import lines."""
    root = Path(os.path.abspath(root))
    lines = _Lines(root, texts)
    out: dict[str, list[Finding]] = {}

    def file_of(module: str) -> str | None:
        node = graph.module(module)
        if node is None or "." not in node.path.rsplit("/", 1)[-1]:  # a namespace package's folder
            return None
        return str(root / node.path)

    if settings.enabled("SA301"):
        severity = settings.severity_of("SA301")
        for cycle in graph.cycles:
            path = cycle_path(graph, cycle)
            hops = list(zip(path, path[1:] + path[:1]))
            closing = graph.edge(*hops[-1])
            where = file_of(hops[-1][0])
            if closing is None or where is None:
                continue
            related = []
            for src, dst in hops[:-1]:
                edge, other = graph.edge(src, dst), file_of(src)
                if edge is not None and other is not None:
                    rel = lines.range(graph.module(src).path, edge.lines[0])  # type: ignore[union-attr]
                    related.append(Related(rel, f"{src} imports {dst}", other))
            arrow = " -> ".join([*path, path[0]])
            message = (
                f"Import cycle of {len(cycle)} modules ({_shorten(cycle)}): this import closes {arrow}"
            )
            rng = lines.range(graph.module(hops[-1][0]).path, closing.lines[0])  # type: ignore[union-attr]
            finding = Finding("SA301", severity, message, rng, {"cycle": list(cycle), "size": len(cycle)},
                              tuple(related))
            out.setdefault(where, []).append(finding)

    if settings.enabled("SA302"):
        severity = settings.severity_of("SA302")
        arch = getattr(settings, "architecture", None) or ArchitectureSettings()
        contracts = [*arch.contracts, *extra_contracts]
        seen: set[tuple[str, str, str, int]] = set()
        for v in find_violations(graph, contracts, root):
            where = file_of(v.importer)
            if where is None:
                continue
            for line in v.lines:
                key = (v.contract, v.importer, v.imported, line)
                if key in seen:
                    continue
                seen.add(key)
                rng = lines.range(graph.module(v.importer).path, line)  # type: ignore[union-attr]
                message = f"{v.importer} imports {v.imported}: {v.rule} (contract '{v.contract}')"
                data = {"contract": v.contract, "importer": v.importer, "imported": v.imported}
                out.setdefault(where, []).append(Finding("SA302", severity, message, rng, data))
    for findings in out.values():
        findings.sort(key=Finding.sort_key)
    return out


@dataclass
class ProjectArchitecture:
    """What the command line computes once per project root."""

    findings: dict[str, list[Finding]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    contracts: list[Contract] = field(default_factory=list)  # read from import-linter's configuration


def wanted(settings: Settings) -> bool:
    """Whether the import graph is needed at all: SA301 or SA302 is enabled."""
    return bool(settings.enabled("SA301") or settings.enabled("SA302"))


def project_architecture(
    graph: ImportGraph, root: Path, settings: Settings, *, texts: Mapping[str, str] | None = None
) -> ProjectArchitecture:
    """SA301/SA302 findings of the project at `root` from its import graph (`build_graph(root, settings,
    language="python")`, or "all" for JavaScript/TypeScript cycles too), with import-linter's contracts read
    from `root`. `contracts` keeps those for later calls of `architecture_findings` (live updates)."""
    if not wanted(settings):
        return ProjectArchitecture()
    problems: list[str] = []
    extra: list[Contract] = []
    arch = getattr(settings, "architecture", None) or ArchitectureSettings()
    if settings.enabled("SA302") and arch.import_linter:
        extra, problems = read_import_linter(root)
    findings = architecture_findings(graph, root, settings, extra, texts=texts)
    return ProjectArchitecture(findings, problems, extra)
