"""``make settings-docs``: write the env examples and the configuration reference from the
declarations (``main_api.declarations``, ``media_vm.declarations``).

``python -m deploy.settings_docs`` writes them; ``--check`` writes nothing and exits 1 naming
each file that differs from what it would write (``tests/system/deploy/test_settings_docs.py`` asks the
same of :func:`pages`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from main_api.declarations import MAIN_API
from media_vm.declarations import MEDIA_VM
from shared.config import env_example, reference_page

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = "docs/reference/configuration.md"


def pages() -> dict[str, str]:
    """``{path relative to the project root: its text}`` for every generated file."""
    return {
        MAIN_API.example_path: env_example(MAIN_API),
        MEDIA_VM.example_path: env_example(MEDIA_VM),
        REFERENCE: reference_page(MAIN_API, MEDIA_VM),
    }


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` compare) the generated files; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m deploy.settings_docs", description=__doc__)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file is out of date")
    args = parser.parse_args(argv)
    stale = []
    for relative, text in pages().items():
        path = ROOT / relative
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(relative)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    for relative in stale:
        print(f"{'out of date' if args.check else 'wrote'}: {relative}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
