"""Progress for long commands, on stderr: a line redrawn in place on a terminal; otherwise (scripts, CI) a
plain line at most every `plain_every` seconds once a run lasts that long, so short runs stay quiet."""

from __future__ import annotations

import sys
import time

PROG = "sophia-artemis"


class StderrProgress:
    def __init__(self, terminal: bool, plain_every: float) -> None:
        self.terminal = terminal
        self.plain_every = plain_every
        self._last = time.monotonic()
        self._shown = False

    def show(self, text: str, done: int, total: int) -> None:
        now = time.monotonic()
        if self.terminal:
            if now - self._last >= 0.1 or done == total:
                self._last = now
                self._write(f"\r\x1b[K {text}")
                self._shown = True
        elif now - self._last >= self.plain_every and done < total:
            self._last = now
            self._write(f"{PROG}: {text}\n")

    def note(self, line: str) -> None:
        """A line of its own (a skipped file, a warning), clearing the redrawn line first."""
        self.clear()
        self._write(line + "\n")

    def clear(self) -> None:
        if self._shown:
            self._write("\r\x1b[K")
            self._shown = False

    @staticmethod
    def _write(text: str) -> None:
        try:
            sys.stderr.write(text)
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
