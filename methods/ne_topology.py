"""NE's mask math as pure functions on seed-batched tensors (spec ne.md §2).

Weights here are `BatchedLinear` weights [S, in, out]; a mask is a boolean tensor of the same shape
(True = active connection). Every function decides per seed: no value mixes seeds, and the per-seed
counts (`n` [S]) may differ between seeds.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch

from plasticbench.benchmark.metrics.plasticity import dormant_masks


def erdos_renyi_densities(shapes: Sequence[tuple[int, int]], sparsity: float) -> list[float]:
    """Layer densities d_l = eps (n_in + n_out) / (n_in n_out) with sum_l d_l N_l = (1 - sparsity) sum_l N_l.

    ne.md §2 "Initial topology" (Evci et al. 2020, NE [C] `sparse_set`): a layer whose density would
    exceed 1 is made dense and eps is re-solved for the rest, until no layer exceeds 1.
    """
    if not 0.0 <= sparsity < 1.0:
        raise ValueError(f"initial sparsity {sparsity} must be in [0, 1)")
    sizes = [i * o for i, o in shapes]
    raw = [(i + o) / (i * o) for i, o in shapes]
    budget = (1.0 - sparsity) * sum(sizes)
    dense: set[int] = set()
    while True:
        sparse = [k for k in range(len(shapes)) if k not in dense]
        remaining = budget - sum(sizes[k] for k in dense)
        eps = remaining / sum(raw[k] * sizes[k] for k in sparse) if sparse else 0.0
        too_dense = [k for k in sparse if eps * raw[k] > 1.0]
        if not too_dense:
            return [1.0 if k in dense else eps * raw[k] for k in range(len(shapes))]
        dense.update(too_dense)


def top_k_mask(scores: torch.Tensor, k: torch.Tensor | int) -> torch.Tensor:
    """Per seed, True at the k[s] largest entries of scores [S, ...] (ties: lowest flat index first)."""
    flat = scores.flatten(1)
    order = flat.argsort(dim=1, descending=True, stable=True)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(flat.shape[1], device=flat.device).expand_as(order))
    k = torch.as_tensor(k, device=flat.device).reshape(-1, 1)
    return (rank < k).view_as(scores)


def initial_mask(weight: torch.Tensor, density: float, scores: torch.Tensor | None = None) -> torch.Tensor:
    """The round(density * N) connections of each seed with the largest scores (default |w| at init, [C])."""
    count = round(density * weight[0].numel())
    return top_k_mask(weight.abs() if scores is None else scores, count)


def cosine_grow_rate(step: int, end: int, rate: float) -> float:
    """zeta_t = zeta_0 / 2 (1 + cos(pi t / T_end)) (ne.md §2 "Growth"; RigL's cosine drop fraction); 0 from T_end on."""
    if step >= end:
        return 0.0
    return 0.5 * rate * (1.0 + math.cos(math.pi * step / end))


def grow_connections(mask: torch.Tensor, dense_grad: torch.Tensor, n_grow: torch.Tensor) -> torch.Tensor:
    """New connections [S, in, out]: per seed the n_grow[s] inactive ones with the largest |G| (ne.md §2)."""
    scores = dense_grad.abs().masked_fill(mask, -1.0)  # active positions rank below every candidate
    n = torch.minimum(n_grow, (~mask).flatten(1).sum(dim=1))
    return top_k_mask(scores, n) & ~mask


def neurons_to_prune(activations: torch.Tensor, upper_bound: int, alive: torch.Tensor | None = None) -> torch.Tensor:
    """Fully dormant neurons (tau = 0, Sokar et al. eq. 1) of one hidden layer, at most `upper_bound` per seed.

    activations [S, B, H] -> [S, H] booleans; when more are dormant the lowest indices go first (ne.md §7.4).
    Only neurons that still have an incoming connection (`alive` [S, H]) are candidates and count
    against the bound: a pruned neuron outputs 0 forever, and counting it again at every event would
    spend the bound on it and never reach the neurons that go dormant later (issue #10).
    """
    dormant = dormant_masks([activations], 0.0)[0]
    if alive is not None:
        dormant = dormant & alive
    return dormant & (dormant.cumsum(dim=1) <= upper_bound)


def incoming_alive(mask: torch.Tensor) -> torch.Tensor:
    """[S, in, out] mask -> [S, out]: the neurons with at least one active incoming connection."""
    return mask.any(dim=1)


def smallest_active(mask: torch.Tensor, weight: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    """Per seed the n[s] active connections with the smallest |w| (RigL's drop criterion; [C] both phases)."""
    return top_k_mask(-weight.abs().masked_fill(~mask, float("inf")), n) & mask


def post_growth_rate(since: torch.Tensor, end: int, rate: float) -> torch.Tensor:
    """zeta'_t = zeta'/2 (1 + cos(pi t / T_end)) per seed on the clock restarted when growth ended (ne.md §2
    "End of growth", [C] `STL_Scheduler.__call__`: step reset to 0, zeta = 0.2); 0 from T_end on. since [S] -> [S]."""
    t = since.double()
    value = 0.5 * rate * (1.0 + torch.cos(math.pi * t / end))
    return torch.where(t < end, value, torch.zeros_like(value))


def review_indices(uniform: torch.Tensor, size: int, pointer: int, capacity: int, fraction: float) -> torch.Tensor:
    """Ring-buffer indices of the oldest `fraction` of the `size` stored transitions.

    uniform [S, B] in (0, 1) -> indices [S, B] (ne.md §2 "Experience Review": oldest 25 % [P], 30 % [C]).
    """
    window = max(1, int(fraction * size))
    oldest = (pointer - size) % capacity
    offset = (uniform * window).long().clamp_max(window - 1)
    return (oldest + offset) % capacity


def code_gate(fau: torch.Tensor, awaken: float, t_amp: float) -> torch.Tensor:
    """[C] `recall` gate: g = 1 / (1 + exp(a - FAU) T_amp), and g >= 0.6 becomes 0.4; review iff FAU < a and u >= g."""
    g = 1.0 / (1.0 + torch.exp(awaken - fau) * t_amp)
    return torch.where(g >= 0.6, torch.full_like(g, 0.4), g)
