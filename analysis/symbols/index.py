"""The workspace index: every file's `FileSymbols` plus the module table, and name resolution on top.

    index = WorkspaceIndex.build(Path("project"))
    index.callers_of("requests.sessions:Session.request")   # [Caller(path, range, qualname, confidence)]
    index.tests_for("requests.sessions:Session.request")    # ["tests/test_requests.py", ...]

Modules are named as the import graph names them (`analysis.imports`: dotted from the import roots,
`root/src` when it exists); files outside the import roots (a `tests/` folder beside `src/`) are named
by their path from the project root. Resolution follows Python's rules closely enough for a static
tool: a bare name is looked up in the enclosing functions (their local imports and definitions), then
the module's definitions, imports (re-exports through `__init__` followed, up to four hops) and star
imports; `a.b.c` walks modules, re-exports and classes (methods found through the class's bases, which
are resolved by name through imports too); `self.m()`/`cls.m()` look in the enclosing class and its
bases (and reach subclasses' overrides as `likely`), `super().m()` in the bases only; `x.m()` uses the
constructor `x` was assigned from (`x = Session()`, `with Session() as x`, `self.x = Session()` in any
method of the class) when there is one (`likely`), and otherwise matches every workspace method named
`m` (`name-only`). See `model.CONFIDENCES`.
"""

from __future__ import annotations

import configparser
import os
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any

from .. import files as _files
from ..config import Settings
from ..imports.graph import python_import_roots
from ..imports.python import PythonModules
from .extract import cache_key, file_symbols
from .model import CONFIDENCE_RANK, Assignment, Call, Caller, Definition, FileSymbols, ImportBinding

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# A resolved name: ("module", name) | ("def", module, index) | ("external", name)
Symbol = tuple[str, str] | tuple[str, str, int]
Key = tuple[str, int]  # (module, definition index)
SymbolsCache = MutableMapping[str, Any]

_MAX_HOPS = 4


class TargetError(LookupError):
    """A target that names nothing in the index."""


