"""Lossless WebP whose ``alpha_is_used`` hint is off: decoded with alpha all the same.

A VP8L header carries an ``alpha_is_used`` bit that the WebP lossless specification (RFC 9649,
section 3.2) calls "a hint only" that "SHOULD NOT impact decoding". libvips takes it as the
band count, so a file whose pixels are transparent with the hint off loses its transparency:
libwebp's ``bad_palette_index.webp``, whose colour-indexing transform indexes past its palette
(an out-of-range index is transparent black, RFC 9649 section 4.4), came out opaque where
``dwebp`` shows a quarter of it transparent. :func:`with_alpha_hint` sets the bit in a copy of
the bytes, so libwebp returns the alpha it decodes anyway; an alpha band that is opaque
everywhere is then dropped as for every format (:func:`.colour_space.drop_opaque_alpha`).
"""

from __future__ import annotations

#: Offset of the 32-bit little-endian VP8L header word in a simple-format lossless WebP:
#: "RIFF" size "WEBP" "VP8L" size, then the 0x2F signature byte (RFC 9649 section 3.2).
_VP8L_SIGNATURE_AT = 20
#: ``alpha_is_used`` is bit 28 of the header word after the signature: bit 4 of its 4th byte.
_ALPHA_BYTE_AT = _VP8L_SIGNATURE_AT + 4
_ALPHA_BIT = 0x10


def needs_alpha_hint(head: bytes) -> bool:
    """True for a simple-format lossless WebP (``VP8L`` chunk first) whose ``alpha_is_used`` hint
    is off; ``head`` is the first 25 bytes or more."""
    return (
        len(head) > _ALPHA_BYTE_AT
        and head[:4] == b"RIFF"
        and head[8:16] == b"WEBPVP8L"
        and head[_VP8L_SIGNATURE_AT] == 0x2F
        and not head[_ALPHA_BYTE_AT] & _ALPHA_BIT
    )


def with_alpha_hint(data: bytes) -> bytes:
    """``data`` with the VP8L ``alpha_is_used`` hint set (see the module doc); any other file
    unchanged."""
    if not needs_alpha_hint(data[: _ALPHA_BYTE_AT + 1]):
        return data
    out = bytearray(data)
    out[_ALPHA_BYTE_AT] |= _ALPHA_BIT
    return bytes(out)
