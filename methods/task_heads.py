"""Which parameters the tasks share: Continual World's "common variables" (continual-baselines.md §7.2, §8.2, §10.2).

CW's regularizers and PackNet act on the trunk only: a multi-head network's task heads are each task's
own, so they are neither anchored nor pruned. Here a head is the last layer of a batched MLP built with
more than one head (baselines/batched.py: one output block per task); a single-head network is all trunk.
"""
from __future__ import annotations

from torch import nn

from plasticbench.baselines.batched import batched_mlps

VARIANTS: tuple[str, ...] = ("salina", "cw")
"""The two reference codes the spec distinguishes: [RN]/salina (Rewire's tables) and Continual World's own."""


def check_variant(method: str, variant: str) -> None:
    if variant not in VARIANTS:
        raise ValueError(f"{method} variant={variant!r}; allowed: {', '.join(VARIANTS)}")


def head_parameters(network: nn.Module) -> set[int]:
    """ids of the task-head parameters of `network` (empty for single-head networks)."""
    return {id(p) for mlp in batched_mlps(network) if mlp.heads > 1 for p in mlp.layers[-1].parameters()}


def trunk_mask(network: nn.Module) -> list[bool]:
    """One flag per `network.parameters()`, in order: True where the tasks share the tensor."""
    heads = head_parameters(network)
    return [id(p) not in heads for p in network.parameters()]
