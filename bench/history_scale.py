"""Mining a long git history: how long the first read, an update and a `related` query take.

    . .venv/bin/activate
    python bench/history_scale.py                    # 12,000 commits
    python bench/history_scale.py --commits 30000 --keep /tmp/big-history

Builds a repository in a temp dir with `git fast-import` (one process, seconds): FILES files in FOLDERS
folders (a module and its test in each), commits of 1-8 files mostly within one folder (files of a folder
change together, as in real code), a changelog in a third of them, a large commit (60-200 files: a reformat)
every ~500 commits, a rename every ~150 and a deletion every ~400. Then measures, with the project memory in a
temp dir:
- `sophia-artemis related ROOT FILE --format json` the first time (a new process: interpreter start, the whole
  `git log` streamed and parsed, the history stored) and once more (answered from the store);
- `memory.history_store.project_history` the first time (with a progress callback, as the server runs it),
  then after 10 new commits (only those are read: from the store as the CLI does, from the History in hand
  as the server does), and with nothing new;
- `History.related` on 200 files (the hover's cost once the history is in memory).
Timings depend on the machine's load: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))  # so `sophia_artemis` imports when run from a checkout

from sophia_artemis.analysis.history import git as hgit
from sophia_artemis.memory.history_store import plan_history, project_history
from sophia_artemis.memory.project import ProjectMemory

T0 = 1262304000  # 2010-01-01
AUTHORS = ["Ada <ada@example.com>", "Bob <bob@example.com>", "Cy <cy@example.com>", "Di <di@example.com>"]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull})
    return env


def _git(root: Path, *args: str, stdin: bytes | None = None) -> str:
    proc = subprocess.run(
        ["git", "-C", str(root), *args], input=stdin, env=_env(), check=True, capture_output=True
    )
    return proc.stdout.decode()


class Generator:
    """A deterministic fast-import stream of a project's history (continued by later calls)."""

    def __init__(self, files: int, folders: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.folders: list[list[str]] = []
        per = max(1, files // (2 * folders))
        for f in range(folders):
            names = []
            for j in range(per):
                names += [f"src/pkg{f}/mod{j}.py", f"tests/pkg{f}/test_mod{j}.py"]
            self.folders.append(names)
        self.marks = 0
        self.when = T0
        self.renamed = 0

    def _blob(self, path: str, n: int) -> bytes:
        data = f'"""{path} at commit {n}."""\n\n\ndef f(x):\n    return x + {n}\n'.encode()
        return f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n"

    def stream(self, commits: int, parent: str | None) -> bytes:
        rng = self.rng
        out: list[bytes] = []
        weights = [1 / (i + 1) for i in range(len(self.folders))]  # a few folders are busy, most are quiet
        for _ in range(commits):
            self.marks += 1
            n = self.marks
            self.when += rng.randint(600, 4 * 3600)
            ops: list[bytes] = []
            if n == 1:
                touched = [p for names in self.folders for p in names] + ["CHANGES.md", "README.md"]
            elif n % 500 == 0:  # a reformat: many files at once
                every = [p for names in self.folders for p in names]
                touched = rng.sample(every, min(len(every), rng.randint(60, 200)))
            else:
                folder = self.folders[rng.choices(range(len(self.folders)), weights)[0]]
                size = min(len(folder), rng.choice([1, 1, 2, 2, 2, 3, 3, 4, 5, 6, 8]))
                touched = rng.sample(folder, size)
                if rng.random() < 0.2:  # now and then a file of another folder
                    touched.append(rng.choice(rng.choice(self.folders)))
                if rng.random() < 0.33:
                    touched.append("CHANGES.md")
            if n > 1 and n % 150 == 0:  # a rename keeps the file's history under its new name
                folder = rng.choice(self.folders)
                i = rng.randrange(len(folder))
                old = folder[i]
                self.renamed += 1
                new = old.replace(".py", f"_r{self.renamed}.py")
                folder[i] = new
                ops.append(f"R {old} {new}\n".encode())
                touched = [p for p in touched if p != old]
            if n > 1 and n % 400 == 0:  # a deletion, and a new file in its place
                folder = rng.choice(self.folders)
                i = rng.randrange(len(folder))
                ops.append(f"D {folder[i]}\n".encode())
                touched = [p for p in touched if p != folder[i]]
                folder[i] = folder[i].replace(".py", f"_n{n}.py")
                touched.append(folder[i])
            ops += [self._blob(p, n) for p in dict.fromkeys(touched)]
            message = f"change {n}".encode()
            author = rng.choice(AUTHORS)
            out.append(f"commit refs/heads/main\nmark :{n}\n".encode())
            out.append(f"author {author} {self.when} +0000\ncommitter {author} {self.when} +0000\n".encode())
            out.append(f"data {len(message)}\n".encode() + message + b"\n")
            if n > 1:
                out.append(f"from {f':{n - 1}' if parent is None else parent}\n".encode())
                parent = None
            out += ops
            out.append(b"\n")
        return b"".join(out)


def build(root: Path, commits: int, files: int, folders: int, seed: int) -> Generator:
    root.mkdir(parents=True, exist_ok=True)
    _git(root, "init", "-q", "-b", "main")
    gen = Generator(files, folders, seed)
    _git(
        root,
        "fast-import",
        "--quiet",
        "--export-marks=" + str(root / ".git" / "marks"),
        stdin=gen.stream(commits, None),
    )
    _git(root, "checkout", "-q", "-f", "main")
    return gen


def add_commits(root: Path, gen: Generator, commits: int) -> None:
    head = _git(root, "rev-parse", "HEAD").strip()
    _git(
        root,
        "fast-import",
        "--quiet",
        "--import-marks=" + str(root / ".git" / "marks"),
        "--export-marks=" + str(root / ".git" / "marks"),
        stdin=gen.stream(commits, head),
    )
    _git(root, "checkout", "-q", "-f", "main")


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def cli_related(root: Path, target: str, store: Path) -> tuple[float, dict]:
    env = dict(os.environ, SOPHIA_ARTEMIS_PROJECT_DIR=str(store), SOPHIA_ARTEMIS_HOME=str(store / "home"))
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "sophia_artemis", "related", ".", target, "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
    )
    return time.perf_counter() - start, json.loads(proc.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=12000)
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--folders", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", metavar="DIR", help="build the repository here and keep it")
    args = parser.parse_args()
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="history-scale-"))
    root = base / "repo"
    try:
        t = time.perf_counter()
        gen = build(root, args.commits, args.files, args.folders, args.seed)
        built = time.perf_counter() - t
        total = hgit.count(root, ["HEAD"])
        tracked = len(_git(root, "ls-files").split())
        print(
            f"repository: {total:,} commits, {tracked} files now ({gen.renamed} renames), "
            f"built with fast-import in {built:.1f} s; cpus {os.cpu_count()}, load {load()}"
        )
        target = gen.folders[0][0]

        seconds, data = cli_related(root, target, base / "cli-store")
        print(
            f"CLI related, first run (reads and stores the whole history): {seconds:.2f} s "
            f"-> {[r['path'] for r in data['related'][:3]]}"
        )
        seconds, _ = cli_related(root, target, base / "cli-store")
        print(f"CLI related, second run (history from the project memory): {seconds:.2f} s")

        memory = ProjectMemory(root, directory=base / "store")
        reports: list[tuple[int, int]] = []
        t = time.perf_counter()
        plan = plan_history(root, memory)
        planned = time.perf_counter() - t
        history = plan.run(progress=lambda done, total: reports.append((done, total)))
        first = time.perf_counter() - t
        print(
            f"project_history, first read: {first:.2f} s for {len(history.commits):,} commits "
            f"(plan + rev-list --count {planned * 1000:.0f} ms; {len(reports)} progress reports); load {load()}"
        )

        add_commits(root, gen, 10)
        t = time.perf_counter()
        plan = plan_history(root, memory)
        updated = plan.run()
        incremental = time.perf_counter() - t
        print(
            f"project_history after 10 new commits: {incremental * 1000:.0f} ms "
            f"({plan.mode}, {plan.to_read} read, {len(updated.commits):,} in all)"
        )
        t = time.perf_counter()
        plan = plan_history(root, memory, known=history)
        plan.run()
        print(
            "the same update as the server does it (history in hand, extended and stored): "
            f"{(time.perf_counter() - t) * 1000:.0f} ms ({plan.mode}, {plan.to_read} read)"
        )
        t = time.perf_counter()
        again = project_history(root, memory)
        print(
            f"project_history, nothing new: {(time.perf_counter() - t) * 1000:.0f} ms "
            f"({len(again.commits):,} commits loaded from the store)"
        )
        t = time.perf_counter()
        plan_history(root, memory, known=updated).run()
        print(
            f"the server's check after an index (history in hand, nothing new): "
            f"{(time.perf_counter() - t) * 1000:.0f} ms"
        )
        memory.close()

        files = updated.files()
        rng = random.Random(args.seed)
        asked = rng.sample(files, min(200, len(files)))
        updated._index = None
        t = time.perf_counter()
        updated.related(asked[0])  # builds the derived index once
        build_ms = (time.perf_counter() - t) * 1000
        times = []
        for path in asked:
            t = time.perf_counter()
            updated.related(path, k=5)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        print(
            f"related: first call {build_ms:.0f} ms (index build), then median {statistics.median(times):.2f} ms, "
            f"p95 {times[int(0.95 * len(times)) - 1]:.2f} ms, max {times[-1]:.2f} ms over {len(times)} files; "
            f"load {load()}"
        )
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
