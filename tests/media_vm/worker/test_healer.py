"""The healing cycle in this process: undelivered reports, stalled steps, refused reports."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from media_vm.checklist import STEPS, Step
from media_vm.db import media_files, processing_checklist, utcnow
from tests.helpers.fault_proxy import FaultProxy


def make_due(vm):
    """The healer's backoff postponed the report; make it due now rather than sleeping."""
    with vm.repo.engine.begin() as conn:
        conn.execute(update(media_files).values(next_attempt_at=None))


def test_a_callback_the_main_api_missed_is_delivered_by_a_later_cycle(vm):
    token = vm.user()
    vm.upload(token, name="a.jpg", seed=1)
    vm.upload(token, name="b.jpg", seed=2)
    with FaultProxy(vm.api_url) as proxy:
        proxy.faults[("POST", "/api/media/complete/")] = "refuse"
        vm.worker(api_url=proxy.url, max_attempts=1).work(burst=True)
        assert [(r["status"], r["reported"]) for r in vm.rows()] == [("done", False)] * 2

        make_due(vm)
        proxy.faults[("POST", "/api/media/complete/")] = "500"  # still down at the first cycle
        report = vm.worker(api_url=proxy.url).heal()
        assert (report["report_failed"], report["called_back"]) == (2, 0)
        postponed = [r["next_attempt_at"] for r in vm.rows()]
        assert all(t is not None and t > utcnow() + timedelta(seconds=20) for t in postponed), postponed
        assert sorted(p["status"] for p in vm.api_images(token)) == ["pending", "pending"]

        make_due(vm)
        proxy.faults.clear()
        report = vm.worker(api_url=proxy.url).heal()
        assert (report["called_back"], report["report_failed"]) == (2, 0)
        # the healer calls back under each upload's own request id, kept on its media DB row
        sent = {path.rsplit("/", 1)[1]: headers.get("X-Request-ID") for method, path, headers in proxy.seen
                if method == "POST" and path.startswith("/api/media/complete/")}
        assert sent == {str(r["main_api_id"]): r["request_id"] for r in vm.rows()}
        assert all(sent.values())
    assert all(r["reported"] for r in vm.rows())
    shown = vm.api_images(token)
    assert sorted(p["status"] for p in shown) == ["complete", "complete"]
    assert {p["media_id"] for p in shown} == {r["media_id"] for r in vm.rows()}
    assert vm.worker().heal()["called_back"] == 0, "a delivered report is not sent again"


def test_a_step_left_running_by_a_dead_worker_is_reset_and_finished(vm):
    token = vm.user()
    vm.upload(token)
    worker = vm.worker(stall_seconds=0)
    worker.poll()
    dead = vm.repo.claim_next("dead-worker")
    vm.repo.step_started(dead, Step.RETRIEVE_FILE)  # ...and the process died here
    with vm.repo.engine.begin() as conn:
        conn.execute(update(media_files).values(lease_expires_at=utcnow() - timedelta(seconds=5)))
        conn.execute(update(processing_checklist).values(started_at=utcnow() - timedelta(seconds=5)))

    assert worker.heal()["stalled"] == 1
    state = vm.repo.checklist(vm.rows()[0]["id"])[Step.RETRIEVE_FILE]
    assert (state["status"], state["last_error"]) == ("failed", "stalled: the worker holding it went away")
    assert worker.process_due(limit=5) == 1
    row = vm.rows()[0]
    assert row["status"] == "done" and row["reported"]
    attempts = {s: r["attempts"] for s, r in vm.repo.checklist(row["id"]).items()}
    assert attempts == {s: (2 if s is Step.RETRIEVE_FILE else 1) for s in STEPS}
    assert [p["status"] for p in vm.api_images(token)] == ["complete"]


def test_a_report_the_main_api_refuses_for_good_is_not_asked_again(vm):
    from main_api.media.models import Upload

    vm.upload(vm.user())
    worker = vm.worker()
    worker.poll()
    claim = vm.repo.claim_next("w")
    vm.repo.fail(claim, "given up while the main API was away")  # not reported yet
    Upload.objects.all().delete()  # meanwhile the row went away on the main API
    report = worker.heal()
    assert (report["cleaned_up"], report["report_failed"]) == (0, 0)
    row = vm.rows()[0]
    assert (row["status"], row["reported"]) == ("failed", True)
    assert worker.heal()["cleaned_up"] == 0
