"""Progress bars of the management commands (tqdm), on stderr so stdout keeps the summary."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm


def add_progress_argument(parser: CommandParser) -> None:
    """``--progress`` / ``--no-progress``; by default a bar is drawn when stderr is a terminal."""
    parser.add_argument(
        "--progress",
        action="store_true",
        default=None,
        help="always draw the progress bar (default: only when stderr is a terminal)",
    )
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="never draw it")


def progress_bar(command: BaseCommand, *, total: int, desc: str, enabled: bool | None, unit: str = "image") -> Any:
    """A tqdm bar on the command's stderr; ``enabled`` None means "if stderr is a terminal"."""
    stream = getattr(command.stderr, "_out", command.stderr)  # the raw stream: tqdm draws with \r
    if enabled is None:
        enabled = bool(getattr(stream, "isatty", lambda: False)())
    return tqdm(total=total, desc=desc, unit=unit, file=stream, disable=not enabled, dynamic_ncols=True)
