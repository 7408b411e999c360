"""The checklist is defined once (``media_vm.checklist.STEPS``); the steps' implementations
(``media_vm.steps.CHECKLIST``) follow it and cannot leave a step out."""

from __future__ import annotations

import pytest

from media_vm.checklist import STEPS, Step
from media_vm.steps import CHECKLIST, in_checklist_order


def test_the_steps_run_in_the_order_of_the_checklist():
    assert [impl.step for impl in CHECKLIST] == list(STEPS)


def test_the_implementations_are_put_in_checklist_order_whatever_order_they_are_given_in():
    assert in_checklist_order(reversed(CHECKLIST)) == CHECKLIST


def test_a_step_without_an_implementation_is_refused():
    with pytest.raises(ValueError, match="no implementation of the step.s. update_callback"):
        in_checklist_order(CHECKLIST[:-1])


def test_two_implementations_of_one_step_are_refused():
    with pytest.raises(ValueError, match="two implementations of the step retrieve_file"):
        in_checklist_order((*CHECKLIST, CHECKLIST[0]))


def test_an_implementation_of_a_step_outside_the_checklist_is_refused():
    with pytest.raises(ValueError, match="make_thumbnail is not in the checklist"):
        in_checklist_order(CHECKLIST, steps=(Step.RETRIEVE_FILE,))
