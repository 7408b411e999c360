"""Presets of image tools through the real main API (HTTP on loopback) and the in-process worker:
an upload that names its ``source_tool`` also gets that tool's ``normal`` and ``hq`` outputs, in
their own format and quality, inside their box and never enlarged, listed in its variants and
served by ``/serve`` and ``/api/images``; a preset size an image lacks answers 404, never another
box; a backfill adds outputs to images processed before; a completion naming a size the main API
does not know fails the upload where ops see it."""

from __future__ import annotations

import logging

import pyvips
import requests

from main_api.media.models import Upload
from media_vm.imaging.encoding import encode
from shared.sizes import presets_for
from tests.helpers.images import photo_jpeg
from tests.media_vm.worker.conftest import MEDIA_KEY


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}"}


def upload_object(vm, token: str) -> dict:
    image = Upload.objects.latest("id")
    return vm.upload_object(token, image.pk)


def test_a_sora_upload_gets_normal_and_hq_in_their_formats_listed_and_served(vm, media_server):
    token = vm.user("maker", "artist")
    vm.upload(token, path=photo_jpeg(vm.tmp / "wide.jpg", 2400, 1350, seed=3), source_tool="sora")
    vm.upload(token, path=photo_jpeg(vm.tmp / "small.jpg", 600, 400, seed=4), source_tool="dall-e")
    vm.upload(token, path=photo_jpeg(vm.tmp / "plain.jpg", 640, 480, seed=5))
    assert vm.worker().work(burst=True) == 3
    sora, dalle, plain = Upload.objects.order_by("id")
    assert [r["source_tool"] for r in vm.rows()] == ["sora", "dall-e", None]

    listed = {v["size"]: v for v in vm.upload_object(token, sora.pk)["variants"]}
    assert (listed["normal"]["width"], listed["normal"]["height"], listed["normal"]["formats"]) == (1280, 720, ["jpeg"])
    assert (listed["hq"]["width"], listed["hq"]["height"], listed["hq"]["formats"]) == (1920, 1080, ["webp"])
    assert {"thumbnail", "grid", "small", "detail", "header", "zoom"} <= set(listed)
    small = {v["size"]: v for v in vm.upload_object(token, dalle.pk)["variants"]}
    assert (small["normal"]["width"], small["normal"]["height"]) == (600, 400), "never enlarged"
    assert (small["hq"]["width"], small["hq"]["height"]) == (600, 400)
    assert not {"normal", "hq"} & {v["size"] for v in vm.upload_object(token, plain.pk)["variants"]}

    # served as made: the preset's format whatever the browser prefers, its own quality
    normal = requests.get(f"{media_server}/serve/{sora.media_id}?size=normal", headers={"Accept": "image/avif,*/*"},
                          timeout=30)
    assert normal.status_code == 200 and normal.headers["Content-Type"] == "image/jpeg"
    decoded = pyvips.Image.new_from_buffer(normal.content, "")
    assert (decoded.width, decoded.height) == (1280, 720)
    [sora_normal, sora_hq] = presets_for("sora")
    [row] = [r for r in vm.rows() if r["media_id"] == sora.media_id]
    original = pyvips.Image.new_from_file(str(vm.settings.storage_root / row["bulk_path"]))
    reference = original.thumbnail_image(1280, height=720)
    assert abs(len(normal.content) - len(encode(reference, "jpeg", size=sora_normal))) < len(normal.content) * 0.1
    hq = requests.get(f"{vm.api_url}/api/images/{sora.media_id}?size=hq", timeout=30)
    assert hq.status_code == 200 and hq.headers["Content-Type"] == "image/webp", hq.text
    assert requests.get(f"{media_server}/serve/{sora.media_id}?size=hq&format=avif", timeout=30).status_code == 404

    # a preset size the image lacks: 404, not another preset's or a display size's box
    for missing in (f"{media_server}/serve/{plain.media_id}?size=normal",
                    f"{vm.api_url}/api/images/{plain.media_id}?size=hq"):
        assert requests.get(missing, timeout=30).status_code == 404, missing
    # and a display size never falls back to a preset's box
    zoom = requests.get(f"{media_server}/serve/{sora.media_id}?size=zoom&format=jpeg", timeout=30)
    assert pyvips.Image.new_from_buffer(zoom.content, "").width == 2400


def test_an_unknown_source_tool_is_refused_and_nothing_is_stored(vm):
    token = vm.user("maker", "artist")
    path = photo_jpeg(vm.tmp / "p.jpg", 300, 200, seed=6)
    r = requests.patch(f"{vm.api_url}/users/me", headers=auth(token), data={"source_tool": "midjourney"},
                       files={"product_image": (path.name, path.read_bytes(), "image/jpeg")}, timeout=30)
    assert r.status_code == 400 and "source_tool" in r.text
    assert not Upload.objects.exists()