class WorkspaceIndex:
    """Symbols of every Python file of a project, with name resolution, callers and tests."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        files: Iterable[FileSymbols],
        *,
        entry_points: Sequence[str] = (),
        skipped: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.root = Path(os.path.abspath(root))
        self.modules: dict[str, FileSymbols] = {}
        for fs in files:
            self.modules.setdefault(fs.module, fs)
        self.by_path: dict[str, str] = {fs.path: fs.module for fs in self.modules.values()}
        self.entry_points: tuple[str, ...] = tuple(entry_points)
        self.skipped: list[tuple[str, str]] = list(skipped)
        self.packages: set[str] = set()
        for name in self.modules:
            parts = name.split(".")
            for i in range(1, len(parts)):
                self.packages.add(".".join(parts[:i]))
        self._toplevel: dict[str, dict[str, int]] = {}
        self._qualnames: dict[str, dict[str, int]] = {}
        self._bindings: dict[str, dict[str, ImportBinding]] = {}
        self._stars: dict[str, list[ImportBinding]] = {}
        self._local_defs: dict[str, dict[tuple[int, str], int]] = {}
        self._local_imports: dict[str, dict[tuple[int, str], ImportBinding]] = {}
        self._members: dict[Key, dict[str, int]] = {}
        for module, fs in self.modules.items():
            top: dict[str, int] = {}
            quals: dict[str, int] = {}
            local_defs: dict[tuple[int, str], int] = {}
            for i, d in enumerate(fs.definitions):
                quals[d.qualname] = i  # a later definition of the same name wins, as at run time
                if d.parent == -1:
                    top[d.name] = i
                else:
                    local_defs[(d.parent, d.name)] = i
                    if fs.definitions[d.parent].kind == "class":
                        self._members.setdefault((module, d.parent), {})[d.name] = i
            self._toplevel[module] = top
            self._qualnames[module] = quals
            self._local_defs[module] = local_defs
            bindings: dict[str, ImportBinding] = {}
            stars: list[ImportBinding] = []
            local_imports: dict[tuple[int, str], ImportBinding] = {}
            for b in fs.imports:
                if b.star:
                    if b.scope == -1:
                        stars.append(b)
                elif b.scope == -1:
                    bindings[b.local] = b
                else:
                    local_imports[(b.scope, b.local)] = b
            self._bindings[module] = bindings
            self._stars[module] = stars
            self._local_imports[module] = local_imports
        self._mro_cache: dict[Key, tuple[list[Key], list[str]]] = {}
        self._subclasses: dict[Key, list[Key]] | None = None
        self._methods_by_name: dict[str, list[Key]] | None = None
        self._calls_by_name: dict[str, list[tuple[str, int]]] | None = None
        self._call_cache: dict[tuple[str, int], list[tuple[Key, str]]] = {}
        self._name_only_cache: dict[str, list[tuple[Key, str]]] = {}
        self._subclass_cache: dict[Key, list[Key]] = {}
        self._alias_table: dict[str, set[str]] | None = None
        self._assigned: dict[str, dict[tuple[int, str], list[Assignment]]] = {}
        self._self_assigned: dict[str, dict[tuple[int, str], Assignment]] = {}

    # ---------------------------------------------------------------------------------------- build

    @classmethod
    def build(
        cls,
        root: str | os.PathLike[str],
        files: Iterable[str | os.PathLike[str]] | None = None,
        *,
        settings: Settings | None = None,
        import_roots: Sequence[str | os.PathLike[str]] | None = None,
        cache: SymbolsCache | None = None,
        entry_points: Sequence[str] | None = None,
        on_skip: _files.OnSkip | None = None,
        digests: Mapping[str, str] | None = None,
        names: Mapping[Path, str] | None = None,
    ) -> WorkspaceIndex:
        """Index the `.py` files under `root` (walked as `files.discover` walks: `.gitignore`, the
        configuration's `exclude`, tool folders skipped), or exactly `files` when given.

        `import_roots` (else `settings.import_roots`, else `root/src` when it exists, else `root`) name
        the modules. `cache`: any mutable mapping; `FileSymbols` are stored under `extract.cache_key`
        and reused. `entry_points`: `module:attr` strings that count as used; by default read from
        `root/pyproject.toml` (`[project.scripts]`, `[project.gui-scripts]`, `[project.entry-points.*]`,
        `[tool.poetry.scripts]`, `[tool.poetry.plugins.*]`) and `root/setup.cfg` (`[options.entry_points]`).
        `digests`: absolute path -> blake2b-160 hex digest of files the caller has just read: their cached
        symbols are then found without reading them again. `names`: `module_names` of these files, when the
        caller has them.
        """
        settings = settings or Settings()
        root_path = Path(os.path.abspath(root))
        if import_roots is None:
            import_roots = getattr(settings, "import_roots", None) or None
        skipped: list[tuple[str, str]] = []

        def skip(path: Path, reason: str) -> None:
            skipped.append((_rel(path, root_path), reason))
            if on_skip is not None:
                on_skip(path, reason)

        if files is None:
            paths = [
                Path(os.path.abspath(p))
                for p in _files.discover([root_path], settings, root_path, on_skip=skip)
            ]
        else:
            paths = [Path(os.path.abspath(p)) for p in files]
        paths = [p for p in paths if p.suffix == ".py"]
        if names is None or any(p not in names for p in paths):
            names = module_names(root_path, paths, import_roots)
        out: list[FileSymbols] = []
        for path in paths:
            rel = _rel(path, root_path)
            module = names[path]
            known = digests.get(str(path)) if digests and cache is not None else None
            if known is not None:
                found = cache.get(cache_key(module, rel, digest=known))  # type: ignore[union-attr]
                if found is not None:
                    out.append(found)
                    continue
            data, reason = _files.read_source(path, settings.max_file_size)
            if data is None:
                skip(path, reason or "unreadable")
                continue
            key = cache_key(module, rel, data) if cache is not None else ""
            found = cache.get(key) if cache is not None else None
            if found is None:
                found = file_symbols(module, rel, data)
                if cache is not None:
                    cache[key] = found
            out.append(found)
        if entry_points is None:
            entry_points = read_entry_points(root_path)
        return cls(root_path, out, entry_points=entry_points, skipped=skipped)

    # ---------------------------------------------------------------------------------------- lookup

    def file(self, module_or_path: str) -> FileSymbols | None:
        module = self.by_path.get(module_or_path, module_or_path)
        return self.modules.get(module)

    def definition(self, target: str) -> tuple[FileSymbols, Definition]:
        """The definition `target` names: `module:qualname` (re-exports followed: `requests:Session`
        is `requests.sessions:Session`), or a dotted `module.qualname`. Raises `TargetError`."""
        key = self.resolve_target(target)
        fs = self.modules[key[0]]
        return fs, fs.definitions[key[1]]

    def resolve_target(self, target: str) -> Key:
        module, sep, qualname = target.partition(":")
        if not sep:
            parts = target.split(".")
            for i in range(len(parts) - 1, 0, -1):
                if ".".join(parts[:i]) in self.modules:
                    module, qualname = ".".join(parts[:i]), ".".join(parts[i:])
                    break
            else:
                raise TargetError(f"no module of the workspace starts {target!r}")
        if module not in self.modules:
            raise TargetError(f"no module {module!r} in the workspace")
        index = self._qualnames[module].get(qualname)
        if index is not None:
            return (module, index)
        first, *rest = qualname.split(".")
        found = self._export(module, first, 0)
        sym = found[0] if found else None
        for part in rest:
            sym = self._member(sym, part)
        if sym is not None and sym[0] == "def":
            return (sym[1], sym[2])  # type: ignore[misc]
        raise TargetError(f"{qualname!r} is not defined in {module!r}")

    def key_name(self, key: Key) -> str:
        fs = self.modules[key[0]]
        return f"{key[0]}:{fs.definitions[key[1]].qualname}"

    # ---------------------------------------------------------------------------------------- callers

    def callers_of(self, target: str, *, min_confidence: str = "name-only") -> list[Caller]:
        """Every call site that may call `target` (`module:qualname`), sorted by path and position.

        A class is called by `Class()`; its `__init__` by `Class()`, by the constructors of subclasses
        that inherit it, by `super().__init__()` and `Class.__init__(self)`. `min_confidence`: keep
        only callers at least this sure ("exact", "likely", "name-only")."""
        key = self.resolve_target(target)
        limit = CONFIDENCE_RANK[min_confidence]
        fs_target = self.modules[key[0]]
        d = fs_target.definitions[key[1]]
        names = {d.name}
        if d.name == "__init__" and d.parent >= 0:
            cls_key = (key[0], d.parent)
            names.add(fs_target.definitions[d.parent].name)
            names |= {self.modules[k[0]].definitions[k[1]].name for k in self._all_subclasses(cls_key)}
        aliases = self._aliases()
        for n in list(names):
            names |= aliases.get(n, set())
        by_name = self._calls_index()
        out: list[Caller] = []
        for n in names:
            for module, ci in by_name.get(n, ()):
                fs = self.modules[module]
                for found, confidence in self._resolved(module, ci):
                    if found == key and CONFIDENCE_RANK[confidence] <= limit:
                        call = fs.calls[ci]
                        out.append(
                            Caller(
                                fs.path,
                                call.range,
                                fs.scope_qualname(call.scope),
                                confidence,
                                module,
                                call.callee,
                            )
                        )
                        break
        out.sort(key=lambda c: (c.path, c.range.start.line, c.range.start.character))
        return out

    def tests_for(self, target: str) -> list[str]:
        """Test files (`extract.is_test_path`) that call `target` (exact or likely) or import its
        module; sorted paths relative to the root."""
        key = self.resolve_target(target)
        module = key[0]
        out = {
            c.path for c in self.callers_of(target, min_confidence="likely") if self.modules[c.module].is_test
        }
        for fs in self.modules.values():
            if not fs.is_test or fs.path in out:
                continue
            for b in fs.imports:
                if b.imported == module or (b.name is not None and f"{b.module}.{b.name}" == module):
                    out.add(fs.path)
                    break
        return sorted(out)

    # ---------------------------------------------------------------------------------------- resolution

    def resolve_call(self, module: str, call_index: int) -> list[tuple[Key, str]]:
        """What call `call_index` of `module` may call: (definition key, confidence) pairs."""
        return list(self._resolved(module, call_index))

    def _resolved(self, module: str, call_index: int) -> list[tuple[Key, str]]:
        key = (module, call_index)
        found = self._call_cache.get(key)
        if found is None:
            fs = self.modules[module]
            found = self._call_cache[key] = self._resolve_call(fs, fs.calls[call_index])
        return found

    def _resolve_call(self, fs: FileSymbols, call: Call, depth: int = 0) -> list[tuple[Key, str]]:
        module = fs.module
        name = call.name
        receiver = call.receiver
        if receiver is None:
            sym, certain = self.lookup(module, name, call.scope)
            return self._call_targets(sym, "exact" if certain else "likely")
        if receiver == "<literal>":
            return []
        if receiver == "<expr>":
            return self._name_only(name)
        if receiver == "super()":
            cls = self._enclosing_class(fs, call.scope)
            if cls is None:
                return []
            for base in self._mro(cls)[0][1:]:
                found = self._members.get(base, {}).get(name)
                if found is not None:
                    return [((base[0], found), "exact")]
            return [] if not self._mro(cls)[1] else self._name_only(name)
        if receiver.endswith("()"):  # `Session().send()`: the instance's class is known
            sym, certain = self.resolve_dotted(module, receiver[:-2], call.scope)
            if sym is None:
                return self._name_only(name)
            if sym[0] == "def" and self._is_class(sym):
                return self._method_targets((sym[1], sym[2]), name, "exact" if certain else "likely")  # type: ignore[misc]
            return [] if sym[0] == "external" else self._name_only(name)
        first = receiver.partition(".")[0]
        method = self._enclosing_method(fs, call.scope)
        if method is not None and first == fs.definitions[method].self_name:
            cls = (module, fs.definitions[method].parent)
            if receiver == first:
                return self._self_targets(cls, name)
            typed = self._attribute_type(cls, receiver)
            if typed is not None:
                return self._method_targets(typed, name, "likely")
            return self._name_only(name)
        typed = self._variable_type(fs, call.scope, receiver, call.span[0], depth)
        if typed is not None:
            return self._method_targets(typed, name, "likely")
        sym, certain = self.resolve_dotted(module, receiver, call.scope)
        if sym is None:
            return self._name_only(name)
        kind = sym[0]
        if kind == "module":
            found = self._export(sym[1], name, 0)
            if found is None:
                return []
            return self._call_targets(found[0], "exact" if certain and found[1] else "likely")
        if kind == "def":
            if self._is_class(sym):
                return self._method_targets((sym[1], sym[2]), name, "exact" if certain else "likely")  # type: ignore[misc]
            return []
        return []  # external

    def _call_targets(self, sym: Symbol | None, confidence: str) -> list[tuple[Key, str]]:
        if sym is None or sym[0] != "def":
            return []
        key: Key = (sym[1], sym[2])  # type: ignore[misc]
        out = [(key, confidence)]
        if self._is_class(sym):
            init = self._find_in_mro(key, "__init__")
            if init is not None:
                out.append((init, confidence))
        return out

    def _method_targets(self, cls: Key, name: str, confidence: str) -> list[tuple[Key, str]]:
        """`name` looked up on an instance (or the class) of `cls`; nothing when the class does not
        define it (it comes from an outside base, or the call is wrong)."""
        found = self._find_in_mro(cls, name)
        if found is None:
            return []
        return self._call_targets(("def", found[0], found[1]), confidence)

    def _self_targets(self, cls: Key, name: str) -> list[tuple[Key, str]]:
        out: list[tuple[Key, str]] = []
        found = self._find_in_mro(cls, name)
        if found is not None:
            out.append((found, "exact"))
        for sub in self._all_subclasses(cls):
            member = self._members.get(sub, {}).get(name)
            if member is not None and (sub[0], member) != found:
                out.append(((sub[0], member), "likely"))
        if not out:
            return self._name_only(name)  # a mixin's call, or a method of an outside base
        return out

    def _name_only(self, name: str) -> list[tuple[Key, str]]:
        found = self._name_only_cache.get(name)
        if found is None:  # shared by every call of that name (callers never mutate it)
            found = self._name_only_cache[name] = [
                (key, "name-only") for key in self._methods_index().get(name, ())
            ]
        return found

    def lookup(self, module: str, name: str, scope: int) -> tuple[Symbol | None, bool]:
        """What a bare `name` used in `scope` of `module` refers to, and whether that is certain (False
        when found through a star import)."""
        fs = self.modules[module]
        defs = fs.definitions
        local_defs = self._local_defs[module]
        local_imports = self._local_imports[module]
        s = scope
        first = True
        while s >= 0:
            if first or defs[s].kind != "class":
                found = local_defs.get((s, name))
                if found is not None:
                    return ("def", module, found), True
                b = local_imports.get((s, name))
                if b is not None:
                    return self._binding_target(b, 0)
            first = False
            s = defs[s].parent
        found = self._toplevel[module].get(name)
        if found is not None:
            return ("def", module, found), True
        b = self._bindings[module].get(name)
        if b is not None:
            return self._binding_target(b, 0)
        for star in self._stars[module]:
            hit = self._export(star.module, name, 1)
            if hit is not None:
                return hit[0], False
        return None, True

    def resolve_dotted(self, module: str, dotted: str, scope: int = -1) -> tuple[Symbol | None, bool]:
        first, *rest = dotted.split(".")
        sym, certain = self.lookup(module, first, scope)
        for part in rest:
            if sym is None:
                break
            if sym[0] == "module":
                hit = self._export(sym[1], part, 0)
                sym = hit[0] if hit else None
                certain = certain and bool(hit and hit[1])
            else:
                sym = self._member(sym, part)
        return sym, certain

    def _member(self, sym: Symbol | None, name: str) -> Symbol | None:
        if sym is None:
            return None
        if sym[0] == "module":
            hit = self._export(sym[1], name, 0)
            return hit[0] if hit else None
        if sym[0] == "external":
            return sym
        if self._is_class(sym):
            found = self._find_in_mro((sym[1], sym[2]), name)  # type: ignore[misc]
            return ("def", found[0], found[1]) if found else None
        return None

    def _export(self, module: str, name: str, hops: int) -> tuple[Symbol, bool] | None:
        """`module.name` as another module sees it: a definition, a re-exported import (followed),
        a submodule, or a star-imported name (not certain)."""
        sub = f"{module}.{name}"
        if module not in self.modules:
            if sub in self.modules or sub in self.packages:
                return ("module", sub), True
            return None
        found = self._toplevel[module].get(name)
        if found is not None:
            return ("def", module, found), True
        b = self._bindings[module].get(name)
        if b is not None and hops < _MAX_HOPS:
            sym, certain = self._binding_target(b, hops + 1)
            if sym is not None:
                return sym, certain
        if sub in self.modules or sub in self.packages:
            return ("module", sub), True
        if hops < _MAX_HOPS:
            for star in self._stars[module]:
                hit = self._export(star.module, name, hops + 1)
                if hit is not None:
                    return hit[0], False
        return None

    def _binding_target(self, b: ImportBinding, hops: int) -> tuple[Symbol | None, bool]:
        if not b.module:
            return None, True
        if b.name is None:
            return self._module_symbol(b.module), True
        if b.module in self.modules or b.module in self.packages:
            hit = self._export(b.module, b.name, hops)
            return (hit[0], hit[1]) if hit else (None, True)
        return ("external", b.module.partition(".")[0]), True

    def _module_symbol(self, name: str) -> Symbol:
        if name in self.modules or name in self.packages:
            return ("module", name)
        return ("external", name.partition(".")[0])

    # ---------------------------------------------------------------------------------------- classes

    def _is_class(self, sym: Symbol) -> bool:
        return sym[0] == "def" and self.modules[sym[1]].definitions[sym[2]].kind == "class"  # type: ignore[misc]

    def mro(self, cls: Key) -> tuple[list[Key], list[str]]:
        """The workspace classes of `cls`'s method resolution order (depth-first, left to right,
        `cls` first) and the bases found outside the workspace (or unresolvable), as written."""
        return self._mro(cls)

    def _mro(self, cls: Key) -> tuple[list[Key], list[str]]:
        found = self._mro_cache.get(cls)
        if found is not None:
            return found
        self._mro_cache[cls] = ([cls], [])  # guards cycles
        order: list[Key] = [cls]
        external: list[str] = []
        for base in self.bases(cls):
            if isinstance(base, str):
                external.append(base)
                continue
            sub_order, sub_external = self._mro(base)
            for k in sub_order:
                if k not in order:
                    order.append(k)
            external.extend(x for x in sub_external if x not in external)
        self._mro_cache[cls] = (order, external)
        return order, external

    def bases(self, cls: Key) -> list[Key | str]:
        """Each base of a class: its key when it is a workspace class, else its text."""
        fs = self.modules[cls[0]]
        d = fs.definitions[cls[1]]
        out: list[Key | str] = []
        for text in d.bases:
            if text == "object":
                continue
            sym, _ = self.resolve_dotted(cls[0], text, d.parent)
            if sym is not None and sym[0] == "def" and self._is_class(sym) and (sym[1], sym[2]) != cls:  # type: ignore[misc]
                out.append((sym[1], sym[2]))  # type: ignore[misc]
            else:
                out.append(text)
        return out

    def _find_in_mro(self, cls: Key, name: str) -> Key | None:
        for k in self._mro(cls)[0]:
            found = self._members.get(k, {}).get(name)
            if found is not None:
                return (k[0], found)
        return None

    def subclasses(self, cls: Key) -> list[Key]:
        """Direct workspace subclasses of `cls`."""
        if self._subclasses is None:
            subs: dict[Key, list[Key]] = defaultdict(list)
            for module, fs in self.modules.items():
                for i, d in enumerate(fs.definitions):
                    if d.kind == "class" and d.bases:
                        for base in self.bases((module, i)):
                            if not isinstance(base, str):
                                subs[base].append((module, i))
            self._subclasses = dict(subs)
        return self._subclasses.get(cls, [])

    def _all_subclasses(self, cls: Key) -> list[Key]:
        found = self._subclass_cache.get(cls)
        if found is None:
            seen: set[Key] = {cls}
            out: list[Key] = []
            stack = list(self.subclasses(cls))
            while stack:
                k = stack.pop()
                if k not in seen:
                    seen.add(k)
                    out.append(k)
                    stack.extend(self.subclasses(k))
            found = self._subclass_cache[cls] = out
        return found

    # ---------------------------------------------------------------------------------------- context

    def _enclosing_method(self, fs: FileSymbols, scope: int) -> int | None:
        """The method (a function directly in a class) whose body holds `scope`, through nested functions."""
        defs = fs.definitions
        s = scope
        while s >= 0:
            d = defs[s]
            if d.kind == "method" and d.self_name is not None:
                return s
            s = d.parent
        return None

    def _enclosing_class(self, fs: FileSymbols, scope: int) -> Key | None:
        method = self._enclosing_method(fs, scope)
        if method is None:
            return None
        return (fs.module, fs.definitions[method].parent)

    def _attribute_type(self, cls: Key, receiver: str) -> Key | None:
        """`self.x` -> the class assigned to `self.x` in a method of `cls` (or of its workspace bases)."""
        attribute = receiver.partition(".")[2]
        for k in self._mro(cls)[0]:
            a = self._self_assignments(k[0]).get((k[1], attribute))
            if a is not None:
                sym = self.resolve_dotted(k[0], a.value, a.scope)[0]
                if sym is not None and self._is_class(sym):
                    return (sym[1], sym[2])  # type: ignore[misc]
        return None

    def _self_assignments(self, module: str) -> dict[tuple[int, str], Assignment]:
        """(class index, "attr") -> the first `self.attr = K(...)` in a method of that class."""
        found = self._self_assigned.get(module)
        if found is None:
            found = {}
            fs = self.modules[module]
            for a in fs.assignments:
                if a.scope < 0 or "." not in a.target:
                    continue
                method = self._enclosing_method(fs, a.scope)
                if method is None:
                    continue
                d = fs.definitions[method]
                head, _, rest = a.target.partition(".")
                if head == d.self_name:
                    found.setdefault((d.parent, rest), a)
            self._self_assigned[module] = found
        return found

    def _assignments_of(self, module: str) -> dict[tuple[int, str], list[Assignment]]:
        """(scope, target) -> its assignments in source order."""
        found = self._assigned.get(module)
        if found is None:
            found = {}
            for a in self.modules[module].assignments:
                found.setdefault((a.scope, a.target), []).append(a)
            self._assigned[module] = found
        return found

    def _variable_type(
        self, fs: FileSymbols, scope: int, receiver: str, line: int, depth: int = 0
    ) -> Key | None:
        """`x` -> the class `x` was last assigned from before `line` in `scope` (else anywhere in its
        enclosing functions or at module level): `x = K()`, `with K() as x`, or `x = f()` / `x =
        obj.m()` where the function or method is annotated `-> K`. An assignment from anything else
        (`x = s.send()` unannotated) means the type is unknown."""
        if depth > 2:
            return None
        chain = []
        s = scope
        while s >= 0:
            chain.append(s)
            s = fs.definitions[s].parent
        chain.append(-1)
        assigned = self._assignments_of(fs.module)
        for level, s in enumerate(chain):
            found = None
            for a in assigned.get((s, receiver), ()):
                if level > 0 or a.line < line:
                    found = a
            if found is not None:
                return self._value_class(fs, found.scope, found.value, found.line, depth)
        return None

    def _value_class(self, fs: FileSymbols, scope: int, value: str, line: int, depth: int) -> Key | None:
        """The class of the result of calling `value` (a dotted callee) in `scope`."""
        sym = self.resolve_dotted(fs.module, value, scope)[0]
        if sym is not None and sym[0] == "def":
            if self._is_class(sym):
                return (sym[1], sym[2])  # type: ignore[misc]
            return self._returned_class((sym[1], sym[2]))  # type: ignore[misc]
        receiver, _, name = value.rpartition(".")
        if not receiver or (sym is not None and sym[0] == "external"):
            return None
        for key, confidence in self._resolve_call(
            fs, Call(name, receiver, (line, 0, line, 0), scope), depth + 1
        ):
            if confidence != "name-only":
                found = self._returned_class(key)
                if found is not None:
                    return found
        return None

    def _returned_class(self, key: Key) -> Key | None:
        d = self.modules[key[0]].definitions[key[1]]
        if d.returns is None or d.kind == "class":
            return None
        sym = self.resolve_dotted(key[0], d.returns, d.parent)[0]
        if sym is not None and self._is_class(sym):
            return (sym[1], sym[2])  # type: ignore[misc]
        return None

    # ---------------------------------------------------------------------------------------- tables

    def _calls_index(self) -> dict[str, list[tuple[str, int]]]:
        if self._calls_by_name is None:
            by: dict[str, list[tuple[str, int]]] = defaultdict(list)
            for module, fs in self.modules.items():
                for i, call in enumerate(fs.calls):
                    by[call.name].append((module, i))
            self._calls_by_name = dict(by)
        return self._calls_by_name

    def _methods_index(self) -> dict[str, list[Key]]:
        if self._methods_by_name is None:
            by: dict[str, list[Key]] = defaultdict(list)
            for module, fs in self.modules.items():
                for i, d in enumerate(fs.definitions):
                    if d.kind == "method":
                        by[d.name].append((module, i))
            self._methods_by_name = dict(by)
        return self._methods_by_name

    def _aliases(self) -> dict[str, set[str]]:
        """imported name -> the other local names it is imported as (`from m import Cart as C`)."""
        if self._alias_table is None:
            out: dict[str, set[str]] = defaultdict(set)
            for fs in self.modules.values():
                for b in fs.imports:
                    if b.name is not None and b.local != b.name:
                        out[b.name].add(b.local)
            self._alias_table = dict(out)
        return self._alias_table


def _rel(path: Path, root: Path) -> str:
    text, base = str(path), str(root)
    if text.startswith(base) and text[len(base) : len(base) + 1] == os.sep:
        rel = text[len(base) + 1 :]
        return rel.replace(os.sep, "/") if os.sep != "/" else rel
    try:
        return Path(os.path.relpath(path, root)).as_posix()
    except ValueError:  # another drive on Windows
        return path.as_posix()


# -------------------------------------------------------------------------------------------- modules


def module_names(
    root: Path, paths: Sequence[Path], import_roots: Sequence[str | os.PathLike[str]] | None = None
) -> dict[Path, str]:
    """The module name of each file: the import graph's name under the import roots; for a file the
    graph leaves out (a module in a folder without `__init__.py` inside a regular package, which
    Python still imports as a namespace portion), its dotted path from its import root; for a file
    outside them (`tests/` beside `src/`), its dotted path from `root` (`tests/test_x.py` ->
    `tests.test_x`). A name that is not a dotted identifier, or that clashes, is the path itself."""
    roots = python_import_roots(root, import_roots)
    grouped = [(r, [p for p in paths if _under(p, r)]) for r in roots]
    table = PythonModules.build(grouped)
    names = {path: name for name, path in table.files.items()}
    taken = set(names.values())
    for path in paths:
        if path in names:
            continue
        base = next((r for r in roots if _under(path, r)), root)
        rel = Path(_rel(path, base))
        parts = list(rel.with_suffix("").parts)
        if parts and parts[-1] == "__init__":
            parts = parts[:-1]
        name = ".".join(parts) if parts and all(p.isidentifier() for p in parts) else ""
        if not name or name in taken:
            name = Path(_rel(path, root)).as_posix()
        names[path] = name
        taken.add(name)
    return names


def _under(path: Path, root: Path) -> bool:
    text, base = str(path), str(root)
    return text.startswith(base) and text[len(base) : len(base) + 1] == os.sep


# -------------------------------------------------------------------------------------------- entry points

_ENTRY = re.compile(r"^\s*([\w.]+)\s*(?::\s*([\w.]+))?")


def read_entry_points(root: str | os.PathLike[str]) -> list[str]:
    """`module:attr` (or `module`) of every entry point declared in `root/pyproject.toml` and
    `root/setup.cfg`. Never raises: an unreadable file declares nothing."""
    root = Path(root)
    values: list[str] = []
    try:
        with open(root / "pyproject.toml", "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        data = {}
    project = data.get("project") if isinstance(data.get("project"), Mapping) else {}
    for table in ("scripts", "gui-scripts"):
        values.extend(_table_values(project.get(table)))
    groups = project.get("entry-points")
    if isinstance(groups, Mapping):
        for group in groups.values():
            values.extend(_table_values(group))
    poetry = data.get("tool", {}).get("poetry", {}) if isinstance(data.get("tool"), Mapping) else {}
    if isinstance(poetry, Mapping):
        values.extend(_table_values(poetry.get("scripts")))
        plugins = poetry.get("plugins")
        if isinstance(plugins, Mapping):
            for group in plugins.values():
                values.extend(_table_values(group))
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(root / "setup.cfg", encoding="utf-8")
        if parser.has_section("options.entry_points"):
            for _, block in parser.items("options.entry_points"):
                for line in block.splitlines():
                    if "=" in line:
                        values.append(line.split("=", 1)[1])
    except (configparser.Error, UnicodeDecodeError):
        pass
    out: list[str] = []
    for value in values:
        m = _ENTRY.match(value)
        if m:
            out.append(f"{m.group(1)}:{m.group(2)}" if m.group(2) else m.group(1))
    return out


def _table_values(table: Any) -> list[str]:
    if not isinstance(table, Mapping):
        return []
    out = []
    for value in table.values():
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, Mapping) and isinstance(value.get("callable") or value.get("reference"), str):
            out.append(value.get("callable") or value.get("reference"))
    return out


__all__ = ["Key", "Symbol", "TargetError", "WorkspaceIndex", "module_names", "read_entry_points"]
