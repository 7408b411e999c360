"""Every exception the media VM raises on purpose, and :func:`classify`, which says what
kind of failure an exception is for the failure policy (``media_vm.worker.policy``).

The families, because the worker treats them differently: an :class:`ImageRejected` is the
input's fault and is never retried; an :class:`ImageProcessingError` is ours or the
machine's (a full disk, a libvips failure on a decoded image) and may succeed on retry; a
:class:`MainAPIError` is the main API unreachable (transient) or refusing (``permanent``).
Each subclasses the nearest built-in too, so generic ``except ValueError`` code still works.
"""

from __future__ import annotations

from enum import Enum
from typing import Any


class MediaVMError(Exception):
    """Base of every error the media VM raises on purpose."""


class ImageRejected(MediaVMError, ValueError):
    """Permanent: the input is not an image we accept (unsupported, corrupt, truncated, too large)."""


class UnsupportedFormat(ImageRejected):
    """The content is not one of the accepted formats (the loader allow-list refused it)."""


class PixelLimitExceeded(ImageRejected):
    """The header declares more pixels than the limit (one page, upright): a decompression bomb."""

    def __init__(self, message: str, *, width: int, height: int, limit: int) -> None:
        super().__init__(message)
        self.width, self.height, self.limit = width, height, limit


class FrameLimitExceeded(ImageRejected):
    """An animation or multi-page file with more frames than the limit."""

    def __init__(self, message: str, *, frames: int, limit: int) -> None:
        super().__init__(message)
        self.frames, self.limit = frames, limit


class NoStillImage(ImageRejected):
    """An image sequence (animated AVIF) with neither a still image nor a first frame this host
    can decode: not corrupt as such, but nothing to make variants from."""


class ScanLimitExceeded(ImageRejected):
    """A JPEG with more scans than the limit: each costs a full decoding pass (a scan bomb)."""

    def __init__(self, message: str, *, scans: int, limit: int) -> None:
        super().__init__(message)
        self.scans, self.limit = scans, limit


class ImageProcessingError(MediaVMError, RuntimeError):
    """Transient or unexpected: processing a valid input failed (e.g. writing a variant)."""


class OriginalRejected(ImageRejected):
    """The original the main API sent is empty or larger than ``MAX_ORIGINAL_BYTES``: retrying
    would download the same bytes again."""


class TooLarge(ImageRejected):
    """More bytes arrived than the cap allows (an original past ``MAX_ORIGINAL_BYTES``): the
    same download would be as large again, so it is not retried."""


class ImageTimeout(ImageProcessingError):
    """The image took longer than the per-image limit; its process was killed."""


class StorageUnavailable(ImageProcessingError, OSError):
    """Writing to storage failed (disk full, read-only, not a directory, permissions): the
    host's fault, not the image's; retried until the storage is fixed."""


def is_environmental(error: BaseException) -> bool:
    """True for storage failures anywhere in ``error``'s chain of causes (not a missing file)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OSError) and not isinstance(seen, FileNotFoundError):
            return True
        seen = seen.__cause__
    return False


class LeaseLost(MediaVMError, RuntimeError):
    """The claim was taken over by another worker: stop touching this image."""


class MainAPIError(MediaVMError, RuntimeError):
    """The main API could not be reached or answered with an error."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def permanent(self) -> bool:
        """4xx other than 408/429 will not get better by retrying."""
        return self.status is not None and 400 <= self.status < 500 and self.status not in (408, 429)


class ProviderError(MediaVMError, RuntimeError):
    """A vision provider could not answer (HTTP error, timeout, malformed answer). ``raw`` keeps
    whatever it did send, for the record. Never fails a step: the analysis records it."""

    def __init__(self, message: str, *, status: str = "error", raw: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.raw = raw
        self.seconds: float | None = None


class ErrorKind(str, Enum):
    """What a step's failure says about the future (the failure policy's input)."""

    REJECTED = "rejected"  # the input's fault: the same bytes fail the same way
    REFUSED = "refused"  # the main API refused for good (a 4xx other than 408/429)
    ENVIRONMENT = "environment"  # the host's fault (disk full, storage unwritable or away)
    TRANSIENT = "transient"  # anything else, the main API unreachable included: may pass on retry


def classify(error: BaseException) -> ErrorKind:
    """The :class:`ErrorKind` of ``error``. A :class:`MainAPIError` is judged by its status
    before its causes: an unreachable API is transient even though ``requests`` errors are
    ``OSError``s."""
    if isinstance(error, ImageRejected):
        return ErrorKind.REJECTED
    if isinstance(error, MainAPIError):
        return ErrorKind.REFUSED if error.permanent else ErrorKind.TRANSIENT
    if is_environmental(error):
        return ErrorKind.ENVIRONMENT
    return ErrorKind.TRANSIENT
