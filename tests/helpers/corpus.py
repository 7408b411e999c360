"""The shared real-world test corpus (``../shared/corpus``): its path, set in one place.

Tests that read it are marked with :data:`requires_corpus`: skipped with a clear reason
where the folder is absent (a newcomer's clone), but *failing* under CI (``CI`` set), where
the corpus must always be present.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"

_MISSING_REASON = "../shared/corpus not present"


def corpus_available() -> bool:
    """True when the corpus folder exists."""
    return CORPUS.is_dir()


def corpus_file(name: str) -> Path:
    """Path of one corpus file; fails the test (never skips) if the corpus is there but the file is not."""
    path = CORPUS / name
    if corpus_available() and not path.is_file():
        pytest.fail(f"corpus file missing: {path}")
    return path


def check_corpus_for_ci() -> None:
    """Under CI a missing corpus is an error, not a skip: call at import of corpus test modules."""
    if os.environ.get("CI") and not corpus_available():
        pytest.fail(f"{_MISSING_REASON} at {CORPUS}, and CI is set: the corpus is required", pytrace=False)


#: Skip where the corpus is absent, except under CI (where the tests then fail).
requires_corpus = pytest.mark.skipif(not corpus_available() and not os.environ.get("CI"), reason=_MISSING_REASON)

#: Marks for a module of corpus tests: ``pytestmark = CORPUS_MARKS``.
CORPUS_MARKS = [pytest.mark.corpus, requires_corpus]


#: ``../shared/bugs``: inputs built to match other services' public bug reports, each with the
#: right value in its README. Same rules as the corpus: skipped where absent, failing under CI.
BUGS = CORPUS.parent / "bugs"


def bugs_available() -> bool:
    """True when the bugs folder exists."""
    return BUGS.is_dir()


def bugs_file(name: str) -> Path:
    """Path of one bugs file; fails the test if the folder is there but the file is not."""
    path = BUGS / name
    if bugs_available() and not path.is_file():
        pytest.fail(f"bugs file missing: {path}")
    return path


#: Skip where ../shared/bugs is absent, except under CI (where the tests then fail).
requires_bugs = pytest.mark.skipif(
    not bugs_available() and not os.environ.get("CI"), reason="../shared/bugs not present"
)


def shared_files() -> list[Path]:
    """Every image file of ``../shared/corpus`` and ``../shared/bugs`` there is (READMEs left out)."""
    found = []
    for folder in (CORPUS, BUGS):
        if folder.is_dir():
            found.extend(sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() != ".md"))
    return found


#: ``../shared/conformance``: four public test-image suites (PngSuite, libwebp's test data, the
#: link-u AVIF samples, the EXIF orientation examples), each with a ``manifest.json`` saying
#: which files are corrupt and what each valid one is compared with (its README). Same rules as
#: the corpus: skipped where absent, failing under CI.
CONFORMANCE = CORPUS.parent / "conformance"

_CONFORMANCE_MISSING = "../shared/conformance not present"


def conformance_available() -> bool:
    """True when the conformance folder exists."""
    return CONFORMANCE.is_dir()


def check_conformance_for_ci() -> None:
    """Under CI a missing conformance folder is an error: call at import of its test modules."""
    if os.environ.get("CI") and not conformance_available():
        pytest.fail(f"{_CONFORMANCE_MISSING} at {CONFORMANCE}, and CI is set: it is required", pytrace=False)


#: Skip where ../shared/conformance is absent, except under CI (where the tests then fail).
requires_conformance = pytest.mark.skipif(
    not conformance_available() and not os.environ.get("CI"), reason=_CONFORMANCE_MISSING
)


def conformance_manifest(suite: str) -> list[dict]:
    """The ``files`` of ``../shared/conformance/<suite>/manifest.json``, or ``[]`` where the folder
    is absent (the tests are then skipped, or fail under CI). A folder there without its manifest
    fails the test run."""
    if not conformance_available():
        return []
    path = CONFORMANCE / suite / "manifest.json"
    if not path.is_file():
        pytest.fail(f"conformance manifest missing: {path}", pytrace=False)
    return json.loads(path.read_text())["files"]
