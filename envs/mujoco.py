"""MuJoCo single-task scenarios on gymnasium (the HalfCheetah continual ones: envs/halfcheetah_scenarios.py).

Budgets are module constants so a reader sees where each number comes from.
"""

from __future__ import annotations

import functools

import gymnasium

from plasticbench.envs.task import Scenario, Task

FAMILY = "mujoco"
BACKEND = "mujoco"

SINGLE_TASK_ENV_IDS: dict[str, str] = {
    "halfcheetah": "HalfCheetah-v5",
    "hopper": "Hopper-v5",
    "walker2d": "Walker2d-v5",
    "ant": "Ant-v5",
    "humanoid": "Humanoid-v5",
}
"""scenarios.md §3: the NE list (HalfCheetah, Hopper, Walker2d, Ant, Humanoid; DAPD uses four of
them). The spec proposes -v4; -v5 is what gymnasium 1.x maintains (same dynamics, Ant-v5 obs
105 with contact forces, Humanoid-v5 obs 348), so numbers are not comparable with -v4 runs."""

EXPERT_RETURNS: dict[str, float] = {"halfcheetah": 12135.0, "hopper": 3234.3, "walker2d": 4592.3, "ant": 3879.7}
"""R_reference of the single-task scores: D4RL's per-environment expert reference returns
(REF_MAX_SCORE of d4rl/infos.py, shared by every dataset of an env; scenarios.md §4.2), returns of
1000-step episodes on the -v2 gym envs. -v5 has the same dynamics and rewards (Ant-v5 also adds a
contact cost, so its constant is a slightly generous target). D4RL has no Humanoid locomotion data
and no other published constant was retrievable here, so Humanoid has none: its reference is the
plain learner (`ft1`) of the same learner and scale, measured (benchmark/reporting/scores.py)."""

SINGLE_TASK_BUDGETS: dict[str, int] = {"smoke": 300, "short": 50_000, "paper": 1_000_000}
"""Env steps. paper: DAPD trains "1 million gradient steps" and scenarios.md §3 proposes 1M
env steps for NE (its number was stripped from the seed text). smoke/short are harness
scales (seconds in CI, minutes on a laptop)."""

DAPD_FREEZE_RETURN: dict[str, float] = {"halfcheetah": 8_000.0, "walker2d": 3_500.0, "hopper": 2_500.0, "ant": 3_500.0}
"""DAPD's mask-freeze threshold R_th per env (dapd.md §5): HalfCheetah from the official README command,
the others the spec's proposal (about 70% of dense SAC's final return); Humanoid keeps the config default."""


def make_gymnasium_env(env_id: str, max_episode_steps: int | None = None) -> gymnasium.Env:
    """A fresh gymnasium env; None keeps the registered 1000-step limit. Module-level so tasks pickle."""
    return gymnasium.make(env_id, max_episode_steps=max_episode_steps)


def single_task_scenario(name: str) -> Scenario:
    """One online task on the standard gymnasium env, with its published expert return (EXPERT_RETURNS).

    Neither DAPD nor NE normalises MuJoCo returns (NE App. B.2 reports raw rewards); the harness
    does, so that scores are comparable across environments (ARCHITECTURE.md "Scores").
    """
    if name not in SINGLE_TASK_ENV_IDS:
        raise ValueError(f"unknown single-task MuJoCo scenario {name!r}; allowed: {sorted(SINGLE_TASK_ENV_IDS)}")
    env_id = SINGLE_TASK_ENV_IDS[name]
    task = Task(name=env_id, index=0, make=functools.partial(make_gymnasium_env, env_id),
                budgets=dict(SINGLE_TASK_BUDGETS), expert_return=EXPERT_RETURNS.get(name))
    dapd = {"dapd": {"freeze_return": DAPD_FREEZE_RETURN[name]}} if name in DAPD_FREEZE_RETURN else {}
    return Scenario(name=name, family=FAMILY, setting="online", backend=BACKEND, tasks=(task,), method_overrides=dapd)
