"""The per-image checklist's steps, one module each, run in :data:`CHECKLIST` order.

Each step is a small class with a ``step`` (its :class:`~media_vm.checklist.Step`) and a
``run(ctx)`` over one :class:`StepContext`. Steps read what earlier steps stored (the
original's name, the analysis) from the media DB, so a step that failed can be run again on
its own without redoing the others. A step raises to fail; ``media_vm.worker.policy`` decides what
the failure means.
"""

from __future__ import annotations

from media_vm.steps.analyse import VisualAnalysis
from media_vm.steps.callback import UpdateCallback
from media_vm.steps.context import StepContext, StepImpl
from media_vm.steps.retrieve import RetrieveFile
from media_vm.steps.thumbnail import MakeThumbnail
from media_vm.steps.variants import ResizeOptimize

#: The steps in the order they run (the order of ``media_vm.checklist.Step``).
CHECKLIST: tuple[StepImpl, ...] = (
    RetrieveFile(), MakeThumbnail(), VisualAnalysis(), ResizeOptimize(), UpdateCallback(),
)

__all__ = ["CHECKLIST", "MakeThumbnail", "ResizeOptimize", "RetrieveFile", "StepContext", "StepImpl",
           "UpdateCallback", "VisualAnalysis"]
