"""Per-seed divergence: a seed whose numbers stop being finite is frozen, the others never notice.

One unstable seed must not take down the S - 1 others trained beside it (issue #11). The guard keeps
a device-side mask `alive` [S] and, per seed, the env step at which it diverged. It is updated on
the hot path with tensor ops only (no host sync); the run loop reads it back at evaluations.

What counts as divergence, per seed: a non-finite gradient norm of any role (a seed's loss reaches
its own parameters only, so a non-finite loss of that seed shows here; an overflowing norm of huge
finite gradients counts too), a non-finite parameter after a step that finite gradients do not vouch
for (`SeedHealth.guarded_step`), or a non-finite action.

What "frozen" means: from the step that diverged on, every optimizer step and target average
leaves the seed's parameters and optimizer moments bit-identical (they are put back with
`torch.where` after the batched step, so nothing the seed computed is kept, not even at its first
bad step). The seed keeps acting with its frozen policy, from its own RNG stream and environments,
which is what leaves the other seeds exactly as they would be without it: every batched op is
per seed, and the loss is a sum of per-seed terms, so a NaN in one seed's term never reaches another
seed's gradient. Per-task resets (fresh optimizers, temperature, target sync) and a method's rare
structural events still apply to every seed alike; a diverged seed is scored as a failure whatever
its later numbers are.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import torch


def _per_seed(mask: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """mask [S] viewed to broadcast over a tensor [S, ...]."""
    return mask.view(-1, *[1] * (like.dim() - 1))


def finite_per_seed(tensors: Iterable[torch.Tensor], num_seeds: int) -> torch.Tensor:
    """[S] bool: seed s's slices of the tensors [S, ...] hold only finite values.

    Read off the per-seed sum (one fast reduction; an elementwise isfinite is ~15x slower on CPU):
    a NaN or inf makes the sum non-finite, and so does a sum that overflows float32, i.e. values
    near 1e38 / numel, which no healthy network holds."""
    total = None
    for t in tensors:
        part = t.detach().flatten(1).sum(dim=1)
        total = part if total is None else total + part
    return torch.ones(num_seeds, dtype=torch.bool) if total is None else torch.isfinite(total)


class SeedHealth:
    """The mask of seeds still training, and the env step at which each other one diverged."""

    def __init__(self, num_seeds: int, device: torch.device) -> None:
        self.num_seeds = num_seeds
        self.alive = torch.ones(num_seeds, dtype=torch.bool, device=device)
        self.diverged_at = torch.full((num_seeds,), -1, dtype=torch.int64, device=device)

    def observe(self, finite: torch.Tensor, env_step: int) -> None:
        """Mark seeds whose `finite` [S] is False as diverged at `env_step` (first time only)."""
        finite = finite.to(self.alive.device)
        self.diverged_at.masked_fill_(self.alive & ~finite, env_step)
        self.alive &= finite

    def all_alive_on_host(self) -> bool:
        """True when every seed is healthy and the mask lives on the CPU, where reading it is no
        device sync: the restore below can then be skipped (torch.where is slow on CPU). On an
        accelerator this is always False, and the restore runs without reading the mask back."""
        return self.alive.device.type == "cpu" and bool(self.alive.all())

    @torch.no_grad()
    def keep(self, new: torch.Tensor, old: torch.Tensor, out: torch.Tensor) -> None:
        """out [S, ...] <- new for healthy seeds, old for diverged ones (elementwise: `out` may be either)."""
        torch.where(_per_seed(self.alive, new), new, old, out=out)

    @torch.no_grad()
    def polyak(self, target: torch.Tensor, source: torch.Tensor, tau: float) -> None:
        """target <- target + tau (source - target) for healthy seeds; diverged seeds' targets stay."""
        if self.all_alive_on_host():
            target.lerp_(source, tau)
        else:
            self.keep(target.lerp(source, tau), target, out=target)

    @torch.no_grad()
    def polyak_all(self, targets: list[torch.Tensor], sources: list[torch.Tensor], tau: float) -> None:
        """`polyak` over a network's parameter lists: one fused lerp when every seed is healthy (the same
        bits as per-tensor `lerp_`, without a Python loop over tensors; issue #20)."""
        if self.all_alive_on_host():
            torch._foreach_lerp_(targets, sources, tau)
            return
        for target, source in zip(targets, sources):
            self.polyak(target, source, tau)

    @torch.no_grad()
    def guarded_step(self, optimizer: torch.optim.Optimizer, grad_norm: torch.Tensor, env_step: int) -> None:
        """`optimizer.step()`, after which diverged seeds (old and new) hold their pre-step values.

        grad_norm [S] is the per-seed norm the learner measured (a 0-d tensor when no parameter
        holds a gradient: nothing to judge then).

        A step that `_may_diverge` clears is taken bare: no copies before it and no finiteness pass
        over the parameters after it. Why the pass can go too: with finite gradients Adam moves each
        parameter by a bounded amount, so a parameter that was finite stays finite, and one that was
        not (written by a method's edit) already reached the loss and made this seed's gradient norm
        non-finite. The one case it no longer catches at the step is a non-finite parameter no loss
        reads (an idle task head): it is caught when a loss or an action first reads it (issue #20)."""
        if not self._may_diverge(grad_norm):
            optimizer.step()
            return
        params = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        before = [(p, p.detach().clone(), self._state_copy(optimizer, p)) for p in params]
        optimizer.step()
        if grad_norm.dim() == 1:
            self.observe(torch.isfinite(grad_norm) & finite_per_seed(params, self.num_seeds).to(grad_norm.device),
                         env_step)
        if self.all_alive_on_host():
            return
        for p, old, state in before:
            self.keep(p, old, out=p)
            for key, value in optimizer.state.get(p, {}).items():
                if key in state:
                    self.keep(value, state[key], out=value)

    def _may_diverge(self, grad_norm: torch.Tensor) -> bool:
        """Whether this step needs the pre-step copies to restore a seed from.

        Why: the copies were a fifth of a TD3 update on CPU (issue #20), and from gradients whose
        per-seed norms are finite (so every squared gradient is finite) Adam's moments stay finite and
        its update is bounded by the learning rate, so the parameters of healthy seeds stay finite. The
        copies are skipped exactly then, on the CPU where the check is no device sync; elsewhere
        (an accelerator, a diverged seed, a non-finite or missing norm) they are taken as before."""
        healthy = grad_norm.dim() == 1 and self.all_alive_on_host() and bool(torch.isfinite(grad_norm).all())
        return not healthy

    @staticmethod
    def _state_copy(optimizer: torch.optim.Optimizer, p: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-seed state tensors of `p` (Adam's moments; zeros before its first step, as Adam
        initializes them); scalars such as Adam's step count are shared across seeds and kept."""
        state = optimizer.state.get(p, {})
        copies = {k: v.detach().clone() for k, v in state.items() if torch.is_tensor(v) and v.shape == p.shape}
        if not state:
            copies = {k: torch.zeros_like(p) for k in ("exp_avg", "exp_avg_sq")}
        return copies

    def diverged(self, seeds: Sequence[int]) -> dict[int, int]:
        """{seed: env step at which it diverged} (a host read: call it rarely)."""
        steps = self.diverged_at.tolist()
        return {seed: step for seed, step in zip(seeds, steps) if step >= 0}

    def state_dict(self) -> dict:
        return {"alive": self.alive.clone(), "diverged_at": self.diverged_at.clone()}

    def load_state_dict(self, state: dict) -> None:
        self.alive.copy_(state["alive"])
        self.diverged_at.copy_(state["diverged_at"])
