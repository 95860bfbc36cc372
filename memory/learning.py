"""Learning from the team: a policy computed from feedback records. Pure: records in, decisions out.

What happens to a suggestion is recorded in the project memory's feedback table (`ProjectMemory.record_feedback`,
counted per rule in the global memory too) as one of these actions:

    applied     a quick fix of ours was applied (the code action's command ran)        -> accepted
    accepted    the older name of `applied` (SA501's "go to similar code")             -> accepted
    fixed       present at one save, gone at the next, no quick fix, not suppressed    -> accepted
    suppressed  `# sophia: ignore[...]` on its line, or the rule ignored for the project -> dismissed
    ignored     still there after IGNORED_AFTER saves that edited its file              -> dismissed
    invoked     a code action that neither fixes nor suppresses                         -> neither
    reset       `sophia.resetLearning`: records before it (of its rule, or all) no longer count

A record's `target` is `path::qualname` (the file for findings outside functions) and its `detail` a JSON object:
`context` (see `context_of`), the finding's `severity`, and for threshold rules the `metric`, its `value` and
the `threshold`; `how` (line, project) and `reason` for suppressions.

The policy, per rule and context: accepted = fixed + applied, dismissed = suppressed + ignored. With at least
MIN_EVENTS of them and at least RATIO dismissed, the rule is *demoted* there (one severity step down, never
below hint: a demoted finding is still shown); with at least RATIO accepted it is *promoted* (one step up, never
above warning). For the threshold rules SA101-SA105 the demotion applies to the findings the team tolerates -
those whose figure is at most the 75th percentile of the figures it dismissed - and not to the ones above,
which are worse than anything it left in place (raising the threshold itself would hide those under it, and the
product never hides a finding silently).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Protocol

from ..analysis.rules import RULES

MIN_EVENTS = 5
RATIO = 0.8
TOLERATED_PERCENTILE = 75
IGNORED_AFTER = 3  # saves that edited the file with the finding still there -> "ignored"

ACCEPTED = frozenset({"applied", "accepted", "fixed"})
DISMISSED = frozenset({"suppressed", "ignored", "dismissed"})
RESET = "reset"

SEVERITY_ORDER = ("hint", "information", "warning", "error")
# rules judged by a figure against a threshold, where "what the team tolerates" means something
THRESHOLD_RULES = frozenset(r.id for r in RULES.values() if r.threshold_key and r.metric and not r.fires_below)

_TEST_FOLDERS = {"test", "tests", "testing"}


class FeedbackRecord(Protocol):
    """What the policy reads of a record (memory.project.Feedback has it)."""

    id: int
    target: str
    rule: str | None
    action: str
    detail: str | None
    created: float


def context_of(path: str) -> str:
    """A file's context: `test:<top folder>` or `source:<top folder>` (`.` for files at the root).

    Test files are those in a `test`/`tests`/`testing` folder, `test_*.py`, `*_test.py`, `conftest.py` and
    `*.test.*` / `*.spec.*` in JavaScript and TypeScript."""
    p = PurePosixPath(path.replace("\\", "/"))
    parts = [x for x in p.parts if x not in ("", ".", "/")]
    name = p.name
    test = (
        any(x.lower() in _TEST_FOLDERS for x in parts[:-1])
        or name.startswith("test_")
        or p.stem.endswith("_test")
        or name == "conftest.py"
        or ".test." in name
        or ".spec." in name
    )
    folder = parts[0] if len(parts) > 1 else "."
    return f"{'test' if test else 'source'}:{folder}"


def context_label(context: str) -> str:
    kind, _, folder = context.partition(":")
    what = "test files" if kind == "test" else "source files"
    return f"{what} at the top level" if folder == "." else f"{what} in {folder}/"


def detail_of(record: FeedbackRecord) -> dict[str, Any]:
    if not record.detail:
        return {}
    try:
        value = json.loads(record.detail)
    except ValueError:
        return {"text": record.detail}
    return value if isinstance(value, dict) else {"text": record.detail}


def record_context(record: FeedbackRecord, detail: Mapping[str, Any] | None = None) -> str:
    detail = detail_of(record) if detail is None else detail
    ctx = detail.get("context")
    if isinstance(ctx, str) and ctx:
        return ctx
    return context_of(record.target.partition("::")[0])


def percentile(values: list[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    k = (len(ordered) - 1) * pct / 100
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def step(severity: str, by: int, *, floor: str = "hint", ceiling: str = "error") -> str:
    i = SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else SEVERITY_ORDER.index("warning")
    lo, hi = SEVERITY_ORDER.index(floor), SEVERITY_ORDER.index(ceiling)
    if by > 0 and i >= hi:  # never promote past the ceiling, nor pull an error down to it
        return severity
    return SEVERITY_ORDER[max(lo, min(hi, i + by))]


@dataclass
class Tally:
    """What the team did with one rule in one context."""

    counts: dict[str, int] = field(default_factory=dict)
    dismissed_values: list[float] = field(default_factory=list)  # the figures it left in place or suppressed
    metric: str | None = None

    @property
    def accepted(self) -> int:
        return sum(n for a, n in self.counts.items() if a in ACCEPTED)

    @property
    def dismissed(self) -> int:
        return sum(n for a, n in self.counts.items() if a in DISMISSED)

    @property
    def events(self) -> int:
        return self.accepted + self.dismissed


@dataclass(frozen=True)
class Decision:
    rule: str
    context: str
    direction: str  # "demote" or "promote"
    accepted: int
    dismissed: int
    suppressed: int
    ignored: int
    metric: str | None = None
    tolerated: float | None = None  # threshold rules: the TOLERATED_PERCENTILE of the dismissed figures

    @property
    def events(self) -> int:
        return self.accepted + self.dismissed

    def applies_to(self, data: Mapping[str, Any]) -> bool:
        """A demotion of a threshold rule applies to figures within what the team tolerates."""
        if self.direction != "demote" or self.tolerated is None or self.metric is None:
            return True
        value = data.get(self.metric)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return True
        return value <= self.tolerated

    def severity_for(self, severity: str, data: Mapping[str, Any]) -> str:
        if not self.applies_to(data):
            return severity
        if self.direction == "demote":
            return step(severity, -1)
        return step(severity, +1, ceiling="warning")

    def why(self) -> str:
        where = context_label(self.context)
        if self.direction == "demote":
            how = []
            if self.suppressed:
                how.append(f"{self.suppressed} suppressed")
            if self.ignored:
                how.append(f"{self.ignored} left in place")
            text = (f"{self.dismissed} of {self.events} {self.rule} findings in {where} were suppressed or left "
                    f"in place ({', '.join(how)})")
            if self.tolerated is not None and self.metric:
                text += f"; the team leaves {self.metric} up to {_number(self.tolerated)} there " \
                        f"({TOLERATED_PERCENTILE}th percentile)"
            return text
        return f"{self.accepted} of {self.events} {self.rule} findings in {where} were fixed or had their quick fix applied"

    def explain(self, original: str, data: Mapping[str, Any]) -> str | None:
        """The hover line for a finding of `original` severity, or None when the decision leaves it as it is."""
        new = self.severity_for(original, data)
        if new == original:
            if self.direction == "demote" and self.tolerated is not None and self.metric:
                value = data.get(self.metric)
                return (f"kept at {original}: {self.metric} {value} is above what the team leaves in place in "
                        f"{context_label(self.context)} ({_number(self.tolerated)}); {self.why()}")
            return None
        verb = "demoted" if self.direction == "demote" else "promoted"
        return f"{verb} from {original} to {new}: {self.why()}"

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "context": self.context, "direction": self.direction,
                "accepted": self.accepted, "dismissed": self.dismissed, "suppressed": self.suppressed,
                "ignored": self.ignored, "metric": self.metric, "tolerated": self.tolerated, "why": self.why()}


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.1f}"


@dataclass
class LearningPolicy:
    """Decisions per (rule, context), from the records that count (those after the latest reset)."""

    decisions: dict[tuple[str, str], Decision] = field(default_factory=dict)
    tallies: dict[tuple[str, str], Tally] = field(default_factory=dict)

    @classmethod
    def from_records(cls, records: Iterable[FeedbackRecord], *, min_events: int = MIN_EVENTS,
                     ratio: float = RATIO, tolerate: bool = True) -> LearningPolicy:
        """`tolerate=False` demotes threshold rules as a whole (no tolerated figure); used by the replay bench."""
        ordered = sorted(records, key=lambda r: (r.created, r.id))
        reset_all = -math.inf
        reset_rule: dict[str, float] = {}
        for i, r in enumerate(ordered):
            if r.action == RESET:
                if r.rule:
                    reset_rule[r.rule] = i
                else:
                    reset_all = i
        tallies: dict[tuple[str, str], Tally] = {}
        for i, r in enumerate(ordered):
            if not r.rule or r.action == RESET or i < reset_all or i < reset_rule.get(r.rule, -math.inf):
                continue
            if r.action not in ACCEPTED and r.action not in DISMISSED:
                continue
            detail = detail_of(r)
            key = (r.rule, record_context(r, detail))
            tally = tallies.setdefault(key, Tally())
            tally.counts[r.action] = tally.counts.get(r.action, 0) + 1
            rule = RULES.get(r.rule)
            if r.rule in THRESHOLD_RULES and rule is not None:
                tally.metric = rule.metric
                value = detail.get("value", detail.get(rule.metric or ""))
                if r.action in DISMISSED and isinstance(value, (int, float)) and not isinstance(value, bool):
                    tally.dismissed_values.append(float(value))
        decisions: dict[tuple[str, str], Decision] = {}
        for (rule_id, ctx), t in tallies.items():
            if t.events < min_events:
                continue
            common: dict[str, Any] = {
                "rule": rule_id, "context": ctx, "accepted": t.accepted, "dismissed": t.dismissed,
                "suppressed": t.counts.get("suppressed", 0) + t.counts.get("dismissed", 0),
                "ignored": t.counts.get("ignored", 0)}
            if t.dismissed >= ratio * t.events:
                tolerated = None
                if tolerate and rule_id in THRESHOLD_RULES and t.dismissed_values:
                    tolerated = percentile(t.dismissed_values, TOLERATED_PERCENTILE)
                decisions[(rule_id, ctx)] = Decision(direction="demote", metric=t.metric, tolerated=tolerated, **common)
            elif t.accepted >= ratio * t.events:
                decisions[(rule_id, ctx)] = Decision(direction="promote", metric=t.metric, **common)
        return cls(decisions, tallies)

    def decision(self, rule: str, context: str) -> Decision | None:
        return self.decisions.get((rule, context))

    def severity(self, rule: str, context: str, severity: str, data: Mapping[str, Any]) -> str:
        """The severity a finding is shown with (its own when nothing was learned)."""
        d = self.decisions.get((rule, context))
        return severity if d is None else d.severity_for(severity, data)

    def explain(self, rule: str, context: str, severity: str, data: Mapping[str, Any]) -> str | None:
        d = self.decisions.get((rule, context))
        return None if d is None else d.explain(severity, data)

    def to_json(self) -> dict[str, Any]:
        return {
            "decisions": [d.to_json() for _, d in sorted(self.decisions.items())],
            "tallies": [{"rule": r, "context": c, "accepted": t.accepted, "dismissed": t.dismissed, "counts": t.counts}
                        for (r, c), t in sorted(self.tallies.items())],
        }


def feedback_detail(*, context: str, severity: str | None = None, data: Mapping[str, Any] | None = None,
                    rule: str | None = None, **more: Any) -> str:
    """The `detail` JSON of a record: the context, the severity shown, the figure behind a threshold rule."""
    out: dict[str, Any] = {"context": context}
    if severity:
        out["severity"] = severity
    spec = RULES.get(rule or "")
    if data and spec is not None and spec.metric and spec.metric in data:
        out["metric"] = spec.metric
        out["value"] = data[spec.metric]
        if "threshold" in data:
            out["threshold"] = data["threshold"]
    out.update({k: v for k, v in more.items() if v is not None})
    return json.dumps(out, sort_keys=True)
