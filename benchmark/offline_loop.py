"""Offline training inside the run loop: each step is one gradient step on a fixed dataset.

The learner never meets an environment while it trains (evaluation alone rolls out, on fresh
evaluation environments); `learning_starts` does not apply, since the whole dataset is there from
the first step, and `updates_per_step` does not either: an offline budget is counted in gradient
steps, one per step of the loop (the learner's `clock`, which dates a diverged seed, is the same
count). The dataset is attached when the run is built, before any checkpoint is restored,
so a resumed run trains on the same (re-read and re-checked) rows.
"""
from __future__ import annotations

import torch

from plasticbench.baselines.learner import Learner
from plasticbench.benchmark.config import RunConfig
from plasticbench.envs.offline import load_transitions


def attach_dataset(config: RunConfig, learner: Learner) -> None:
    """Give the learner the scenario's checked transitions and its budget in gradient steps."""
    scenario = config.scenario
    data = load_transitions(scenario.offline_data, scenario.obs_dim, scenario.act_dim)
    learner.load_dataset({k: torch.from_numpy(v) for k, v in data.items()}, total_updates=config.budget(scenario.tasks[0]))


class DatasetUpdates:
    """The offline counterpart of the run loop's environment steps: `step` is one `learner.update()`."""

    def __init__(self, learner: Learner) -> None:
        self.learner = learner

    def step(self) -> None:
        self.learner.update()

    def state_dict(self) -> None:
        return None

    def close(self) -> None:
        pass
