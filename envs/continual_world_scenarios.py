"""The Continual World suites (cw10, cw20, cw3_t1..cw3_t8) and MT10's task list, with the CW learner variant.

scenarios.md §2 and continual-baselines.md §2.4-2.5. Every CW suite carries, as data, the SAC of the
Continual World reference (§2.5, the spec's default `cw_arch="cw_reference"`): a multi-head actor and
critic with one head per task, the trunk reading the 39 Meta-World dims and never the one-hot
(`task_id_dims`, CW's `hide_task_id`), four hidden layers of 256 with LeakyReLU, batch 128, lr 1e-3 for
actor, critics and temperature, alpha_0 = e (CW's log alpha = 1; [RN]'s 2.7), target entropy
|A|*log(0.089*sqrt(2*pi*e)) = -1.0 per action dimension, time-limit ends bootstrapped (CW stores
them with done = False), 50 gradient steps per 50 env steps (ratio 1), warm-up 1,000 transitions and
10,000 uniform-random steps at paper scale.

Deliberate differences from the CW reference, and why:

| setting | CW reference | here | why |
|---|---|---|---|
| Meta-World | v1 tasks, 12-dim obs, MuJoCo 2.0 | v3 tasks, 39-dim obs, MuJoCo 3.3.0 | only v3 installs today (§2.3); records are not comparable with published CW numbers |
| first hidden layer | Linear -> LayerNorm -> tanh | Linear -> LeakyReLU like the others | the batched MLP every method masks, permutes and grows has one activation; `method=layernorm` exists for LN |
| temperature | one log alpha per task, kept across a task's repeats (CW20) | one log alpha, reset to alpha_0 at every task start | equal for every task seen once; CW20's second pass starts its alpha afresh |
| optimizer | one Adam over actor, critics and alpha | one Adam per role, all reset at each task start | Adam is elementwise: the same steps; CW resets it at task changes too |
| uniform-random steps | 10,000 at the start of every task | the first task's only (the run loop's rule for every suite) | later tasks start from a policy that already acts |
| critic loss | 1/2 MSE per critic | MSE per critic | Adam's step does not depend on the loss's scale (up to its epsilon) |

The border episode is cut at each task switch (CW forces done with `TimeLimit.truncated` there): the run
loop builds every task's training envs afresh, so the next task starts a new episode of its own task,
and the previous task's last transitions leave with its replay buffer.

`success_mode` (benchmark/success_evaluation.py) picks the evaluation protocol: "last" (the default)
reads success at an episode's final step under the deterministic policy, Rewire Table 2's protocol;
"any" counts an episode whose success flag was ever raised, under the stochastic policy, CW's tables.
"""
from __future__ import annotations

import functools
import math
from typing import Any

from plasticbench.envs.continual_world import (CW3_TRIPLETS, CW10_V1, CW_HORIZON, MT10_V3, MT_HORIZON, V1_TO_V3,
                                               make_task_env)
from plasticbench.envs.task import Scenario, Task

FAMILY = "continual_world"
BACKEND = "metaworld"

BUDGETS: dict[str, int] = {"smoke": 100, "short": 50_000, "paper": 1_000_000}
"""Env steps per task. paper: CW's and Rewire's 1M (scenarios.md §2.2). short: a CW3 triplet with 3
seeds in about a developer's hour on a CPU; the easier tasks (window-close, faucet-close) start
succeeding there. smoke: seconds, to prove the pipeline (CW20 at smoke is 20 x 100 steps)."""

CW_SAC: dict[str, Any] = {
    "hidden": (256, 256, 256, 256), "activation": "leaky_relu", "multi_head": True,
    "batch_size": 128, "actor_lr": 1e-3, "critic_lr": 1e-3, "alpha_lr": 1e-3,
    "init_temperature": math.e, "target_entropy_multiplier": -math.log(0.089 * math.sqrt(2 * math.pi * math.e)),
    "bootstrap_on_timeout": True, "updates_per_step": 1.0, "gamma": 0.99, "tau": 0.005,
}
"""continual-baselines.md §2.5 (module docstring); `task_id_dims` is added per scenario (its task count)."""

