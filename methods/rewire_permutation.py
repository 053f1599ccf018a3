"""Permutation math of Rewire (Sun & Mu 2023; rewire.md §2), as pure functions on tensors that lead with
the seed axis [S, ...], so seed s's permutation comes from seed s's scores only.

A score vector v [S, n] stands for the permutation argsort(v) (ascending); permuting a pre-activation u
means u[..., argsort(v)], i.e. P u with P[i, j] = 1[j = argsort(v)[i]] (rewire.md §2, "Permutation from
scores"). Training sees the straight-through SoftSort relaxation (Prillo & Eisenschlos 2020): the hard
matrix forward, the soft one backward.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def identity_scores(num_seeds: int, n: int, copies: int | None = None, device: torch.device | str = "cpu") -> torch.Tensor:
    """linspace(0, 1, n) per seed ([S, n], or [S, copies, n]): argsort is the identity (rewire.md §3, `init_sort`)."""
    line = torch.linspace(0.0, 1.0, n, device=device)
    shape = (num_seeds, n) if copies is None else (num_seeds, copies, n)
    return line.expand(shape).clone()


def hard_permutation(scores: torch.Tensor) -> torch.Tensor:
    """[S, n] scores -> [S, n, n] 0/1 matrix with row i = one_hot(argsort(v)[i])."""
    return F.one_hot(torch.argsort(scores, dim=-1, stable=True), scores.shape[-1]).to(scores.dtype)


def softsort(scores: torch.Tensor, tau: float) -> torch.Tensor:
    """Row-stochastic relaxation [S, n, n] (rewire.md §2 eq. 4):
    P̂[i, j] = softmax_j(-|v_(i) - v_j| / tau), v_(i) the i-th smallest score."""
    ordered = torch.sort(scores, dim=-1).values
    return torch.softmax(-(ordered[..., :, None] - scores[..., None, :]).abs() / tau, dim=-1)


def softsort_st(scores: torch.Tensor, tau: float) -> torch.Tensor:
    """Straight-through permutation [S, n, n]: P_hard + (P̂ - stopgrad(P̂)). The bracket is exactly 0, so
    the forward value is P_hard bit for bit; the gradient is the soft one's."""
    soft = softsort(scores, tau)
    return hard_permutation(scores.detach()) + (soft - soft.detach())


def times_k(scores: torch.Tensor, k: int) -> torch.Tensor:
    """The xK learning-rate trick on scores (rewire.md §2, [C]): same value, gradient multiplied by K.
    Written v + (K-1)(v - stopgrad(v)) rather than [C]'s K v - (K-1) stopgrad(v) so the value is v exactly."""
    return scores + (k - 1) * (scores - scores.detach())


def permute_rows(u: torch.Tensor, permutation: torch.Tensor) -> torch.Tensor:
    """u [S, B, n] -> P u per sample, i.e. u @ P^T, for [S, n, n] matrices (soft or straight-through)."""
    return torch.bmm(u, permutation.transpose(1, 2))


class _StraightThroughPermute(torch.autograd.Function):
    """`permute_rows(u, softsort_st(v, tau))` with the two products the hard matrix makes exact done as gathers."""

    @staticmethod
    def forward(ctx, u: torch.Tensor, soft: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(u, order)
        return gather_wiring(u, order)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None, None]:
        u, order = ctx.saved_tensors
        grad_u = gather_wiring(grad, inverse(order)) if ctx.needs_input_grad[0] else None
        # what autograd forms for bmm(u, P^T) with respect to P: (u^T grad)^T, the same product and view
        grad_soft = u.transpose(1, 2).bmm(grad).transpose(1, 2) if ctx.needs_input_grad[1] else None
        return grad_u, grad_soft, None