def test_backfill_makes_the_outputs_an_image_lacks_and_the_main_api_lists_them(vm, media_server):
    from media_vm.backfill import backfill

    token = vm.user("maker", "artist")
    vm.upload(token, path=photo_jpeg(vm.tmp / "p.jpg", 1600, 1200, seed=7))
    assert vm.worker().work(burst=True) == 1
    image = Upload.objects.get()
    before = {(v["size"], v["format"]) for v in vm.repo.variants(image.media_id)}
    # the outputs the configuration now asks of this image: its tool's preset (as if the file
    # had gained them after it was processed)
    from media_vm.db import media_files

    with vm.repo.engine.begin() as conn:
        conn.execute(media_files.update().values(source_tool="stable-diffusion"))
    assert backfill(vm.repo, dry_run=True).missing == 1
    result = backfill(vm.repo)
    assert (result.checked, result.missing, result.queued) == (1, 1, 1)
    assert backfill(vm.repo).queued == 0, "queued already: a second run adds nothing"
    assert vm.worker().work(burst=True) == 1

    after = {(v["size"], v["format"]) for v in vm.repo.variants(image.media_id)}
    assert after - before == {("normal", "jpeg"), ("hq", "webp")}, "only what was missing was made"
    image.refresh_from_db()
    assert {v["size"] for v in image.variants} >= {"normal", "hq"}, "the main API heard of them"
    assert requests.get(f"{media_server}/serve/{image.media_id}?size=normal", timeout=30).status_code == 200
    assert backfill(vm.repo).missing == 0


def test_a_completion_naming_an_unknown_size_fails_the_upload_where_ops_see_it(vm, caplog):
    from tests.main_api import support

    token = vm.user("maker", "artist")
    vm.upload(token)
    image = Upload.objects.get()
    payload = support.complete_payload(sizes_available=["thumbnail", "portrait"])
    with caplog.at_level(logging.ERROR, logger="main_api.media.apis"):
        r = requests.post(f"{vm.api_url}/api/media/complete/{image.pk}", json=payload,
                          headers={"Authorization": f"Bearer {MEDIA_KEY}"}, timeout=30)
    assert r.status_code == 400 and "portrait" in r.json()["message"]
    image.refresh_from_db()
    assert image.status == "failed" and "portrait" in image.failure_reason
    assert "MEDIA_OUTPUTS_FILE" in image.failure_reason
    assert any("portrait" in rec.getMessage() for rec in caplog.records if rec.levelno >= logging.ERROR)


def test_processing_metrics_reach_the_payload_the_analysis_the_log_and_prometheus(vm, media_server, caplog):
    token = vm.user("maker", "artist")
    original = photo_jpeg(vm.tmp / "m.jpg", 1600, 1200, seed=8)
    vm.upload(token, path=original, source_tool="sora")
    with caplog.at_level(logging.INFO, logger="media_vm.steps.callback"):
        assert vm.worker().work(burst=True) == 1
    [row] = vm.rows()
    metrics = vm.repo.analysis(row["id"])["processing"]
    assert set(metrics["steps_ms"]) == {"retrieve_file", "make_thumbnail", "ai_visual_analysis", "resize_optimize"}
    assert all(isinstance(ms, int) and ms >= 0 for ms in metrics["steps_ms"].values())
    assert metrics["processing_ms"] == sum(metrics["steps_ms"].values()) > 0
    assert metrics["original_bytes"] == original.stat().st_size
    variants = vm.repo.variants(row["media_id"])
    assert metrics["variant_bytes"] == {f"{v['size']}.{v['format']}": v["bytes"] for v in variants}
    display = sum(v["bytes"] for v in variants if v["size"] not in ("normal", "hq"))
    preset = sum(v["bytes"] for v in variants if v["size"] in ("normal", "hq"))
    assert metrics["outputs"] == {
        "display": {"output_bytes": display, "compression_ratio": round(display / original.stat().st_size, 4)},
        "sora": {"output_bytes": preset, "compression_ratio": round(preset / original.stat().st_size, 4)}}

    # the callback carried them: the main API keeps them with the analysis
    image = Upload.objects.get()
    assert image.ai_analysis["processing"] == metrics
    assert vm.worker().reporter.complete_payload(row)["metrics"] == metrics
    # one JSON-ready log line per job, the metrics as a field
    [line] = [r for r in caplog.records if r.getMessage().startswith("job metrics")]
    assert line.metrics == metrics and line.data_type == "product" and line.source_tool == "sora"
    # Prometheus: histograms by data type and preset
    text = requests.get(f"{media_server}/metrics", headers={"Authorization": f"Bearer {MEDIA_KEY}"}, timeout=30).text
    assert 'media_vm_image_step_milliseconds_count{data_type="product",preset="display"} 1.0' in text
    assert 'media_vm_output_ratio_count{data_type="product",preset="sora"} 1.0' in text
    assert 'media_vm_output_ratio_bucket{data_type="product",le="+Inf",preset="display"} 1.0' in text


def test_the_backfill_command_prints_its_progress_once_and_a_summary(vm, capsys, monkeypatch):
    from media_vm.__main__ import main

    token = vm.user("maker", "artist")
    vm.upload(token, path=photo_jpeg(vm.tmp / "p.jpg", 400, 300, seed=9))
    assert vm.worker().work(burst=True) == 1
    monkeypatch.setenv("MEDIA_DATABASE_URL", vm.settings.database_url)
    assert main(["backfill", "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "backfill done: 1 finished image(s) checked, 0 missing an output, 0 queued (dry run)"]
