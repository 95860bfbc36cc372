"""The learning policy (memory/learning.py): pure over feedback records, plus its round trip through the
project memory's feedback table."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from sophia_artemis.memory.learning import (
    LearningPolicy,
    context_label,
    context_of,
    feedback_detail,
    percentile,
    step,
)
from sophia_artemis.memory.project import ProjectMemory


@dataclass
class Rec:
    id: int
    target: str
    rule: str | None
    action: str
    detail: str | None
    created: float


def log(*events: tuple[str, str, str] | tuple[str, str, str, int]) -> list[Rec]:
    """(rule, path, action[, value]) -> records in that order."""
    out = []
    for i, e in enumerate(events):
        rule, path, action = e[:3]
        data = {"cyclomatic": e[3], "threshold": 10} if len(e) > 3 else None
        detail = feedback_detail(context=context_of(path), severity="warning", data=data, rule=rule)
        out.append(Rec(i + 1, f"{path}::f{i}", rule, action, detail, 1000.0 + i))
    return out


def test_context_separates_tests_from_source_by_top_folder():
    assert context_of("tests/test_app.py") == "test:tests"
    assert context_of("src/flask/app.py") == "source:src"
    assert context_of("src/pkg/tests/helpers.py") == "test:src"
    assert context_of("test_setup.py") == "test:."
    assert context_of("conftest.py") == "test:."
    assert context_of("web/app.spec.ts") == "test:web"
    assert context_of("setup.py") == "source:."
    assert context_label("test:tests") == "test files in tests/"
    assert context_label("source:.") == "source files at the top level"


def test_severity_steps_never_hide_and_promote_at_most_to_warning():
    assert step("warning", -1) == "information"
    assert step("hint", -1) == "hint"  # never below hint: still shown
    assert step("information", +1, ceiling="warning") == "warning"
    assert step("warning", +1, ceiling="warning") == "warning"
    assert step("error", +1, ceiling="warning") == "error"  # an error is not pulled down by a promotion


def test_a_rule_the_team_keeps_dismissing_is_demoted_in_that_context_only():
    records = log(*[("SA201", "tests/test_a.py", "suppressed")] * 4, ("SA201", "tests/test_b.py", "ignored"),
                  *[("SA201", "src/app.py", "fixed")] * 3)
    policy = LearningPolicy.from_records(records)
    d = policy.decision("SA201", "test:tests")
    assert d is not None and d.direction == "demote"
    assert (d.dismissed, d.events, d.suppressed, d.ignored) == (5, 5, 4, 1)
    assert policy.severity("SA201", "test:tests", "information", {}) == "hint"
    assert policy.severity("SA201", "source:src", "information", {}) == "information"  # 3 events: too few
    why = policy.explain("SA201", "test:tests", "information", {})
    assert why == ("demoted from information to hint: 5 of 5 SA201 findings in test files in tests/ were "
                   "suppressed or left in place (4 suppressed, 1 left in place)")


def test_below_five_events_or_eighty_percent_nothing_changes():
    four = log(*[("SA104", "src/a.py", "suppressed")] * 4)
    assert LearningPolicy.from_records(four).decisions == {}
    mixed = log(*[("SA104", "src/a.py", "suppressed")] * 7, *[("SA104", "src/a.py", "fixed")] * 3)
    assert LearningPolicy.from_records(mixed).decisions == {}  # 70 % dismissed
    invoked = log(*[("SA104", "src/a.py", "invoked")] * 9)
    assert LearningPolicy.from_records(invoked).decisions == {}  # neither accepted nor dismissed


def test_a_rule_the_team_acts_on_is_promoted_one_step_at_most_to_warning():
    records = log(*[("SA201", "src/app.py", "fixed")] * 4, ("SA201", "src/app.py", "applied"),
                  ("SA201", "src/app.py", "ignored"))
    policy = LearningPolicy.from_records(records)
    d = policy.decision("SA201", "source:src")
    assert d is not None and d.direction == "promote" and (d.accepted, d.events) == (5, 6)
    assert policy.severity("SA201", "source:src", "information", {}) == "warning"
    assert policy.severity("SA201", "source:src", "warning", {}) == "warning"
    assert "promoted from information to warning: 5 of 6 SA201" in policy.explain("SA201", "source:src", "information", {})


def test_threshold_rules_are_demoted_up_to_what_the_team_tolerates():
    values = [11, 12, 12, 13, 14, 16, 20, 12, 11]
    records = log(*[("SA101", "tests/test_x.py", "ignored", v) for v in values], ("SA101", "tests/test_x.py", "fixed", 30))
    policy = LearningPolicy.from_records(records)
    d = policy.decision("SA101", "test:tests")
    assert d is not None and d.direction == "demote" and d.metric == "cyclomatic"
    assert d.tolerated == percentile([float(v) for v in values], 75) == 14.0
    assert policy.severity("SA101", "test:tests", "warning", {"cyclomatic": 13, "threshold": 10}) == "information"
    assert policy.severity("SA101", "test:tests", "warning", {"cyclomatic": 14}) == "information"
    # worse than anything the team left in place: kept, and the hover says so
    assert policy.severity("SA101", "test:tests", "warning", {"cyclomatic": 25}) == "warning"
    assert policy.explain("SA101", "test:tests", "warning", {"cyclomatic": 25}).startswith(
        "kept at warning: cyclomatic 25 is above what the team leaves in place in test files in tests/ (14)")
    text = policy.explain("SA101", "test:tests", "warning", {"cyclomatic": 12})
    assert text == ("demoted from warning to information: 9 of 10 SA101 findings in test files in tests/ were "
                    "suppressed or left in place (9 left in place); the team leaves cyclomatic up to 14 there "
                    "(75th percentile)")
    whole = LearningPolicy.from_records(records, tolerate=False)
    assert whole.severity("SA101", "test:tests", "warning", {"cyclomatic": 25}) == "information"


def test_reset_makes_earlier_records_stop_counting_all_or_one_rule():
    records = log(*[("SA201", "tests/t.py", "suppressed")] * 5, *[("SA104", "tests/t.py", "suppressed")] * 5)
    assert len(LearningPolicy.from_records(records).decisions) == 2
    one = [*records, Rec(99, "", "SA201", "reset", None, 5000.0)]
    assert set(LearningPolicy.from_records(one).decisions) == {("SA104", "test:tests")}
    every = [*records, Rec(99, "", None, "reset", None, 5000.0)]
    assert LearningPolicy.from_records(every).decisions == {}
    later = [*every, *[Rec(100 + i, "tests/t.py::g", "SA201", "suppressed",
                           json.dumps({"context": "test:tests"}), 6000.0 + i) for i in range(5)]]
    assert set(LearningPolicy.from_records(later).decisions) == {("SA201", "test:tests")}


def test_records_without_context_fall_back_to_their_path():
    records = [Rec(i, f"tests/test_a.py::t{i}", "SA201", "suppressed", "too noisy", float(i)) for i in range(5)]
    assert ("SA201", "test:tests") in LearningPolicy.from_records(records).decisions


@pytest.fixture
def memory(tmp_path):
    m = ProjectMemory(tmp_path, clock=iter(range(10_000)).__next__)
    yield m
    m.close()


def test_the_policy_reads_the_project_memory_feedback_table(memory):
    for i in range(6):
        memory.record_feedback("tests/test_app.py", f"test_{i}", "suppressed", rule="SA201",
                               detail=feedback_detail(context="test:tests", severity="information", how="line",
                                                      reason="fixture text"))
    policy = LearningPolicy.from_records(memory.feedback())
    d = policy.decision("SA201", "test:tests")
    assert d is not None and d.suppressed == 6
    assert policy.to_json()["decisions"][0]["why"].startswith("6 of 6 SA201 findings in test files in tests/")
    memory.record_feedback("", None, "reset", rule=None)
    assert LearningPolicy.from_records(memory.feedback()).decisions == {}
    assert memory.counts()["feedback"] == 7  # the records are kept
