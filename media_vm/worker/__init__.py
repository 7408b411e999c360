"""The worker: claims images from the media DB and works their checklist.

One concept per module, as in rq:

- ``loop``: :class:`Worker` (claim, process, steps, failures, warm shutdown) and
  :func:`build_worker`, the CLI's factory;
- ``healer`` and ``deletions``: the self-healing cycle and the erasing of deleted uploads,
  each taking its collaborators, not the worker (as rq's ``maintenance.py`` does);
- ``reporting``: every outcome told to the main API; ``policy``: what a failed step means;
  ``retry``: the back-off arithmetic; ``liveness``: the process behind a heartbeat.

``Worker`` and ``build_worker`` are imported from ``loop`` on first use (PEP 562), so a module
that needs one piece of the package (the steps need ``reporting``) does not load the loop,
which imports the steps. Log lines keep the logger names they carried before the package
(``media_vm.worker``, ``media_vm.healer``, ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from media_vm.worker.loop import Worker, build_worker

__all__ = ["Worker", "build_worker"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from media_vm.worker import loop

        return getattr(loop, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
