"""Project memory: the .sophia folder, atomic writes, schema migration, damaged stores, notes and feedback."""

from __future__ import annotations

import json
import os

import pytest
from sophia_artemis.memory import storage
from sophia_artemis.memory.project import SCHEMA, ProjectMemory, ReadOnlyMemory, memory_dir
from sophia_artemis.memory.storage import atomic_write_json, sqlite_header_problem


def opened(root):
    pm = ProjectMemory(root)
    pm.open()
    return pm


def test_layout_gitignore_and_meta(tmp_path):
    pm = ProjectMemory(tmp_path)
    assert not (tmp_path / ".sophia").exists()  # constructing does no I/O
    pm.open()
    d = tmp_path / ".sophia"
    assert pm.directory == d
    assert (d / ".gitignore").read_text() == "*\n"
    meta = json.loads((d / "meta.json").read_text())
    assert meta["schema"] == SCHEMA and isinstance(meta["schema"], int)
    assert pm.verify() == []
    pm.close()


def test_project_dir_override(tmp_path, monkeypatch):
    monkeypatch.setenv("SOPHIA_ARTEMIS_PROJECT_DIR", str(tmp_path / "elsewhere"))
    assert memory_dir(tmp_path / "proj") == tmp_path / "elsewhere"
    monkeypatch.setenv("SOPHIA_ARTEMIS_PROJECT_DIR", "rel/mem")
    assert memory_dir(tmp_path / "proj") == tmp_path / "proj" / "rel" / "mem"
    monkeypatch.setenv("SOPHIA_ARTEMIS_PROJECT_DIR", str(tmp_path / "elsewhere"))
    pm = opened(tmp_path / "proj")
    assert (tmp_path / "elsewhere" / "meta.json").exists()
    assert not (tmp_path / "proj" / ".sophia").exists()
    pm.close()


