"""The satisfaction score's formula (app/analytics/satisfaction.py) at its corners."""

from __future__ import annotations

import pytest

from app.analytics.satisfaction import Friction, InvalidSurveyScore, satisfaction
from app.calls.records import Outcome

NONE = Friction()


def test_a_booking_with_a_happy_caller_and_no_friction_reaches_the_top() -> None:
    assert satisfaction(0.8, Outcome.BOOKED, NONE) == 5.0  # 4.5 + 0.8 clamped


def test_a_neutral_booking_scores_its_base() -> None:
    assert satisfaction(0.0, Outcome.BOOKED, NONE) == 4.5
    assert satisfaction(None, Outcome.BOOKED, NONE) == 4.5  # not scored counts as no mood


def test_a_failed_call_with_an_angry_caller_and_errors_hits_the_floor() -> None:
    assert satisfaction(-0.9, Outcome.FAILED, Friction(errors=1)) == 1.0  # 1.5 − 0.9 − 0.5


def test_sentiment_moves_the_score_by_its_value() -> None:
    assert satisfaction(-0.5, Outcome.INFO, NONE) == 3.5
    assert satisfaction(0.3, Outcome.INFO, NONE) == 4.3
    assert satisfaction(-7.0, Outcome.INFO, NONE) == 3.0  # a wrong input is held to −1


def test_escalation_and_abandonment_score_below_a_served_caller() -> None:
    served = satisfaction(0.0, Outcome.INFO, NONE)
    assert satisfaction(0.0, Outcome.TRANSFERRED, NONE) < served
    assert satisfaction(0.0, Outcome.TAKEN_OVER, NONE) < served
    assert satisfaction(0.0, Outcome.ABANDONED, NONE) < satisfaction(0.0, Outcome.TRANSFERRED, NONE)
    assert satisfaction(0.0, None, NONE) == 3.5


def test_friction_is_counted_and_each_kind_is_capped() -> None:
    assert satisfaction(0.0, Outcome.BOOKED, Friction(interruptions=2)) == 4.0
    assert satisfaction(0.0, Outcome.BOOKED, Friction(interruptions=10)) == 3.8  # cap 0.75
    assert satisfaction(0.0, Outcome.BOOKED, Friction(silence_prompts=1)) == 4.3
    assert satisfaction(0.0, Outcome.BOOKED, Friction(silence_prompts=9)) == 4.0  # cap 0.5
    assert satisfaction(0.0, Outcome.BOOKED, Friction(errors=5)) == 3.5  # cap 1.0
    everything = Friction(interruptions=3, silence_prompts=2, errors=2)
    assert satisfaction(0.0, Outcome.BOOKED, everything) == 2.3  # 4.5 − 0.75 − 0.5 − 1.0


def test_the_callers_own_survey_answer_overrides_the_estimate() -> None:
    assert satisfaction(0.9, Outcome.BOOKED, NONE, survey=2) == 2.0
    assert satisfaction(-1.0, Outcome.FAILED, Friction(errors=3), survey=5) == 5.0
    assert satisfaction(None, None, NONE, survey=1) == 1.0


@pytest.mark.parametrize("answer", [0, 6, 9, -1])
def test_a_survey_answer_outside_1_to_5_is_refused(answer: int) -> None:
    with pytest.raises(InvalidSurveyScore):
        satisfaction(0.0, Outcome.INFO, NONE, survey=answer)
