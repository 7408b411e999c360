"""``update_callback``: tell the main API the image is processed."""

from __future__ import annotations

from media_vm.checklist import Step
from media_vm.steps.context import StepContext


class UpdateCallback:
    """``POST /api/media/complete/{id}`` with the rich payload (idempotent on the main API's
    side); raises :class:`MainAPIError` when not delivered."""

    step = Step.UPDATE_CALLBACK

    def run(self, ctx: StepContext) -> None:
        ctx.reporter.complete(ctx.row())
