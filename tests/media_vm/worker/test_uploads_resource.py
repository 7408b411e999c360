"""The upload resource through the real worker (issue 14): the variants the VM reports with
their real pixel sizes reach ``GET /api/uploads/{id}``, and match the files it serves."""

from __future__ import annotations

import pyvips
import requests

from tests.helpers.fault_proxy import FaultProxy


def test_the_reported_variants_are_the_files_the_vm_made(vm):
    from main_api.media.models import Upload

    token = vm.user("painter", "artist")
    vm.upload(token, "product_image", name="wide.jpg")  # 640x480
    assert vm.worker().work(burst=True) == 1
    [row] = vm.rows()
    image = Upload.objects.get()

    on_disk = {}
    for v in vm.repo.variants(row["media_id"]):
        file = pyvips.Image.new_from_file(str(vm.settings.storage_root / v["path"]))
        on_disk[(v["size"], v["format"], v["bg"])] = (file.width, file.height)
    assert {(v["size"], v["format"], v["bg"]): (v["width"], v["height"]) for v in image.variants} == on_disk

    body = vm.upload_object(token, image.pk)
    assert (body["status"], body["stage"], body["media_id"]) == ("complete", "processed", row["media_id"])
    assert (body["width"], body["height"]) == (640, 480)
    assert body["variants"], body
    for entry in body["variants"]:
        assert on_disk[(entry["size"], "jpeg", "original")] == (entry["width"], entry["height"])
        assert entry["url"].endswith(f"/{row['media_id']}?size={entry['size']}")
    widths = [entry["width"] for entry in body["variants"]]
    assert widths == sorted(widths)
    assert body["analysis"]["width"] == 640


def test_an_upload_given_up_after_max_attempts_is_processed_after_its_owners_retry(vm):
    """The circuit breaker: the main API's temp originals answer 500 (through a fault proxy)
    until the VM gives up after MAX_ATTEMPTS; nothing retries the upload on its own. Once the
    fault is gone, the owner's retry puts it back, and the VM takes it up again from scratch
    with a fresh media id; the profile field points at it again and ends on its smart URL."""
    from main_api.media.models import Upload
    from main_api.users.models import UserProfile

    token = vm.user("painter", "artist")
    vm.upload(token, "profile_image")
    with FaultProxy(vm.api_url) as proxy:
        proxy.faults[("GET", "/temp_images/")] = "500"
        assert vm.worker(api_url=proxy.url, max_attempts=2).work(burst=True) == 0
        [row] = vm.rows()
        assert (row["status"], row["reported"]) == ("failed", True)
        assert "retrieve_file failed 2 times" in row["failure_reason"]
        [shown] = vm.api_images(token)
        body = vm.upload_object(token, shown["id"])
        assert (body["status"], body["stage"], body["retryable"], body["attempts"]) == ("failed", "failed", True, 1)
        assert body["failure_reason"] == "Processing failed after several attempts."
        assert UserProfile.objects.get().profile_image_path == "", "the failure gave the empty field back"
        # nothing retries it on its own
        assert vm.worker(api_url=proxy.url, max_attempts=2).work(burst=True) == 0
        assert proxy.hits[("GET", "/temp_images/")] == 2
        assert vm.rows()[0]["status"] == "failed"

        proxy.faults.clear()  # the cause is gone
        r = requests.post(f"{vm.api_url}/api/uploads/{shown['id']}/retry",
                          headers={"Authorization": f"Token {token}"}, timeout=30)
        assert r.status_code == 200, r.text
        assert UserProfile.objects.get().profile_image_path == Upload.objects.get().image_path
        assert vm.worker(api_url=proxy.url, max_attempts=2).work(burst=True) == 1
    [again] = vm.rows()
    assert again["status"] == "done" and again["media_id"] != row["media_id"]
    body = vm.upload_object(token, shown["id"])
    assert (body["status"], body["stage"], body["attempts"], body["media_id"]) == (
        "complete", "processed", 2, again["media_id"])
    assert body["failure_reason"] is None and body["retryable"] is False
    assert UserProfile.objects.get().profile_image_path == body["smart_url"]


def test_the_vm_reports_each_stage_as_it_reaches_it(vm):
    """Before each step the upload object shows the stage the previous step reported: the VM
    posts progress as it goes, and the media id appears before the callback."""
    from main_api.media.models import Upload

    token = vm.user("watcher", "artist")
    vm.upload(token, "product_image")
    upload_id = Upload.objects.get().pk
    seen: dict[str, tuple[str, str | None]] = {}

    def before_step(step):
        body = vm.upload_object(token, upload_id)
        seen[step.value] = (body["stage"], body["media_id"])

    assert vm.worker(before_step=before_step).work(burst=True) == 1
    [row] = vm.rows()
    assert seen == {
        "retrieve_file": ("queued", None),
        "make_thumbnail": ("retrieved", None),
        "ai_visual_analysis": ("thumbnail_ready", row["media_id"]),
        "resize_optimize": ("analysed", row["media_id"]),
        "update_callback": ("variants_ready", row["media_id"]),
    }
    assert vm.upload_object(token, upload_id)["stage"] == "processed"


