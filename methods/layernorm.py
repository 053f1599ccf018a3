"""LayerNorm: layer normalization after every hidden layer (the LN-TD3 baseline of NE, ne.md §6).

Each hidden layer computes Linear -> LayerNorm -> activation ("LayerNorm after hidden layers", NE §5.1;
metrics-plasticity.md §0 measures neurons after the activation that follows the LayerNorm). The
normalization statistics are taken over one sample's features of one seed, and every seed has its
own gain and bias, so nothing is shared across the seed axis (ARCHITECTURE.md, "The seed axis").
Model size is unchanged apart from the 2*H affine parameters per hidden layer.

On DQN's Nature CNN the dense hidden layers are normalized (its convolutions are not: the spec's
LayerNorm is NE's, of MLP hidden layers); the conv trunk, the Xavier init and the exact Q head stay
as in plain DQN, so DQN and DQN+LayerNorm differ by the normalization alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from plasticbench.baselines.batched import BatchedLinear, BatchedMLP
from plasticbench.baselines.nature_cnn import ConvNetworkSpec
from plasticbench.baselines.seed_rng import SeedRNG
from plasticbench.benchmark.registry import register_method
from plasticbench.methods.base import Method


class BatchedLayerNorm(nn.Module):
    """Ba et al. 2016 over the last axis, with a gain and bias per seed: x [S, B, H] -> [S, B, H]."""

    def __init__(self, num_seeds: int, features: int, eps: float, affine: bool, device: torch.device) -> None:
        super().__init__()
        self.features, self.eps = features, eps
        self.weight = nn.Parameter(torch.ones(num_seeds, 1, features, device=device)) if affine else None
        self.bias = nn.Parameter(torch.zeros(num_seeds, 1, features, device=device)) if affine else None

    @torch.no_grad()
    def reset_parameters(self, rng: SeedRNG | None = None, seeds: torch.Tensor | None = None) -> None:
        """Gain 1 and bias 0 (PyTorch's init) for all seeds or where the bool mask `seeds` [S] is set."""
        if self.weight is None:
            return
        where = slice(None) if seeds is None else seeds
        self.weight[where] = 1.0
        self.bias[where] = 0.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.layer_norm(x, (self.features,), eps=self.eps)
        return x if self.weight is None else x * self.weight + self.bias


class LayerNormMLP(BatchedMLP):
    """A BatchedMLP whose hidden layers are Linear -> LayerNorm -> activation; the output layer is plain."""

    def __init__(self, num_seeds: int, sizes: Sequence[int], activation: str, rng: SeedRNG, heads: int = 1,
                 eps: float = 1e-5, affine: bool = True, linear: Callable[..., BatchedLinear] = BatchedLinear) -> None:
        super().__init__(num_seeds, sizes, activation, rng, heads, linear)
        self.norms = nn.ModuleList(BatchedLayerNorm(num_seeds, layer.out_features, eps, affine, rng.device)
                                   for layer in self.layers[:-1])

    def features(self, x: torch.Tensor) -> torch.Tensor:
        for layer, norm in zip(self.hidden_layers(), self.norms):
            x = self.activation(norm(layer(x)))
        return x

    def reset_parameters(self, rng: SeedRNG, seeds: torch.Tensor | None = None) -> None:
        super().reset_parameters(rng, seeds)
        for norm in self.norms:
            norm.reset_parameters(rng, seeds)


@register_method("layernorm", settings={"online", "continual", "offline"}, learners={"sac", "td3", "bcq", "iql", "dqn"})
class LayerNorm(Method):
    """Plain fine-tuning with LayerNorm in the hidden layers of the chosen networks."""

    @dataclass(frozen=True)
    class Config:
        """eps and the elementwise affine transform are PyTorch's `nn.LayerNorm` defaults (NE gives none)."""

        eps: float = 1e-5
        affine: bool = True
        roles: tuple[str, ...] = ("actor", "critic")  # NE's LN-TD3 normalizes both networks

    def build(self, ctx, role, spec):
        if role not in self.config.roles:
            return None
        make = lambda sizes, linear: LayerNormMLP(spec.num_seeds, sizes, spec.activation, spec.rng, spec.heads,
                                                  eps=self.config.eps, affine=self.config.affine, linear=linear)
        if isinstance(spec, ConvNetworkSpec):  # DQN: the dense hidden layers after the conv trunk (module docstring)
            return spec.default(dense=make)
        return make(spec.sizes, BatchedLinear)
