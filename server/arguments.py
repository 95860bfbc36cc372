"""Command-line arguments that several commands share, spelled once."""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def add_format(
    parser: argparse.ArgumentParser, choices: Sequence[str] = ("text", "json"), default: str = "text"
) -> None:
    """`--format` with the given choices."""
    parser.add_argument(
        "--format", default=default, choices=tuple(choices), help="output format (default: %(default)s)"
    )
