"""The per-image checklist's steps, one module each, run in :data:`CHECKLIST` order.

The checklist itself (which steps, in which order) is defined once, as
:class:`media_vm.checklist.Step` (``STEPS``): the media DB's rows follow it, and
:data:`CHECKLIST` is the steps' implementations put in that order by
:func:`in_checklist_order`, which refuses at import time a step without an implementation.

Each step is a small class with a ``step`` (its :class:`~media_vm.checklist.Step`) and a
``run(ctx)`` over one :class:`StepContext`. Steps read what earlier steps stored (the
original's name, the analysis) from the media DB, so a step that failed can be run again on
its own without redoing the others. A step raises to fail; ``media_vm.worker.policy`` decides what
the failure means.
"""

from __future__ import annotations

from collections.abc import Iterable

from media_vm.checklist import STEPS, Step
from media_vm.steps.analyse import VisualAnalysis
from media_vm.steps.callback import UpdateCallback
from media_vm.steps.context import StepContext, StepImpl
from media_vm.steps.retrieve import RetrieveFile
from media_vm.steps.thumbnail import MakeThumbnail
from media_vm.steps.variants import ResizeOptimize


def in_checklist_order(impls: Iterable[StepImpl], steps: tuple[Step, ...] = STEPS) -> tuple[StepImpl, ...]:
    """``impls``, one per step of ``steps`` (the checklist, ``media_vm.checklist.STEPS``), in
    that order. Raises ValueError when a step has no implementation, or two, or when an
    implementation's step is not in ``steps``."""
    by_step: dict[Step, StepImpl] = {}
    for impl in impls:
        if impl.step in by_step:
            raise ValueError(f"two implementations of the step {impl.step.value}")
        if impl.step not in steps:
            raise ValueError(f"the step {impl.step.value} is not in the checklist")
        by_step[impl.step] = impl
    missing = [step.value for step in steps if step not in by_step]
    if missing:
        raise ValueError(f"no implementation of the step(s) {', '.join(missing)}")
    return tuple(by_step[step] for step in steps)


#: The steps' implementations in the order they run: the order of ``media_vm.checklist.STEPS``.
CHECKLIST: tuple[StepImpl, ...] = in_checklist_order(
    (RetrieveFile(), MakeThumbnail(), VisualAnalysis(), ResizeOptimize(), UpdateCallback()),
)

__all__ = ["CHECKLIST", "MakeThumbnail", "ResizeOptimize", "RetrieveFile", "StepContext", "StepImpl",
           "UpdateCallback", "VisualAnalysis", "in_checklist_order"]
