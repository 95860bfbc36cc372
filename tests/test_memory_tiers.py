"""Working, session and global memory. No sleeping: time comes from an injectable clock."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sophia_artemis.memory.base import EventTier, FocusTier, Store
from sophia_artemis.memory.global_ import GlobalMemory, global_dir
from sophia_artemis.memory.session import SessionMemory
from sophia_artemis.memory.working import WorkingMemory


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# ------------------------------------------------------------------------------------------------ working


def test_working_memory_keeps_the_newest_first_and_drops_the_oldest():
    wm = WorkingMemory(size=3)
    assert isinstance(wm, FocusTier)
    for name in ("a", "b", "c", "d"):
        wm.focus("m.py", name)
    assert [i.qualname for i in wm.items()] == ["d", "c", "b"]
    assert len(wm) == 3


def test_working_memory_refocus_moves_to_front_without_duplicates():
    wm = WorkingMemory(size=5)
    wm.focus("m.py", "a", context="def a(): ...")
    wm.focus("m.py", "b")
    wm.focus("m.py", "a")
    assert [i.qualname for i in wm.items()] == ["a", "b"]
    wm.focus("other.py")
    first = wm.items()[0]
    assert (first.kind, first.path, first.qualname) == ("file", "other.py", None)


def test_working_memory_boost():
    wm = WorkingMemory(size=4)
    wm.focus("cart.py", "Cart.add")
    wm.focus("users.py")
    assert wm.boost("nowhere.py", "x") == 0.0
    symbol = wm.boost("cart.py", "Cart.add")
    child = wm.boost("cart.py", "Cart.add.<locals>.f")
    same_file = wm.boost("cart.py", "other")
    file_focus = wm.boost("users.py", "get_user")
    assert symbol > child > same_file > 0
    assert file_focus > same_file  # newer focus weighs more
    assert 0.0 < symbol <= 1.0
    wm.clear()
    assert wm.boost("cart.py", "Cart.add") == 0.0


# ------------------------------------------------------------------------------------------------ session


def test_session_events_expire_with_the_clock(tmp_path):
    clock = Clock()
    sm = SessionMemory(tmp_path / "session", ttl=3600, clock=clock)
    assert isinstance(sm, EventTier) and isinstance(sm, Store)
    sm.record("opened", path="a.py")
    clock.advance(10)
    sm.record("query", query="cookies")
    clock.advance(10)
    sm.record("opened", path="b.py")
    assert [e.data["path"] for e in sm.recent("opened")] == ["b.py", "a.py"]
    assert [e.kind for e in sm.recent()] == ["opened", "query", "opened"]
    assert sm.recent("query")[0].data == {"query": "cookies"}
    assert len(sm.recent(limit=2)) == 2

    clock.advance(3600 - 15)  # a.py is now older than the ttl; the others are not
    assert [e.data.get("path") for e in sm.recent("opened")] == ["b.py"]
    assert len(sm) == 3  # still on disk until expired
    assert sm.expire() == 1
    assert len(sm) == 2
    clock.advance(3600)
    assert sm.recent() == []
    assert sm.expire() == 2 and len(sm) == 0
    sm.close()


def test_session_events_survive_reopening(tmp_path):
    clock = Clock()
    sm = SessionMemory(tmp_path / "s", clock=clock)
    sm.record("suggestion", rule="SA101", action="dismissed")
    sm.close()
    again = SessionMemory(tmp_path / "s", clock=clock)
    (event,) = again.recent("suggestion")
    assert event.data == {"rule": "SA101", "action": "dismissed"}
    assert again.verify() == []
    again.clear()
    assert again.recent() == []
    again.close()


# ------------------------------------------------------------------------------------------------ global


def test_global_memory_lives_in_sophia_artemis_home(tmp_path, monkeypatch):
    monkeypatch.setenv("SOPHIA_ARTEMIS_HOME", str(tmp_path / "home"))
    assert global_dir() == tmp_path / "home"
    gm = GlobalMemory()
    gm.set_preference("search.k", 20)
    gm.set_preference("theme", {"dark": True})
    assert gm.path == tmp_path / "home" / "global.sqlite3" and gm.path.exists()
    gm.close()
    again = GlobalMemory()
    assert again.get_preference("search.k") == 20
    assert again.preferences() == {"search.k": 20, "theme": {"dark": True}}
    assert again.get_preference("missing", "default") == "default"
    again.remove_preference("theme")
    assert "theme" not in again.preferences()
    again.close()


def test_global_dir_defaults_to_platformdirs(monkeypatch):
    monkeypatch.delenv("SOPHIA_ARTEMIS_HOME", raising=False)
    import platformdirs

    assert global_dir() == Path(platformdirs.user_data_dir("sophia-artemis", appauthor=False))
    assert str(global_dir()).startswith(os.environ["XDG_DATA_HOME"])  # conftest points it at a temp dir


def test_global_feedback_statistics(tmp_path):
    gm = GlobalMemory(tmp_path)
    assert gm.acceptance_rate("SA101") is None
    gm.record_feedback("SA101", "accepted")
    gm.record_feedback("SA101", "accepted")
    gm.record_feedback("SA101", "dismissed")
    gm.record_feedback("SA202", "dismissed", count=4)
    assert gm.feedback_stats() == {"SA101": {"accepted": 2, "dismissed": 1}, "SA202": {"dismissed": 4}}
    assert gm.acceptance_rate("SA101") == pytest.approx(2 / 3)
    gm.note_project(tmp_path / "proj")
    assert gm.projects() == [str(tmp_path / "proj")]
    assert gm.verify() == []
    gm.close()


def test_global_memory_repairs_a_damaged_file(tmp_path):
    (tmp_path / "global.sqlite3").write_bytes(b"this is not sqlite" * 20)
    gm = GlobalMemory(tmp_path)
    assert gm.verify() and "not an SQLite database" in gm.verify()[0]
    gm.set_preference("k", 1)  # opening repairs: moved aside, recreated
    assert gm.get_preference("k") == 1
    assert gm.repairs and "moved to global.sqlite3.broken-" in gm.repairs[0]
    assert list(tmp_path.glob("global.sqlite3.broken-*"))
    assert gm.verify() == []
    gm.close()
