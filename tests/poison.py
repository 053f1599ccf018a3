"""A test-only method that poisons one seed's critic gradient at one update: forced divergence.

Registered only inside the tests that use it (`registered_poison`), never in the built-in registry.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from plasticbench.benchmark import registry
from plasticbench.methods.base import Method

NAME = "poisoned_gradient_test"


class PoisonedGradient(Method):
    """At update `at_update` (-1: never), seed index `seed_index`'s critic gradient becomes NaN.

    Records what the seed held just before: `frozen` (role -> its parameter slices) and `at_step`."""

    @dataclass(frozen=True)
    class Config:
        at_update: int = -1
        seed_index: int = 1

    def before_optimizer_step(self, ctx, role):
        if role != "critic" or ctx.updates != self.config.at_update:
            return
        i = self.config.seed_index
        self.at_step = ctx.env_steps
        self.frozen = {r: [p[i].detach().clone() for p in ctx.networks[r].parameters()] for r in ("actor", "critic")}
        for p in ctx.networks["critic"].parameters():
            p.grad[i] = float("nan")


def register() -> None:
    registry.method_names()  # discover the built-ins first
    registry.register_method(NAME, settings={"online", "continual"}, learners={"sac", "td3"})(PoisonedGradient)


def unregister() -> None:
    registry._METHODS.pop(NAME, None)


def seed_slices(learner, index: int) -> dict[str, list[torch.Tensor]]:
    """Seed `index`'s slice of every parameter and buffer of every network, and of SAC's temperature."""
    out = {role: [t[index].clone() for t in [*net.parameters(), *net.buffers()]] for role, net in learner.networks.items()}
    if hasattr(learner, "log_alpha"):
        out["log_alpha"] = [learner.log_alpha[index].detach().clone()]
    return out
