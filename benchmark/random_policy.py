"""R_random: the uniform-random policy's return on every task of a scenario, stored as a record.

A score is (R - R_random) / (R_reference - R_random) (ARCHITECTURE.md "Scores"), so R_random must be
measured under exactly the evaluation protocol of the runs it normalizes: the scale's episodes and
episode cap, the same evaluation environments (seed offsets of benchmark/runner.py), the same seeds.
Nothing is trained, so the learner plays no part: the record's learner is `none` and one record
serves every learner of its (suite, scale, seeds).

Actions are uniform in [-1, 1] per dimension (the harness's action convention, envs/vector.py), or
uniform over the game's legal actions on Atari (which needs no such record for its score, but one
measured at full length checks the published random returns the score uses),
drawn from each seed's own stream (baselines/seed_rng.py, stream RNG_STREAM), so a seed's returns
do not depend on which other seeds were measured with it.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

import torch

from plasticbench.baselines.learner import uniform_legal_action
from plasticbench.baselines.seed_rng import SeedRNG
from plasticbench.benchmark import registry
from plasticbench.benchmark.config import HARNESS_VERSION, RunConfig, ScaleConfig, _value, load_run_config, select_backend
from plasticbench.benchmark.reporting.record_loading import SCHEMA_VERSION
from plasticbench.benchmark.reporting.scores import RANDOM_METHOD
from plasticbench.benchmark.store import RunStore
from plasticbench.envs.atari import legal_action_masks
from plasticbench.envs.backends import evaluate_on_backend
from plasticbench.envs.catalog import get_scenario, scenario_names
from plasticbench.envs.evaluation import evaluate_policy
from plasticbench.envs.task import Scenario

RANDOM_LEARNER = "none"
RNG_STREAM = 7  # apart from the learners' streams (1) and every other stream in the harness


@dataclass(frozen=True)
class RandomRunConfig:
    """What the random measurement depends on: scenario, evaluation protocol and seeds."""

    suite: str
    scale: ScaleConfig
    seeds: tuple[int, ...]
    results_dir: str = "results"
    scenario: Scenario = field(default=None, compare=False, repr=False)
    method: str = RANDOM_METHOD
    learner: str = RANDOM_LEARNER

    def identity(self) -> dict:
        return {"harness_version": HARNESS_VERSION, "method": RANDOM_METHOD, "suite": self.suite,
                "scale": self.scale.name, "eval_episodes": self.scale.eval_episodes,
                "episode_length": self.scale.episode_length, "seeds": list(self.seeds)}

    @property
    def run_id(self) -> str:
        return hashlib.sha256(json.dumps(self.identity(), sort_keys=True).encode()).hexdigest()[:16]


def is_random_cell(overrides: Sequence[str]) -> bool:
    """Whether command-line style overrides ask for the random measurement (`method=random`)."""
    return any(o.partition("=")[0].lstrip("+~") == "method" and o.partition("=")[2] == RANDOM_METHOD for o in overrides)


def random_config(overrides: Sequence[str]) -> RandomRunConfig:
    """`method=random suite=S scale=X [seeds=..] [results_dir=..]` -> the measurement's config.

    The scale, seeds and scenario are resolved exactly as for a run (any learner would do; `ft1`
    with the default learner is used), so they cannot differ from those of the runs it serves.
    """
    kept = [o for o in overrides if o.partition("=")[0].lstrip("+~").split(".")[0] not in ("method", "learner")]
    run_config: RunConfig = load_run_config([*kept, "method=ft1", *_discrete_learner(kept)])
    return RandomRunConfig(suite=run_config.suite, scale=run_config.scale, seeds=run_config.seeds,
                           results_dir=run_config.results_dir, scenario=run_config.scenario)


def _discrete_learner(overrides: Sequence[str]) -> list[str]:
    """`learner=<a discrete learner>` for a suite with discrete actions (Atari), which the default
    learner cannot resolve against; [] otherwise. Any fitting learner would do: none is run."""
    suite = _value(select_backend(overrides), "suite")
    if suite not in scenario_names() or not get_scenario(suite).discrete_actions:
        return []
    fitting = [name for name in registry.learner_names() if registry.learner_fits(name, "online", discrete=True)]
    if not fitting:
        raise ValueError(f"suite {suite!r} has discrete actions and no discrete learner is registered; allowed learners: "
                         f"{', '.join(registry.learner_names())}")
    return [f"learner={fitting[0]}"]


def task_returns(config: RandomRunConfig) -> np.ndarray:
    """[S, N]: each seed's mean return of the uniform-random policy on every task."""
    from plasticbench.benchmark.runner import EVAL_SEED_OFFSET

    out, scenario = [], config.scenario
    legal = legal_action_masks(scenario) if scenario.discrete_actions else None
    for task in scenario.tasks:
        rng = SeedRNG(config.seeds, "cpu", stream=RNG_STREAM + task.index)
        act_dim = scenario.act_dim
        if legal is None:
            policy, evaluate = (lambda obs: rng.uniform(act_dim, low=-1.0, high=1.0)), evaluate_policy
        else:  # Atari: uniform over the game's legal actions, on its own backend
            mask = torch.tensor(legal[task.index])
            policy, evaluate = (lambda obs: uniform_legal_action(rng, act_dim, mask)), evaluate_on_backend
        scores = evaluate(policy, task, config.seeds, config.scale.eval_episodes, config.scale.episode_length,
                          seed_offset=EVAL_SEED_OFFSET + task.index)
        out.append(scores.numpy().astype(float))
    return np.stack(out, axis=1)


def measure_random(config: RandomRunConfig) -> dict:
    """Measure (or load) the random record of `config` (results/README.md, method `random`)."""
    store = RunStore(config.results_dir, config.run_id)
    if store.has_record():
        return store.load_record()
    from plasticbench.benchmark.record import provenance, published_returns

    started = time.perf_counter()
    returns = task_returns(config)  # [S, N]
    scenario = config.scenario
    record = {
        "schema_version": SCHEMA_VERSION, "run_id": config.run_id, "config": config.identity(),
        "method": RANDOM_METHOD, "learner": RANDOM_LEARNER, "suite": config.suite,
        "family": scenario.family, "setting": scenario.setting, "backend": scenario.backend,
        "scale": config.scale.name, "seeds": list(config.seeds), "tasks": [t.name for t in scenario.tasks],
        "final_returns": returns.tolist(),
        "scores": returns.mean(axis=1).tolist(),
        "normalization": {"kind": "raw", "source": None, "published_returns": published_returns(scenario, config.scale)},
        "wall_time_s": round(time.perf_counter() - started, 3),
        **provenance(),
    }
    store.write_record(record)
    return store.load_record()

