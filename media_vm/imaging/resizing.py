"""Pure resize and crop operations: an image and a size in, a new image out."""

from __future__ import annotations

import pyvips

from media_vm.imaging.sizing import cover_scale, crop_window, output_dims
from shared.sizes import Fit, Size


def resize_exact(image: pyvips.Image, width: int, height: int) -> pyvips.Image:
    """``image`` resampled (lanczos3) to exactly ``width`` x ``height``.

    Alpha is premultiplied around the resample so transparent pixels do not bleed their
    (invisible) colour into the edges.
    """
    if width < 1 or height < 1:
        raise ValueError(f"size must be positive, got {width}x{height}")
    if (image.width, image.height) == (width, height):
        return image
    hscale, vscale = width / image.width, height / image.height
    if image.hasalpha():
        out = image.premultiply().resize(hscale, vscale=vscale, kernel="lanczos3").unpremultiply()
        out = out.cast("uchar").copy(interpretation=image.interpretation)
    else:
        out = image.resize(hscale, vscale=vscale, kernel="lanczos3")
    if (out.width, out.height) != (width, height):
        # resize rounds its output size; absorb a 1 px difference rather than resample twice.
        out = out.embed(0, 0, max(width, out.width), max(height, out.height), extend="copy")
        out = out.crop(0, 0, width, height)
    return out


def render_size(
    image: pyvips.Image,
    size: Size,
    original: tuple[int, int],
    focus: tuple[float, float, float, float] | None = None,
) -> pyvips.Image:
    """The ``size`` variant cut from ``image``, a (possibly shrunk-on-load) copy of ``original``.

    Output dimensions come from the original's (see :func:`.sizing.output_dims`), so the
    shrink applied while decoding never changes them. CROP sizes are resized to cover the
    target and cropped around ``focus`` (x, y, w, h normalised; faces or the salient region
    the analysis found, see :func:`.cropping.crop_focus`), or, without one, with libvips'
    attention-based ``smartcrop``.
    """
    target = output_dims(size, *original)
    if size.fit is Fit.INSIDE:
        return resize_exact(image, *target)
    scale = cover_scale(target, image.width, image.height)
    covered = resize_exact(
        image,
        max(target[0], round(image.width * scale)),
        max(target[1], round(image.height * scale)),
    )
    if (covered.width, covered.height) == target:
        return covered
    if focus is not None:
        left, top = crop_window((covered.width, covered.height), target, focus)
        return covered.crop(left, top, target[0], target[1])
    return covered.smartcrop(target[0], target[1], interesting="attention")
