"""Structural schedules relative to the task budget (ARCHITECTURE.md, "The method contract").

A method's schedule (a reset period, an injection step, a recycling frequency, a growth interval and
end) is a fraction of the task's budget in env steps, chosen so that at `scale=paper` (1M env steps
per task, envs/mujoco.py) it gives the paper's number exactly, and at smoke and short the same
proportion of training. Each method's `Config` keeps an absolute-steps option that, when set,
overrides the fraction (a fixed setting to reproduce, a unit test).
"""
from __future__ import annotations

from typing import Callable


def steps_for(absolute: int | None, fraction: float, budget: int | Callable[[], int], minimum: int = 1) -> int:
    """`absolute` when set, else max(minimum, round(fraction * budget)).

    `budget` may be a zero-argument callable, so a learner built without task budgets is only an
    error when a schedule actually needs one.
    """
    if absolute is not None:
        return absolute
    total = budget() if callable(budget) else budget
    return max(minimum, round(fraction * total))
