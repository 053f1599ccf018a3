"""FT-L2: fine-tuning with an L2 pull toward the policy at the end of the previous task.

Salina/Rewire version (continual-baselines.md §7.1): at each task end the anchor theta* is
overwritten with a copy of all actor parameters; from task 1 on the actor loss gains
lambda * sum ||theta - theta*||^2 (no 1/2). lambda is per scenario (1e4 on HalfCheetah forgetting,
set by the scenario's method overrides). Model size 2.0: the policy plus its anchor.

Continual World version (`variant="cw"`, §7.2; the default on the CW suites, with CW's lambda 1e5): the
anchor is taken at the start of task k > 0 (the same weights as the end of task k-1), the importance of
the trunk grows by 1 per task, so task k pays k * lambda * ||theta - theta*||^2, and the task heads are not
regularized (methods/task_heads.py). CW also offers critic regularization; its paper runs leave it off,
and so does this file.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from plasticbench.benchmark.registry import register_method
from plasticbench.methods.base import Method
from plasticbench.methods.task_heads import check_variant, trunk_mask


def l2_to_anchor(params: list[torch.Tensor], anchor: list[torch.Tensor]) -> torch.Tensor:
    """Sum over seeds of each seed's squared distance to its own anchor (tensors lead with S)."""
    return sum(((p - a) ** 2).flatten(1).sum(1) for p, a in zip(params, anchor)).sum()


@register_method("ft_l2", settings={"continual"}, learners={"sac", "td3"})
class FTL2(Method):
    @dataclass(frozen=True)
    class Config:
        strength: float = 1.0  # lambda; Rewire's per-scenario values are in the scenario catalog
        variant: str = "salina"  # "salina" ([RN], §7.1) or "cw" (Continual World, §7.2): module docstring

    def __init__(self, config: Config | None = None) -> None:
        super().__init__(config)
        check_variant("ft_l2", self.config.variant)
        self.anchor: list[torch.Tensor] | None = None
        self.finished = 0  # tasks ended: CW's accumulated importance of the trunk

    def regularized(self, ctx) -> list[torch.Tensor]:
        """The actor tensors the penalty covers: all of them ([RN]), or the trunk's (CW)."""
        params = list(ctx.networks["actor"].parameters())
        if self.config.variant == "salina":
            return params
        return [p for p, shared in zip(params, trunk_mask(ctx.networks["actor"])) if shared]

    def on_task_end(self, ctx, task) -> None:
        self.anchor = [p.detach().clone() for p in self.regularized(ctx)]
        self.finished += 1

    def loss(self, ctx, role, batch):
        if role != "actor" or self.anchor is None:
            return None
        weight = self.finished if self.config.variant == "cw" else 1
        return weight * self.config.strength * l2_to_anchor(self.regularized(ctx), self.anchor)

    def model_size(self, ctx) -> int:
        return ctx.policy_params() * (2 if self.anchor is not None else 1)

    def state_dict(self) -> dict:
        return {"anchor": self.anchor, "finished": self.finished}

    def load_state_dict(self, state: dict) -> None:
        self.anchor, self.finished = state["anchor"], state.get("finished", 0)
