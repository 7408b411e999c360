"""The worker: claims images from the media DB and works their checklist.

One concept per module, as in rq:

- ``loop``: :class:`Worker`, the loop (claim, process, steps, failures, warm shutdown);
- ``poller``: every way of learning of new work (plain poll, long poll, Redis wake-up), with
  the one back-off and the failed-poll heartbeat they share;
- ``liveness``: the heartbeat, the leases kept while images are worked on, the take-over of
  dead workers' claims, and which process a worker is;
- ``maintenance``: when the ``healer`` (the self-healing cycle) and the ``deletions`` pass
  (erasing deleted uploads) run; both take their collaborators, not the worker, as rq's
  ``maintenance.py`` does;
- ``reporting``: every outcome told to the main API; ``policy``: what a failed step means,
  and doing it; ``retry``: the back-off arithmetic; ``shutdown``: SIGTERM/SIGINT set a stop
  flag (warm shutdown).

:func:`build_worker` makes a worker from the settings (the CLI's factory). ``Worker`` is
imported from ``loop`` on first use (PEP 562), and :func:`build_worker` imports what it needs
when called, so a module that needs one piece of the package (the steps need ``reporting``,
the seed's Redis worker ``retry`` and ``shutdown``) does not load the loop, which imports the
steps. Log lines keep the logger names they carried before the package (``media_vm.worker``,
``media_vm.healer``, ...).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from media_vm.config import Settings
    from media_vm.worker.loop import Worker

__all__ = ["Worker", "build_worker"]


def build_worker(settings: Settings, *, concurrency: int = 1) -> Worker:
    """A worker with the collaborators ``settings`` name: the media DB engine, the storage
    backend, the main API client and isolated image processes; the failpoint hook only when
    ``MEDIA_VM_FAILPOINTS`` is set (fault tests). The CLI's factory."""
    from media_vm import failpoints
    from media_vm.api_client import MainAPIClient
    from media_vm.db import Repository, make_engine
    from media_vm.isolation import ImageProcesses
    from media_vm.storage import make_storage
    from media_vm.worker.loop import Worker

    repo = Repository(make_engine(settings.database_url), lease_seconds=settings.lease_seconds)
    return Worker(
        settings, repo=repo, storage=make_storage(settings),
        client=MainAPIClient(settings.main_api_url, settings.main_api_key, timeout=settings.http_timeout),
        images=ImageProcesses(settings.process_timeout_seconds), concurrency=concurrency,
        before_step=failpoints.from_env(os.environ),
    )


def __getattr__(name: str) -> Any:
    if name == "Worker":
        from media_vm.worker.loop import Worker

        return Worker
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
