"""Multitask scenarios: a task list trained all at once, each observation ending in its task's one-hot id.

DAPD's multitask setup (dapd.md §1, §3 "Multi-task"; [C-MT] `sac_venv.py`) runs one environment per task
side by side and lets a single network tell the tasks apart by a task id in its input. Here each task's
environment appends the one-hot of its index to the observation (so Scenario.obs_dim counts it, and the
evaluation, the rollouts and the replay see it without knowing of multitask), and the run loop steps
every task's environments once per step (benchmark/multitask_loop.py). Any existing task list becomes a
multitask scenario with `multitask_scenario`; `halfcheetah_mt` is the HalfCheetah variants of the
forgetting scenario, the multitask set issue 13 names until Meta-World MT10 is a suite.
"""
from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gymnasium
import numpy as np

from plasticbench.envs.halfcheetah_scenarios import BUDGETS as HALFCHEETAH_BUDGETS
from plasticbench.envs.halfcheetah_scenarios import TASKS as HALFCHEETAH_TASKS
from plasticbench.envs.halfcheetah_variants import make_halfcheetah_variant
from plasticbench.envs.mujoco import BACKEND, DAPD_FREEZE_RETURN, FAMILY
from plasticbench.envs.task import Scenario, Task

DAPD_MULTITASK = {"moving_average": 5}
"""[C-MT README] multitask example: K = 5 (dapd.md §5). Its hidden 1024 and batch 1024 are not applied:
they are for MT10 at 1M steps; the learner's defaults keep smoke and short scales CPU-sized."""


class TaskOneHot(gymnasium.ObservationWrapper):
    """Appends the one-hot of task `index` out of `num_tasks` to every observation."""

    def __init__(self, env: gymnasium.Env, index: int, num_tasks: int) -> None:
        super().__init__(env)
        if not 0 <= index < num_tasks:
            raise ValueError(f"task index {index} out of range for {num_tasks} tasks; allowed: 0..{num_tasks - 1}")
        box = env.observation_space
        self.one_hot = np.eye(num_tasks, dtype=box.dtype)[index]
        self.observation_space = gymnasium.spaces.Box(np.concatenate([box.low, np.zeros(num_tasks, box.dtype)]),
                                                      np.concatenate([box.high, np.ones(num_tasks, box.dtype)]),
                                                      dtype=box.dtype)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return np.concatenate([observation, self.one_hot])


def make_task_env(make: Callable[[int | None], gymnasium.Env], index: int, num_tasks: int,
                  max_episode_steps: int | None = None) -> gymnasium.Env:
    """`make(max_episode_steps)` with the task's one-hot appended. Module-level so tasks pickle."""
    return TaskOneHot(make(max_episode_steps), index, num_tasks)


def multitask_scenario(name: str, tasks: Sequence[Task], family: str, backend: str,
                       learner_overrides: Mapping[str, Mapping[str, Any]] | None = None,
                       method_overrides: Mapping[str, Mapping[str, Any]] | None = None) -> Scenario:
    """`tasks` (own indices 0..T-1, one shared budget) as one multitask scenario."""
    if len({t.name for t in tasks}) != len(tasks):
        raise ValueError(f"multitask scenario {name!r} repeats a task ({[t.name for t in tasks]}): "
                         "each task of a multitask set must be distinct")
    wrapped = tuple(dataclasses.replace(t, index=i, make=functools.partial(make_task_env, t.make, i, len(tasks)))
                    for i, t in enumerate(tasks))
    return Scenario(name=name, family=family, setting="multitask", backend=backend, tasks=wrapped,
                    learner_overrides=dict(learner_overrides or {}), method_overrides=dict(method_overrides or {}))


def halfcheetah_mt() -> Scenario:
    """The four distinct HalfCheetah variants of the forgetting scenario, trained at once (4 tasks,
    the continual scenarios' budget per task); DAPD with the multitask K and HalfCheetah's threshold."""
    tasks = [Task(name=v, index=i, make=functools.partial(make_halfcheetah_variant, v), budgets=dict(HALFCHEETAH_BUDGETS))
             for i, v in enumerate(HALFCHEETAH_TASKS["forgetting"])]
    dapd = {**DAPD_MULTITASK, "freeze_return": DAPD_FREEZE_RETURN["halfcheetah"]}
    return multitask_scenario("halfcheetah_mt", tasks, FAMILY, BACKEND, method_overrides={"dapd": dapd})