def test_undelivered_progress_never_holds_up_the_image(vm):
    from main_api.media.models import Upload

    token = vm.user("patient", "artist")
    vm.upload(token, "product_image")
    with FaultProxy(vm.api_url) as proxy:
        proxy.faults[("POST", "/api/media/progress/")] = "500"
        assert vm.worker(api_url=proxy.url).work(burst=True) == 1
        assert proxy.hits[("POST", "/api/media/progress/")] == 4, "one try per stage, no retries"
    [row] = vm.rows()
    assert row["status"] == "done"
    assert Upload.objects.get().status == "complete"


def test_the_thumbnail_is_served_before_the_other_sizes_exist(vm, media_server):
    """Right after thumbnail_ready, before the analysis and the other sizes: the thumbnail is
    served for a year; another size falls back to it with a short Cache-Control, through the
    VM and through the main API's proxy (which must not stretch it to an hour)."""
    from main_api.media.models import Upload

    token = vm.user("eager", "artist")
    vm.upload(token, "product_image")
    upload_id = Upload.objects.get().pk
    answers: dict[str, tuple[int, str, tuple[int, int] | None]] = {}
    accel: dict[str, str | None] = {}
    jpeg = {"Accept": "image/jpeg"}

    def before_step(step):
        if step.value != "ai_visual_analysis":
            return
        body = vm.upload_object(token, upload_id)
        assert body["stage"] == "thumbnail_ready" and body["thumbnail_url"]
        for name, url in (("thumbnail", f"{media_server}/serve/{body['media_id']}?size=thumbnail"),
                          ("detail", f"{media_server}/serve/{body['media_id']}?size=detail"),
                          ("proxy-detail", f"{vm.api_url}/api/images/{body['media_id']}?size=detail")):
            r = requests.get(url, headers=jpeg, timeout=30)
            answers[name] = (r.status_code, r.headers.get("Cache-Control", ""),
                             jpeg_dims(r.content) if r.status_code == 200 else None)
            accel[name] = r.headers.get("X-Accel-Expires")

    assert vm.worker(before_step=before_step).work(burst=True) == 1
    assert answers["thumbnail"] == (200, "public, max-age=31536000, immutable", (300, 300))
    assert answers["detail"] == (200, "public, max-age=5", (300, 300)), "a stand-in, briefly"
    assert answers["proxy-detail"] == (200, "public, max-age=5", (300, 300))
    # the shipped nginx ignores Cache-Control but keeps a stand-in only as long as this says
    assert accel["proxy-detail"] == "5"
    # once done, the real size with the long cache
    [row] = vm.rows()
    r = requests.get(f"{vm.api_url}/api/images/{row['media_id']}?size=detail", headers=jpeg, timeout=30)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "public, max-age=3600"
    assert "X-Accel-Expires" not in r.headers, "nginx's own 60 s apply"
    assert jpeg_dims(r.content) != (300, 300)


def jpeg_dims(data: bytes) -> tuple[int, int]:
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return im.size


def test_a_retried_upload_reaches_a_poll_past_its_id_at_once(vm):
    """A retried upload keeps its (old) id, below the id cursor of a worker's long polls: the
    main API's ``now`` comes back as ``since``, so the next poll lists it, not only the next
    full poll a minute later."""
    token = vm.user("again", "artist")
    vm.upload(token, "product_image")
    with FaultProxy(vm.api_url) as proxy:
        proxy.faults[("GET", "/temp_images/")] = "500"
        assert vm.worker(api_url=proxy.url, max_attempts=1).work(burst=True) == 0
    [row] = vm.rows()
    assert row["status"] == "failed"
    cursor = vm.repo.max_main_api_id()

    polling = vm.worker()
    assert polling.poll(wait=0, after=cursor) == (0, 0)  # a long poll past every id: nothing new
    r = requests.post(f"{vm.api_url}/api/uploads/{row['main_api_id']}/retry",
                      headers={"Authorization": f"Token {token}"}, timeout=30)
    assert r.status_code == 200, r.text
    assert vm.worker().poll(wait=0, after=cursor) == (0, 0), "by the id cursor alone it stays hidden"
    assert polling.poll(wait=0, after=cursor) == (1, 1), "listed and taken up again at once"
    assert polling.poll(wait=0, after=cursor) == (0, 0), "once"
    assert polling.work(burst=True) == 1
    assert vm.rows()[0]["status"] == "done"
