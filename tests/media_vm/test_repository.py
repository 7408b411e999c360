"""The media DB: migrations, registration, claims, leases and fencing, on SQLite and MariaDB."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import text, update

from media_vm.checklist import STEPS, JobStatus, StepStatus
from media_vm.db import (
    MIGRATIONS,
    Repository,
    make_engine,
    media_files,
    migrate,
    schema_version,
    utcnow,
    worker_heartbeats,
)
from media_vm.exceptions import LeaseLost
from media_vm.worker.liveness import ProcessIdentity, pid_exists, this_process


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


def test_migration_4_adds_the_claim_order_and_the_heartbeat_process_to_a_database_made_before_it(media_db_url):
    engine = make_engine(media_db_url)
    migrate(engine)
    with engine.begin() as conn:  # as a version-3 database was
        conn.execute(text("DROP INDEX ix_media_files_user ON media_files" if engine.dialect.name == "mysql"
                          else "DROP INDEX ix_media_files_user"))
        conn.execute(text("ALTER TABLE media_files DROP COLUMN claimed_at_us"))
        for column in ("host", "host_key", "pid", "alive_until"):
            conn.execute(text(f"ALTER TABLE worker_heartbeats DROP COLUMN {column}"))
        conn.execute(schema_version.update().values(version=3))
    assert migrate(engine) == len(MIGRATIONS)
    repo = Repository(engine)
    repo.register(item(1))
    repo.heartbeat("w", process=this_process(), alive_seconds=15)
    assert repo.claim_next("w") is not None
    assert repo.media_file(1)["claimed_at_us"] > 0
    assert [r["worker_id"] for r in repo.workers_of_host(this_process().host_key)] == ["w"]
    engine.dispose()


def test_migrations_5_and_6_keep_location_and_the_thumbnail_step_for_a_database_made_before_them(media_db_url):
    from media_vm.checklist import Step, StepStatus
    from media_vm.db.schema import processing_checklist

    engine = make_engine(media_db_url)
    migrate(engine)
    repo = Repository(engine)
    repo.register(item(1))  # its variants made already
    repo.register(item(2))  # still to be made
    claim = repo.claim_next("w")
    repo.step_started(claim, Step.RESIZE_OPTIMIZE)
    repo.step_finished(claim, Step.RESIZE_OPTIMIZE)
    with engine.begin() as conn:  # as a version-4 database was
        conn.execute(processing_checklist.delete().where(processing_checklist.c.step == Step.MAKE_THUMBNAIL.value))
        conn.execute(text("ALTER TABLE media_files DROP COLUMN keep_location"))
        conn.execute(schema_version.update().values(version=4))
    assert migrate(engine) == len(MIGRATIONS)
    done = repo.checklist(claim.media_file_id)[Step.MAKE_THUMBNAIL]["status"]
    other = next(r["id"] for r in [repo.by_main_api_id(1), repo.by_main_api_id(2)] if r["id"] != claim.media_file_id)
    assert (done, repo.checklist(other)[Step.MAKE_THUMBNAIL]["status"]) == (StepStatus.DONE.value,
                                                                          StepStatus.PENDING.value)
    assert repo.by_main_api_id(1)["keep_location"] is False
    assert migrate(engine) == len(MIGRATIONS)  # and again: nothing doubled
    assert len(repo.checklist(other)) == len(Step)
    engine.dispose()


def test_migration_8_keeps_the_watermark_with_the_row_for_a_database_made_before_it(media_db_url):
    engine = make_engine(media_db_url)
    migrate(engine)
    repo = Repository(engine)
    repo.register(item(1))
    with engine.begin() as conn:  # as a version-7 database was: no watermark column
        conn.execute(text("ALTER TABLE media_files DROP COLUMN watermark"))
        conn.execute(schema_version.update().values(version=7))
    assert migrate(engine) == len(MIGRATIONS) >= 8
    assert repo.by_main_api_id(1)["watermark"] is None, "a row from before it: no watermark"
    repo.register(item(2, data_type="artwork", watermark="<b>Ana & Bo</b>"))
    repo.register(item(3, data_type="artwork", watermark=None))
    repo.register(item(4, data_type="artwork", watermark=""))
    assert [repo.by_main_api_id(n)["watermark"] for n in (2, 3, 4)] == ["<b>Ana & Bo</b>", None, None]
    engine.dispose()


def test_migration_11_adds_the_redis_state_of_the_heartbeats(media_db_url):
    engine = make_engine(media_db_url)
    migrate(engine)
    repo = Repository(engine)
    repo.heartbeat("old-worker", queue_depth=1)
    with engine.begin() as conn:  # as a version-10 database was
        conn.execute(text("ALTER TABLE worker_heartbeats DROP COLUMN redis_ok"))
        conn.execute(text("ALTER TABLE worker_heartbeats DROP COLUMN redis_outages"))
        conn.execute(schema_version.update().values(version=10))
    assert migrate(engine) == len(MIGRATIONS) >= 11
    repo.heartbeat("redis-worker", redis_ok=False, redis_outages=2)
    rows = {w["worker_id"]: w for w in repo.stats()["workers"]}
    assert (rows["old-worker"]["redis_ok"], rows["old-worker"]["redis_outages"]) == (None, None)
    assert (rows["redis-worker"]["redis_ok"], rows["redis-worker"]["redis_outages"]) == (False, 2)
    engine.dispose()


def test_a_requeued_image_takes_the_watermark_of_its_new_listing(repo):
    repo.register(item(1, data_type="artwork", watermark="old_name", queued_at=None))
    claim = repo.claim_next("w")
    repo.fail(claim, "broken")
    repo.mark_reported(claim.media_file_id)
    assert repo.register(item(1, data_type="artwork", watermark="new_name", queued_at="2026-11-30T10:00:00Z"))
    assert repo.by_main_api_id(1)["watermark"] == "new_name"


def test_a_failed_image_is_taken_up_again_only_for_a_later_round(repo):
    """A listing asked for while the worker was giving the image up names the round it failed
    (same queued_at): nothing happens. A retry's listing (a new queued_at) takes it up again,
    once. A main API that sends no queued_at keeps the old rule: listed pending, taken up."""
    repo.register(item(1, queued_at=None))
    claim = repo.claim_next("w")
    repo.fail(claim, "broken")
    repo.mark_reported(claim.media_file_id)
    assert repo.register(item(1, queued_at=None)) is False, "a stale listing of the same round"
    assert repo.by_main_api_id(1)["status"] == "failed"
    retried = "2026-11-30T10:00:00.000001Z"
    assert repo.register(item(1, queued_at=retried)) is True
    assert repo.register(item(1, queued_at=retried)) is False
    claim = repo.claim_next("w")
    repo.fail(claim, "broken again")
    repo.mark_reported(claim.media_file_id)
    assert repo.register(item(1, queued_at=retried)) is False, "the round it just failed"
    assert repo.register(item(1)) is True, "an older main API: listed pending means put back"


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


# --- fairness between users ------------------------------------------------------------------


def claim_order(repo: Repository) -> list[int]:
    """main API ids in the order one worker claims and finishes them, one at a time."""
    order = []
    while (claim := repo.claim_next("w")) is not None:
        order.append(repo.media_file(claim.media_file_id)["main_api_id"])
        repo.finish(claim, processing_seconds=1.0)
    return order


def test_claims_go_round_robin_over_users(repo):
    for main_api_id in range(1, 6):  # user 7's burst of five, then user 8's one and user 9's two
        repo.register(item(main_api_id))
    repo.register(item(6, user_id=8))
    repo.register(item(7, user_id=9))
    repo.register(item(8, user_id=9))
    assert claim_order(repo) == [1, 6, 7, 2, 8, 3, 4, 5]


def test_the_user_with_fewest_images_in_flight_is_served_first(repo):
    repo.register(item(1))
    repo.register(item(2))
    repo.register(item(3, user_id=8))
    held = repo.claim_next("w1")
    assert repo.media_file(held.media_file_id)["main_api_id"] == 1
    # user 7 has one image in flight, user 8 none: user 8's image although user 7's is older
    assert repo.media_file(repo.claim_next("w2").media_file_id)["main_api_id"] == 3
    assert repo.media_file(repo.claim_next("w3").media_file_id)["main_api_id"] == 2


# --- a dead worker's claims --------------------------------------------------------------------


def end_heartbeat(repo: Repository, worker_id: str) -> None:
    """As if ``worker_id`` had missed its heartbeats: its ``alive_until`` is past."""
    with repo.engine.begin() as conn:
        conn.execute(update(worker_heartbeats).where(worker_heartbeats.c.worker_id == worker_id)
                     .values(alive_until=utcnow() - timedelta(seconds=5)))


def test_a_claim_is_taken_over_once_its_workers_heartbeat_ran_out_long_before_its_lease(repo):
    repo.register(item(1))
    repo.heartbeat("frozen", process=this_process(), alive_seconds=15)
    claim = repo.claim_next("frozen")
    assert repo.claim_next("rescuer") is None, "a live worker's claim is not taken"
    end_heartbeat(repo, "frozen")
    assert repo.claim_next("frozen") is None, "a worker never takes its own claim over"
    assert repo.next_due() is not None, "a burst worker sees the image as due"
    rescued = repo.claim_next("rescuer")
    assert rescued is not None and rescued.media_file_id == claim.media_file_id
    assert repo.media_file(claim.media_file_id)["lease_expires_at"] > utcnow() + timedelta(seconds=50)
    with pytest.raises(LeaseLost):  # the frozen worker, awake again, writes nothing
        repo.step_started(claim, STEPS[0])
    repo.step_started(rescued, STEPS[0])


def test_the_claims_of_a_gone_process_are_freed_at_once_unless_a_new_one_wrote_the_heartbeat(repo):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    identity = this_process()
    dead = ProcessIdentity(identity.host, identity.host_key, gone.pid)
    assert not pid_exists(gone.pid) and pid_exists(identity.pid)
    repo.register(item(1))
    repo.register(item(2))
    repo.heartbeat("victim", process=dead, alive_seconds=15)
    claim = repo.claim_next("victim")
    assert [dict(r) for r in repo.workers_of_host(identity.host_key)] == [{"worker_id": "victim", "pid": gone.pid}]
    assert repo.take_over_dead("victim", pid=gone.pid) == 1
    rescued = repo.claim_next("rescuer")
    assert rescued is not None and rescued.media_file_id == claim.media_file_id
    # a new process of the same WORKER_ID beat (and claimed) since: its claims are its own
    repo.heartbeat("victim", process=identity, alive_seconds=15)
    repo.claim_next("victim")
    assert repo.take_over_dead("victim", pid=gone.pid) == 0
    assert repo.claim_next("rescuer") is None


def test_variant_sizes_of_many_images_in_one_query(repo):
    media_ids = []
    for main_api_id, sizes in ((1, ("thumbnail", "detail")), (2, ("thumbnail",)), (3, ())):
        repo.register(item(main_api_id))
        claim = repo.claim_next("t")
        media_id = repo.media_file(claim.media_file_id)["media_id"]
        media_ids.append(media_id)
        variants = [{"size": size, "format": fmt, "bg": "original", "path": f"library/{media_id}_{size}.{fmt}",
                     "width": 1, "height": 1, "bytes": 1} for size in sizes for fmt in ("webp", "jpeg")]
        variants.append({"size": "zoom", "format": "png", "bg": "removed", "path": f"library/{media_id}_nobg.png",
                         "width": 1, "height": 1, "bytes": 1})
        repo.save_variants(claim, media_id, variants)
    assert repo.variant_sizes(media_ids) == {media_ids[0]: {"thumbnail", "detail"}, media_ids[1]: {"thumbnail"}}
    assert repo.variant_sizes(media_ids, bg="removed") == {m: {"zoom"} for m in media_ids}
    assert repo.variant_sizes([]) == {}
