"""DAPD's masked layers: one mask per network (single task) or one per task (multitask pathways).

Multitask pathways: one mask m^n per task inside one network, chosen per input row by its task id.

dapd.md §2 "Multi-task": masks m^n for tasks n = 1..T in one shared weight tensor; task n's rows run
through theta * m^n, and the per-task gradients g^n (already masked by m^n) are merged into one step,
    g_merged[q] = sum_n m^n_q g^n_q / max(1, sum_n m^n_q)   (mode `pmean`).
All tasks train at once here (benchmark/multitask_loop.py), so a batch mixes tasks: instead of selecting
task n's mask for a whole pass (the sequential reading of "on_task_start selects per-task masks"), every
layer selects it per row from the task one-hot the observation ends with (envs/multitask.py). Because the
loss is linear in the rows, one backward pass over a batch of b rows per task gives
    dL/dtheta = (1/T) sum_n m^n * dL^n/dtheta = (1/T) sum_n g^n
(L^n: task n's mean loss over its own rows), so `merge_gradients` scaling it by T / max(1, sum_n m^n)
is exactly g_merged: the mean of the tasks' gradients where pathways overlap, one task's own gradient
where only it uses a weight, zero where none does. That needs the same number of rows per task in every
batch, which DAPD's `sample` hook guarantees.

Decision (the spec's weight merge is "not specified"): the weights are shared from the start, so there is
no per-task weight copy to merge at the freeze (C-MT keeps T copies while warming up); the pathways adapt
per task during the warm-up and the merged gradient applies throughout.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from plasticbench.baselines.batched import BatchedLinear, BatchedMLP, seed_exact_affine
from plasticbench.baselines.seed_rng import SeedRNG


class MaskedLinear(BatchedLinear):
    """A batched linear layer whose weight acts as weight * mask; mask [S, in, out] is a buffer (checkpointed)."""

    def __init__(self, num_seeds: int, in_features: int, out_features: int, rng: SeedRNG) -> None:
        super().__init__(num_seeds, in_features, out_features, rng)
        self.register_buffer("mask", torch.ones_like(self.weight))

    def forward(self, x: torch.Tensor, columns: slice | None = None) -> torch.Tensor:
        weight = self.weight * self.mask
        if columns is None:
            return seed_exact_affine(x, weight, self.bias)
        return seed_exact_affine(x, weight[..., columns], self.bias[..., columns])


def masked_layers(network: nn.Module) -> list[MaskedLinear]:
    """Every masked layer of a role's network, in module order (a twin critic: Q1's, then Q2's)."""
    return [m for m in network.modules() if isinstance(m, MaskedLinear)]


class PathwayLinear(MaskedLinear):
    """A masked batched linear layer with one mask per task, `task_masks` [T, S, in, out] (a checkpointed
    buffer); `mask` is their union, what the layer holds active (model size and FLOPs, dapd.md §4)."""

    def __init__(self, num_seeds: int, in_features: int, out_features: int, rng: SeedRNG, num_tasks: int) -> None:
        super().__init__(num_seeds, in_features, out_features, rng)
        self.register_buffer("task_masks", torch.ones(num_tasks, *self.weight.shape))

    @torch.no_grad()
    def refresh_union(self) -> None:
        self.mask.copy_(self.task_masks.amax(dim=0))

    def forward(self, x: torch.Tensor, columns: slice | None = None, task: torch.Tensor | None = None) -> torch.Tensor:
        """x [S, B, in]; task [S, B, T] one-hot rows (None: the union pathway)."""
        if task is None:
            return super().forward(x, columns)
        out = 0
        for n in range(self.task_masks.shape[0]):
            weight, bias = self.weight * self.task_masks[n], self.bias
            if columns is not None:
                weight, bias = weight[..., columns], bias[..., columns]
            y = seed_exact_affine(x, weight, bias)
            out = out + task[..., n:n + 1] * y
        return out


class PathwayMLP(BatchedMLP):
    """A batched MLP of PathwayLinear layers reading each row's task from input columns `task_columns`
    (the one-hot at the end of the observation, which every role's input starts with)."""

    def __init__(self, num_seeds: int, sizes: Sequence[int], activation: str, rng: SeedRNG, heads: int,
                 num_tasks: int, task_columns: slice) -> None:
        def layer(s: int, i: int, o: int, r: SeedRNG) -> PathwayLinear:
            return PathwayLinear(s, i, o, r, num_tasks)

        super().__init__(num_seeds, sizes, activation, rng, heads, linear=layer)
        self.task_columns = task_columns

    def _hidden(self, x: torch.Tensor, task: torch.Tensor) -> torch.Tensor:
        for layer in self.hidden_layers():
            x = self.activation(layer(x, None, task))
        return x

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self._hidden(x, x[..., self.task_columns])

    def forward(self, x: torch.Tensor, head: int = 0) -> torch.Tensor:
        columns = None if self.heads == 1 else slice(head * self.out_features, (head + 1) * self.out_features)
        task = x[..., self.task_columns]
        return self.layers[-1](self._hidden(x, task), columns, task)


def pathway_layers(network: nn.Module) -> list[PathwayLinear]:
    return [layer for layer in masked_layers(network) if isinstance(layer, PathwayLinear)]


@torch.no_grad()
def merge_gradients(network: nn.Module) -> None:
    """Turn the batch gradient of equal per-task row counts into g_merged (module docstring), in place."""
    for layer in pathway_layers(network):
        if layer.weight.grad is not None:
            tasks = layer.task_masks.shape[0]
            layer.weight.grad.mul_(tasks / layer.task_masks.sum(dim=0).clamp_min(1.0))


@torch.no_grad()
def open_pathways(network: nn.Module) -> None:
    """Every mask of every task to 1: the dense forward SNIP scores on (dapd.md §3)."""
    for layer in masked_layers(network):
        layer.mask.fill_(1.0)
        if isinstance(layer, PathwayLinear):
            layer.task_masks.fill_(1.0)
