"""``make licences``: docs/reference/third-party-licences.md names every distribution the extras
bring in with the licence its metadata states, and every copyleft part of a shipped extra with what
it means. Rows are compared by distribution, licence and extras, never versions: pip resolves
other versions on other machines, and only a changed licence (or a new dependency) should fail."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from deploy import licences
from deploy.licences import COPYLEFT, DEV, OPTIONAL, PAGE, REQUIRED, Row

ROOT = Path(__file__).resolve().parents[3]
ROW = re.compile(r"^\| `(?P<name>[^`]+)` \| (?P<licence>[^|]+) \| (?P<extras>[^|]+) \|", re.M)


def committed_rows(section: str) -> set[Row]:
    """The rows of one table of the committed page: ``"## Shipped extras"`` or ``"## Development tools"``."""
    text = (ROOT / PAGE).read_text(encoding="utf-8")
    table = text.split(section, 1)[1].split("\n## ", 1)[0]
    return {Row(m["name"], m["licence"].strip(), tuple(m["extras"].strip().split(", "))) for m in ROW.finditer(table)}


def installed(extras: tuple[str, ...]) -> tuple[str, ...]:
    """Those of ``extras`` installed here; the required ones must be."""
    found = []
    for extra in extras:
        try:
            licences.closure(extra)
        except licences.MissingDistribution as missing:
            if extra in REQUIRED:
                raise
            print(f"left out: {missing}")
            continue
        found.append(extra)
    return tuple(found)


def test_each_shipped_distribution_has_its_licence_in_the_table():
    extras = installed(REQUIRED + OPTIONAL)
    page = {row for row in committed_rows("## Shipped extras") if set(row.extras) & set(extras)}
    here = set(licences.rows(extras))
    assert {r.name: r for r in here - page} == {}, f"missing or changed in {PAGE}: run make licences"
    assert {r.name: r for r in page - here} == {}, f"in {PAGE} but not installed here: run make licences"


def skip_or_fail(reason: str) -> None:
    """Skip outside CI; under CI, which installs every extra, a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}, and CI is set: CI installs it", pytrace=False)
    pytest.skip(reason)


def test_each_dev_tool_has_its_licence_in_its_own_table():
    if DEV not in installed((DEV,)):
        skip_or_fail("the dev extra is not installed here")
    assert set(licences.dev_rows()) == committed_rows("## Development tools"), f"run make licences ({PAGE})"


@pytest.mark.parametrize("extra", REQUIRED + OPTIONAL)
def test_each_copyleft_part_of_a_shipped_extra_is_named_with_its_meaning(extra):
    if extra not in installed((extra,)):
        skip_or_fail(f"the {extra} extra is not installed here")
    named = licences.named_copyleft()
    unnamed = {name: sorted(found - named.get(name, set()))
               for name, distribution in licences.closure(extra).items()
               if (found := licences.copyleft_found(distribution)) - named.get(name, set())}
    assert unnamed == {}, "name them in deploy.licences.COPYLEFT, with what they mean for an operator"


def test_the_page_says_each_copyleft_part_and_the_planned_agpl_extra():
    text = " ".join((ROOT / PAGE).read_text(encoding="utf-8").split())
    for entry in COPYLEFT:
        assert entry.meaning.strip() and " ".join(entry.meaning.split()) in text, entry.distribution
    assert "AGPL-3.0" in text and "nudenet" in text
    assert "`nudenet`" not in " ".join(m[0] for m in ROW.findall(text))


@pytest.mark.parametrize("text, expected", [
    ("MPL-2.0 AND MIT", {"MPL"}),
    ("License :: OSI Approved :: GNU Lesser General Public License v3 or later (LGPLv3+)", {"LGPL"}),
    ("GPL-3.0-or-later WITH GCC-exception-3.1", {"GPL"}),
    ("LGPL-2.1-or-later OR GPL-2.0-only", {"LGPL", "GPL"}),
    ("AGPL-3.0-only", {"AGPL"}),
    ("EPL-2.0", {"EPL"}),
    ("BSD-3-Clause OR Apache-2.0", set()),
    ("MIT-CMU", set()),
])
def test_families_reads_each_part_of_an_expression(text, expected):
    assert licences.families(text) == expected


def test_the_command_writes_what_it_checks(tmp_path, monkeypatch):
    monkeypatch.setattr(licences, "ROOT", tmp_path)
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    assert licences.main([]) == 0
    assert licences.main(["--check"]) == 0
    (tmp_path / PAGE).write_text("edited by hand\n")
    assert licences.main(["--check"]) == 1


def test_the_licence_is_apache_2_and_packaged():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License\n                           Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text and "9. Accepting Warranty or Additional Liability" in text
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'license = "Apache-2.0"' in pyproject and 'license-files = ["LICENSE"]' in pyproject
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^COPY .*\bLICENSE\b", dockerfile, re.M), "the image builds the project: it needs LICENSE"
