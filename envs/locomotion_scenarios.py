"""The nine CSP / Rewire continual scenarios (scenarios.md §1.5) on the brax and MuJoCo backends.

Brax scenarios are named `<scenario>_brax` (selected with `backend=brax`, benchmark/config.py), so a
record's suite names its backend and the leaderboard, which groups by suite, never pools the two.
The four HalfCheetah scenarios on MuJoCo are registered by envs/mujoco.py; Ant and Humanoid on MuJoCo
are here. Budgets, SAC settings and method lambdas are the spec's tables, kept as data.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from plasticbench.envs.brax import BraxTaskMaker
from plasticbench.envs.locomotion_variants import make_mujoco_variant
from plasticbench.envs.halfcheetah_scenarios import BUDGETS as CONTINUAL_BUDGETS
from plasticbench.envs.halfcheetah_scenarios import LAMBDAS as HC_LAMBDAS
from plasticbench.envs.halfcheetah_scenarios import NUM_TASKS as HC_NUM_TASKS
from plasticbench.envs.halfcheetah_scenarios import REWIRE_SAC
from plasticbench.envs.halfcheetah_scenarios import SCHEDULE as RN_SCHEDULE
from plasticbench.envs.halfcheetah_scenarios import SAC_PER_SCENARIO as HC_SAC
from plasticbench.envs.halfcheetah_scenarios import TASKS as HC_TASKS
from plasticbench.envs.task import Scenario, Task

BRAX_SUFFIX = "_brax"
BRAX_SCHEDULE = {**RN_SCHEDULE, "paper": {**RN_SCHEDULE["paper"], "envs_per_seed": 128}}
"""[RN]'s Brax collection (continual-baselines.md §2.3): 128 environments per seed at paper scale, 64
gradient steps per 128 transitions (`updates_per_step` 0.5), updates from 12,800 stored transitions.
The MuJoCo backend keeps one environment per seed (128 gymnasium environments per seed step one by
one in Python); `scale.envs_per_seed=128` asks for them."""


@dataclass(frozen=True)
class ScenarioSpec:
    """One row of scenarios.md §1.5 with its rows of continual-baselines.md §2.3, §7.1 and §8.1."""

    domain: str
    base: tuple[str, ...]
    repeats: int
    sac: Mapping[str, object]  # lr policy, lr Q, reward scale, delays, target multiplier (§2.3)
    l2: float  # FT-L2 lambda (§7.1)
    ewc: float  # EWC lambda (§8.1)
    paper_budget: int = 1_000_000


def _sac(actor_lr: float, critic_lr: float, reward_scale: float, policy_delay: int, target_delay: int,
         multiplier: float) -> dict[str, object]:
    return {**REWIRE_SAC, "actor_lr": actor_lr, "critic_lr": critic_lr, "reward_scale": reward_scale,
            "policy_delay": policy_delay, "target_delay": target_delay, "target_entropy_multiplier": multiplier}


SCENARIOS: Mapping[str, ScenarioSpec] = {
    **{f"halfcheetah_{kind}": ScenarioSpec("halfcheetah", HC_TASKS[kind], HC_NUM_TASKS // len(HC_TASKS[kind]),
                                          {**REWIRE_SAC, **HC_SAC[kind]}, HC_LAMBDAS[kind]["ft_l2"], HC_LAMBDAS[kind]["ewc"])
       for kind in HC_TASKS},  # the MuJoCo HalfCheetah scenarios' own data (envs/halfcheetah_scenarios.py)
    "ant_forgetting": ScenarioSpec("ant", ("normal", "hugefoot", "rainfall", "moon"), 2,
                                   _sac(1e-3, 1e-3, 10, 2, 4, 1), 1e4, 0.01),
    "ant_transfer": ScenarioSpec("ant", ("disabled_first_diagonal", "disabled_second_diagonal", "disabled_forefeet",
                                         "disabled_backfeet"), 2, _sac(1e-3, 1e-3, 1, 2, 2, 1), 1, 1e4),
    "ant_robustness": ScenarioSpec("ant", ("normal", "inverted_actions", "normal", "inverted_actions"), 2,
                                   _sac(1e-3, 1e-3, 1, 2, 4, 2), 1, 100),
    "ant_compositionality": ScenarioSpec("ant", ("disabled_hard1", "disabled_hard2", "disabled_forefeet",
                                                 "disabled_backfeet"), 2, _sac(3e-4, 3e-4, 10, 4, 4, 2), 100, 0.01),
    "humanoid_hard": ScenarioSpec("humanoid", ("normal", "moon", "carrystuff", "tinyfeet"), 1,
                                  _sac(1e-3, 3e-4, 0.1, 1, 1, 2), 0.01, 0.01, paper_budget=2_000_000),
}
"""scenarios.md §1.5 (order, repeats, budgets); SAC per continual-baselines.md §2.3; lambdas §7.1, §8.1."""


def build_scenario(name: str, backend: str) -> Scenario:
    """Scenario `name` on `backend` ("brax" or "mujoco"); each position of the task list is its own task id."""
    if name not in SCENARIOS:
        raise ValueError(f"unknown locomotion scenario {name!r}; allowed: {sorted(SCENARIOS)}")
    spec = SCENARIOS[name]
    budgets = {**CONTINUAL_BUDGETS, "paper": spec.paper_budget}
    tasks = []
    for index, variant in enumerate(spec.base * spec.repeats):
        make = (BraxTaskMaker(spec.domain, variant) if backend == "brax"
                else functools.partial(make_mujoco_variant, spec.domain, variant))
        tasks.append(Task(name=variant, index=index, make=make, budgets=dict(budgets), backend=backend))
    return Scenario(
        name=name + BRAX_SUFFIX if backend == "brax" else name, family=backend, setting="continual", backend=backend,
        tasks=tuple(tasks), learner_overrides={"sac": dict(spec.sac)},
        method_overrides={"ft_l2": {"strength": spec.l2}, "ewc": {"strength": spec.ewc}},
        scale_overrides={k: dict(v) for k, v in BRAX_SCHEDULE.items()} if backend == "brax" else {})


LOCOMOTION_BUILDERS: dict[str, Callable[[], Scenario]] = {
    **{name + BRAX_SUFFIX: functools.partial(build_scenario, name, "brax") for name in SCENARIOS},
    **{name: functools.partial(build_scenario, name, "mujoco") for name in SCENARIOS if not name.startswith("halfcheetah")},
}
"""The catalog's entries from this module: nine brax scenarios, and Ant and Humanoid on MuJoCo."""
