"""Rewire: "Rewiring Neurons in Non-Stationary Environments" (Sun & Mu, NeurIPS 2023; rewire.md), on SAC.

The actor learns, besides its weights, K permutations ("wirings") of every hidden layer's neurons
(`rewire_network.RewireActor`, math in `rewire_permutation`). Per task (rewire.md §3):
- start: every mode starts from the selected wiring (a revisited slot: from its cached wiring),
  rank-normalized; a new slot's head is a copy of the previous head; r0 = the evaluation return of the
  answering policy on the new task (`ctx.rollout`, outside the budget, rewire.md §8);
- training: a mode per env step and per forward inside an update; actor loss + alpha * L_div (the
  squared error on (mu, log sigma) to another mode, [C]) + beta * L_SP (alignment to the snapshot
  through adapter permutations) once a task has been consolidated;
- end: evaluate every mode (outside the budget); if none beats r0 * (1 + threshold), roll the seed back
  to its task-start weights, scores and head; k* = the best mode; fold the adapters into every earlier
  cached wiring, snapshot the weights, reset the adapters; cache argsort(v_k*) for the task's slot.
Evaluation of a finished task j uses slot j mod cycle: its cached wiring and its head.

Defaults are the HalfCheetah/forgetting row of rewire.md §5 (the scenario this harness runs it on);
other scenarios set theirs through their `method_overrides`. Ablations of Table 3 are flags:
`modes=1` (no multi-mode), `caching=false`, `alignment=false` (the penalty becomes the plain L2 pull of
FT-L2 to the snapshot, strength beta), `rollback=false`.

Decisions where rewire.md is silent, or does not fit this harness:
- Seeds: k*, r0, the rollback test, mode draws and Gumbel noise are per seed; a mode is one draw per seed
  per env step (the spec's "shared over the vectorised envs" is one env per seed here).
- "Inside an update" is the window between the learner's `sample` and `after_update` hooks (the contract
  fixes that order), so plasticity probes and evaluations forward with k*, never draw.
- Rollback restores the scores and head the task started from (they equal "the last cached wiring" and
  the previous head on a new slot) and the hidden weights from the snapshot, which equals the task-start
  weights: the rolled-back seed is bit for bit the policy that produced r0.
- Task 0 has no r0, so no mode evaluation and k* = 0 there ([C]: only t > 0 evaluates modes).
- Tasks not finished yet (the current one, future ones) answer with the live actor in mode k* and the
  current slot's head, as FT-N and PackNet do here.
- Adapters carry no Gumbel noise (beta_2 = 0 in every released config), and [C]'s Dropout(0.1) when
  beta_g = 0 is not reproduced (HalfCheetah/forgetting has beta_g = 0.1, so it never applies there).
- Model size counts every tensor the policy keeps after a task (rewire.md §4): weights, the heads of the
  slots used so far, K score vectors, and after the first consolidation the snapshot, the adapters and
  the cached wirings (one per integer); the task-start copy kept for rollback is transient and not counted.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

import torch

from plasticbench.benchmark.registry import register_method
from plasticbench.methods.base import Method
from plasticbench.methods.rewire_network import RewireActor, head_params, hidden_params, wiring_entries
from plasticbench.methods.rewire_permutation import (aligned_snapshot, alignment_penalty, fold_adapters,
                                                     identity_scores, rank_normalized, scores_from_wiring, softsort_st)

if TYPE_CHECKING:
    from plasticbench.baselines.learner import Learner, NetworkSpec
    from plasticbench.baselines.replay import Batch, ReplayBuffer
    from plasticbench.envs.task import Task

LOG_STD_CLIP, MEAN_CLIP = (-20.0, 2.0), (-20.0, 20.0)  # rewire.md §2, L_div


def mode_divergence(out: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
    """[S] L_div of [C] (rewire.md §2): sum over batch and action dims of (mu_k - sg(mu_k'))^2 +
    (log sigma_k - sg(log sigma_k'))^2, log sigma clipped to [-20, 2], mu_k' to [-20, 20]."""
    mu, log_std = out.chunk(2, dim=-1)
    other_mu, other_log_std = other.detach().chunk(2, dim=-1)
    terms = (mu - other_mu.clamp(*MEAN_CLIP)) ** 2 + (log_std.clamp(*LOG_STD_CLIP) - other_log_std.clamp(*LOG_STD_CLIP)) ** 2
    return terms.flatten(1).sum(1)


@register_method("rewire", settings={"continual"}, learners={"sac"})
class Rewire(Method):
    """Learned neuron permutations per hidden layer, K modes, caching, alignment and rollback."""

    @dataclass(frozen=True)
    class Config:
        modes: int = 3  # K ([C] `k`)
        tau: float = 1.0  # SoftSort temperature ([C] `tau`, HC forgetting)
        gumbel: float = 0.1  # Gumbel scale on scores in update forwards ([C] `beta`, not the paper's beta)
        tau_adapter: float = 0.1  # adapter SoftSort temperature ([C] `tau2`)
        cycle: int = 4  # distinct task slots ([C] `cycle`)
        divergence: float = 1e-5  # alpha ([C] `divergence`)
        strength: float = 100.0  # beta ([C] `coeff`, HC forgetting)
        improvement_threshold: float = 0.0  # rollback unless max_k r_k >= r0 * (1 + threshold)
        caching: bool = True
        alignment: bool = True
        rollback: bool = True

    def __init__(self, config: Config | None = None) -> None:
        super().__init__(config)
        cfg = self.config
        for name in ("modes", "cycle"):
            if getattr(cfg, name) < 1:
                raise ValueError(f"rewire {name}={getattr(cfg, name)}; it must be >= 1")
        for name in ("tau", "tau_adapter"):
            if getattr(cfg, name) <= 0:
                raise ValueError(f"rewire {name}={getattr(cfg, name)}; it must be > 0")
        for name in ("gumbel", "divergence", "strength"):
            if getattr(cfg, name) < 0:
                raise ValueError(f"rewire {name}={getattr(cfg, name)}; it must be >= 0")
        self.r0: torch.Tensor | None = None  # [S] return before training on the current task
        self.finished = 0  # tasks 0..finished-1 are consolidated
        self.task_start: dict | None = None  # scores and head the current task started from (rollback)

    # ----- network -------------------------------------------------------------------------
    def build(self, ctx: "Learner", role: str, spec: "NetworkSpec") -> RewireActor | None:
        if role != "actor":
            return None  # the critic is a plain twin-Q SAC critic (rewire.md §1)
        cfg = self.config
        return RewireActor(spec.num_seeds, spec.sizes, spec.activation, spec.rng, cfg.modes, cfg.cycle, cfg.tau,
                           cfg.gumbel)

    @staticmethod
    def actor(ctx: "Learner") -> RewireActor:
        return ctx.networks["actor"]

    # ----- task start ----------------------------------------------------------------------
    @torch.no_grad()
    def on_task_start(self, ctx: "Learner", task: "Task") -> None:
        actor, t, cycle = self.actor(ctx), task.index, self.config.cycle
        slot = t % cycle
        if t > 0:
            for l, scores in enumerate(actor.scores):
                if t >= cycle and self.config.caching:
                    base = scores_from_wiring(actor.cached(l)[slot])
                else:
                    base = rank_normalized(actor.mode_scores(l, actor.k_star))
                scores.copy_(base[:, None, :].expand_as(scores))
            if t < cycle:  # a new slot starts from a copy of the previous head
                for p, q in zip(actor.heads[slot].parameters(), actor.heads[(t - 1) % cycle].parameters()):
                    p.copy_(q)
        actor.slot.fill_(slot)
        self.task_start = {"scores": [s.detach().clone() for s in actor.scores],
                           "head": [p.detach().clone() for p in actor.heads[slot].parameters()]}
        self.r0 = self.evaluate(ctx, task) if t > 0 and self.config.rollback else None  # only rollback reads r0

    def evaluate(self, ctx: "Learner", task: "Task") -> torch.Tensor:
        """[S] evaluation return of the answering policy on `task` (outside the budget, rewire.md §8)."""
        return ctx.rollout(task, lambda obs: ctx.policy_action(obs, False, ctx.head))

    # ----- acting and updating -------------------------------------------------------------
    def act(self, ctx: "Learner", obs: torch.Tensor, explore: bool) -> torch.Tensor | None:
        """Exploration draws a mode per seed for this env step; evaluation answers with k*."""
        if not explore:
            return None
        actor = self.actor(ctx)
        actor.mode = actor.draw_modes()
        try:
            return ctx.policy_action(obs, True, ctx.head)
        finally:
            actor.mode = None

    def sample(self, ctx: "Learner", buffer: "ReplayBuffer", batch_size: int) -> None:
        self.actor(ctx).sampling = True  # forwards until `after_update` draw their own mode
        return None

    def after_update(self, ctx: "Learner") -> None:
        actor = self.actor(ctx)
        actor.sampling, actor.last_output, actor.last_modes = False, None, None

    def loss(self, ctx: "Learner", role: str, batch: "Batch") -> torch.Tensor | None:
        if role != "actor":
            return None
        terms = []
        if self.config.modes > 1 and self.config.divergence > 0:
            terms.append(self.config.divergence * self.divergence_loss(ctx, batch))
        if self.finished > 0 and self.config.strength > 0:
            terms.append(self.config.strength * self.stability_loss(self.actor(ctx)))
        return sum(terms) if terms else None

    def divergence_loss(self, ctx: "Learner", batch: "Batch") -> torch.Tensor:
        """Sum over seeds of L_div between the actor-loss forward's mode k and k' = (k + U{1..K-1}) mod K."""
        actor = self.actor(ctx)
        if actor.last_output is None:
            raise RuntimeError("rewire's divergence needs the actor-loss forward of this update")
        out, modes = actor.last_output, actor.last_modes
        others = (modes + 1 + ctx.rng.integers(self.config.modes - 1)) % self.config.modes
        actor.mode = others
        try:
            with torch.no_grad():
                other = actor(batch.obs)
        finally:
            actor.mode = None
        return mode_divergence(out, other).sum()

    def stability_loss(self, actor: RewireActor) -> torch.Tensor:
        """Sum over seeds of L_SP (alignment, [C]'s form) or, without alignment, of ||W - W̄||^2 + ||b - b̄||^2."""
        total = 0.0
        for l, layer in enumerate(actor.hidden):
            weight, bias = actor.snapshot(l)
            if self.config.alignment:
                tau = self.config.tau_adapter
                out_adapter = softsort_st(actor.adapters_out[l], tau)
                in_adapter = softsort_st(actor.adapters_in[l - 1], tau) if l > 0 else None
                target = aligned_snapshot(weight, bias, out_adapter, in_adapter)
                total = total + alignment_penalty(layer.weight, layer.bias, *target).sum()
            else:
                total = total + ((layer.weight - weight) ** 2).sum() + ((layer.bias - bias) ** 2).sum()
        return total

    # ----- task end ------------------------------------------------------------------------
    @torch.no_grad()
    def on_task_end(self, ctx: "Learner", task: "Task") -> None:
        actor, t = self.actor(ctx), task.index
        if t > 0 and (self.config.modes > 1 or self.r0 is not None):
            returns = torch.stack([self.mode_return(ctx, task, k) for k in range(self.config.modes)])  # [K, S]
            best, k_star = returns.max(dim=0)
            if self.r0 is not None:
                self.roll_back(actor, best < self.r0 * (1 + self.config.improvement_threshold))
            actor.k_star.copy_(k_star)
        self.consolidate(actor, t)
        self.finished, self.r0, self.task_start = t + 1, None, None

    def mode_return(self, ctx: "Learner", task: "Task", mode: int) -> torch.Tensor:
        actor = self.actor(ctx)
        actor.mode = torch.full_like(actor.k_star, mode)
        try:
            return self.evaluate(ctx, task)
        finally:
            actor.mode = None

    def roll_back(self, actor: RewireActor, back: torch.Tensor) -> None:
        """Seeds where `back` [S] is set return to the task's start: snapshot weights, start scores and head."""
        def restore(param: torch.Tensor, value: torch.Tensor) -> None:
            param.copy_(torch.where(back.view(-1, *[1] * (param.dim() - 1)), value, param))

        for l, layer in enumerate(actor.hidden):
            for param, value in zip((layer.weight, layer.bias), actor.snapshot(l)):
                restore(param, value)
        for param, value in zip(actor.scores, self.task_start["scores"]):
            restore(param, value)
        for param, value in zip(actor.heads[int(actor.slot)].parameters(), self.task_start["head"]):
            restore(param, value)

    def consolidate(self, actor: RewireActor, t: int) -> None:
        """Fold the adapters into every earlier cached wiring, snapshot, reset the adapters, cache k*'s wiring."""
        cfg, slot = self.config, int(actor.slot)
        cached_slots = min(t, cfg.cycle)  # slots cached before this task
        for l, layer in enumerate(actor.hidden):
            if cfg.caching and cfg.alignment and cached_slots > 0:
                next_in = actor.adapters_in[l] if l + 1 < len(actor.hidden) else None
                cached = actor.cached(l)
                cached[:cached_slots] = fold_adapters(cached[:cached_slots], actor.adapters_out[l], next_in)
            weight, bias = actor.snapshot(l)
            weight.copy_(layer.weight)
            bias.copy_(layer.bias)
        for adapter in (*actor.adapters_out, *actor.adapters_in):
            adapter.copy_(identity_scores(adapter.shape[0], adapter.shape[-1], device=adapter.device))
        for l, scores in enumerate(actor.scores):
            selected = actor.mode_scores(l, actor.k_star)
            if cfg.caching:
                actor.cached(l)[slot] = torch.argsort(selected, dim=-1, stable=True)
            scores.copy_(selected[:, None, :].expand_as(scores).clone())

    # ----- evaluation ----------------------------------------------------------------------
    @contextlib.contextmanager
    def evaluating(self, ctx: "Learner", task_index: int) -> Iterator[None]:
        if task_index >= self.finished:
            yield
            return
        actor = self.actor(ctx)
        slot, live_slot = task_index % self.config.cycle, int(actor.slot)
        actor.slot.fill_(slot)
        if self.config.caching:
            actor.wiring = [actor.cached(l)[slot] for l in range(len(actor.hidden))]
        try:
            yield
        finally:
            actor.slot.fill_(live_slot)
            actor.wiring = None

    # ----- accounting and checkpoints ------------------------------------------------------
    def model_size(self, ctx: "Learner") -> int:
        actor, cfg = self.actor(ctx), self.config
        size = hidden_params(actor) + min(ctx.task_index + 1, cfg.cycle) * head_params(actor)
        size += cfg.modes * wiring_entries(actor)
        if self.finished > 0:
            adapters = sum(a[0].numel() for a in (*actor.adapters_out, *actor.adapters_in))
            cached = min(self.finished, cfg.cycle) * wiring_entries(actor) if cfg.caching else 0
            size += hidden_params(actor) + adapters + cached
        return size

    def state_dict(self) -> dict:
        return {"r0": self.r0, "finished": self.finished, "task_start": self.task_start}

    def load_state_dict(self, state: dict) -> None:
        self.r0, self.finished, self.task_start = state["r0"], state["finished"], state["task_start"]
