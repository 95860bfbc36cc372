"""SA303 unused code: module-level functions and classes, and methods, that nothing in the workspace uses.

    index = WorkspaceIndex.build(root)
    for item in find_unused(index, whitelist=["myapp.hooks:*"]):
        print(item.path, item.qualname, item.confidence, item.reason)

A definition is *used* when some file of the workspace names it:
    * a module-level function or class: a bare name in its own module, a from-import of that name
      anywhere, an attribute access `x.name` anywhere, or a bare name in a module that star-imports;
    * a method: an attribute access `x.name` anywhere, or a bare name in its own module (`get =
      property(_get)` in the class body);
    * string literals that are the name, a dotted path ending in it or an entry-point style
      `mod:name` are weak uses: the definition is still reported, with a low confidence.
Never reported: dunder names, names in the module's `__all__`, pyproject/setup.cfg entry points,
tests by convention (`test*` functions and methods and `Test*` classes in test files, unittest and
pytest setup/teardown names, `pytest_*` hooks), definitions with a decorator that registers them
(`decorator_registers`: any dotted decorator but the benign ones, `@receiver`, `@register*`,
`@fixture`, `@overload`, `@abstractmethod`...), methods implementing such a method of a workspace
base class, methods overriding a method of a builtin base type (`dict.get`, `Mapping.keys`), methods
of a module-level class that is itself reported (the class is the finding), nested classes and
anything local to a function, and whatever the whitelist matches (`module:qualname`,
`module.qualname`, `qualname` or the bare name, each as an fnmatch glob).

Confidence (like vulture's, higher is surer):
    100  a private (`_name`) definition nothing names;
     90  a public definition nothing names (code outside the workspace could still import it);
     60  ... in a module that looks names up dynamically (a module `__getattr__`, `globals()`/`vars()`,
         or, for methods, `getattr` with a computed name), or decorated by an unknown decorator;
     50  a method of a class with a base outside the workspace (a framework may call it as a hook),
         or of a used class most of whose methods (3 or more, at least half) nothing calls, or of a
         `Mock*`/`Fake*`/`Dummy*`/`Stub*` class: duck typing for code outside the workspace;
     40  named only in a string literal (a weak reference: `getattr(x, "name")`, settings paths,
         `"pkg.mod:func"`, `"factory(arg)"`), or a method whose name starts with a computed-name
         prefix found in a string (`"visit_%s"`, `f"visit_{kind}"`).
`DEFAULT_MIN_CONFIDENCE` (60) is the threshold `find_unused` reports from by default.
"""

from __future__ import annotations

import builtins
import collections.abc
import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..model import Range
from .index import Key, TargetError, WorkspaceIndex
from .model import Definition, FileSymbols, span_range

DEFAULT_MIN_CONFIDENCE = 60

BENIGN_DECORATORS = frozenset(
    {
        "staticmethod",
        "classmethod",
        "property",
        "cached_property",
        "functools.cached_property",
        "wraps",
        "functools.wraps",
        "lru_cache",
        "functools.lru_cache",
        "cache",
        "functools.cache",
        "total_ordering",
        "functools.total_ordering",
        "singledispatch",
        "functools.singledispatch",
        "singledispatchmethod",
        "functools.singledispatchmethod",
        "contextmanager",
        "contextlib.contextmanager",
        "asynccontextmanager",
        "contextlib.asynccontextmanager",
        "dataclass",
        "dataclasses.dataclass",
        "final",
        "typing.final",
        "typing_extensions.final",
        "override",
        "typing.override",
        "typing_extensions.override",
        "deprecated",
        "warnings.deprecated",
        "typing_extensions.deprecated",
        "unique",
        "enum.unique",
        "runtime_checkable",
        "typing.runtime_checkable",
        "typing_extensions.runtime_checkable",
        "no_type_check",
        "typing.no_type_check",
        "abc.abstractclassmethod",
    }
)
"""Decorators that only wrap or describe: they do not make a definition reachable."""

