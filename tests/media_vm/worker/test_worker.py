"""The worker in this process: claim, every step's success and failure, retry, give-up,
warm shutdown, concurrency and ``max_jobs``, against a live main API and a real media DB."""

from __future__ import annotations

import signal

import pytest

from media_vm.checklist import STEPS, Step
from tests.helpers import images
from tests.helpers.fault_proxy import FaultProxy


def steps_state(vm, row):
    return {name: (r["status"], r["attempts"]) for name, r in vm.checklist(row).items()}


def only_row(vm):
    rows = vm.rows()
    assert len(rows) == 1, rows
    return rows[0]


def temp_original(vm):
    [path] = [p for p in vm.temp_dir.rglob("*") if p.is_file() and not p.name.startswith(".")]
    return path


def test_an_upload_is_claimed_processed_by_every_step_once_and_reported(vm):
    token = vm.user()
    sent = vm.upload(token)
    worker = vm.worker()
    assert worker.work(burst=True) == 1
    row = only_row(vm)
    assert (row["status"], row["reported"], row["lease_owner"], row["claim_token"]) == ("done", True, None, None)
    assert row["request_id"], "the upload's request id is kept with the row"
    assert steps_state(vm, row) == {s.value: ("done", 1) for s in STEPS}
    assert (vm.settings.storage_root / row["bulk_path"]).read_bytes() == sent.read_bytes()
    variants = vm.repo.variants(row["media_id"])
    assert len(variants) == len(vm.library_files(row["media_id"])) == 18
    assert {(v["format"]) for v in variants} == {"avif", "webp", "jpeg"}
    [shown] = vm.api_images(token)
    assert (shown["status"], shown["media_id"]) == ("complete", row["media_id"])


def test_retrieve_file_refused_by_the_main_api_gives_up_at_once_and_reports(vm):
    token = vm.user()
    vm.upload(token)
    temp_original(vm).unlink()  # the main API answers 404 for the temp original
    vm.worker().work(burst=True)
    row = only_row(vm)
    assert (row["status"], row["reported"]) == ("failed", True)
    assert row["failure_reason"].startswith("retrieve_file: ") and "404" in row["failure_reason"]
    assert steps_state(vm, row)["retrieve_file"] == ("failed", 1), "a 404 is not retried"
    assert [p["status"] for p in vm.api_images(token)] == ["failed"]


def test_retrieve_file_failing_every_time_is_retried_then_given_up_with_its_reason(vm):
    token = vm.user()
    vm.upload(token)
    with FaultProxy(vm.api_url) as proxy:
        proxy.faults[("GET", "/temp_images/")] = "500"
        vm.worker(api_url=proxy.url, max_attempts=2).work(burst=True)
        assert proxy.hits[("GET", "/temp_images/")] == 2
    row = only_row(vm)
    assert (row["status"], row["reported"]) == ("failed", True)
    assert "retrieve_file failed 2 times" in row["failure_reason"]
    assert [p["status"] for p in vm.api_images(token)] == ["failed"]
    assert list(vm.temp_dir.rglob("*.jpg")), "the temp original is kept for a retry (FAILED_RETENTION_DAYS)"


def test_an_empty_original_is_rejected_not_retried(vm):
    token = vm.user()
    vm.upload(token)
    temp_original(vm).write_bytes(b"")  # damaged on the main API's disk after it was accepted
    vm.worker().work(burst=True)
    row = only_row(vm)
    assert row["status"] == "failed" and "empty original" in row["failure_reason"]
    assert steps_state(vm, row)["retrieve_file"] == ("failed", 1)
    assert not [p for p in (vm.settings.storage_root / "bulk").rglob("*") if p.is_file()], "nothing kept for it"


def test_an_original_over_the_byte_cap_is_rejected_not_retried(vm, monkeypatch):
    monkeypatch.setattr("media_vm.steps.retrieve.MAX_ORIGINAL_BYTES", 10_000)
    token = vm.user()
    vm.upload(token)  # a 640x480 photo: well over 10 kB
    vm.worker().work(burst=True)
    row = only_row(vm)
    assert row["status"] == "failed" and "larger than 10000 bytes" in row["failure_reason"]
    assert steps_state(vm, row)["retrieve_file"] == ("failed", 1)
    assert not [p for p in (vm.settings.storage_root / "bulk").rglob("*") if p.is_file()], "no partial original"
    assert [p["status"] for p in vm.api_images(token)] == ["failed"]


