"""The outputs configuration (shared/outputs.py): the built-in file keeps the contract's sizes,
the deploy example says the same, and every mistake in a file is named with its line."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from shared.outputs import BUILTIN_FILE, Fit, ImageFormat, OutputsConfigError, load_outputs
from shared.sizes import SIZES, nearest_size, presets_for, sizes_for

ROOT = Path(__file__).resolve().parents[2]
GOOD_HEAD = """\
[data_types]
default = ["thumbnail", "detail"]

[sizes.thumbnail]
box = [300, 300]
fit = "crop"

[sizes.detail]
box = [1200, 1200]
fit = "inside"
"""


def test_the_built_in_outputs_are_the_contracts_six_sizes_an_artworks_three_and_three_tools():
    assert [(s.name, s.width, s.height, s.fit) for s in SIZES] == [
        ("thumbnail", 300, 300, Fit.CROP), ("grid", 500, 500, Fit.CROP), ("small", 640, 640, Fit.INSIDE),
        ("detail", 1200, 1200, Fit.INSIDE), ("header", 1920, 640, Fit.CROP), ("zoom", 2560, 2560, Fit.INSIDE)]
    assert [s.name for s in sizes_for("artwork")] == ["icon", "thumbnail", "display"]
    wanted = {"dall-e": ((1024, 1024, "jpeg", 80), (2048, 2048, "webp", 95)),
              "sora": ((1280, 720, "jpeg", 85), (1920, 1080, "webp", 95)),
              "stable-diffusion": ((768, 768, "jpeg", 80), (1536, 1536, "webp", 95))}
    for tool, (normal, hq) in wanted.items():
        made = {s.name: (s.width, s.height, s.formats[0].value, s.setting(s.formats[0], "quality"))
                for s in presets_for(tool)}
        assert made == {"normal": normal, "hq": hq}, tool
        assert all(s.fit is Fit.INSIDE and len(s.formats) == 1 for s in presets_for(tool))
    assert [s.name for s in sizes_for("product", "sora")][-2:] == ["normal", "hq"]


def test_the_deploy_example_says_what_the_built_in_file_says():
    example, builtin = load_outputs(ROOT / "deploy" / "outputs.example.toml"), load_outputs(BUILTIN_FILE)
    assert (example.sizes, example.data_types, example.watermarked) == (
        builtin.sizes, builtin.data_types, builtin.watermarked)
    assert {t: [(s, s.encoding) for s in o] for t, o in example.presets.items()} == {
        t: [(s, s.encoding) for s in o] for t, o in builtin.presets.items()}


def test_fallback_stays_within_a_kind():
    display = {"thumbnail", "detail", "zoom", "normal", "hq"}
    assert nearest_size("header", display) == "detail"  # a display size: never a preset's box
    assert nearest_size("normal", {"thumbnail", "detail"}) is None  # a preset output it lacks: 404
    assert nearest_size("hq", {"normal", "thumbnail"}) is None
    assert nearest_size("hq", {"hq"}) == "hq"
    assert nearest_size("zoom", {"normal", "hq"}) is None


@pytest.mark.parametrize("tail, line, says", [
    ('[sizes.portrait]\nbox = [1080, 1920]\nfit = "squash"\n', 14, 'sizes.portrait.fit: must be "inside" or "crop"'),
    ('[sizes.portrait]\nbox = [1080]\nfit = "inside"\n', 13, "sizes.portrait.box: must be [width, height]"),
    ('[sizes.portrait]\nbox = [1080, 1920]\nfit = "inside"\nformats = ["gif"]\n', 15, "sizes.portrait.formats"),
    ('[sizes.portrait]\nbox = [1080, 1920]\nfit = "inside"\nwebp = { quality = 101 }\n', 15,
     "quality must be a whole number 1-100"),
    ('[sizes.portrait]\nbox = [1080, 1920]\nfit = "inside"\nsharpen = true\n', 15,
     "sizes.portrait.sharpen: unknown key"),
    ('[presets.midjourney.detail]\nbox = [10, 10]\nfit = "inside"\n', 12, "cannot have a display size's name"),
    ('[presets.Mid_Journey.normal]\nbox = [10, 10]\nfit = "inside"\n', 12, "presets.Mid_Journey: a tool name"),
])
def test_a_mistake_is_named_with_its_line(tmp_path, tail, line, says):
    path = tmp_path / "outputs.toml"
    path.write_text(GOOD_HEAD + "\n" + tail)
    with pytest.raises(OutputsConfigError) as refused:
        load_outputs(path)
    assert f"{path}, line {line}: " in str(refused.value)
    assert says in str(refused.value)


def test_data_type_lists_are_checked(tmp_path):
    for head, says in (
        ('[data_types]\ndefault = ["detail"]\n', "data_types.default: must include 'thumbnail'"),
        ('[data_types]\ndefault = ["thumbnail", "giant"]\n', "unknown size 'giant'"),
        ('[data_types]\ndefault = ["thumbnail"]\nvideos = ["thumbnail"]\n', "data_types.videos: not a data type"),
        ('[data_types]\nartwork = ["thumbnail"]\n', "a 'default' list is needed"),
    ):
        path = tmp_path / "outputs.toml"
        path.write_text(head + GOOD_HEAD.split("\n\n", 1)[1])
        with pytest.raises(OutputsConfigError, match=r", line \d+: ") as refused:
            load_outputs(path)
        assert says in str(refused.value), head


def test_not_toml_and_a_missing_file_are_one_line_each(tmp_path):
    path = tmp_path / "outputs.toml"
    path.write_text(GOOD_HEAD + "\n[sizes.x\n")
    with pytest.raises(OutputsConfigError, match=r"not valid TOML: .*line 12"):
        load_outputs(path)
    with pytest.raises(OutputsConfigError, match="cannot read the outputs file"):
        load_outputs(tmp_path / "nope.toml")


def test_a_good_file_with_an_extra_size_and_a_tool_loads(tmp_path):
    path = tmp_path / "outputs.toml"
    head = GOOD_HEAD.replace('["thumbnail", "detail"]', '["thumbnail", "detail", "portrait"]')
    path.write_text(head + textwrap.dedent("""
        [sizes.portrait]
        box = [1080, 1920]
        fit = "inside"
        avif = { quality = 40, effort = 3 }

        [presets.flux.normal]
        box = [1024, 1024]
        fit = "crop"
        formats = ["avif", "jpeg"]
        jpeg = { quality = 90 }
    """))
    outputs = load_outputs(path)
    portrait = outputs.sizes["portrait"]
    assert (portrait.width, portrait.height, portrait.fit) == (1080, 1920, Fit.INSIDE)
    assert (portrait.setting("avif", "quality"), portrait.setting("avif", "effort"), portrait.setting("webp", "quality")
            ) == (40, 3, None)
    assert outputs.data_types["default"] == ("thumbnail", "detail", "portrait")
    [normal] = outputs.presets["flux"]
    assert normal.formats == (ImageFormat.AVIF, ImageFormat.JPEG) and normal.preset == "flux"


@pytest.mark.parametrize("service", [["-m", "main_api", "check"], ["-m", "media_vm", "migrate"]])
def test_each_service_refuses_to_start_on_a_bad_file_with_one_line(tmp_path, service):
    path = tmp_path / "outputs.toml"
    path.write_text(GOOD_HEAD.replace('fit = "crop"', 'fit = "cover"'))
    env = {"PATH": "/usr/bin:/bin", "MEDIA_OUTPUTS_FILE": str(path), "DJANGO_ENV": "dev",
           "MEDIA_DATABASE_URL": f"sqlite:///{tmp_path / 'm.sqlite3'}"}
    run = subprocess.run([sys.executable, *service], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run
    assert run.stderr.strip().splitlines() == [run.stderr.strip()], run.stderr  # one line, no traceback
    assert f"MEDIA_OUTPUTS_FILE: {path}, line 6: sizes.thumbnail.fit" in run.stderr
