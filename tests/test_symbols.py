"""analysis.symbols: per-file extraction, the workspace index, callers (with confidence) and tests_for,
on fixtures/deadcode_project."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from sophia_artemis.analysis.model import Range
from sophia_artemis.analysis.symbols import (
    TargetError,
    WorkspaceIndex,
    cache_key,
    file_symbols,
    is_test_path,
    read_entry_points,
)

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "deadcode_project"


@pytest.fixture(scope="module")
def index() -> WorkspaceIndex:
    return WorkspaceIndex.build(PROJECT)


def callers(index: WorkspaceIndex, target: str) -> list[tuple[str, int, int, str, str]]:
    return [
        (c.path, c.range.start.line, c.range.start.character, c.qualname, c.confidence)
        for c in index.callers_of(target)
    ]


# ------------------------------------------------------------------------------------------ extraction

SAMPLE = b"""\
import a.b as ab, c.d
from ..x import (y as z, w)
from . import sibling
from .star import *

__all__ = ["f"]
__all__ += ("C",)


@app.route("/x")
@functools.wraps(g)
def f(p):
    with Session() as s:
        s.get("visit_%s" % p, "pkg.mod.Model", "pkg.mod:func")
    ab.thing(super().x(), "".join(p))

    def inner():
        return getattr(p, p)


class C(Base, mod.Other, metaclass=Meta):
    def m(self, q=1):
        self.n = Client(q)
        return self.helper(key=q)

    @staticmethod
    def st(x):
        return x

    class Nested:
        def nm(cls):
            pass
