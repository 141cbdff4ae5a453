"""Reading a route's steps: branches, lane choices, and which option a uniform draw picks."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from itertools import accumulate

from gatesim.scenario.schema import ChooseStep, LaneStep, Step


def option_index(cumulative: list[float], u: float) -> int:
    """The option whose share interval holds uniform ``u`` (the last one if rounding leaves
    ``u`` beyond the total): the one rule for branches, sites and the path cache."""
    return min(bisect_right(cumulative, u), len(cumulative) - 1)


def pick(shares: dict[str, float], u: float) -> str:
    return list(shares)[option_index(list(accumulate(shares.values())), u)]


def choose_steps(steps: list[Step]) -> Iterator[ChooseStep]:
    for step in steps:
        if isinstance(step, ChooseStep):
            yield step
            for option in step.options.values():
                yield from choose_steps(option.steps)


def branch_names(steps: list[Step]) -> Iterator[str]:
    return (step.choose for step in choose_steps(steps))


def has_lane_choice(steps: list[Step]) -> bool:
    """Does a step of these (or of a branch among them) offer several lanes?"""
    for step in steps:
        if isinstance(step, LaneStep) and not isinstance(step.lane, str) and len(step.lane) > 1:
            return True
        if isinstance(step, ChooseStep) and any(has_lane_choice(o.steps)
                                                for o in step.options.values()):
            return True
    return False


def cumulative(step: ChooseStep) -> list[float]:
    return list(accumulate(o.p for o in step.options.values()))