SCHEDULE: dict[str, dict[str, Any]] = {"paper": {"learning_starts": 1_000, "random_steps": 10_000, "eval_every": 20_000}}
"""§2.5: updates after 1,000 transitions, 10,000 uniform-random steps; CW evaluates every 20,000 steps
(scenarios.md §2.2; its metrics read the last evaluation points). Smaller scales keep their own."""

CW_METHODS: dict[str, dict[str, Any]] = {
    "ft_l2": {"variant": "cw", "strength": 1e5},
    "ewc": {"variant": "cw", "strength": 1e4, "samples": 2_560},
}
"""Continual World's own L2 and EWC (continual-baselines.md §7.2, §8.2) with its paper CW20 lambdas (1e5,
1e4) and EWC's 10 batches of 256 states: the CW suites' defaults, since the spec gives lambdas for these
variants only; `method.variant=salina method.strength=...` runs the [RN] versions instead."""

PACKNET = {"variant": "cw", "retrain_fraction": 0.1}
"""Continual World's PackNet (§10.2, methods/packnet_cw.py), the CW suites' default (`method.variant=salina`
for [RN]'s): it retrains 100,000 gradient steps after each 1M-step task, 10% of them."""


def _tasks(v1_names: tuple[str, ...]) -> tuple[Task, ...]:
    n = len(v1_names)
    return tuple(Task(name=V1_TO_V3[name], index=i, budgets=dict(BUDGETS), backend=BACKEND,
                      make=functools.partial(make_task_env, V1_TO_V3[name], i, n, CW_HORIZON))
                 for i, name in enumerate(v1_names))


def cw_scenario(name: str, v1_names: tuple[str, ...]) -> Scenario:
    """A continual scenario of `v1_names` in order, run on their v3 tasks with the CW learner variant."""
    tasks = _tasks(v1_names)
    sac = {**CW_SAC, "task_id_dims": len(tasks)}
    return Scenario(name=name, family=FAMILY, setting="continual", backend=BACKEND, tasks=tasks,
                    learner_overrides={"sac": sac, "td3": {k: sac[k] for k in ("hidden", "activation", "multi_head",
                                                                            "task_id_dims", "batch_size")}},
                    method_overrides={**CW_METHODS, "packnet": dict(PACKNET)},
                    scale_overrides={scale: dict(values) for scale, values in SCHEDULE.items()})


SCENARIOS: dict[str, tuple[str, ...]] = {
    "cw10": CW10_V1,
    "cw20": CW10_V1 * 2,  # scenarios.md §2.1: CW10 twice, 20 task ids
    **{f"cw3_{key}": names for key, names in CW3_TRIPLETS.items()},
}

CW_BUILDERS = {name: functools.partial(cw_scenario, name, names) for name, names in SCENARIOS.items()}
"""Suite name -> zero-argument builder (envs/catalog.py)."""


def mt10_tasks() -> tuple[Task, ...]:
    """MT10's ten tasks (scenarios.md §2.4), one-hot over the ten, at the library's 500-step horizon.

    A multitask scenario (DAPD), not a continual one: the tasks are trained together, which the run
    loop here does not do (another issue builds the multitask run mode), so MT10 is constructible and
    listed (MULTITASK) but not registered as a suite.
    """
    n = len(MT10_V3)
    return tuple(Task(name=name, index=i, budgets=dict(BUDGETS), backend=BACKEND,
                      make=functools.partial(make_task_env, name, i, n, MT_HORIZON)) for i, name in enumerate(MT10_V3))


MULTITASK: dict[str, Any] = {"mt10": mt10_tasks}
"""Multitask task lists, flagged apart from the continual suites until a multitask run mode reads them."""
