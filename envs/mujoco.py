"""MuJoCo scenarios on gymnasium: the single-task locomotion settings and HalfCheetah forgetting.

Budgets are module constants so a reader sees where each number comes from.
"""

from __future__ import annotations

import functools

import gymnasium

from plasticbench.envs.halfcheetah_variants import make_halfcheetah_variant
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

SINGLE_TASK_BUDGETS: dict[str, int] = {"smoke": 300, "short": 50_000, "paper": 1_000_000}
"""Env steps. paper: DAPD trains "1 million gradient steps" and scenarios.md §3 proposes 1M
env steps for NE (its number was stripped from the seed text). smoke/short are harness
scales (seconds in CI, minutes on a laptop)."""

FORGETTING_TASKS: tuple[str, ...] = ("hugefoot", "moon", "carry_stuff", "rainfall")
FORGETTING_REPEATS = 2
"""halfcheetah_forgetting = (hugefoot, moon, carry_stuff, rainfall) x2, 8 tasks (scenarios.md §1.5)."""

CONTINUAL_BUDGETS: dict[str, int] = {"smoke": 150, "short": 20_000, "paper": 1_000_000}
"""Env steps per task. paper: 1M interactions per task (Rewire §4.1, scenarios.md §1.5).
smoke/short keep 8 tasks within the harness's smoke (seconds) and short (minutes) scales."""

REWIRE_SAC: dict[str, object] = {
    "hidden": (256, 256, 256), "activation": "leaky_relu", "init_temperature": 2.0, "bootstrap_on_timeout": False,
}
"""The SAC that CSP/Rewire's code uses on every Brax scenario (continual-baselines.md §2.1-2.2):
4 Linear layers of width 256 with LeakyReLU(0.2), alpha_0 = 2, and time-limit ends treated as
terminal (the §2.2 PROPOSAL default for reproduction)."""

FORGETTING_SAC_OVERRIDES: dict[str, object] = {
    **REWIRE_SAC,
    "actor_lr": 1e-3, "critic_lr": 3e-4, "reward_scale": 1.0,
    "policy_delay": 2, "target_delay": 2, "target_entropy_multiplier": 2.0,
}
"""continual-baselines.md §2.3, per-scenario table, row halfcheetah/forgetting."""

FORGETTING_METHOD_OVERRIDES: dict[str, dict[str, float]] = {"ft_l2": {"strength": 1e4}, "ewc": {"strength": 0.01}}
"""continual-baselines.md §7.1 and §8.1: the FT-L2 and EWC lambdas for HC forgetting."""


DAPD_FREEZE_RETURN: dict[str, float] = {"halfcheetah": 8_000.0, "walker2d": 3_500.0, "hopper": 2_500.0, "ant": 3_500.0}
"""DAPD's mask-freeze threshold R_th per env (dapd.md §5): HalfCheetah from the official README command,
the others the spec's proposal (about 70% of dense SAC's final return); Humanoid keeps the config default."""


def make_gymnasium_env(env_id: str, max_episode_steps: int | None = None) -> gymnasium.Env:
    """A fresh gymnasium env; None keeps the registered 1000-step limit. Module-level so tasks pickle."""
    return gymnasium.make(env_id, max_episode_steps=max_episode_steps)


def single_task_scenario(name: str) -> Scenario:
    """One online task on the standard gymnasium env.

    reference_scores stay empty: neither DAPD nor NE normalises MuJoCo returns (NE App. B.2
    reports raw rewards), and the published numbers were not retrievable (scenarios.md §3).
    """
    if name not in SINGLE_TASK_ENV_IDS:
        raise ValueError(f"unknown single-task MuJoCo scenario {name!r}; allowed: {sorted(SINGLE_TASK_ENV_IDS)}")
    env_id = SINGLE_TASK_ENV_IDS[name]
    task = Task(name=env_id, index=0, make=functools.partial(make_gymnasium_env, env_id),
                budgets=dict(SINGLE_TASK_BUDGETS))
    dapd = {"dapd": {"freeze_return": DAPD_FREEZE_RETURN[name]}} if name in DAPD_FREEZE_RETURN else {}
    return Scenario(name=name, family=FAMILY, setting="online", backend=BACKEND, tasks=(task,), method_overrides=dapd)


def halfcheetah_forgetting() -> Scenario:
    """The CSP/Rewire HalfCheetah forgetting scenario on gymnasium's HalfCheetah-v5.

    reference_scores stay empty: the normaliser is SAC-N trained by this harness on each task
    (scenarios.md §1.6 PROPOSAL), stored as a versioned table, never hard-coded here.
    """
    names = FORGETTING_TASKS * FORGETTING_REPEATS
    tasks = tuple(
        Task(name=variant, index=i, make=functools.partial(make_halfcheetah_variant, variant),
             budgets=dict(CONTINUAL_BUDGETS))
        for i, variant in enumerate(names)
    )
    return Scenario(
        name="halfcheetah_forgetting", family=FAMILY, setting="continual", backend=BACKEND, tasks=tasks,
        learner_overrides={"sac": dict(FORGETTING_SAC_OVERRIDES)},
        method_overrides={name: dict(values) for name, values in FORGETTING_METHOD_OVERRIDES.items()},
    )
