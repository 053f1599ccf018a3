"""FT-N: fine-tune, and keep a copy of the actor for every finished task (continual-baselines.md §5).

Each task is evaluated with the actor stored at the end of its own training; tasks not trained
yet (and the current one) use the live actor, i.e. index min(j, len - 1) in the spec's words.
Model size = number of tasks (the live actor plus a stored copy for every finished task).
"""
from __future__ import annotations

import contextlib
from typing import Iterator

import torch

from plasticbench.benchmark.registry import register_method
from plasticbench.methods.base import Method


@register_method("ft_n", settings={"continual"}, learners={"sac", "td3"})
class FTN(Method):
    def __init__(self, config=None) -> None:
        super().__init__(config)
        self.stored: dict[int, dict[str, torch.Tensor]] = {}

    def on_task_end(self, ctx, task) -> None:
        self.stored[task.index] = {k: v.detach().clone() for k, v in ctx.networks["actor"].state_dict().items()}

    @contextlib.contextmanager
    def evaluating(self, ctx, task_index: int) -> Iterator[None]:
        if task_index not in self.stored or task_index == ctx.task_index:
            yield
            return
        actor = ctx.networks["actor"]
        live = {k: v.detach().clone() for k, v in actor.state_dict().items()}
        actor.load_state_dict(self.stored[task_index])
        try:
            yield
        finally:
            actor.load_state_dict(live)

    def model_size(self, ctx) -> int:
        finished_other_than_current = len(set(self.stored) - {ctx.task_index})
        return ctx.policy_params() * (1 + finished_other_than_current)

    def state_dict(self) -> dict:
        return {"stored": self.stored}

    def load_state_dict(self, state: dict) -> None:
        self.stored = dict(state["stored"])
