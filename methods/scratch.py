"""Scratch: every task learned from scratch, alone; the reference of forward transfer.

Forward transfer (metrics-continual.md; Continual World's `run_single.py`) compares a task's area
under its curve with that of a single-task run of the same learner, trained from scratch on that
task alone for the same budget. SAC-N inside a continual run is not that: its critic carries over
(continual-baselines.md §6, [RN] keeps one critic). Here, at every task start the learner is made
as a fresh one would be: new actor and critic weights, targets copied, temperature and optimizers
reset (`reinitialize`), and an empty buffer (the learner's own per-task reset). As in a run's first
task, the policy acts uniformly at random until the task's first gradient step; the runner does that
on task 0 only, so this hook does it on every task (one action more than the runner's rule: the
step on which the first update happens also acts at random).

The scenario's learner settings and scale are those of the run it serves (a record of the same
learner, suite and scale), so its tasks see the same budgets and evaluations. One process trains the
N single-task runs one after another, each on its task's own environment stream. Earlier actors
are kept, as in FT-N, so its task x task matrix reads like SAC-N's; model size = number of tasks.
"""
from __future__ import annotations

import torch

from plasticbench.benchmark.registry import register_method
from plasticbench.methods.ft_n import FTN


@register_method("scratch", settings={"continual"}, learners={"sac", "td3"})
class Scratch(FTN):
    def __init__(self, config=None) -> None:
        super().__init__(config)
        self.updates_at_task_start = 0

    def on_task_start(self, ctx, task) -> None:
        if task.index > 0:
            ctx.reinitialize(["actor", "critic"])
        self.updates_at_task_start = ctx.updates

    def act(self, ctx, obs: torch.Tensor, explore: bool) -> torch.Tensor | None:
        if explore and ctx.updates == self.updates_at_task_start:
            return ctx.random_action()
        return None

    def state_dict(self) -> dict:
        return {**super().state_dict(), "updates_at_task_start": self.updates_at_task_start}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.updates_at_task_start = int(state["updates_at_task_start"])
