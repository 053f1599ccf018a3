"""The four CSP/Rewire HalfCheetah continual scenarios on the MuJoCo backend, with the Rewire code's settings.

Task orders (scenarios-halfcheetah.md "Scenarios"; each list twice, 8 tasks; variants in
envs/halfcheetah_variants.py): forgetting, transfer, robustness and compositionality. Each carries
the per-scenario SAC of [RN] (continual-baselines.md §2.3 table), the FT-L2 and EWC lambdas (§7.1,
§8.1) and the [RN] schedule (§2.3, §10.1) as data: update-to-data ratio 0.5 (`updates_per_step`),
the 12,800-transition warm-up at paper scale with one uniform-random acquisition call, and
PackNet's fine-tune of 20% of a task's gradient steps.

Deliberate differences from the paper code ([RN] = feifeiobama/RewireNeuron, the CSP/salina code):

| setting | [RN] (Brax) | here (MuJoCo backend) | why |
|---|---|---|---|
| simulator | Brax HalfCheetah, obs 18 | gymnasium HalfCheetah-v5, obs 17 | the MuJoCo backend of the same variant table; records say backend="mujoco" (a different benchmark) |
| environments per seed | 128 in parallel | 1 (`learner.envs_per_seed`, only 1 accepted) | the run loop steps one env per seed (envs/vector.py); 128 would need an [S, 128] env batch and replay layout |
| update cadence | 128 transitions, then 64 gradient steps | 1 transition, then floor-ratio updates (one every second step) | the same ratio 0.5 with one env; updates interleave more finely |
| warm-up, paper scale | fill 12,800 transitions before updating; the first acquisition call uniform (128 transitions) | `learning_starts` 12,800; `random_steps` 1 (one call of one env) | same threshold; one env makes one call one transition |
| warm-up, smoke / short | (no such scales) | the scale's `learning_starts` (64 / 5,000), `random_steps` 1 | 12,800 exceeds a smoke task; the scale's own warm-up |
| uniform call on later tasks | each task's acquisition starts fresh (spec: "only the very first call") | first task only, as the run loop does for every scenario | read as the run's first call; later tasks start from a trained policy |
| task budget | stop once the transitions over all envs exceed `n_steps` (up to 127 over) | exactly the budget | one env, no overshoot |
| replay capacity | 1,280,000 | the task budget (buffer emptied at every task start in both) | no transition is ever dropped in either |
| evaluation | 10 rounds x 512 envs, deterministic | the scale's `eval_episodes` (paper 10) deterministic episodes per seed and task | cost on CPU; same deterministic policy |
| reset noise | brax's default | U(-0.1, 0.1) on joint positions and velocities (spec), not gymnasium's 0.1 N(0, 1) velocities | scenarios-halfcheetah.md "Initial state" |
| PackNet fine-tune | 100,000 gradient steps | `retrain_fraction` 0.2 of the task's gradient steps: 100,000 at paper | equal at paper, proportional at smaller scales |

Everything else (networks, learning rates, delays, temperature, target entropy, batch, gamma, tau,
time-limit ends as terminal) is [RN]'s value. Scores normalize by SAC-N of the same scenario, learner
and scale (benchmark/reporting/scores.py), never by a hard-coded table.
"""
from __future__ import annotations

import functools
from typing import Any

from plasticbench.envs.halfcheetah_variants import make_halfcheetah_variant
from plasticbench.envs.mujoco import BACKEND, FAMILY
from plasticbench.envs.task import Scenario, Task

NUM_TASKS = 8
BUDGETS: dict[str, int] = {"smoke": 150, "short": 20_000, "paper": 1_000_000}
"""Env steps per task. paper: 1M interactions per task (Rewire §4.1, scenarios-halfcheetah.md).
smoke/short keep 8 tasks within the harness's smoke (seconds) and short (minutes) scales."""

TASKS: dict[str, tuple[str, ...]] = {
    "forgetting": ("hugefoot", "moon", "carry_stuff", "rainfall"),
    "transfer": ("carry_stuff_hugegravity", "moon", "defective_module", "hugefoot_rainfall"),
    "robustness": ("normal", "inverted_actions"),  # alternating: x4 below, 8 tasks
    "compositionality": ("tinyfoot", "moon", "carry_stuff_hugegravity", "tinyfoot_moon"),
}
"""scenarios-halfcheetah.md "Scenarios"; each list repeated to 8 tasks."""

