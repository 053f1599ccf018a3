"""PackNet, Continual World version (continual-baselines.md §10.2, [CW] continualworld/methods/packnet.py).

Differences from the [RN] version in methods/packnet.py, as the spec lists them:
* owners cover the kernels (weight matrices) of the actor's trunk only (the task heads of a multi-head
  actor are each task's own and unmanaged); owners start at 0, so task 0 owns everything;
* gradients: g <- g * [owner = k] for kernels; trunk biases get zero gradient after task 0 (frozen);
* at the end of task k < T-1, the fraction (T-k-1)/(T-k) of the kernel entries task k owns, the smallest
  |w| per seed, is zeroed and handed to task k+1 (an equal share per task); the optimizer is reset, the
  actor retrained on the task's buffer, and the optimizer reset again; the last task keeps all it owns;
* evaluation view j: kernel entries with owner > j are zeroed, then restored.
Adam never moves a masked entry: its state is fresh at every task start and around the retraining, so a
zero gradient gives a zero step. Not implemented: CW's global-norm gradient clipping at 2e-5 of its
CW20 PackNet command (`--clipnorm`), which the learner's optimizer step has no hook for.
"""
from __future__ import annotations

import contextlib
import math
from typing import Iterator

import torch
from torch import nn

from plasticbench.baselines.batched import batched_mlps


def trunk_layers(actor: nn.Module) -> list[nn.Module]:
    """The actor's Linear layers PackNet manages: all of them, but a multi-head MLP's head layer."""
    return [layer for mlp in batched_mlps(actor) for layer in (mlp.layers[:-1] if mlp.heads > 1 else mlp.layers)]


def prune_share(weight: torch.Tensor, owner: torch.Tensor, task: int, fraction: float) -> torch.Tensor:
    """New owners [S, ...]: per seed, the floor(fraction * n) smallest-|w| of the n entries `task` owns go
    to task + 1 (the caller zeroes them)."""
    owner = owner.clone()
    for s in range(weight.shape[0]):  # a task-boundary event: per-seed counts may differ (ARCHITECTURE.md)
        owned = (owner[s] == task).flatten().nonzero().squeeze(1)
        count = math.floor(fraction * owned.numel())
        if count == 0:
            continue
        smallest = weight[s].detach().abs().flatten()[owned].argsort(stable=True)[:count]
        owner[s].view(-1)[owned[smallest]] = task + 1
    return owner


class CWPackNet:
    """The CW variant's state: one owner tensor per trunk kernel, int16 [S, in, out]."""

    def __init__(self) -> None:
        self.owners: list[torch.Tensor] | None = None

    def owner_tensors(self, ctx) -> list[torch.Tensor]:
        if self.owners is None:
            self.owners = [torch.zeros_like(layer.weight, dtype=torch.int16) for layer in trunk_layers(ctx.networks["actor"])]
        return self.owners

    def mask_gradients(self, ctx, task: int) -> None:
        for layer, owner in zip(trunk_layers(ctx.networks["actor"]), self.owner_tensors(ctx)):
            if layer.weight.grad is not None:
                layer.weight.grad.mul_(owner == task)
            if task > 0 and layer.bias.grad is not None:
                layer.bias.grad.zero_()

    @torch.no_grad()
    def prune(self, ctx, task: int) -> None:
        """Hand the (T-k-1)/(T-k) smallest-|w| share of task k's kernel entries to task k+1, zeroed."""
        remaining = ctx.num_tasks - task
        fraction = (remaining - 1) / remaining
        layers = trunk_layers(ctx.networks["actor"])
        self.owners = [prune_share(layer.weight, owner, task, fraction) for layer, owner in zip(layers, self.owner_tensors(ctx))]
        for layer, owner in zip(layers, self.owners):
            layer.weight.masked_fill_(owner > task, 0.0)

    @contextlib.contextmanager
    def evaluating(self, ctx, task_index: int) -> Iterator[None]:
        layers = trunk_layers(ctx.networks["actor"])
        live = [layer.weight.detach().clone() for layer in layers]
        with torch.no_grad():
            for layer, owner in zip(layers, self.owner_tensors(ctx)):
                layer.weight.masked_fill_(owner > task_index, 0.0)
        try:
            yield
        finally:
            with torch.no_grad():
                for layer, weight in zip(layers, live):
                    layer.weight.copy_(weight)
