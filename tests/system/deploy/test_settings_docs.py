"""``make settings-docs``: the env examples and docs/reference/configuration.md are exactly what
the declarations (main_api/declarations.py, media_vm/declarations.py) write."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from deploy.settings_docs import REFERENCE, pages
from main_api.declarations import MAIN_API
from media_vm.declarations import MEDIA_VM

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("relative", sorted(pages()))
def test_each_generated_file_is_what_make_settings_docs_writes(relative):
    assert (ROOT / relative).read_text(encoding="utf-8") == pages()[relative], (
        f"{relative} is out of date: run make settings-docs")


def test_the_command_finds_nothing_to_write():
    done = subprocess.run([sys.executable, "-m", "deploy.settings_docs", "--check"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_command_writes_what_it_checks(tmp_path, monkeypatch):
    import deploy.settings_docs as docs

    monkeypatch.setattr(docs, "ROOT", tmp_path)
    assert docs.main([]) == 0
    assert docs.main(["--check"]) == 0
    for relative, text in pages().items():
        assert (tmp_path / relative).read_text(encoding="utf-8") == text
    (tmp_path / REFERENCE).write_text("edited by hand\n")
    assert docs.main(["--check"]) == 1


@pytest.mark.parametrize("declarations", [MAIN_API, MEDIA_VM], ids=["main_api", "media_vm"])
def test_the_reference_has_a_table_per_group_and_a_row_per_setting(declarations):
    text = pages()[REFERENCE]
    for group in declarations.groups:
        assert f"### {declarations.service}: {group.title}\n" in text
    for setting in declarations:
        assert f"| `{setting.name}` |" in text
        assert f"{setting.name}=" in pages()[declarations.example_path]


def test_the_readme_links_to_the_reference_instead_of_tables():
    readme = (ROOT / "README.md").read_text()
    configuration = readme.split("## Configuration\n", 1)[1].split("\n## ", 1)[0]
    assert "(docs/reference/configuration.md)" in configuration
    assert "|---|" not in configuration