def test_a_killed_writer_leaves_meta_intact_and_its_temp_file_is_cleaned(tmp_path, monkeypatch):
    pm = opened(tmp_path)
    pm.update_meta(note="before")
    before = pm.meta_path.read_bytes()

    # 1. the writer dies between writing the temp file and renaming it
    def killed(src, dst):
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(storage.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        pm.update_meta(note="after")
    monkeypatch.undo()
    assert pm.meta_path.read_bytes() == before
    assert not [p for p in pm.directory.iterdir() if ".tmp-" in p.name]  # cleaned up on the way out

    # 2. the process was SIGKILLed: nothing cleaned up, a half-written temp file remains
    dead_pid = 2**22 + 12345
    leftover = pm.directory / f".meta.json.tmp-{dead_pid}-abcd"
    leftover.write_bytes(b'{"schema": 1, "no')
    pm.close()
    fresh = ProjectMemory(tmp_path)
    problems = fresh.verify()
    assert len(problems) == 1 and "interrupted write" in problems[0]
    fresh.open()
    assert not leftover.exists()
    assert fresh.meta()["note"] == "before"
    assert fresh.verify() == []
    fresh.close()


def test_temp_files_of_live_writers_are_left_alone(tmp_path):
    pm = opened(tmp_path)
    mine = pm.directory / f".meta.json.tmp-{os.getpid()}-beef"
    mine.write_bytes(b"in progress")
    pm.close()
    ProjectMemory(tmp_path).open()
    assert mine.exists()


def test_old_schema_is_migrated_and_user_data_kept(tmp_path):
    pm = opened(tmp_path)
    pm.add_note("a.py", "f", "keep me")
    pm.close()
    d = tmp_path / ".sophia"
    atomic_write_json(d / "meta.json", {"created": 1.0})  # schema 0: before the field existed
    (d / "index.sqlite3").write_bytes(b"old layout")
    (d / "chroma").mkdir()
    (d / "chroma" / "junk").write_bytes(b"old vectors")
    problems = ProjectMemory(tmp_path).verify()
    assert any("will be migrated" in p for p in problems)

    pm = opened(tmp_path)
    assert pm.migrated_from == 0 and not pm.read_only
    meta = pm.meta()
    assert meta["schema"] == SCHEMA and meta["migrated_from"] == 0
    assert not (d / "index.sqlite3").exists() and not (d / "chroma").exists()  # derived data rebuilt later
    assert [n.text for n in pm.notes("a.py", "f")] == ["keep me"]
    assert pm.verify() == []
    pm.close()


def test_newer_schema_is_read_only_with_a_clear_message(tmp_path):
    pm = opened(tmp_path)
    pm.add_note("a.py", None, "written by the old version")
    pm.close()
    meta_path = tmp_path / ".sophia" / "meta.json"
    atomic_write_json(meta_path, {"schema": SCHEMA + 5})
    before = meta_path.read_bytes()
    pm = opened(tmp_path)
    assert pm.read_only
    assert "newer sophia-artemis" in pm.message and f"schema {SCHEMA + 5}" in pm.message
    assert [n.text for n in pm.notes("a.py")] == ["written by the old version"]  # still readable
    with pytest.raises(ReadOnlyMemory):
        pm.add_note("a.py", None, "x")
    with pytest.raises(ReadOnlyMemory):
        pm.update_meta(x=1)
    pm.cache_set("k", "v")  # a cache write is silently skipped
    assert meta_path.read_bytes() == before
    assert any("newer than this version" in p for p in pm.verify())
    pm.close()


def test_unreadable_meta_is_moved_aside_and_recreated(tmp_path):
    opened(tmp_path).close()
    meta_path = tmp_path / ".sophia" / "meta.json"
    meta_path.write_bytes(b"{not json")
    assert any("not valid JSON" in p for p in ProjectMemory(tmp_path).verify())
    pm = opened(tmp_path)
    assert pm.meta()["schema"] == SCHEMA
    assert pm.repairs and "meta.json.broken-" in pm.repairs[0]
    assert list((tmp_path / ".sophia").glob("meta.json.broken-*"))
    pm.close()


@pytest.mark.parametrize("damage", ["empty", "truncated", "garbage"])
def test_damaged_sqlite_is_detected_and_replaced(tmp_path, damage):
    pm = opened(tmp_path)
    for i in range(20):
        pm.add_note("a.py", f"f{i}", "x" * 2000)
    pm.close()
    db = tmp_path / ".sophia" / "memory.sqlite3"
    size = db.stat().st_size
    if damage == "empty":
        db.write_bytes(b"")
    elif damage == "truncated":
        with open(db, "r+b") as fh:
            fh.truncate(size // 2 + 7)
    else:
        db.write_bytes(os.urandom(size))
    assert sqlite_header_problem(db)
    problems = ProjectMemory(tmp_path).verify()
    assert any("memory.sqlite3" in p for p in problems)
    pm = opened(tmp_path)
    assert pm.notes() == []  # a fresh store; the old one is kept beside it
    assert any("memory.sqlite3" in r and "broken-" in r for r in pm.repairs)
    assert list((tmp_path / ".sophia").glob("memory.sqlite3.broken-*"))
    pm.add_note("b.py", None, "works again")
    assert pm.verify() == []
    pm.close()


def test_garbage_in_the_diskcache_folder(tmp_path):
    pm = opened(tmp_path)
    pm.cache_set("analysis:a.py", {"loc": 3})
    assert pm.cache_get("analysis:a.py") == {"loc": 3}
    pm.close()
    cache_db = tmp_path / ".sophia" / "cache" / "cache.db"
    cache_db.write_bytes(b"\x00garbage" * 100)
    assert any("analysis cache" in p for p in ProjectMemory(tmp_path).verify())
    pm = opened(tmp_path)
    assert pm.cache_get("analysis:a.py") is None  # moved aside and recreated, never a crash
    pm.cache_set("analysis:a.py", {"loc": 4})
    assert pm.cache_get("analysis:a.py") == {"loc": 4}
    assert any("analysis cache" in r for r in pm.repairs)
    pm.close()


def test_notes_suppression_reasons_and_feedback(tmp_path):
    pm = opened(tmp_path)
    n1 = pm.add_note("pkg/a.py", "Cart.add", "hot path, keep it simple")
    n2 = pm.add_note("pkg/a.py", None, "legacy module")
    pm.add_note("pkg/a_b.py", "x", "other file")  # `_` must not act as a LIKE wildcard
    pm.add_note("pkg/b.py", "g", "elsewhere")
    assert [n.text for n in pm.notes("pkg/a.py", "Cart.add")] == ["hot path, keep it simple"]
    assert [n.id for n in pm.notes("pkg/a.py")] == [n1.id, n2.id]
    assert n1.target == "pkg/a.py::Cart.add" and n2.target == "pkg/a.py"
    assert pm.update_note(n1.id, "changed")
    assert pm.notes("pkg/a.py", "Cart.add")[0].text == "changed"
    assert pm.remove_note(n2.id) and not pm.remove_note(n2.id)

    pm.set_suppression_reason("pkg/a.py", "Cart.add", "SA101", "generated code")
    pm.set_suppression_reason("pkg/a.py", "Cart.add", "SA101", "generated by protoc")
    assert pm.suppression_reasons("pkg/a.py") == {("pkg/a.py::Cart.add", "SA101"): "generated by protoc"}

    pm.record_feedback("pkg/a.py", "Cart.add", "dismissed", rule="SA101", detail="too strict")
    pm.record_feedback("pkg/b.py", None, "accepted", rule="SA202")
    assert [f.action for f in pm.feedback()] == ["accepted", "dismissed"]
    assert [f.target for f in pm.feedback(rule="SA101")] == ["pkg/a.py::Cart.add"]
    assert pm.counts() == {"notes": 3, "suppression_reasons": 1, "feedback": 2}
    pm.close()
