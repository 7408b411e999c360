"""Step timings of ``media_vm.processing_metrics``, on SQLite and MariaDB."""

from __future__ import annotations

import time

from sqlalchemy import text

from media_vm.checklist import Step
from media_vm.db import MIGRATIONS, Repository, make_engine, migrate, schema_version
from media_vm.processing_metrics import image_metrics


def timed_steps(repo: Repository, times: int = 3) -> list[int]:
    """``steps_ms`` of a step that takes ~150 ms, ``times`` times over (a whole-second clock gets
    one of them right by luck at most)."""
    repo.register({"id": 1, "user_id": 7, "image_path": "/temp_images/profiles/7-profile-1-1.jpg",
                   "original_name": "me.jpg", "mime_type": "image/jpeg", "data_type": "profile"})
    claim = repo.claim_next("w")
    timed = []
    for _ in range(times):
        repo.step_started(claim, Step.RETRIEVE_FILE)
        time.sleep(0.15)
        repo.step_finished(claim, Step.RETRIEVE_FILE)
        timed.append(image_metrics(repo, repo.media_file(claim.media_file_id))["steps_ms"]["retrieve_file"])
    return timed


def test_a_step_of_150_ms_is_timed_to_the_millisecond_not_the_second(repo):
    """The checklist's ``started_at``/``finished_at`` keep their milliseconds (a clock that dropped
    them, or a DATETIME column without fractional seconds, gave 0 or 1000 ms for this step)."""
    timed = timed_steps(repo)
    assert all(100 <= ms <= 400 for ms in timed), timed


def test_migration_12_gives_a_database_made_before_it_millisecond_step_times(media_db_url):
    engine = make_engine(media_db_url)
    migrate(engine)
    with engine.begin() as conn:  # as a version-11 database was: whole seconds on MySQL
        if engine.dialect.name == "mysql":
            conn.execute(text("ALTER TABLE processing_checklist MODIFY started_at DATETIME NULL, "
                              "MODIFY finished_at DATETIME NULL"))
        conn.execute(schema_version.update().values(version=11))
    assert migrate(engine) == len(MIGRATIONS) >= 12
    timed = timed_steps(Repository(engine))
    assert all(100 <= ms <= 400 for ms in timed), timed
    engine.dispose()
