"""The test seam of worker processes: a hook that holds a real worker inside a step.

The SIGKILL and SIGSTOP fault tests need a worker *process* paused inside a given step long
enough to kill it there or let its lease expire. ``python -m media_vm worker`` installs the
hook from :func:`from_env` as the worker's ``before_step`` only when ``MEDIA_VM_FAILPOINTS``
is set, e.g. ``resize_optimize=sleep:5`` or ``retrieve_file=sleep:3,update_callback=sleep:3``;
a production deployment never sets it, and no production code calls into this module.
In-process tests pass their own ``before_step`` to :class:`~media_vm.worker.Worker` instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

from media_vm.checklist import Step

log = logging.getLogger(__name__)

ENV_VAR = "MEDIA_VM_FAILPOINTS"


def parse(raw: str) -> dict[str, float]:
    """``"step=sleep:SECONDS,..."`` as ``{step: seconds}``; raises ValueError for anything else
    (an unknown step or action), so a mistyped test fails loudly instead of never pausing."""
    points: dict[str, float] = {}
    for item in filter(None, (p.strip() for p in raw.split(","))):
        name, _, action = item.partition("=")
        kind, _, arg = action.partition(":")
        if kind != "sleep":
            raise ValueError(f"{ENV_VAR}: unknown action {action!r} (only sleep:SECONDS)")
        if name.strip() not in {s.value for s in Step}:
            raise ValueError(f"{ENV_VAR}: unknown step {name.strip()!r}")
        points[name.strip()] = float(arg)
    return points


def from_env(environ: Mapping[str, str]) -> Callable[[Step], None] | None:
    """The ``before_step`` hook ``MEDIA_VM_FAILPOINTS`` asks for, or None when it is unset."""
    points = parse(environ.get(ENV_VAR, ""))
    if not points:
        return None

    def before_step(step: Step) -> None:
        seconds = points.get(step.value)
        if seconds:
            log.warning("failpoint %s: sleeping %.1fs", step.value, seconds)
            time.sleep(seconds)

    return before_step