"""


def test_file_symbols_definitions():
    fs = file_symbols("pkg.sub.mod", "pkg/sub/mod.py", SAMPLE)
    got = [
        (d.qualname, d.kind, d.local, d.parent, d.decorators, d.bases, d.self_name, d.in_all)
        for d in fs.definitions
    ]
    assert got == [
        ("f", "function", False, -1, ("app.route", "functools.wraps"), (), None, True),
        ("f.<locals>.inner", "function", True, 0, (), (), None, False),
        ("C", "class", False, -1, (), ("Base", "mod.Other"), None, True),
        ("C.m", "method", False, 2, (), (), "self", False),
        ("C.st", "method", False, 2, ("staticmethod",), (), None, False),
        ("C.Nested", "class", False, 2, (), (), None, False),
        ("C.Nested.nm", "method", False, 5, (), (), "cls", False),
    ]
    f = fs.definitions[0]
    assert f.range == Range.of(11, 4, 11, 5) and f.line == 12 and not f.dunder
    assert fs.all_names == ("f", "C")
    assert fs.dynamic == ("getattr with a computed name",)
    assert not fs.is_package and not fs.is_test


def test_file_symbols_references_and_imports():
    fs = file_symbols("pkg.sub.mod", "pkg/sub/mod.py", SAMPLE)
    assert [(b.local, b.module, b.name, b.imported, b.line) for b in fs.imports] == [
        ("ab", "a.b", None, "a.b", 1),
        ("c", "c", None, "c.d", 1),
        ("z", "pkg.x", "y", "pkg.x", 2),
        ("w", "pkg.x", "w", "pkg.x", 2),
        ("sibling", "pkg.sub", "sibling", "pkg.sub", 3),
        ("*", "pkg.sub.star", "*", "pkg.sub.star", 4),
    ]
    calls = [(c.callee, c.span, fs.scope_qualname(c.scope), c.decorator) for c in fs.calls]
    assert calls == [
        ("app.route", (9, 5, 9, 10), "<module>", False),
        ("functools.wraps", (10, 11, 10, 16), "<module>", False),
        ("Session", (12, 9, 12, 16), "f", False),
        ("s.get", (13, 10, 13, 13), "f", False),
        ("ab.thing", (14, 7, 14, 12), "f", False),
        ("super", (14, 13, 14, 18), "f", False),
        ("super().x", (14, 21, 14, 22), "f", False),
        ("<literal>.join", (14, 29, 14, 33), "f", False),
        ("getattr", (17, 15, 17, 22), "f.<locals>.inner", False),
        ("Client", (22, 17, 22, 23), "C.m", False),
        ("self.helper", (23, 20, 23, 26), "C.m", False),
        ("staticmethod", (25, 5, 25, 17), "C", True),
    ]
    assert [(a.target, a.value, fs.scope_qualname(a.scope)) for a in fs.assignments] == [
        ("s", "Session", "f"),
        ("self.n", "Client", "C.m"),
    ]
    assert {"Session", "Base", "ab", "p", "Meta"} <= fs.name_refs
    assert not {"f", "C", "m", "key", "get"} & fs.name_refs  # definitions, keywords, attributes
    assert {"get", "thing", "helper", "n", "Other", "join"} <= fs.attr_refs
    assert {"visit_", "pkg.mod.Model", "Model", "pkg.mod:func", "func", "f", "C"} <= fs.string_refs


def test_file_symbols_is_pure_and_picklable():
    a = file_symbols("m", "m.py", SAMPLE)
    b = file_symbols("m", "m.py", SAMPLE)
    assert a == b
    assert pickle.loads(pickle.dumps(a)) == a
    assert cache_key("m", "m.py", SAMPLE) == cache_key("m", "m.py", SAMPLE) != cache_key("n", "m.py", SAMPLE)


def test_utf16_ranges_and_syntax_errors():
    src = "s = '\U0001f600é'; foo()\ndef broken(:\n    bar()\n".encode()
    fs = file_symbols("m", "m.py", src)
    foo = next(c for c in fs.calls if c.name == "foo")
    assert foo.span == (0, 11, 0, 14)  # the emoji is two UTF-16 units, é one
    assert any(c.name == "bar" for c in fs.calls)


def test_is_test_path():
    assert (
        is_test_path("tests/helpers.py") and is_test_path("pkg/test_x.py") and is_test_path("pkg/x_test.py")
    )
    assert (
        is_test_path("conftest.py")
        and not is_test_path("pkg/testing_tools.py")
        and not is_test_path("pkg/x.py")
    )
    assert is_test_path("test/unit/x.py") and is_test_path("src/pkg/tests/x.py")
    assert not is_test_path("django/test/utils.py")  # a package of test utilities


# ------------------------------------------------------------------------------------------ index


def test_modules_and_entry_points(index):
    assert sorted(index.modules) == [
        "store",
        "store.cli",
        "store.core",
        "store.plugins",
        "store.util",
        "store.util.helpers",
        "store.web",
        "tests.conftest",
        "tests.test_core",
        "tests.test_util",
    ]
    assert index.entry_points == ("store.cli:main",)
    assert read_entry_points(PROJECT) == ["store.cli:main"]


def test_targets_follow_reexports(index):
    assert index.key_name(index.resolve_target("store:Cart")) == "store.core:Cart"
    assert index.key_name(index.resolve_target("store.util:normalize")) == "store.util.helpers:normalize"
    assert index.key_name(index.resolve_target("store.core.Cart.add")) == "store.core:Cart.add"
    with pytest.raises(TargetError):
        index.resolve_target("store.core:missing")
    with pytest.raises(TargetError):
        index.resolve_target("elsewhere:f")


def test_callers_through_reexports_and_imports(index):
    assert callers(index, "store.core:compute_total") == [
        ("store/cli.py", 9, 26, "main", "exact"),  # from . import compute_total (store/__init__ re-export)
        ("store/core.py", 39, 15, "Cart.total", "exact"),
        ("tests/test_core.py", 5, 11, "test_total", "exact"),  # from store import compute_total
    ]
    assert callers(index, "store.util.helpers:normalize") == [
        ("store/core.py", 22, 15, "Cart.transform", "exact"),  # from .util.helpers import normalize as norm
        ("store/core.py", 25, 28, "Cart.add", "exact"),  # import store.util.helpers as h; h.normalize()
        ("tests/test_util.py", 4, 11, "test_normalize", "exact"),  # two re-export hops
    ]


def test_callers_self_cls_and_overrides(index):
    assert callers(index, "store.core:Base.process") == [("store/core.py", 8, 20, "Base.run", "exact")]
    assert callers(index, "store.core:Base.transform") == [("store/core.py", 11, 21, "Base.process", "exact")]
    # the subclass override is reached by dynamic dispatch from the base
    assert callers(index, "store.core:Cart.transform") == [
        ("store/core.py", 11, 21, "Base.process", "likely")
    ]
    assert callers(index, "store.core:Cart.empty") == [("store/core.py", 33, 19, "Cart.from_list", "exact")]
    assert callers(index, "store.core:Cart.from_list") == [
        ("store/cli.py", 7, 13, "main", "exact")
    ]  # alias C
    assert callers(index, "store.core:Base.run") == [("store/cli.py", 8, 8, "main", "exact")]  # C().run()


def test_callers_of_classes_and_init(index):
    expected = [
        ("store/cli.py", 8, 4, "main", "exact"),
        ("tests/conftest.py", 7, 11, "cart", "exact"),  # function-local import
        ("tests/test_core.py", 9, 8, "test_cart", "exact"),
        ("tests/test_core.py", 15, 24, "test_unknown_receiver", "exact"),
    ]
    assert callers(index, "store.core:Cart") == expected
    assert callers(index, "store.core:Cart.__init__") == expected


def test_callers_unknown_receivers_are_name_only(index):
    assert callers(index, "store.core:Cart.add") == [
        ("store/core.py", 35, 17, "Cart.from_list", "name-only"),  # cart = cls.empty(): type unknown
        ("store/core.py", 63, 15, "call_unknown", "name-only"),  # obj.add(1)
        ("tests/test_core.py", 10, 6, "test_cart", "likely"),  # c = Cart(); c.add(1)
    ]
    assert callers(index, "store.core:Cart.total") == [
        ("store/cli.py", 9, 16, "main", "name-only"),
        ("tests/test_core.py", 11, 13, "test_cart", "likely"),
    ]
    assert [c.path for c in index.callers_of("store.core:Cart.add", min_confidence="likely")] == [
        "tests/test_core.py"
    ]


def test_caller_json_matches_the_contract(index):
    (first, *_) = index.callers_of("store.core:compute_total")
    assert first.to_json() == {
        "path": "store/cli.py",
        "range": {"start": {"line": 9, "character": 26}, "end": {"line": 9, "character": 39}},
        "qualname": "main",
    }


def test_tests_for(index):
    assert index.tests_for("store.core:compute_total") == ["tests/conftest.py", "tests/test_core.py"]
    assert index.tests_for("store.util.helpers:normalize") == ["tests/test_util.py"]
    assert index.tests_for("store.web:index") == []
    assert index.tests_for("store:Cart") == ["tests/conftest.py", "tests/test_core.py"]


def test_build_with_cache_reuses_file_symbols(tmp_path):
    cache: dict = {}
    first = WorkspaceIndex.build(PROJECT, cache=cache)
    assert len(cache) == len(first.modules)
    again = WorkspaceIndex.build(PROJECT, cache=cache)
    assert all(again.modules[m] is first.modules[m] for m in first.modules)


def test_build_with_explicit_files_and_import_roots(tmp_path):
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "__init__.py").write_text("from .a import f\n")
    (tmp_path / "src" / "pkg" / "a.py").write_text("def f():\n    pass\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("import pkg\n\ndef test_f():\n    pkg.f()\n")
    index = WorkspaceIndex.build(tmp_path)
    assert sorted(index.modules) == ["pkg", "pkg.a", "tests.test_a"]
    assert callers(index, "pkg.a:f") == [("tests/test_a.py", 3, 8, "test_f", "exact")]
    only = WorkspaceIndex.build(tmp_path, [tmp_path / "src" / "pkg" / "a.py"])
    assert sorted(only.modules) == ["pkg.a"]


def test_return_annotations_and_namespace_portions(tmp_path):
    (tmp_path / "src" / "pkg" / "sub").mkdir(parents=True)  # no __init__: a namespace portion in a package
    (tmp_path / "src" / "pkg" / "__init__.py").write_text("")
    (tmp_path / "src" / "pkg" / "sub" / "base.py").write_text(
        "class Base:\n    def ping(self):\n        pass\n"
    )
    (tmp_path / "src" / "pkg" / "app.py").write_text(
        "from .sub.base import Base\n"
        "\n"
        "class Ctx:\n"
        "    def push(self):\n"
        "        pass\n"
        "\n"
        "class App(Base):\n"
        "    def context(self) -> 'Ctx | None':\n"
        "        return Ctx()\n"
        "    def run(self):\n"
        "        ctx = self.context()\n"
        "        ctx.push()\n"
        "        self.ping()\n"
    )
    index = WorkspaceIndex.build(tmp_path)
    assert sorted(index.modules) == ["pkg", "pkg.app", "pkg.sub.base"]
    assert index.file("pkg.app").definitions[3].returns == "Ctx"
    assert callers(index, "pkg.app:Ctx.push") == [("src/pkg/app.py", 11, 12, "App.run", "likely")]
    assert callers(index, "pkg.sub.base:Base.ping") == [("src/pkg/app.py", 12, 13, "App.run", "exact")]
