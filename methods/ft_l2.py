"""FT-L2: fine-tuning with an L2 pull toward the policy at the end of the previous task.

Salina/Rewire version (continual-baselines.md §7.1): at each task end the anchor theta* is
overwritten with a copy of all actor parameters; from task 1 on the actor loss gains
lambda * sum ||theta - theta*||^2 (no 1/2). lambda is per scenario (1e4 on HalfCheetah forgetting,
set by the scenario's method overrides). Model size 2.0: the policy plus its anchor.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from plasticbench.benchmark.registry import register_method
from plasticbench.methods.base import Method


def l2_to_anchor(params: list[torch.Tensor], anchor: list[torch.Tensor]) -> torch.Tensor:
    """Sum over seeds of each seed's squared distance to its own anchor (tensors lead with S)."""
    return sum(((p - a) ** 2).flatten(1).sum(1) for p, a in zip(params, anchor)).sum()


@register_method("ft_l2", settings={"continual"}, learners={"sac", "td3"})
class FTL2(Method):
    @dataclass(frozen=True)
    class Config:
        strength: float = 1.0  # lambda; Rewire's per-scenario values are in the scenario catalog

    def __init__(self, config: Config | None = None) -> None:
        super().__init__(config)
        self.anchor: list[torch.Tensor] | None = None

    def on_task_end(self, ctx, task) -> None:
        self.anchor = [p.detach().clone() for p in ctx.networks["actor"].parameters()]

    def loss(self, ctx, role, batch):
        if role != "actor" or self.anchor is None:
            return None
        return self.config.strength * l2_to_anchor(list(ctx.networks["actor"].parameters()), self.anchor)

    def model_size(self, ctx) -> int:
        return ctx.policy_params() * (2 if self.anchor is not None else 1)

    def state_dict(self) -> dict:
        return {"anchor": self.anchor}

    def load_state_dict(self, state: dict) -> None:
        self.anchor = state["anchor"]
