"""History kept in project memory (memory/history_store.py): only new commits are read; rewrites re-mine."""

from __future__ import annotations

from pathlib import Path

import pytest
from sophia_artemis.analysis.history import HistoryCancelled, coupling, mine
from sophia_artemis.memory.history_store import plan_history, project_history
from sophia_artemis.memory.project import ProjectMemory
from test_history import _commit, _git, _touch


def _three_commits(tmp_path):
    """A repository with three commits of a.py and b.py, and a project memory for it."""
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    for day in range(3):
        _touch(root, "a.py", "b.py", tag=str(day))
        _commit(root, day, f"c{day}")
    return root, ProjectMemory(root, directory=tmp_path / "memory")


def _summary(history):
    return sorted((c.hash, c.paths) for c in history.commits), history.related("a.py", k=5)


def test_only_new_commits_are_read_and_a_rewrite_mines_again(tmp_path, monkeypatch):
    root, memory = _three_commits(tmp_path)
    calls: list[tuple] = []
    real_log = coupling.git.log

    def spy(top, revs, exclude=(), **reading):
        calls.append((tuple(revs), tuple(exclude)))
        return real_log(top, revs, exclude=exclude, **reading)

    monkeypatch.setattr(coupling.git, "log", spy)
    first = project_history(root, memory)
    assert len(first.commits) == 3 and calls[-1][1] == ()
    again = project_history(root, memory)
    assert len(calls) == 1 and _summary(again) == _summary(first)  # same HEAD: git log not run again

    _touch(root, "a.py", "c.py", tag="new")
    _commit(root, 5, "c5")
    extended = project_history(root, memory)
    assert len(calls) == 2 and calls[-1][1]  # only what is not reachable from the stored head
    assert _summary(extended) == _summary(mine(root))

    _git(root, "commit", "-q", "--amend", "-m", "rewritten")  # the stored head is no ancestor any more
    rewritten = project_history(root, memory)
    assert calls[-1][1] == () and _summary(rewritten) == _summary(mine(root))
    memory.close()


def test_without_a_memory_it_is_plain_mining(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    _touch(root, "a.py", tag="1")
    _commit(root, 0, "c0")
    assert _summary(project_history(Path(root))) == _summary(mine(root))


def test_plan_counts_what_is_to_read_and_a_cancelled_read_stores_nothing(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    assert plan_history(root).mode == "empty" and project_history(root).commits == []
    for day in range(5):
        _touch(root, "a.py", f"f{day}.py", tag=str(day))
        _commit(root, day, f"c{day}")
    memory = ProjectMemory(root, directory=tmp_path / "memory")
    plan = plan_history(root, memory)
    assert (plan.mode, plan.to_read) == ("full", 5)
    with pytest.raises(HistoryCancelled):
        plan.run(cancel=lambda: True)
    assert memory.cache_get(plan.key) is None  # nothing half-read was kept

    seen: list[tuple[int, int]] = []
    first = plan_history(root, memory).run(progress=lambda done, total: seen.append((done, total)))
    assert len(first.commits) == 5 and seen[-1] == (5, 5)
    assert plan_history(root, memory).mode == "stored"

    for day in range(5, 8):
        _touch(root, "a.py", tag=str(day))
        _commit(root, day, f"c{day}")
    plan = plan_history(root, memory)
    assert (plan.mode, plan.to_read) == ("extend", 3)
    with pytest.raises(HistoryCancelled):
        plan.run(cancel=lambda: True)
    again = plan_history(root, memory)  # the stored history still ends at the old head
    assert (again.mode, again.to_read) == ("extend", 3)
    assert _summary(again.run()) == _summary(mine(root))
    memory.close()


def test_a_known_history_is_reused_without_the_store_and_extended_as_a_copy(tmp_path, monkeypatch):
    root, memory = _three_commits(tmp_path)
    known = project_history(root, memory)
    known.related("a.py")  # its derived index is built, as when it answers hovers
    monkeypatch.setattr(memory, "cache_get", lambda *a, **k: pytest.fail("the store was read"))
    same = plan_history(root, memory, known=known)
    assert same.mode == "stored" and same.run() is known and known._index is not None

    _touch(root, "a.py", "c.py", tag="new")
    _commit(root, 5, "c5")
    plan = plan_history(root, memory, known=known)
    assert (plan.mode, plan.to_read) == ("extend", 1)
    newer = plan.run()
    assert newer is not known and len(known.commits) == 3  # the one in use is left alone
    assert _summary(newer) == _summary(mine(root))
    memory.close()
