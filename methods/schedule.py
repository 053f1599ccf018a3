"""Structural schedules relative to the task budget (ARCHITECTURE.md, "The method contract").

A method's schedule (a reset period, an injection step, a recycling frequency, a growth interval and
end) is a fraction of the task's budget in env steps, chosen so that at `scale=paper` (1M env steps
per task, envs/mujoco.py) it gives the paper's number exactly, and at smoke and short the same
proportion of training. Each method's `Config` keeps an absolute-steps option that, when set,
overrides the fraction (a fixed setting to reproduce, a unit test).

| method | schedule | default fraction | paper (1M/task) | short (50k) | smoke (300) | spec |
|---|---|---|---|---|---|---|
| reset | T_reset, env steps in the task | 0.2 of the task | 200,000 | 10,000 | 60 | reset.md §5 |
| redo | F, gradient steps | 0.001 of the task | 1,000 | 50 | 1 | redo.md §5 |
| pi | injection, env step (single task) | 0.5 of the task | 500,000 | 25,000 | 150 | pi.md §5 |
| ne | Delta T, steps of each network | 1e-4 of the task, >= 10 | 100 | 10 | 10 | ne.md §5 |
| ne | T_end, steps of each network | 0.975 of the run | 975,000 | 48,750 | 292 | ne.md §5 |

Continual runs: Reset also resets and PI also injects at every task switch; NE's T_end spans the
whole run (ne.md §3). PackNet's fine-tune length is its own `retrain_fraction` (methods/packnet.py).
Rounding is Python's `round`; a derived count is at least 1 (NE: 10), so at smoke ReDo recycles
every update. Every number in the table is checked in tests/methods/test_ne.py.
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
