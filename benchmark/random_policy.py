"""R_random: the uniform-random policy's return on every task of a scenario, stored as a record.

A score is (R - R_random) / (R_reference - R_random) (ARCHITECTURE.md "Scores"), so R_random must be
measured under exactly the evaluation protocol of the runs it normalizes: the scale's episodes and
episode cap, the same evaluation environments (seed offsets of benchmark/runner.py), the same seeds.
Nothing is trained, so the learner plays no part: the record's learner is `none` and one record
serves every learner of its (suite, scale, seeds).

Actions are uniform in [-1, 1] per dimension (the harness's action convention, envs/vector.py),
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

from plasticbench.baselines.seed_rng import SeedRNG
from plasticbench.benchmark.config import HARNESS_VERSION, RunConfig, ScaleConfig, load_run_config
from plasticbench.benchmark.reporting.record_loading import SCHEMA_VERSION
from plasticbench.benchmark.reporting.scores import RANDOM_METHOD
from plasticbench.benchmark.store import RunStore
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
    run_config: RunConfig = load_run_config([*kept, "method=ft1"])
    return RandomRunConfig(suite=run_config.suite, scale=run_config.scale, seeds=run_config.seeds,
                           results_dir=run_config.results_dir, scenario=run_config.scenario)


def task_returns(config: RandomRunConfig) -> np.ndarray:
    """[S, N]: each seed's mean return of the uniform-random policy on every task."""
    from plasticbench.benchmark.runner import EVAL_SEED_OFFSET

    out = []
    for task in config.scenario.tasks:
        rng = SeedRNG(config.seeds, "cpu", stream=RNG_STREAM + task.index)
        act_dim = config.scenario.act_dim
        scores = evaluate_policy(lambda obs: rng.uniform(act_dim, low=-1.0, high=1.0), task, config.seeds,
                                 config.scale.eval_episodes, config.scale.episode_length,
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

