"""Erasing deleted uploads: the VM learns of them from the main API as it learns of uploads.

One pass (:func:`erase_deleted`, run from the worker's loop every ``DELETIONS_POLL_SECONDS``
and before a burst ends) fetches ``GET /api/media/deletions`` and, for each deletion, stops any
work on the image (``media_vm.db.deletions``: the claim fencing), deletes its original under
``bulk/`` and every variant through the :class:`Storage` interface (``delete_many``: local disk
and the bucket alike), removes its rows (media file, checklist, analysis, fingerprint,
variants), then acknowledges it through :class:`Reporter`.

Idempotent and resumable: nothing is acknowledged before everything is gone, so a VM that was
down (or failed half-way) erases the rest on its next pass, and a repeated pass over an image
already erased finds nothing and acknowledges again. Besides the names the media DB records,
the pass lists the image's own prefixes (``library/.../{media_id}_``, ``bulk/{day}/{media_id}.``)
so a file written by a worker that was stopped mid-step is found too. Like the healer, it takes
the collaborators, not the worker.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from media_vm.api_client import MainAPIClient
from media_vm.db import Repository
from media_vm.defaults import DELETION_UNSEEN_GRACE_SECONDS, DELETIONS_BATCH
from media_vm.exceptions import MainAPIError
from media_vm.storage import Storage
from media_vm.worker.reporting import Reporter
from shared.payloads import DeletionPayload

log = logging.getLogger("media_vm.deletions")  # the name its log lines have always carried

#: Read at each call, so a test can shorten it.
UNSEEN_GRACE_SECONDS = DELETION_UNSEEN_GRACE_SECONDS


def erase_deleted(*, repo: Repository, storage: Storage, client: MainAPIClient, reporter: Reporter,
                  limit: int = DELETIONS_BATCH) -> dict[str, int]:
    """One pass over the deletions the main API lists. Returns counts: ``erased`` (images
    removed and acknowledged), ``absent`` (nothing of it here: acknowledged), ``waiting`` (a
    worker is still on it, or an unseen one is younger than the grace: left for a later pass)
    and ``failed`` (storage, media DB or main API trouble: left for a later pass). Raises
    :class:`MainAPIError` when the list cannot be fetched."""
    counts = {"erased": 0, "absent": 0, "waiting": 0, "failed": 0}
    for deletion in client.deletions(limit=limit):
        try:
            outcome = erase_one(deletion, repo=repo, storage=storage)
            if outcome in ("erased", "absent"):
                reporter.deletion_done(int(deletion["id"]))
        except MainAPIError as e:
            log.warning("deletion %s: acknowledgement not delivered (%s); next pass", deletion["id"], e)
            outcome = "failed"
        except Exception:  # noqa: BLE001 - storage or media DB trouble: the next pass repeats it
            log.exception("deletion %s: not erased yet; next pass", deletion["id"])
            outcome = "failed"
        counts[outcome] += 1
    if any(counts.values()):
        log.info("deletions: %s", counts)
    return counts


def erase_one(deletion: DeletionPayload, *, repo: Repository, storage: Storage) -> str:
    """Erase what this VM holds of one deleted upload: ``"erased"``, ``"absent"`` or
    ``"waiting"`` (see :func:`erase_deleted`); storage and media DB errors propagate."""
    doomed = repo.deletion_hold(main_api_id=int(deletion["main_api_id"]), media_id=deletion.get("media_id"))
    if doomed is None:
        age = (datetime.now(UTC) - _parse_time(deletion["requested_at"])).total_seconds()
        return "absent" if age >= UNSEEN_GRACE_SECONDS else "waiting"
    row = doomed.row
    media_ids = {row["media_id"]} | ({deletion["media_id"]} if deletion.get("media_id") else set())
    names = repo.deletion_names(row["id"])
    reldir = storage.library_reldir(row["user_id"], row["data_type"])
    day = row["created_at"].date().isoformat()
    for media_id in media_ids:
        names.update(storage.list_names(f"{reldir}/{media_id}_"))
        names.update(storage.list_names(f"bulk/{day}/{media_id}."))
    storage.delete_many(sorted(names))
    if doomed.busy:
        # a worker was on it: what it writes until its step ends is erased by a later pass
        log.info("deletion %s: media %s was being processed; stopped, finishing after %s",
                 deletion["id"], row["media_id"], doomed.until)
        return "waiting"
    repo.erase(row["id"])
    log.info("deletion %s: media %s erased (%s file(s))", deletion["id"], row["media_id"], len(names))
    return "erased"


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