def test_corrupt_and_bomb_inputs_fail_the_analysis_with_a_reason_and_are_not_retried(vm):
    token = vm.user()
    corrupt = images.photo_jpeg(vm.tmp / "corrupt.jpg", 400, 300, seed=9)
    vm.upload(token, path=images.photo_jpeg(vm.tmp / "big.jpg", 1500, 1000))
    vm.upload(token, path=corrupt)
    vm.upload(token, path=images.photo_jpeg(vm.tmp / "ok.jpg", 400, 300))
    temp = next(p for p in vm.temp_dir.rglob("*.jpg") if p.read_bytes() == corrupt.read_bytes())
    temp.write_bytes(corrupt.read_bytes()[: len(corrupt.read_bytes()) // 2])
    # the VM does not trust the API: with a lower pixel limit here, an image the API accepted is a bomb
    assert vm.worker(max_image_pixels=1_000_000).work(burst=True) == 1
    rows = {r["original_name"]: r for r in vm.rows()}
    assert rows["ok.jpg"]["status"] == "done"
    assert rows["big.jpg"]["status"] == "failed" and "limit" in rows["big.jpg"]["failure_reason"]
    assert rows["corrupt.jpg"]["status"] == "failed" and rows["corrupt.jpg"]["failure_reason"]
    for name in ("big.jpg", "corrupt.jpg"):
        # the first step that decodes it (the thumbnail, made first) refuses it, once: no retry
        assert steps_state(vm, rows[name])["make_thumbnail"] == ("failed", 1), name
    assert sorted(p["status"] for p in vm.api_images(token)) == ["complete", "failed", "failed"]


def test_a_transient_failure_is_retried_and_the_image_finishes(vm):
    vm.upload(vm.user())
    failures = []

    def before_step(step):
        if step is Step.AI_VISUAL_ANALYSIS and not failures:
            failures.append(step)
            raise RuntimeError("the vision service hiccuped")

    assert vm.worker(before_step=before_step).work(burst=True) == 1
    row = only_row(vm)
    assert row["status"] == "done"
    state = vm.checklist(row)["ai_visual_analysis"]
    assert (state["status"], state["attempts"], state["last_error"]) == ("done", 2, None)
    # the retry resumed at the failed step: the original was not fetched again
    assert steps_state(vm, row) == {s.value: ("done", 2 if s is Step.AI_VISUAL_ANALYSIS else 1) for s in STEPS}


def test_a_step_failing_every_attempt_is_given_up_and_reported(vm):
    token = vm.user()
    vm.upload(token)

    def before_step(step):
        if step is Step.RESIZE_OPTIMIZE:
            raise RuntimeError("libvips ran out of luck")

    assert vm.worker(before_step=before_step, max_attempts=3).work(burst=True) == 0
    row = only_row(vm)
    assert (row["status"], row["reported"]) == ("failed", True)
    assert row["failure_reason"] == "resize_optimize failed 3 times: RuntimeError: libvips ran out of luck"
    assert steps_state(vm, row)["resize_optimize"] == ("failed", 3)
    assert steps_state(vm, row)["update_callback"] == ("pending", 0)
    assert [p["status"] for p in vm.api_images(token)] == ["failed"]


def test_unwritable_storage_is_waited_out_past_max_attempts_never_given_up(vm):
    token = vm.user()
    vm.upload(token)
    vm.settings.storage_root.mkdir(parents=True, exist_ok=True)
    blocker = vm.settings.storage_root / "library"
    blocker.write_text("a file where the library folder should be: no variant can be written")
    seen = []

    def before_step(step):
        if step is Step.MAKE_THUMBNAIL:  # the first step that writes under library/
            seen.append(vm.rows()[0]["status"])
            if len(seen) == 5:
                blocker.unlink()  # the operator frees the storage

    assert vm.worker(before_step=before_step, max_attempts=2).work(burst=True) == 1
    assert seen == ["processing"] * 5, "the upload was never given up meanwhile"
    row = only_row(vm)
    assert row["status"] == "done"
    assert steps_state(vm, row)["make_thumbnail"] == ("done", 5)
    assert [p["status"] for p in vm.api_images(token)] == ["complete"]


def test_a_callback_the_main_api_refuses_for_good_fails_the_image_without_a_cleanup(vm):
    from main_api.media.models import Upload

    vm.upload(vm.user())

    def before_step(step):
        if step is Step.UPDATE_CALLBACK:
            Upload.objects.all().delete()  # the row is gone: complete answers 404

    with FaultProxy(vm.api_url) as proxy:
        vm.worker(api_url=proxy.url, before_step=before_step).work(burst=True)
        forwarded = [(method, path.rsplit("/", 1)[0]) for _, method, path, _ in proxy.log]
        assert forwarded.count(("POST", "/api/media/complete")) == 1
        assert ("DELETE", "/api/media/cleanup") not in forwarded
    row = only_row(vm)
    assert (row["status"], row["reported"]) == ("failed", True)
    assert row["failure_reason"].startswith("update_callback: ")
    assert steps_state(vm, row)["update_callback"] == ("failed", 1)


def test_a_callback_that_keeps_failing_keeps_the_variants_for_the_healer(vm):
    token = vm.user()
    vm.upload(token)
    with FaultProxy(vm.api_url) as proxy:
        proxy.faults[("POST", "/api/media/complete/")] = "refuse"
        assert vm.worker(api_url=proxy.url, max_attempts=2).work(burst=True) == 0
        # (a dropped keep-alive connection may be tried again by the HTTP client itself)
        assert proxy.hits[("POST", "/api/media/complete/")] >= 2
    row = only_row(vm)
    assert (row["status"], row["reported"]) == ("done", False)
    assert steps_state(vm, row)["update_callback"] == ("failed", 2)
    assert row["next_attempt_at"] is not None, "the healer calls back from then on"
    assert len(vm.library_files(row["media_id"])) == 18
    assert [p["status"] for p in vm.api_images(token)] == ["pending"]


def test_warm_shutdown_finishes_the_running_step_and_hands_the_image_back(vm):
    token = vm.user()
    vm.upload(token)
    worker = vm.worker()

    def before_step(step):
        if step is Step.RESIZE_OPTIMIZE:
            signal.raise_signal(signal.SIGTERM)  # as systemd stops the service mid-step
            # the handler runs in the main thread when it next wakes: the step is still running then
            assert worker.stop.wait(10), "the SIGTERM handler never ran"

    worker.before_step = before_step
    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    worker.install_signal_handlers()
    try:
        assert worker.work(burst=True) == 0
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
    row = only_row(vm)
    assert (row["status"], row["lease_owner"], row["claim_token"]) == ("processing", None, None)
    assert steps_state(vm, row)["resize_optimize"] == ("done", 1), "the running step finished"
    assert steps_state(vm, row)["update_callback"] == ("pending", 0)
    assert [p["status"] for p in vm.api_images(token)] == ["pending"]

    assert vm.worker().work(burst=True) == 1  # the next worker takes up where it stopped
    row = only_row(vm)
    assert row["status"] == "done"
    assert steps_state(vm, row) == {s.value: ("done", 1) for s in STEPS}, "nothing ran twice"


def test_concurrency_and_max_jobs(vm):
    token = vm.user()
    for i in range(3):
        vm.upload(token, name=f"p{i}.jpg", seed=i + 1)
    assert vm.worker(concurrency=2).work(burst=True, max_jobs=2) == 2
    assert sorted(r["status"] for r in vm.rows()) == ["done", "done", "queued"]
    assert vm.worker().work(burst=True) == 1
    assert {r["status"] for r in vm.rows()} == {"done"}
    assert len({r["media_id"] for r in vm.rows()}) == 3


def test_concurrency_below_one_is_refused(vm):
    with pytest.raises(ValueError, match="at least 1"):
        vm.worker(concurrency=0)
