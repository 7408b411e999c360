"""Exceptions of the media VM.

Two families, because the worker treats them differently: an :class:`ImageRejected` is the
input's fault and is never retried; an :class:`ImageProcessingError` is ours or the
machine's (a full disk, a libvips failure on a decoded image) and may succeed on retry.
Each subclasses the nearest built-in too, so generic ``except ValueError`` code still works.
"""

from __future__ import annotations


class MediaVMError(Exception):
    """Base of every error the media VM raises on purpose."""


class ImageRejected(MediaVMError, ValueError):
    """Permanent: the input is not an image we accept (unsupported, corrupt, truncated, too large)."""


class ImageProcessingError(MediaVMError, RuntimeError):
    """Transient or unexpected: processing a valid input failed (e.g. writing a variant)."""


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
