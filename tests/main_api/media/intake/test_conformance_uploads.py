"""The corrupt files of the public suites in ``../shared/conformance`` are refused at upload.

Every file a suite's manifest marks ``"expect": "corrupt"`` (PngSuite's 14 ``x*.png``: a bad
signature, a bad CRC, a missing or empty IDAT, an unknown critical chunk, bad bit depths and
colour types) is sent to the real upload endpoint (``PATCH /users/me``) by Django's test client:
a 400 with the JSON error body naming the field, and nothing stored. The valid files go through
the pipeline in the unit tier (``tests/media_vm/imaging/test_conformance.py``).

Skipped with "../shared/conformance not present" where the folder is absent; under CI (``CI``
set) a missing folder fails at collection instead.
"""

from __future__ import annotations

import pytest

from tests.helpers.corpus import CONFORMANCE, check_conformance_for_ci, conformance_manifest, requires_conformance
from tests.main_api.support import assert_nothing_written, upload

check_conformance_for_ci()
pytestmark = [requires_conformance]

SUITES = ("pngsuite", "webp", "avif", "exif-orientation")

CORRUPT = [(suite, e["file"]) for suite in SUITES for e in conformance_manifest(suite) if e["expect"] == "corrupt"]


@pytest.mark.parametrize(("suite", "name"), CORRUPT or [pytest.param(None, None, id="conformance-absent")])
def test_a_corrupt_file_of_a_suite_is_refused_with_a_json_error_and_nothing_stored(
    suite, name, artist, user_client, temp_dir
):
    data = (CONFORMANCE / suite / name).read_bytes()
    response = upload(user_client, profile_image=(name, data, "image/png"))

    assert response.status_code == 400, (name, response.status_code, response.content[:300])
    body = response.json()
    assert body["extra"]["field"] == "profile_image" and body["message"], body
    assert_nothing_written(artist, temp_dir)


def test_the_suites_mark_the_files_they_should():
    """PngSuite's 14 x*.png and nothing else: a manifest that lost them would test nothing."""
    assert sorted(name for _, name in CORRUPT) == sorted(
        p.name for p in (CONFORMANCE / "pngsuite").glob("x*.png")
    ) and len(CORRUPT) == 14