def straight_through_permute(u: torch.Tensor, scores: torch.Tensor, tau: float) -> torch.Tensor:
    """`permute_rows(u, softsort_st(scores, tau))`, the same numbers at a third of the products.

    Why: the straight-through matrix holds the hard permutation's exact 0s and 1s, so the forward
    u @ P^T and the input gradient grad @ P only copy entries: u[..., order] and grad[..., order^-1],
    gathers instead of two [B, n] x [n, n] products per hidden layer, which were a quarter of Rewire's
    update cost at one seed (issue #20). The score gradient still needs the soft matrix's product
    u^T grad, formed as autograd forms it. The entries agree bit for bit, as a sum with one term 1 * x
    and the rest exact zeros is x (only the sign of a zero entry, or a non-finite one, which a
    divergent seed's guard catches either way, could tell the two apart);
    tests/methods/test_rewire_permutation.py checks values and gradients against the matrix form.
    """
    order = torch.argsort(scores.detach(), dim=-1, stable=True)
    return _StraightThroughPermute.apply(u, softsort(scores, tau), order)


def gather_wiring(u: torch.Tensor, wiring: torch.Tensor) -> torch.Tensor:
    """u [S, B, n] -> u[..., wiring] per seed, wiring [S, n] an index array (a hard permutation)."""
    return u.gather(-1, wiring[:, None, :].expand(-1, u.shape[1], -1))


def inverse(permutation: torch.Tensor) -> torch.Tensor:
    """[S, n] index arrays -> their inverses (inv[p[i]] = i)."""
    positions = torch.arange(permutation.shape[-1], device=permutation.device).expand_as(permutation)
    return torch.empty_like(permutation).scatter_(-1, permutation, positions)


def scores_from_wiring(wiring: torch.Tensor) -> torch.Tensor:
    """Scores in [0, 1] whose argsort is `wiring` [S, n]: v[wiring[i]] = i / (n - 1)."""
    n = wiring.shape[-1]
    return inverse(wiring).to(torch.float32) / max(n - 1, 1)


def rank_normalized(scores: torch.Tensor) -> torch.Tensor:
    """rank(v) / (n - 1): the same order, spread evenly over [0, 1] (rewire.md §3 on_task_start, `init_sort`)."""
    return scores_from_wiring(torch.argsort(scores, dim=-1, stable=True)).to(scores.dtype)


def fold_adapters(cached: torch.Tensor, out_adapter: torch.Tensor, next_in_adapter: torch.Tensor | None) -> torch.Tensor:
    """Cached wirings [C, S, n] of one layer rewritten for the aligned weights (rewire.md §2 eq. 12):
    c <- o[c[q^-1]] with o = argsort(a_out) of this layer, q = argsort(a_in) of the next layer (identity
    when the next layer has no input adapter)."""
    o = torch.argsort(out_adapter, dim=-1, stable=True)  # [S, n]
    if next_in_adapter is not None:
        q_inv = inverse(torch.argsort(next_in_adapter, dim=-1, stable=True))
        cached = cached.gather(-1, q_inv.expand_as(cached))
    return o.expand_as(cached).gather(-1, cached)


def aligned_snapshot(weight: torch.Tensor, bias: torch.Tensor, out_adapter: torch.Tensor,
                     in_adapter: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """The snapshot seen through the adapters, in the [S, in, out] / [S, 1, out] storage of `BatchedLinear`:
    (A_out^T W̄ A_in)^T = A_in^T W̄^T A_out and (A_out^T b̄)^T = b̄^T A_out (rewire.md §2 eq. 11)."""
    weight = torch.bmm(weight, out_adapter)
    if in_adapter is not None:
        weight = torch.bmm(in_adapter.transpose(1, 2), weight)
    return weight, torch.bmm(bias, out_adapter)


def alignment_penalty(weight: torch.Tensor, bias: torch.Tensor, target_weight: torch.Tensor,
                      target_bias: torch.Tensor) -> torch.Tensor:
    """[S] ||W - T||^2 + ||b - t||^2 without the ||T||^2 + ||t||^2 terms: -2<T, W> + ||W||^2 (and the
    same for b), the form [C] evaluates (constant only for hard T; reproduced to match gradients, §2)."""
    total = torch.zeros(weight.shape[0], device=weight.device, dtype=weight.dtype)
    for p, t in ((weight, target_weight), (bias, target_bias)):
        total = total + (p * p - 2.0 * p * t).flatten(1).sum(1)
    return total
