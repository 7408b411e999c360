"""The corpus guard: skipped on a newcomer's clone, a failure under CI."""

from __future__ import annotations

import pytest

from tests.helpers import corpus


def test_a_missing_corpus_fails_under_ci_instead_of_skipping(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus, "CORPUS", tmp_path / "absent")
    monkeypatch.delenv("CI", raising=False)
    corpus.check_corpus_for_ci()  # a newcomer's clone: fine, the tests are skipped
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="corpus not present"):
        corpus.check_corpus_for_ci()


def test_a_missing_conformance_folder_fails_under_ci_instead_of_skipping(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus, "CONFORMANCE", tmp_path / "absent")
    monkeypatch.delenv("CI", raising=False)
    corpus.check_conformance_for_ci()
    assert corpus.conformance_manifest("pngsuite") == []  # no tests made: the suites' placeholders skip
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="conformance not present"):
        corpus.check_conformance_for_ci()
