"""The verdict the media VM gives the main API's upload gate as a value (``judging.verdict``):
:class:`Accepted` with the upright size and type, or :class:`Refused` with a reason, a message
and the limit and measured figure where there is one; never an exception for what the file is."""

from __future__ import annotations

import dataclasses

import pytest

from media_vm.imaging.judging import Accepted, RefusalReason, Refused, judge, verdict
from tests.helpers.images import (
    animated_gif,
    oriented_jpeg,
    photo_jpeg,
    pixel_bomb_png,
    svg_file,
    truncated_jpeg,
)


def test_an_accepted_file_is_its_upright_size_and_type(tmp_path):
    data = photo_jpeg(tmp_path / "p.jpg", 320, 240).read_bytes()
    assert verdict(data, name="upload") == Accepted(width=320, height=240, format="jpeg", mime_type="image/jpeg",
                                                    pages=1)
    turned = oriented_jpeg(tmp_path / "turned.jpg", 6, width=160, height=100)  # stored 100x160
    assert verdict(turned) == Accepted(width=160, height=100, format="jpeg", mime_type="image/jpeg", pages=1)
    gif = verdict(animated_gif(tmp_path / "a.gif", 120, 90, frames=3))
    assert gif == Accepted(width=120, height=90, format="gif", mime_type="image/gif", pages=3)


def test_too_many_pixels_is_refused_with_the_limit_and_the_size(tmp_path):
    data = photo_jpeg(tmp_path / "p.jpg", 320, 240).read_bytes()
    refused = verdict(data, max_pixels=320 * 240 - 1, name="upload")
    assert isinstance(refused, Refused) and refused.reason is RefusalReason.PIXELS
    assert (refused.limit, refused.width, refused.height, refused.frames) == (320 * 240 - 1, 320, 240, None)
    assert refused.message.startswith("upload: image is 320x240")
    bomb = verdict(pixel_bomb_png(tmp_path / "bomb.png"))  # 400 MP, past the default 100 MP
    assert (bomb.reason, bomb.limit, bomb.width, bomb.height) == (RefusalReason.PIXELS, 100_000_000, 20000, 20000)


def test_too_many_frames_is_refused_with_the_limit_and_the_count(tmp_path):
    refused = verdict(animated_gif(tmp_path / "a.gif", frames=4), max_frames=3)
    assert isinstance(refused, Refused) and refused.reason is RefusalReason.FRAMES
    assert (refused.limit, refused.frames, refused.width, refused.height) == (3, 4, None, None)


def test_unsupported_and_undecodable_files_are_refused_without_figures(tmp_path):
    svg = verdict(svg_file(tmp_path / "v.svg").read_bytes(), name="upload")
    cut = verdict(truncated_jpeg(tmp_path / "cut.jpg").read_bytes(), name="upload")
    assert isinstance(svg, Refused) and svg.reason is RefusalReason.UNSUPPORTED
    assert isinstance(cut, Refused) and cut.reason is RefusalReason.UNDECODABLE
    for refused in (svg, cut):
        assert (refused.limit, refused.width, refused.height, refused.frames) == (None, None, None, None)
        assert refused.message.startswith("upload: ")
    assert verdict(b"not an image at all").reason in (RefusalReason.UNSUPPORTED, RefusalReason.UNDECODABLE)


def test_the_verdict_is_judge_as_a_value(tmp_path):
    """The same decision as the VM's own ``judge``: accepted files have its header's figures;
    refused ones are those it raises for, with its message."""
    from media_vm.exceptions import ImageRejected

    files = [photo_jpeg(tmp_path / "p.jpg", 64, 48), truncated_jpeg(tmp_path / "cut.jpg"),
             animated_gif(tmp_path / "a.gif", frames=4)]
    for path in files:
        judged = verdict(path, max_frames=3)
        try:
            info = judge(path, max_frames=3)
        except ImageRejected as e:
            assert isinstance(judged, Refused) and judged.message == str(e), path.name
        else:
            assert judged == Accepted(info.width, info.height, info.format, judged.mime_type, info.pages), path.name


def test_verdicts_are_frozen_values_and_bad_limits_still_raise(tmp_path):
    accepted = Accepted(width=1, height=1, format="png", mime_type="image/png", pages=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        accepted.width = 2  # type: ignore[misc]
    assert Refused(RefusalReason.FRAMES, "m", limit=3, frames=4) == Refused(RefusalReason.FRAMES, "m", limit=3,
                                                                             frames=4)
    assert RefusalReason.PIXELS == "pixels" and RefusalReason("undecodable") is RefusalReason.UNDECODABLE
    with pytest.raises(ValueError, match="max_pixels must be positive"):
        verdict(photo_jpeg(tmp_path / "p.jpg", 8, 8), max_pixels=0)
