"""The rewired actor of Rewire (rewire.md §2-§4), seed-batched: hidden `BatchedLinear` layers whose
pre-activations (bias included) are permuted by one of K learned wirings, and one output head per task
slot.

    h_l = act( P_l (W_l h_{l-1} + b_l) ),  l = 1..L-1;   y = head_slot(h_{L-1})

Which permutation P_l a forward uses (the mode k is shared by every layer of one forward, per seed):
- `wiring` set (a cached wiring answering for an old task): those index arrays;
- inside an update (`sampling`): a mode drawn per seed and per forward, straight-through SoftSort with
  the xK trick when gradients flow, optional Gumbel noise on the scores (rewire.md §3, "Forward inside an
  update"); the forward's output and modes are kept for the diversity loss;
- `mode` set (acting: one draw per env step): argsort of that mode's scores;
- otherwise the answering mode k* (`k_star`), hard.
Everything a checkpoint must carry (scores, adapters, snapshot, cached wirings, k*, the slot) is a
parameter or buffer, so the learner's state dict holds it.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from plasticbench.baselines.batched import ACTIVATIONS, BatchedLinear
from plasticbench.baselines.seed_rng import SeedRNG
from plasticbench.methods.rewire_permutation import (gather_wiring, identity_scores, straight_through_permute,
                                                     times_k)


class RewireActor(nn.Module):
    def __init__(self, num_seeds: int, sizes: Sequence[int], activation: str, rng: SeedRNG, modes: int, slots: int,
                 tau: float, gumbel: float) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; allowed: {sorted(ACTIVATIONS)}")
        self.rng, self.modes, self.tau, self.gumbel = rng, modes, tau, gumbel
        widths = list(sizes[1:-1])
        device = rng.device
        self.hidden = nn.ModuleList(BatchedLinear(num_seeds, i, o, rng) for i, o in zip(sizes[:-2], sizes[1:-1]))
        self.heads = nn.ModuleList(BatchedLinear(num_seeds, sizes[-2], sizes[-1], rng) for _ in range(slots))
        self.activation = ACTIVATIONS[activation]()
        self.scores = nn.ParameterList(nn.Parameter(identity_scores(num_seeds, n, modes, device)) for n in widths)
        self.adapters_out = nn.ParameterList(nn.Parameter(identity_scores(num_seeds, n, device=device)) for n in widths)
        self.adapters_in = nn.ParameterList(nn.Parameter(identity_scores(num_seeds, n, device=device)) for n in widths[:-1])
        for l, layer in enumerate(self.hidden):  # the end-of-previous-task snapshot W̄, b̄
            self.register_buffer(f"snapshot_weight_{l}", layer.weight.detach().clone())
            self.register_buffer(f"snapshot_bias_{l}", layer.bias.detach().clone())
            self.register_buffer(f"cached_{l}", torch.arange(widths[l], device=device).expand(slots, num_seeds, -1).clone())
        self.register_buffer("k_star", torch.zeros(num_seeds, dtype=torch.int64, device=device))
        self.register_buffer("slot", torch.zeros((), dtype=torch.int64, device=device))
        self.mode: torch.Tensor | None = None  # [S] set while acting with a drawn mode
        self.wiring: list[torch.Tensor] | None = None  # per hidden layer [S, n], set while answering for an old task
        self.sampling = False  # inside an update
        self.last_modes: torch.Tensor | None = None
        self.last_output: torch.Tensor | None = None

    def snapshot(self, l: int) -> tuple[torch.Tensor, torch.Tensor]:
        return getattr(self, f"snapshot_weight_{l}"), getattr(self, f"snapshot_bias_{l}")

    def cached(self, l: int) -> torch.Tensor:
        """[slots, S, n] cached wirings of hidden layer l."""
        return getattr(self, f"cached_{l}")

    def draw_modes(self, *shape: int) -> torch.Tensor:
        """k ~ U{0..K-1} per seed ([S, *shape]), from each seed's own stream."""
        return self.rng.integers(self.modes, *shape)

    def mode_scores(self, l: int, modes: torch.Tensor) -> torch.Tensor:
        """[S, n] scores of hidden layer l in each seed's mode."""
        scores = self.scores[l]
        return scores[torch.arange(scores.shape[0], device=scores.device), modes]

    def permute(self, l: int, z: torch.Tensor, modes: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
        if self.wiring is not None:
            return gather_wiring(z, self.wiring[l])
        scores = self.mode_scores(l, modes)
        if noise is not None:
            scores = scores + self.gumbel * noise[:, l, : scores.shape[-1]]
        if self.sampling and torch.is_grad_enabled():
            return straight_through_permute(z, times_k(scores, self.modes), self.tau)
        return gather_wiring(z, torch.argsort(scores.detach(), dim=-1, stable=True))

    def gumbel_noise(self) -> torch.Tensor | None:
        """Gumbel(0, 1) noise on the scores of every hidden layer, [S, L, widest], in a forward inside an
        update (None otherwise). One draw for all layers: row l holds the numbers a draw of layer l's own
        width would give, in layer order (SeedRNG's numbers depend on counter and index only), so the
        scores are those of one draw per layer at a fraction of the ops (issue #20)."""
        if self.wiring is not None or not self.sampling or self.gumbel <= 0:
            return None
        widths = [layer.out_features for layer in self.hidden]
        return -torch.log(-torch.log(self.rng.uniform_draws(len(widths), max(widths))))

    def forward(self, x: torch.Tensor, head: int = 0) -> torch.Tensor:
        """x [S, B, in] -> [S, B, out]; `head` is ignored: the task slot picks the head (rewire.md §3)."""
        if self.mode is not None:
            modes = self.mode
        elif self.sampling and self.wiring is None:
            modes = self.draw_modes()
        else:
            modes = self.k_star
        h, noise = x, self.gumbel_noise()
        for l, layer in enumerate(self.hidden):
            h = self.activation(self.permute(l, layer(h), modes, noise))
        out = self.heads[int(self.slot)](h)
        if self.sampling and torch.is_grad_enabled():
            self.last_modes, self.last_output = modes, out
        return out

    def reset_parameters(self, rng: SeedRNG, seeds: torch.Tensor | None = None) -> None:
        raise NotImplementedError("Rewire keeps its actor across tasks; it never re-initializes it")


def per_seed_params(tensors) -> int:
    """Entries per seed of tensors that lead with the seed axis."""
    return sum(t[0].numel() for t in tensors)


def head_params(actor: RewireActor) -> int:
    return per_seed_params(actor.heads[0].parameters())


def hidden_params(actor: RewireActor) -> int:
    return per_seed_params(actor.hidden.parameters())


def wiring_entries(actor: RewireActor) -> int:
    """Integers in one cached wiring (one per hidden neuron)."""
    return sum(layer.out_features for layer in actor.hidden)
