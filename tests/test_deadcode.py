"""SA303 unused code (analysis.symbols.deadcode) on fixtures/deadcode_project: exact findings,
confidence levels, whitelist, and the rules that keep registered/exported/test code out."""

from __future__ import annotations

from pathlib import Path

import pytest
from sophia_artemis.analysis.model import Range
from sophia_artemis.analysis.symbols import (
    DEFAULT_MIN_CONFIDENCE,
    WorkspaceIndex,
    decorator_registers,
    find_unused,
)

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "deadcode_project"


@pytest.fixture(scope="module")
def index() -> WorkspaceIndex:
    return WorkspaceIndex.build(PROJECT)


def rows(found):
    return [(u.path, u.qualname, u.kind, u.confidence) for u in found]


ALL = [
    ("store/core.py", "Cart.unused_method", "method", 90),
    ("store/core.py", "_unused_helper", "function", 100),
    ("store/core.py", "UnusedClass", "class", 90),
    ("store/plugins.py", "unused_plugin", "function", 60),
    ("store/util/helpers.py", "only_in_string", "function", 40),
    ("store/web.py", "Handler.on_event", "method", 50),
]


def test_default_threshold_findings(index):
    assert DEFAULT_MIN_CONFIDENCE == 60
    assert rows(find_unused(index)) == [r for r in ALL if r[3] >= 60]


def test_every_confidence_level_with_reasons(index):
    found = find_unused(index, min_confidence=0)
    assert rows(found) == ALL
    reasons = {u.qualname: u.reason for u in found}
    assert reasons["Cart.unused_method"] == "method 'unused_method' is never used in the workspace"
    assert reasons["_unused_helper"] == "function '_unused_helper' is never used"
    assert reasons["UnusedClass"] == "class 'UnusedClass' is never used in the workspace"
    assert (
        reasons["unused_plugin"]
        == "function 'unused_plugin' is never used, but the module uses module-level __getattr__"
    )
    assert reasons["only_in_string"] == "function 'only_in_string' is named only in a string literal"
    assert reasons["Handler.on_event"] == (
        "method 'on_event' is never used, but its class derives from ExternalHandler outside the workspace, which may call it"
    )


def test_ranges_and_json(index):
    helper = next(u for u in find_unused(index) if u.qualname == "_unused_helper")
    assert helper.range == Range.of(53, 4, 53, 18)
    assert helper.target == "store.core:_unused_helper"
    assert helper.to_json() == {
        "path": "store/core.py",
        "module": "store.core",
        "qualname": "_unused_helper",
        "kind": "function",
        "range": {"start": {"line": 53, "character": 4}, "end": {"line": 53, "character": 18}},
        "confidence": 100,
        "reason": "function '_unused_helper' is never used",
    }


def test_what_is_never_reported(index):
    reported = {u.qualname for u in find_unused(index, min_confidence=0)}
    kept = {
        "exported_but_unused",  # in __all__
        "main",  # [project.scripts] entry point
        "index",  # @app.route
        "cart",  # @pytest.fixture
        "test_total",  # tests by convention
        "Cart.__init__",  # dunder
        "Cart.size",  # property read as c.size
        "Base.transform",  # called as self.transform; Cart.transform overrides it
        "Cart.transform",
        "UnusedClass.method_of_unused_class",  # its class is the finding
        "Handler",  # listed in HANDLERS
        "__getattr__",
        "load",
        "call_unknown",
    }
    assert not kept & reported


def test_whitelist_globs_and_qualnames(index):
    found = find_unused(index, whitelist=["store.core:UnusedClass*", "*._unused*", "unused_plugin"])
    assert rows(found) == [("store/core.py", "Cart.unused_method", "method", 90)]
    # a kept class no longer hides its unused methods
    found = find_unused(index, whitelist=["store.core:UnusedClass", "Cart.*", "*_helper"])
    assert rows(found) == [
        ("store/core.py", "UnusedClass.method_of_unused_class", "method", 90),
        ("store/plugins.py", "unused_plugin", "function", 60),
    ]
    found = find_unused(index, whitelist=["store.core.Cart.*"], min_confidence=100)
    assert rows(found) == [("store/core.py", "_unused_helper", "function", 100)]


def test_entry_points_can_be_given(tmp_path):
    (tmp_path / "tool.py").write_text("def run():\n    pass\n\ndef _other():\n    pass\n")
    index = WorkspaceIndex.build(tmp_path)
    assert [u.qualname for u in find_unused(index)] == ["run", "_other"]
    index = WorkspaceIndex.build(tmp_path, entry_points=["tool:run"])
    assert [u.qualname for u in find_unused(index)] == ["_other"]


def test_rules_on_a_small_project(tmp_path):
    (tmp_path / "app.py").write_text(
        "import functools\n"
        "from typing import overload\n"
        "from abc import abstractmethod\n"
        "\n"
        "@functools.lru_cache\n"
        "def cached():\n    pass\n"  # benign decorator: still unused
        "@overload\n"
        "def over(x: int) -> int: ...\n"
        "@receiver(signal)\n"
        "def on_signal():\n    pass\n"
        "@register_thing\n"
        "def registered():\n    pass\n"
        "@bus.subscribe('x')\n"
        "def subscribed():\n    pass\n"
        "class Table(dict):\n"
        "    def get(self, key):\n        return 1\n"  # overrides a builtin type's method
        "    def extra(self):\n        return 2\n"  # the builtin never calls it
        "    @abstractmethod\n"
        "    def shape(self):\n        pass\n"
        "    @shape.setter\n"
        "    def shape(self, v):\n        pass\n"
        "TABLE = Table()\n"
        "class Plugin:\n"
        "    @abstractmethod\n"
        "    def handle(self):\n        pass\n"
        "class MyPlugin(Plugin):\n"
        "    def handle(self):\n        pass\n"  # implements the abstract method: reached the same way
        "PLUGINS = [MyPlugin]\n"
    )
    (tmp_path / "visit.py").write_text(
        "class Visitor:\n"
        "    def visit_Name(self, node):\n        pass\n"  # looked up as 'visit_%s'
        "    def unrelated(self):\n        pass\n"  # the module uses getattr with a computed name
        "    def go(self, node):\n        return getattr(self, 'visit_%s' % type(node).__name__)(node)\n"
        "Visitor().go(None)\n"
    )
    (tmp_path / "test_app.py").write_text(
        "class TestX:\n    def test_a(self):\n        pass\n    def helper(self):\n        pass\n"
    )
    found = find_unused(WorkspaceIndex.build(tmp_path), min_confidence=0)
    assert [(u.qualname, u.confidence) for u in found] == [
        ("cached", 90),
        ("Table.extra", 90),
        ("TestX.helper", 90),
        ("Visitor.visit_Name", 40),
        ("Visitor.unrelated", 60),
    ]


def test_decorator_registers():
    for deco in (
        "app.route",
        "router.get",
        "cli.command",
        "x.setter",
        "pytest.fixture",
        "celery.task",
        "abc.abstractmethod",
    ):
        assert decorator_registers(deco), deco
    for deco in (
        "receiver",
        "register",
        "register_converter",
        "fixture",
        "overload",
        "shared_task",
        "hookimpl",
    ):
        assert decorator_registers(deco), deco
    for deco in (
        "functools.wraps",
        "functools.lru_cache",
        "staticmethod",
        "classmethod",
        "property",
        "cache",
        "my_decorator",
    ):
        assert not decorator_registers(deco), deco
