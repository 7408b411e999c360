"""The per-image checklist (its steps, in order) and the states of a step and of an image.

The media VM's own bookkeeping, not on the wire.
"""

from __future__ import annotations

from enum import Enum


class JobStatus(str, Enum):
    """State of a ``media_files`` row."""

    QUEUED = "queued"  # registered from the main API's pending list, not started
    PROCESSING = "processing"  # at least one step has run, not all are done
    DONE = "done"  # every step done, the main API acknowledged the callback
    FAILED = "failed"  # given up; ``failure_reason`` says why


class StepStatus(str, Enum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Step(str, Enum):
    """The per-image checklist, in the order the steps run."""

    RETRIEVE_FILE = "retrieve_file"
    MAKE_THUMBNAIL = "make_thumbnail"  # the thumbnail set first, servable within about a second
    AI_VISUAL_ANALYSIS = "ai_visual_analysis"
    RESIZE_OPTIMIZE = "resize_optimize"
    UPDATE_CALLBACK = "update_callback"


#: The checklist, in the order the steps run: its one definition. ``media_vm.steps.CHECKLIST``
#: puts the steps' implementations in this order (and refuses a step without one).
STEPS: tuple[Step, ...] = tuple(Step)