REGISTERING = frozenset(
    {
        "fixture",
        "receiver",
        "overload",
        "abstractmethod",
        "abstractproperty",
        "abstractclassmethod",
        "abstractstaticmethod",
        "shared_task",
        "task",
        "command",
        "group",
        "hookimpl",
        "hookspec",
        "route",
        "validator",
        "field_validator",
        "model_validator",
        "root_validator",
        "validates",
        "listens_for",
        "setter",
        "getter",
        "deleter",
        "api_view",
        "action",
        "callback",
        "handler",
        "listener",
        "subscriber",
        "job",
        "periodic_task",
        "on",
        "event",
        "cli",
    }
)
"""Bare decorator names that register what they decorate (or declare an interface). Any decorator
with an attribute (`@app.route`, `@x.setter`, `@pytest.fixture`) registers too unless it is benign,
and so does any whose name starts with `register` or ends with one of these words."""

_REGISTER_SUFFIXES = (
    "route",
    "command",
    "task",
    "fixture",
    "hook",
    "handler",
    "listener",
    "receiver",
    "callback",
)

UNITTEST_NAMES = frozenset(
    {
        "setUp",
        "tearDown",
        "setUpClass",
        "tearDownClass",
        "setUpModule",
        "tearDownModule",
        "asyncSetUp",
        "asyncTearDown",
        "setUpTestData",
        "setup_method",
        "teardown_method",
        "setup_function",
        "teardown_function",
        "setup_class",
        "teardown_class",
        "setup_module",
        "teardown_module",
        "setup",
        "teardown",
        "runTest",
    }
)

_BUILTIN_TYPES = {name: obj for name, obj in vars(builtins).items() if isinstance(obj, type)}
_ABC_TYPES = {name: obj for name, obj in vars(collections.abc).items() if isinstance(obj, type)}
_DOUBLE_WORDS = ("Mock", "Fake", "Dummy", "Stub")


@dataclass(frozen=True, slots=True)
class UnusedSymbol:
    """One SA303 finding: `path` relative to the index root (with "/"), the definition's `qualname`,
    `kind` ("function", "class", "method"), the `range` of its name, `confidence` 0-100 and why."""

    path: str
    module: str
    qualname: str
    kind: str
    range: Range
    confidence: int
    reason: str

    @property
    def target(self) -> str:
        return f"{self.module}:{self.qualname}"

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "module": self.module,
            "qualname": self.qualname,
            "kind": self.kind,
            "range": self.range.to_json(),
            "confidence": self.confidence,
            "reason": self.reason,
        }


def decorator_registers(decorator: str) -> bool:
    """Whether `@decorator` (dotted text without arguments) makes the definition reachable."""
    if decorator in BENIGN_DECORATORS:
        return False
    last = decorator.rpartition(".")[2]
    if "." in decorator:
        return last not in BENIGN_DECORATORS or decorator.startswith(("pytest.", "abc.abstract"))
    return last in REGISTERING or last.startswith("register") or last.endswith(_REGISTER_SUFFIXES)


def find_unused(
    index: WorkspaceIndex,
    *,
    whitelist: Sequence[str] = (),
    min_confidence: int = DEFAULT_MIN_CONFIDENCE,
) -> list[UnusedSymbol]:
    """The SA303 findings of the workspace with `confidence >= min_confidence`, sorted by path and
    position. See the module documentation for what counts as used."""
    return _DeadCode(index, whitelist).run(min_confidence)


