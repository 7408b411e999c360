"""The media DB: migrations, registration, claims, leases and fencing, on SQLite and MariaDB."""

from __future__ import annotations

import multiprocessing
from datetime import timedelta

import pytest
from sqlalchemy import text, update

from media_vm.checklist import STEPS, JobStatus, StepStatus
from media_vm.db import MIGRATIONS, Repository, make_engine, media_files, migrate, schema_version, utcnow
from media_vm.exceptions import LeaseLost


def item(main_api_id: int, **extra):
    return {"id": main_api_id, "user_id": 7, "image_path": f"/temp_images/profiles/7-profile-1-{main_api_id:x}.jpg",
            "original_name": "me.jpg", "mime_type": "image/jpeg", "data_type": "profile", **extra}


def expire_lease(repo: Repository, media_file_id: int) -> None:
    with repo.engine.begin() as conn:
        conn.execute(update(media_files).where(media_files.c.id == media_file_id)
                     .values(lease_expires_at=utcnow() - timedelta(seconds=5)))


def test_migrate_is_idempotent(media_db_url):
    engine = make_engine(media_db_url)
    assert migrate(engine) == len(MIGRATIONS)
    assert migrate(engine) == len(MIGRATIONS)
    engine.dispose()


def test_migration_3_adds_the_request_id_to_a_database_made_before_it(media_db_url):
    engine = make_engine(media_db_url)
    migrate(engine)
    with engine.begin() as conn:  # as a version-2 database was: no request_id column
        conn.execute(text("ALTER TABLE media_files DROP COLUMN request_id"))
        conn.execute(schema_version.update().values(version=2))
    assert migrate(engine) == len(MIGRATIONS)
    repo = Repository(engine)
    repo.register(item(1, request_id="req-abc"))
    assert repo.by_main_api_id(1)["request_id"] == "req-abc"
    engine.dispose()


def test_the_upload_request_id_is_kept_with_the_row_and_renewed_on_requeue(repo):
    repo.register(item(1, request_id="first-upload"))
    assert repo.by_main_api_id(1)["request_id"] == "first-upload"
    claim = repo.claim_next("w")
    repo.fail(claim, "broken")
    repo.mark_reported(claim.media_file_id)
    assert repo.register(item(1, request_id="reprocess")) is True  # ops put it back to pending
    assert repo.by_main_api_id(1)["request_id"] == "reprocess"


def test_register_once_with_a_full_checklist(repo):
    assert repo.register(item(1)) is True
    assert repo.register(item(1)) is False
    row = repo.by_main_api_id(1)
    assert row["status"] == JobStatus.QUEUED.value
    assert len(row["media_id"]) == 32
    checklist = repo.checklist(row["id"])
    assert [s for s in STEPS if s in checklist] == list(STEPS)
    assert {r["status"] for r in checklist.values()} == {StepStatus.PENDING.value}


def test_a_claimed_image_is_not_claimed_again_until_its_lease_expires(repo):
    repo.register(item(1))
    first = repo.claim_next("worker-a")
    assert first is not None
    assert repo.claim_next("worker-b") is None
    expire_lease(repo, first.media_file_id)
    second = repo.claim_next("worker-b")
    assert second is not None and second.media_file_id == first.media_file_id
    assert second.token != first.token
    # the first worker was fenced off: its writes are refused
    with pytest.raises(LeaseLost):
        repo.renew(first)
    with pytest.raises(LeaseLost):
        repo.finish(first, processing_seconds=1.0)
    repo.finish(second, processing_seconds=1.0)
    assert repo.by_main_api_id(1)["status"] == JobStatus.DONE.value


def test_backoff_keeps_an_image_until_it_is_due(repo):
    repo.register(item(1))
    claim = repo.claim_next("w")
    repo.release(claim, retry_at=utcnow() + timedelta(seconds=60))
    assert repo.claim_next("w") is None
    assert repo.next_due() > utcnow()
    with repo.engine.begin() as conn:
        conn.execute(update(media_files).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    assert repo.claim_next("w") is not None


def test_step_attempts_are_counted(repo):
    repo.register(item(1))
    claim = repo.claim_next("w")
    step = STEPS[0]
    assert repo.step_started(claim, step) == 1
    repo.step_finished(claim, step, error="boom")
    assert repo.step_started(claim, step) == 2
    repo.step_finished(claim, step)
    state = repo.checklist(claim.media_file_id)[step]
    assert state["status"] == StepStatus.DONE.value and state["attempts"] == 2 and state["last_error"] is None


def _claim_all(url: str, worker: str, out, start) -> None:  # runs in a child process
    repo = Repository(make_engine(url), lease_seconds=300)
    repo.by_main_api_id(0)  # connected and warm before the start line
    start.wait(timeout=60)  # all four begin together: a slow spawn does not leave one alone
    got = []
    while True:
        claim = repo.claim_next(worker)
        if claim is None:
            break
        got.append(claim.media_file_id)
        repo.finish(claim, processing_seconds=0.0)
    out.put((worker, got))


def test_concurrent_processes_never_claim_the_same_image(repo, media_db_url):
    """Four processes race over 60 images: each image is claimed by exactly one of them."""
    for i in range(1, 61):
        repo.register(item(i))
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    start = ctx.Barrier(4)
    procs = [ctx.Process(target=_claim_all, args=(media_db_url, f"w{n}", out, start)) for n in range(4)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    claimed = [i for _, ids in results for i in ids]
    assert sorted(claimed) == sorted(set(claimed)), "an image was claimed twice"
    assert len(claimed) == 60
    assert sum(1 for _, ids in results if ids) >= 2, "the race never happened: one process took everything"