REWIRE_SAC: dict[str, object] = {
    "hidden": (256, 256, 256), "activation": "leaky_relu", "init_temperature": 2.0, "bootstrap_on_timeout": False,
    "updates_per_step": 0.5,
}
"""The SAC that CSP/Rewire's code uses on every Brax scenario (continual-baselines.md §2.1-2.3):
4 Linear layers of width 256 with LeakyReLU(0.2), alpha_0 = 2, time-limit ends treated as terminal
(the §2.2 PROPOSAL default for reproduction), 64 gradient steps per 128 transitions."""

SAC_KEYS = ("actor_lr", "critic_lr", "reward_scale", "policy_delay", "target_delay", "target_entropy_multiplier")
SAC_PER_SCENARIO: dict[str, dict[str, float]] = {kind: dict(zip(SAC_KEYS, values)) for kind, values in {
    "forgetting": (1e-3, 3e-4, 1.0, 2, 2, 2.0),
    "transfer": (3e-4, 3e-4, 1.0, 4, 2, 1.0),
    "robustness": (1e-3, 1e-3, 1.0, 4, 2, 2.0),
    "compositionality": (3e-4, 3e-4, 10.0, 4, 4, 2.0),
}.items()}
"""continual-baselines.md §2.3, per-scenario table, halfcheetah rows (the temperature lr stays 3e-4)."""

LAMBDAS: dict[str, dict[str, float]] = {
    "forgetting": {"ft_l2": 1e4, "ewc": 0.01},
    "transfer": {"ft_l2": 1.0, "ewc": 1.0},
    "robustness": {"ft_l2": 100.0, "ewc": 0.01},
    "compositionality": {"ft_l2": 100.0, "ewc": 1.0},
}
"""continual-baselines.md §7.1 (FT-L2 `l2_coeff`) and §8.1 (EWC `fisher_coeff`), HalfCheetah columns."""

SCHEDULE: dict[str, dict[str, Any]] = {
    "smoke": {"random_steps": 1}, "short": {"random_steps": 1}, "paper": {"learning_starts": 12_800, "random_steps": 1},
}
"""[RN]'s warm-up (§2.3): updates start once 12,800 transitions are stored; only the first acquisition
call acts uniformly at random. Smaller scales keep their own `learning_starts` (module docstring)."""

PACKNET_FINE_TUNE = 0.2
"""[RN] fine-tunes 100,000 gradient steps after each 1M-step task, 20% of its 500,000 (§10.1)."""


def _task_order(kind: str) -> tuple[str, ...]:
    return TASKS[kind] * (NUM_TASKS // len(TASKS[kind]))


def halfcheetah_scenario(kind: str) -> Scenario:
    """`halfcheetah_<kind>` for kind in TASKS, on gymnasium's HalfCheetah-v5 with the variant table applied."""
    if kind not in TASKS:
        raise ValueError(f"unknown HalfCheetah scenario {kind!r}; allowed: {sorted(TASKS)}")
    tasks = tuple(Task(name=variant, index=i, make=functools.partial(make_halfcheetah_variant, variant),
                       budgets=dict(BUDGETS))
                  for i, variant in enumerate(_task_order(kind)))
    rewire_sac = {**REWIRE_SAC, **SAC_PER_SCENARIO[kind]}
    return Scenario(
        name=f"halfcheetah_{kind}", family=FAMILY, setting="continual", backend=BACKEND, tasks=tasks,
        learner_overrides={"sac": rewire_sac, "td3": {"updates_per_step": REWIRE_SAC["updates_per_step"]}},
        method_overrides={"ft_l2": {"strength": LAMBDAS[kind]["ft_l2"]}, "ewc": {"strength": LAMBDAS[kind]["ewc"]},
                          "packnet": {"retrain_fraction": PACKNET_FINE_TUNE}},
        scale_overrides={scale: dict(values) for scale, values in SCHEDULE.items()},
    )
