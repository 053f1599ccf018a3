"""The objects of CSP (continual-baselines.md §9.1, §9.3): a seed-batched subspace of policies, the
simplex distributions its points are drawn from, and the alpha-conditioned critic.

Anchors live in preallocated [S, T, ...] tensors (T = the scenario's task count, the most anchors a run
can hold); seed s uses its first `count[s]` anchors, so anchors are added and pruned per seed. A point
alpha [S, B, T] (zero beyond a seed's count) gives, layer by layer, sum_i alpha_i (h W_i + b_i): Linear is
affine, so this equals the policy with mixed weights theta(alpha) = sum_i alpha_i theta_i (§9.1).
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

from plasticbench.baselines.batched import ACTIVATIONS, BatchedMLP, seed_exact_affine
from plasticbench.baselines.seed_rng import SeedRNG


def dirichlet(rng: SeedRNG, count: torch.Tensor, size: int, width: int, peaked: bool = False,
              skip_newest: bool = False) -> torch.Tensor:
    """[S, size, width] points of each seed's simplex over its first count[s] anchors, zero beyond.

    Flat Dirichlet(1, ..., 1) as normalized Exp(1) draws (-log U). `peaked` makes it Dirichlet(1, ..., 1, n^2)
    on a seed with n anchors (§9.3): a Gamma(n^2) is a sum of n^2 Exp(1) draws. `skip_newest` draws over the
    first count[s] - 1 anchors (§9.3's D2); a seed with one anchor always gets the vertex [1].
    """
    index = torch.arange(width, device=count.device)
    newest = (count - 1)[:, None, None]  # [S, 1, 1]
    gamma = -torch.log(rng.uniform(size, width))
    if peaked:
        shape = count ** 2  # [S]; width^2 draws whatever the counts, so a seed's numbers never depend on another's
        extra = -torch.log(rng.uniform(size, width * width))  # [S, size, width^2]
        extra = (extra * (torch.arange(extra.shape[-1], device=count.device) < (shape - 1)[:, None, None])).sum(-1)
        gamma = torch.where(index == newest, gamma + extra[..., None], gamma)
    live = (index < (count - int(skip_newest))[:, None, None]) | ((index == 0) & (count[:, None, None] == 1))
    gamma = gamma * live
    return gamma / gamma.sum(-1, keepdim=True)


def midpoint(count: torch.Tensor, width: int) -> torch.Tensor:
    """[S, width]: 1/n on each seed's n anchors (§9.5, tasks never trained)."""
    live = (torch.arange(width, device=count.device) < count[:, None]).float()
    return live / live.sum(-1, keepdim=True)


def peaked_mean(count: torch.Tensor, width: int) -> torch.Tensor:
    """[S, width]: the mean of Dirichlet(1, ..., 1, n^2): (1, ..., 1, n^2) / (n - 1 + n^2)."""
    weights = (torch.arange(width, device=count.device) < count[:, None]).float()
    weights[torch.arange(count.shape[0]), count - 1] = count.float() ** 2
    return weights / weights.sum(-1, keepdim=True)


class AnchoredLinear(nn.Module):
    """T anchors of one Linear layer per seed: weight [S, T, in, out], bias [S, T, 1, out]."""

    def __init__(self, num_seeds: int, anchors: int, in_features: int, out_features: int, rng: SeedRNG) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(in_features)  # anchor 0 drawn as PyTorch's nn.Linear default (§2.1)
        weight = torch.zeros(num_seeds, anchors, in_features, out_features, device=rng.device)
        bias = torch.zeros(num_seeds, anchors, 1, out_features, device=rng.device)
        weight[:, 0] = rng.uniform(in_features, out_features, low=-bound, high=bound)
        bias[:, 0] = rng.uniform(1, out_features, low=-bound, high=bound)
        self.weight, self.bias = nn.Parameter(weight), nn.Parameter(bias)

    def forward(self, x: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        """x [S, B, in], alpha [S, B, n] (n <= T anchors used) -> [S, B, out].

        Anchor by anchor through the product every batched layer uses, summed in anchor order. n is the
        most anchors any seed holds, so one product over all n (an einsum that folds n into the GEMM)
        changed its shape with the co-seeds, and a seed's output rounded differently when a co-seed kept
        more anchors (issue #17: ~2e-9 in the critic after three tasks). An anchor a seed does not hold
        has alpha 0 and adds an exact zero.
        """
        out = alpha[..., :1] * seed_exact_affine(x, self.weight[:, 0], self.bias[:, 0])
        for i in range(1, alpha.shape[-1]):
            out = out + alpha[..., i:i + 1] * seed_exact_affine(x, self.weight[:, i], self.bias[:, i])
        return out


class SubspaceActor(nn.Module):
    """pi_alpha for every point alpha of each seed's subspace; `alpha` is set by the method (acting,
    evaluating) or drawn per sample inside updates (`draw`, §9.3 `resampling_policy`)."""

    def __init__(self, num_seeds: int, sizes: Sequence[int], activation: str, rng: SeedRNG, anchors: int) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; allowed: {sorted(ACTIVATIONS)}")
        self.anchors = anchors
        self.layers = nn.ModuleList(AnchoredLinear(num_seeds, anchors, i, o, rng) for i, o in zip(sizes[:-1], sizes[1:]))
        self.activation = ACTIVATIONS[activation]()
        self.register_buffer("count", torch.ones(num_seeds, dtype=torch.int64, device=rng.device))
        self.alpha: torch.Tensor | None = None  # [S, T] the point to act or answer with; None = the midpoint
        self.draw = None  # callable B -> [S, B, T] inside an update
        self.last_alpha: torch.Tensor | None = None

    def forward(self, x: torch.Tensor, head: int = 0) -> torch.Tensor:
        """x [S, B, in] -> [S, B, out]; `head` is ignored (one subspace answers for every task, §9.5)."""
        if self.draw is not None:
            alpha = self.draw(x.shape[1])
        else:
            point = self.alpha if self.alpha is not None else midpoint(self.count, self.anchors)
            alpha = point[:, None, :].expand(-1, x.shape[1], -1)
        self.last_alpha = alpha
        n = int(self.count.max())
        h = x
        for l, layer in enumerate(self.layers):
            h = layer(h, alpha[..., :n])
            if l < len(self.layers) - 1:
                h = self.activation(h)
        return h

    @torch.no_grad()
    def add_anchor(self) -> None:
        """Per seed, append the midpoint (1/n) sum_i theta_i of its n anchors (§9.2 step 1)."""
        seeds = torch.arange(self.count.shape[0], device=self.count.device)
        mean = midpoint(self.count, self.anchors)  # [S, T]
        for layer in self.layers:
            for param in (layer.weight, layer.bias):
                param[seeds, self.count] = torch.einsum("sn,sn...->s...", mean, param)
        self.count += 1

    @torch.no_grad()
    def remove_newest(self, seeds: torch.Tensor) -> None:
        """Drop the newest anchor of the seeds where `seeds` [S] is set (§9.4 prune)."""
        for s in seeds.nonzero().flatten().tolist():
            for layer in self.layers:
                layer.weight[s, self.count[s] - 1] = 0.0
                layer.bias[s, self.count[s] - 1] = 0.0
            self.count[s] -= 1

    def mask_old_anchor_grads(self) -> None:
        """Only each seed's newest anchor learns (§9.2 step 1: earlier anchors are frozen)."""
        newest = (torch.arange(self.anchors, device=self.count.device) == (self.count - 1)[:, None])  # [S, T]
        for layer in self.layers:
            for param in (layer.weight, layer.bias):
                if param.grad is not None:
                    param.grad.mul_(newest[:, :, None, None])

    def anchor_params(self) -> int:
        """Entries of one anchor (one policy) per seed."""
        return sum(p[0, 0].numel() for p in self.parameters())


class AlphaContext:
    """Which point a critic call is conditioned on (§9.3): a replay action pairs with the alpha stored with
    it, any other action with the alpha of the actor forward that produced it (the latest one), and calls
    outside an update (plasticity probes) with the midpoint of the current anchors. Shared, never copied,
    by a critic and its target."""

    def __init__(self) -> None:
        self.stored_action: torch.Tensor | None = None
        self.stored_alpha: torch.Tensor | None = None
        self.actor: SubspaceActor | None = None

    def __deepcopy__(self, memo: dict) -> "AlphaContext":
        return self

    def alpha_for(self, action: torch.Tensor) -> torch.Tensor:
        if self.stored_action is not None and action.shape == self.stored_action.shape and torch.equal(action, self.stored_action):
            return self.stored_alpha
        if self.stored_action is not None and self.actor.last_alpha is not None:
            return self.actor.last_alpha
        return midpoint(self.actor.count, self.actor.anchors)[:, None, :].expand(-1, action.shape[1], -1)


class AlphaQ(nn.Module):
    """Q(s, a, alpha): an MLP over obs + act + alpha (zero-padded to T anchors) (§9.1 `AlphaCritic`)."""

    def __init__(self, mlp: BatchedMLP, obs_dim: int, context: AlphaContext) -> None:
        super().__init__()
        self.mlp, self.obs_dim, self.context = mlp, obs_dim, context
        self.activation = mlp.activation  # plasticity metrics hook the hidden units here

    def q(self, x: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        """x = obs + act [S, B, .], alpha [S, B, T] -> [S, B, 1]."""
        return self.mlp(torch.cat([x, alpha], dim=-1))

    def forward(self, x: torch.Tensor, head: int = 0) -> torch.Tensor:
        return self.q(x, self.context.alpha_for(x[..., self.obs_dim:]))

    def reset_parameters(self, rng: SeedRNG, seeds: torch.Tensor | None = None) -> None:
        self.mlp.reset_parameters(rng, seeds)
