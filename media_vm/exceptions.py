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
