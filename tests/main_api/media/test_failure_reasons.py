"""The owner's wording of each kind of technical failure reason (``media.failure_reasons``).

The reasons are spelled as their writers spell them: the media VM (``media_vm.imaging.loading``,
``media_vm.steps``, the worker after its retries), the admin action and ``sweep_stuck``.
"""

from __future__ import annotations

import re

import pytest

from main_api.media.failure_reasons import DEFAULT_OWNER_REASON, OWNER_REASONS, failure_reason_for_owner

DAMAGED = "We could not read this image: the file is damaged or incomplete."
AGAIN = "Processing failed after several attempts."
UNSUPPORTED = "This kind of image file is not supported; please save it as JPEG or PNG and upload it again."
GONE = "The uploaded file was no longer there when we came to process it; please upload it again."


@pytest.mark.parametrize(
    ("reason", "owner_sees"),
    [
        ("resize_optimize: 7-profile-1-ab.jpg: cannot decode jpeg data: VipsJpeg: premature end of JPEG image",
         DAMAGED),
        ("ai_visual_analysis: 7-profile-1-ab.png: cannot read image header: pngload: libspng read error", DAMAGED),
        ("resize_optimize: x.jpg: changed while being read (jpegload -> pngload)", DAMAGED),
        ("ai_visual_analysis: x.heic: cannot decode HEIF data: heifload: Support for this compression format "
         "has not been built in: HEVC", UNSUPPORTED),
        ("ai_visual_analysis: x.jpg: not a supported image format (accepted: jpeg, png, webp)", UNSUPPORTED),
        ("ai_visual_analysis: x.svg: svgload files are not accepted (accepted: jpeg, png)", UNSUPPORTED),
        ("ai_visual_analysis: x.jpg: image is 20000x10000 = 200.0 MP, over the 100.0 MP limit",
         "This image is too large (over 100 megapixels)."),
        ("ai_visual_analysis: x.jpg: image is 9000x9000 = 81.0 MP, over the 50.5 MP limit",
         "This image is too large (over 50 megapixels)."),
        ("retrieve_file: x.jpg is larger than 67108864 bytes", "This file is too large to process."),
        ("retrieve_file: the main API sent an empty original", "The file arrived empty; please upload it again."),
        ("resize_optimize failed 3 times: ImageTimeout: make_variants took longer than 120 s; its process was "
         "killed", "This image took too long to process; a smaller version of it may work."),
        ("retrieve_file failed 3 times: GET /temp_images/profiles/x.jpg: HTTP 500: oops", AGAIN),
        ("resize_optimize failed 2 times: MemoryError: ", AGAIN),
        ('retrieve_file: GET /temp_images/profiles/x.jpg: HTTP 404: {"message": "Not found."}', GONE),
        ("failed by root in the admin", "Processing was stopped by our team."),
        ("failed by corrupt-carl in the admin", "Processing was stopped by our team."),
        ("stuck: pending for over 60 minute(s)",
         "Processing did not start in time and was stopped."),
        ("stuck, and the temp original is gone", GONE),
        ("failed on the media VM", DEFAULT_OWNER_REASON),
        ("cleaned up", DEFAULT_OWNER_REASON),
        ("", DEFAULT_OWNER_REASON),
    ],
)
def test_each_kind_of_reason_in_the_owners_words(reason, owner_sees):
    assert failure_reason_for_owner(reason) == owner_sees


def test_every_message_is_a_sentence_without_technical_words():
    messages = [case.message for case in OWNER_REASONS] + [DEFAULT_OWNER_REASON]
    for message in messages:
        assert message[0].isupper() and message.endswith("."), message
        assert not re.search(r"vips|\bstep\b|http|\btemp\b|exception|error", message, re.IGNORECASE), message


def test_only_a_failure_the_kept_file_cannot_mend_says_upload_it_again():
    """Where processing the kept original again may work, the words leave the remedy to the
    upload's ``retryable`` (the demo's Retry processes that file again: no upload); only a file
    gone, empty or of a kind we do not read needs uploading again."""
    messages = {case.message for case in OWNER_REASONS} | {DEFAULT_OWNER_REASON}
    empty = "The file arrived empty; please upload it again."
    assert {m for m in messages if "again" in m} == {GONE, UNSUPPORTED, empty}
