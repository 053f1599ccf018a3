"""Linear layers and MLPs with a leading seed axis: one `baddbmm` trains S independent networks.

Weights are [S, in, out] so that seed s's slice is exactly the network a single-seed run would
hold (ARCHITECTURE.md, "The seed axis"). Initialization follows PyTorch's default `nn.Linear`
(uniform in +-1/sqrt(fan_in) for weight and bias), the init the Rewire/CSP code uses
(continual-baselines.md §2.1), drawn from each seed's own stream.
"""
from __future__ import annotations

import itertools
import math
from typing import Iterator, Sequence

import torch
from torch import nn

from plasticbench.baselines.seed_rng import SeedRNG

ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(negative_slope=0.2),  # Rewire/CSP actor and critic, §2.1
    "tanh": nn.Tanh,
}


class BatchedLinear(nn.Module):
    """y[s] = x[s] @ W[s] + b[s] for every seed s in one call."""

    def __init__(self, num_seeds: int, in_features: int, out_features: int, rng: SeedRNG) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.empty(num_seeds, in_features, out_features, device=rng.device))
        self.bias = nn.Parameter(torch.empty(num_seeds, 1, out_features, device=rng.device))
        self.reset_parameters(rng)

    @torch.no_grad()
    def reset_parameters(self, rng: SeedRNG, seeds: torch.Tensor | None = None) -> None:
        """Fresh default init for all seeds, or only where the boolean mask `seeds` [S] is set."""
        bound = 1.0 / math.sqrt(self.in_features)
        weight = rng.uniform(self.in_features, self.out_features, low=-bound, high=bound)
        bias = rng.uniform(1, self.out_features, low=-bound, high=bound)
        if seeds is None:
            self.weight.copy_(weight)
            self.bias.copy_(bias)
        else:
            self.weight[seeds] = weight[seeds]
            self.bias[seeds] = bias[seeds]

    def forward(self, x: torch.Tensor, columns: slice | None = None) -> torch.Tensor:
        """x: [S, B, in] -> [S, B, out]; `columns` selects a block of outputs (a task head)."""
        weight, bias = (self.weight, self.bias) if columns is None else (self.weight[..., columns], self.bias[..., columns])
        return seed_exact_affine(x, weight, bias)

    def extra_repr(self) -> str:
        return f"seeds={self.weight.shape[0]}, in={self.in_features}, out={self.out_features}"


def seed_exact_affine(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """x [S, B, in] @ weight [S, in, out] + bias [S, 1, out] with a seed's bits independent of S: the product
    every batched layer, and every subclass that transforms its weight (a mask), must go through (issue #17)."""
    if weight.shape[-1] == 1:
        return single_output(x, weight, bias)
    return batched_affine(x, weight, bias)


def single_output(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """x [S, B, in] @ weight [S, in, 1] + bias [S, 1, 1] as a product and a sum over `in`, not a GEMM.

    Why: with one output column, `baddbmm` at S = 1 takes a matrix-vector kernel whose summation
    order differs from the one it takes at S > 1 (measured on CPU, torch 2.13 + MKL: ~3e-6 in the
    critic's Q, which RL training amplifies into another run), so seed k's numbers would depend on
    how many seeds ran beside it. An elementwise product followed by a reduction over the last,
    contiguous axis sums each row in an order fixed by `in` alone, whatever S and B are, and is
    faster than the batched matrix-vector product at S > 1 (issue #17).
    """
    return (x * weight.transpose(1, 2)).sum(dim=-1, keepdim=True) + bias


NARROW_INPUT = 16
"""Layers with fewer inputs than this take `batched_affine`'s padded path when one seed runs on several threads."""


def batched_affine(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """x [S, B, in] @ weight [S, in, out] + bias [S, 1, out], the same bits for a seed whatever S is.

    Why not always `baddbmm`: with several threads (torch 2.13 + MKL, measured on CPU) a lone
    [in, B] @ [B, out] product with 5-11 rows, the weight gradient of a first layer that reads a
    small observation, runs another kernel than the same product inside a batch of 2 or more, and
    rounds differently (issue #17). One seed with a narrow input is therefore computed beside a
    detached copy of itself, as a batch of two, and the copy's half is dropped; it adds one small
    layer's work, only at S = 1 with more than one thread. With one thread the paths agree.
    """
    if weight.shape[0] == 1 and weight.shape[1] < NARROW_INPUT and torch.get_num_threads() > 1:
        pair = lambda t: torch.cat([t, t.detach()])
        return torch.baddbmm(pair(bias), pair(x), pair(weight))[:1]
    return torch.baddbmm(bias, x, weight)


class BatchedMLP(nn.Module):
    """An MLP per seed. With `heads` > 1 the last layer holds one output block per task head."""

    def __init__(self, num_seeds: int, sizes: Sequence[int], activation: str, rng: SeedRNG, heads: int = 1,
                 linear: type[BatchedLinear] = BatchedLinear) -> None:
        """`linear` is the layer class (a subclass adds e.g. a weight mask; the initial draws are the same)."""
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; allowed: {sorted(ACTIVATIONS)}")
        self.out_features, self.heads = sizes[-1], heads
        dims = list(sizes[:-1]) + [sizes[-1] * heads]
        self.layers = nn.ModuleList(linear(num_seeds, i, o, rng) for i, o in zip(dims[:-1], dims[1:]))
        self.activation = ACTIVATIONS[activation]()

    def hidden_layers(self) -> Iterator[nn.Module]:
        """Every layer but the output one. Not `self.layers[:-1]`: slicing a ModuleList builds a new
        Module on every forward, a few percent of a one-seed update's CPU time (issue #20)."""
        return itertools.islice(self.layers, len(self.layers) - 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features [S, B, hidden]: what plasticity metrics probe."""
        for layer in self.hidden_layers():
            x = self.activation(layer(x))
        return x

    def forward(self, x: torch.Tensor, head: int = 0) -> torch.Tensor:
        columns = None if self.heads == 1 else slice(head * self.out_features, (head + 1) * self.out_features)
        return self.layers[-1](self.features(x), columns)

    def reset_parameters(self, rng: SeedRNG, seeds: torch.Tensor | None = None) -> None:
        for layer in self.layers:
            layer.reset_parameters(rng, seeds)


def batched_mlps(network: nn.Module) -> list[BatchedMLP]:
    """The per-seed MLPs inside a role's network (the actor itself; a twin critic's Q1 and Q2), in module order."""
    return [m for m in network.modules() if isinstance(m, BatchedMLP)]


def params_per_seed(module: nn.Module) -> int:
    """Parameter count of one seed's copy of `module` (every tensor's leading axis is the seed)."""
    return sum(p[0].numel() for p in module.parameters())
