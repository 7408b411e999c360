"""Why an upload failed, in words its owner understands.

``pending_images.failure_reason`` keeps the technical reason (what the media VM sent with its
cleanup, or what the admin action and ``sweep_stuck`` wrote): the admin, the dashboard and the
logs show it as it is. The owner sees :func:`failure_reason_for_owner` of it instead, which
never repeats the technical text (file names, decoder messages, step names). Where trying the
same file again may work, the words say what went wrong and leave the remedy to the upload's
``retryable`` (a page offers Retry, which processes the kept original again: not an upload);
"upload it again" is said only where the kept file cannot help (gone, empty, of a kind we do
not read).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class OwnerReason:
    """One case of the table: the first whose ``pattern`` is found in the technical reason
    (case-insensitive) gives the owner's ``message``, its ``{name}`` fields filled from the
    pattern's named groups."""

    pattern: re.Pattern[str]
    message: str


_GONE = "The uploaded file was no longer there when we came to process it; please upload it again."


def _case(pattern: str, message: str) -> OwnerReason:
    return OwnerReason(re.compile(pattern, re.IGNORECASE), message)


#: What each kind of technical reason means to the owner, most specific first. The technical
#: reasons come from the admin action and ``sweep_stuck`` (``main_api.media.admin``,
#: ``main_api.media.services.sweeps``) and from the media VM (``media_vm.imaging.loading``,
#: ``media_vm.steps``, ``media_vm.worker``); the VM's are matched by what they say, not by the
#: step that said it, so a check moved to another step keeps its wording.
OWNER_REASONS: tuple[OwnerReason, ...] = (
    # written by the main API itself (the admin action, sweep_stuck)
    _case(r"^failed by .* in the admin$",
          "Processing was stopped by our team."),
    _case(r"^stuck, and the temp original is gone",
          _GONE),
    _case(r"^stuck",
          "Processing did not start in time and was stopped."),
    # sent by the media VM: "{step}: {detail}", or "{step} failed {n} times: {detail}" after retries
    _case(r"over the (?P<limit>\d+)(\.\d+)? MP limit",
          "This image is too large (over {limit} megapixels)."),
    _case(r"larger than \d+ bytes",
          "This file is too large to process."),
    _case(r"empty original",
          "The file arrived empty; please upload it again."),
    _case(r"not a supported image format|files are not accepted|has not been built in|unsupported",
          "This kind of image file is not supported; please save it as JPEG or PNG and upload it again."),
    _case(r"cannot decode|cannot read image header|truncated|premature end|corrupt|damaged|"
          r"changed while being read",
          "We could not read this image: the file is damaged or incomplete."),
    _case(r"took longer than",
          "This image took too long to process; a smaller version of it may work."),
    _case(r"\bfailed \d+ times\b",
          "Processing failed after several attempts."),
    _case(r"HTTP 404",
          _GONE),
)

#: Said when no case of :data:`OWNER_REASONS` matches (or no reason was recorded).
DEFAULT_OWNER_REASON = "We could not process this image."


def failure_reason_for_owner(reason: str) -> str:
    """The owner's wording of the technical failure ``reason`` (any string, empty included):
    the message of the first case of :data:`OWNER_REASONS` found in it, else
    :data:`DEFAULT_OWNER_REASON`. Pure; never raises."""
    for case in OWNER_REASONS:
        match = case.pattern.search(reason or "")
        if match is not None:
            return case.message.format(**match.groupdict())
    return DEFAULT_OWNER_REASON