class _DeadCode:
    def __init__(self, index: WorkspaceIndex, whitelist: Sequence[str]) -> None:
        self.index = index
        self.whitelist = [w for w in whitelist if w]
        modules = index.modules.values()
        self.attrs: set[str] = set().union(*(fs.attr_refs for fs in modules))
        self.strings: set[str] = set().union(*(fs.string_refs for fs in modules))
        self.prefixes = tuple(s for s in self.strings if len(s) > 2 and s.endswith("_") and s.isidentifier())
        self.imported: set[str] = {b.name for fs in modules for b in fs.imports if b.name and b.name != "*"}
        self.star_names: set[str] = set()
        for fs in modules:
            if any(b.star for b in fs.imports):
                self.star_names |= fs.name_refs
        self.entry: set[Key] = set()
        for spec in index.entry_points:
            if ":" not in spec:
                continue
            try:
                key = index.resolve_target(spec)
            except TargetError:
                continue
            self.entry.add(key)
            fs = index.modules[key[0]]
            parent = fs.definitions[key[1]].parent
            while parent >= 0:  # `mod:Class.method` keeps the class too
                self.entry.add((key[0], parent))
                parent = fs.definitions[parent].parent

    def run(self, min_confidence: int) -> list[UnusedSymbol]:
        out: list[UnusedSymbol] = []
        for module in sorted(self.index.modules):
            fs = self.index.modules[module]
            verdicts: dict[int, tuple[int, str]] = {}
            methods: dict[int, list[int]] = {}
            for i, d in enumerate(fs.definitions):
                if d.local or (d.kind == "class" and d.parent != -1):
                    continue
                if d.kind == "method" and not d.dunder:
                    methods.setdefault(d.parent, []).append(i)
                verdict = self.judge(fs, i, d)
                if verdict is not None:
                    verdicts[i] = verdict
            dead_classes = {
                i for i, (c, _) in verdicts.items() if fs.definitions[i].kind == "class" and c >= 90
            }
            for cls, members in methods.items():
                self.interface_check(fs, cls, members, verdicts, dead_classes)
            for i, (confidence, reason) in sorted(verdicts.items()):
                d = fs.definitions[i]
                if d.kind == "method" and _outer_class(fs, i) in dead_classes:
                    continue  # the class is the finding
                if confidence >= min_confidence:
                    out.append(
                        UnusedSymbol(
                            fs.path, module, d.qualname, d.kind, span_range(d.span), confidence, reason
                        )
                    )
        out.sort(key=lambda u: (u.path, u.range.start.line, u.range.start.character))
        return out

    def interface_check(
        self,
        fs: FileSymbols,
        cls: int,
        members: list[int],
        verdicts: dict[int, tuple[int, str]],
        dead: set[int],
    ) -> None:
        """A used class most of whose methods nothing calls (or a test double, `Mock*`, `Fake*`...)
        is likely handed to code outside the workspace that calls them (duck typing): lower those."""
        if _outer_class(fs, members[0]) in dead:
            return
        unused = [i for i in members if i in verdicts and verdicts[i][0] >= 60]
        if not unused:
            return
        name = fs.definitions[cls].name
        double = any(word in name for word in _DOUBLE_WORDS)
        if not double and not (len(unused) >= 3 and 2 * len(unused) >= len(members)):
            return
        why = (
            f"'{name}' looks like a test double"
            if double
            else f"{len(unused)} of {len(members)} methods of '{name}' are never used"
        )
        for i in unused:
            d = fs.definitions[i]
            verdicts[i] = (
                50,
                f"method '{d.name}' is never used, but {why}: it may implement an interface called from outside the workspace",
            )

    # ------------------------------------------------------------------------------------------ rules

    def exempt(self, fs: FileSymbols, i: int, d: Definition) -> bool:
        name = d.name
        if d.dunder or d.in_all or (fs.module, i) in self.entry:
            return True
        if name.startswith("pytest_") or name in UNITTEST_NAMES and d.kind in ("method", "function"):
            return True
        if fs.is_test and (name.startswith("test") if d.kind != "class" else name.startswith("Test")):
            return True
        if any(decorator_registers(dec) for dec in d.decorators):
            return True
        return self.whitelisted(fs.module, d)

    def whitelisted(self, module: str, d: Definition) -> bool:
        if not self.whitelist:
            return False
        names = (f"{module}:{d.qualname}", f"{module}.{d.qualname}", d.qualname, d.name)
        return any(fnmatch.fnmatchcase(n, pattern) for pattern in self.whitelist for n in names)

    def used(self, fs: FileSymbols, d: Definition) -> bool:
        name = d.name
        if name in self.attrs or name in fs.name_refs:
            return True
        if d.kind == "method":
            return False
        return name in self.imported or name in self.star_names

    def judge(self, fs: FileSymbols, i: int, d: Definition) -> tuple[int, str] | None:
        """(confidence, reason) when `d` looks unused, else None."""
        if self.exempt(fs, i, d) or self.used(fs, d):
            return None
        what = {"function": "function", "class": "class", "method": "method"}[d.kind]
        private = d.name.startswith("_")
        if d.name in self.strings:
            return 40, f"{what} '{d.name}' is named only in a string literal"
        if d.kind == "method" and any(d.name.startswith(p) for p in self.prefixes):
            prefix = next(p for p in self.prefixes if d.name.startswith(p))
            return 40, f"method '{d.name}' may be looked up by a computed name (string prefix '{prefix}')"
        if d.kind == "method":
            if self.overrides_exempt(fs.module, d.parent, d.name):
                return None  # implements an abstract, registered or whitelisted method of a workspace base
            outside = self.outside_bases(fs.module, d.parent, d.name)
            if outside is None:
                return None  # overrides a method of a builtin base, which calls it
            if outside:
                return (
                    50,
                    f"method '{d.name}' is never used, but its class derives from {', '.join(outside)} outside the workspace, which may call it",
                )
        unknown = [
            dec for dec in d.decorators if not decorator_registers(dec) and dec not in BENIGN_DECORATORS
        ]
        dynamic = list(fs.dynamic)
        if d.kind == "method":
            dynamic = [x for x in dynamic if x.startswith("getattr")]
        else:
            dynamic = [x for x in dynamic if not x.startswith("getattr")]
        if dynamic:
            return 60, f"{what} '{d.name}' is never used, but the module uses {dynamic[0]}"
        if unknown:
            return (
                60,
                f"{what} '{d.name}' is never used, but is decorated with @{unknown[0]}, which may register it",
            )
        if private:
            return 100, f"{what} '{d.name}' is never used"
        return 90, f"{what} '{d.name}' is never used in the workspace"

    def overrides_exempt(self, module: str, cls: int, name: str) -> bool:
        """Whether a workspace base of the class defines `name` in a way that is never reported
        (`@abstractmethod`, a registering decorator, the whitelist): the override is reached the same way."""
        for base in self.index.mro((module, cls))[0][1:]:
            fs = self.index.modules[base[0]]
            for j, other in enumerate(fs.definitions):
                if other.parent == base[1] and other.name == name and other.kind == "method":
                    return self.exempt(fs, j, other)
        return False

    def outside_bases(self, module: str, cls: int, name: str) -> list[str] | None:
        """The bases of the class (through its workspace bases) that are outside the workspace and
        could call `name`; None when one is a builtin type that has `name` (an override it calls)."""
        _, external = self.index.mro((module, cls))
        out: list[str] = []
        for base in external:
            last = base.rpartition(".")[2]
            builtin = _BUILTIN_TYPES.get(base) or (
                _ABC_TYPES.get(last)
                if base in (last, f"abc.{last}", f"collections.abc.{last}", f"typing.{last}", f"t.{last}")
                else None
            )
            if builtin is not None:
                if hasattr(builtin, name):
                    return None
                continue  # a builtin type never calls a method it does not have
            out.append(base)
        return out


def _outer_class(fs: FileSymbols, i: int) -> int:
    """The module-level class holding definition `i` (a method, or a method of a nested class)."""
    d = fs.definitions[i]
    cls = d.parent
    while cls >= 0 and fs.definitions[cls].parent >= 0:
        cls = fs.definitions[cls].parent
    return cls


__all__ = [
    "BENIGN_DECORATORS",
    "DEFAULT_MIN_CONFIDENCE",
    "REGISTERING",
    "UNITTEST_NAMES",
    "UnusedSymbol",
    "decorator_registers",
    "find_unused",
]
