"""The worker's periodic passes: the self-healing cycle and the erasing of deleted uploads.

The loop calls :meth:`Maintenance.run_due` on each turn: the healer
(``media_vm.worker.healer``) runs every ``HEAL_INTERVAL_SECONDS``, the deletions pass
(``media_vm.worker.deletions``) every ``DELETIONS_POLL_SECONDS`` and at once when the worker
starts (deletions that arrived while it was down); a burst runs both once more before it ends.
Like rq's ``maintenance.py``, the passes take the worker's collaborators, not the worker.
"""

from __future__ import annotations

import logging
import time

from media_vm.api_client import MainAPIClient
from media_vm.config import Settings
from media_vm.db import Repository
from media_vm.defaults import DELETIONS_POLL_SECONDS
from media_vm.exceptions import MainAPIError
from media_vm.storage import Storage
from media_vm.worker.deletions import erase_deleted
from media_vm.worker.healer import heal
from media_vm.worker.reporting import Reporter

log = logging.getLogger("media_vm.worker")  # the name its log lines have always carried


class Maintenance:
    """Runs the healer and the deletions pass over one worker's collaborators when they are due:
    ``settings`` (``worker_id``, ``heal_interval_seconds`` and the healer's own), ``repo`` (the
    media DB), ``storage``, ``client`` (the main API) and ``reporter``."""

    def __init__(self, settings: Settings, *, repo: Repository, storage: Storage, client: MainAPIClient,
                 reporter: Reporter) -> None:
        self.settings = settings
        self.repo = repo
        self.storage = storage
        self.client = client
        self.reporter = reporter
        self._next_heal = self._next_erase = 0.0  # monotonic times

    def start(self) -> None:
        """Before the loop: the first healing cycle due in ``HEAL_INTERVAL_SECONDS``, the first
        deletions pass at once."""
        self._next_heal = time.monotonic() + self.settings.heal_interval_seconds
        self._next_erase = 0.0

    def run_due(self) -> None:
        """The passes whose time has come. Media DB and storage errors of the healer propagate
        (the loop logs them and resumes)."""
        if time.monotonic() >= self._next_heal:
            self.heal()
            self._next_heal = time.monotonic() + self.settings.heal_interval_seconds
        if time.monotonic() >= self._next_erase:
            self.erase_deleted()
            self._next_erase = time.monotonic() + DELETIONS_POLL_SECONDS

    def heal(self) -> dict[str, int]:
        """One self-healing cycle (``media_vm.worker.healer.heal``); returns its counts."""
        return heal(settings=self.settings, repo=self.repo, storage=self.storage, reporter=self.reporter)

    def erase_deleted(self) -> dict[str, int]:
        """One pass over the uploads the main API lists as deleted (``media_vm.worker.deletions``);
        returns its counts. An unreachable main API is logged and left to the next pass (``{}``)."""
        try:
            return erase_deleted(repo=self.repo, storage=self.storage, client=self.client, reporter=self.reporter)
        except MainAPIError as e:
            log.warning("worker %s: deletions not fetched (%s); next pass in %.0fs", self.settings.worker_id, e,
                        DELETIONS_POLL_SECONDS)
            return {}
