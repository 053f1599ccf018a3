"""ReDo: recycle dormant neurons (Sokar, Agarwal, Castro & Evci, ICML 2023; spec redo.md).

Every `period` gradient steps a replay batch is forwarded through each network being recycled; the
tau-dormant hidden neurons of each seed (redo.md §2, eq. 1, scored by
`plasticbench.benchmark.metrics.plasticity.neuron_scores`) get fresh incoming weights from the network's own
initializer and a zero bias, their outgoing weights are zeroed (so the function is unchanged at that
instant) and the Adam moments exp_avg / exp_avg_sq of both touched weight slices are zeroed; bias
moments and Adam's step count are kept, as in the reference code. Every decision is a per-seed
mask; fresh weights are drawn for every seed at every event, whether it recycles or not, so a
seed's random stream does not depend on what other seeds decide.

Schedule (methods/schedule.py): F = `period_fraction` x the task budget, counted in gradient steps
(redo.md §3), 0.001 by default: F = 1,000 at `scale=paper` (1M env steps per task at one update per
env step), redo.md §5's proposal for TD3/SAC on MuJoCo; 50 at short (50k steps) and 1, i.e. every
update, at smoke (300 steps), about 1,000 events per task at every scale. An event counts for a seed
when it recycled at least one of that seed's neurons.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from plasticbench.baselines.batched import BatchedLinear, BatchedMLP, batched_mlps
from plasticbench.baselines.nature_cnn import ConvQNetwork
from plasticbench.baselines.seed_rng import SeedRNG
from plasticbench.benchmark.metrics.plasticity import dormant_masks, hidden_activations
from plasticbench.benchmark.registry import register_method
from plasticbench.methods.base import Method
from plasticbench.methods.schedule import steps_for

ADAM_MOMENTS = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")


@torch.no_grad()
def zero_adam_moments(optimizer: torch.optim.Optimizer, param: torch.Tensor, mask: torch.Tensor) -> None:
    """Zero the Adam moments of `param` where `mask` (broadcastable to it) is set; no state, no-op."""
    state = optimizer.state.get(param, {})
    for key in ADAM_MOMENTS:
        if key in state:
            state[key].masked_fill_(mask, 0.0)


@torch.no_grad()
def recycle_neurons(incoming: BatchedLinear, outgoing: BatchedLinear, dormant: torch.Tensor,
                    fresh_weight: torch.Tensor, optimizer: torch.optim.Optimizer | None = None) -> None:
    """Recycle the neurons marked in dormant [S, H] (redo.md §2).

    Weights are [S, in, out]: neuron i's incoming weights are column i of `incoming.weight` (set from
    fresh_weight [S, in, H]), its bias `incoming.bias[:, 0, i]` (set to 0), its outgoing weights row i
    of `outgoing.weight` (set to 0).
    """
    column, row = dormant[:, None, :], dormant[:, :, None]  # [S, 1, H], [S, H, 1]
    incoming.weight.copy_(torch.where(column, fresh_weight, incoming.weight))
    incoming.bias.masked_fill_(column, 0.0)
    outgoing.weight.masked_fill_(row, 0.0)
    if optimizer is not None:
        zero_adam_moments(optimizer, incoming.weight, column)
        zero_adam_moments(optimizer, outgoing.weight, row)


@torch.no_grad()
def fresh_weight(layer: BatchedLinear, rng: SeedRNG) -> torch.Tensor:
    """A weight drawn by the layer's own initializer for every seed, [S, in, out]; the layer is untouched."""
    clone = copy.deepcopy(layer)
    clone.reset_parameters(rng)
    return clone.weight.detach()


@torch.no_grad()
def recycle_dormant(mlp: BatchedMLP, x: torch.Tensor, tau: float, rng: SeedRNG,
                    optimizer: torch.optim.Optimizer | None = None, targets: tuple[BatchedMLP, ...] = ()) -> torch.Tensor:
    """Score every hidden neuron of `mlp` on inputs x [S, B, in] and recycle the tau-dormant ones.

    All layers are scored on one forward before any is changed (as the reference code does). `targets`
    (copies of `mlp`, e.g. Polyak targets) receive the same edits. Returns recycled neurons per seed [S].
    """
    masks = dormant_masks(hidden_activations(mlp, x), tau)
    for index, dormant in enumerate(masks):
        fresh = fresh_weight(mlp.layers[index], rng)
        recycle_neurons(mlp.layers[index], mlp.layers[index + 1], dormant, fresh, optimizer)
        for target in targets:
            recycle_neurons(target.layers[index], target.layers[index + 1], dormant, fresh)
    return sum(m.sum(dim=1) for m in masks)


@register_method("redo", settings={"online", "continual", "offline"}, learners={"sac", "td3", "bcq", "iql", "dqn"})
class ReDo(Method):
    """Recycle tau-dormant neurons of actor and critic every `period_fraction` of the task budget, in gradient steps."""

    event_kinds = ("recycle",)

    @dataclass(frozen=True)
    class Config:
        """Defaults: redo.md §5's proposal for TD3/SAC on MuJoCo (F = 1,000, tau = 0.1, B_stat = 256,
        actor and critic; the NE baseline, matching the PyTorch port's frequency and ReDo's tau for
        non-default replay ratios). The paper's SAC row (F = 200,000, tau = 0) is `period=200000 tau=0`.
        """

        period_fraction: float = 0.001  # F / task budget; F counts gradient steps (redo.md §3)
        period: int | None = None  # F in gradient steps; overrides period_fraction
        tau: float = 0.1
        batch_size: int = 256  # B_stat
        roles: tuple[str, ...] = ("actor", "critic")
        start: int = 0  # recycle only while start <= step < end (gradient steps; the default, the whole run, is scale-free)
        end: int | None = None
        recycle_targets: bool = False  # redo.md §3: Polyak targets are left alone by default

    def __init__(self, config: Config | None = None) -> None:
        super().__init__(config)
        if (self.config.period is not None and self.config.period < 1) or not 0.0 < self.config.period_fraction <= 1.0:
            raise ValueError(f"redo period={self.config.period} must be None or a positive number of gradient steps, "
                             f"period_fraction={self.config.period_fraction} in (0, 1]")
        self.recycled: dict[str, list[int]] = {}  # role -> neurons recycled per seed at the last event (for logs)

    def period(self, ctx) -> int:
        """F in gradient steps for the current task (module docstring)."""
        return steps_for(self.config.period, self.config.period_fraction, lambda: ctx.task_budget)

    def due(self, step: int, period: int) -> bool:
        cfg = self.config
        return step > 0 and step % period == 0 and cfg.start <= step and (cfg.end is None or step < cfg.end)

    def after_update(self, ctx) -> None:
        if not self.due(ctx.updates, self.period(ctx)):
            return
        batch = ctx.buffer.sample(self.config.batch_size, ctx.rng)
        inputs = ctx.role_inputs(batch)
        with ctx.structural_event("recycle") as event:
            total = 0
            for role in (r for r in self.config.roles if r in ctx.networks):  # DQN has no actor
                target_role = ctx.target_roles.get(role) if self.config.recycle_targets else None
                counts = self.recycle_role(ctx, ctx.networks[role], ctx.networks[target_role] if target_role else None,
                                           inputs[role], ctx.optimizers[role])
                self.recycled[role] = counts.tolist()
                event.details[f"{role}_recycled"] = counts
                total = total + counts
            event.acted = total > 0

    def recycle_role(self, ctx, network: nn.Module, target: nn.Module | None, x: torch.Tensor,
                     optimizer: torch.optim.Optimizer) -> torch.Tensor:
        """Recycle one role's network (a CNN's channels and neurons, or each MLP in it); counts per seed [S]."""
        from plasticbench.methods.redo_conv import recycle_dormant_conv  # it builds on this module's helpers
        if isinstance(network, ConvQNetwork):
            return recycle_dormant_conv(network, x, self.config.tau, ctx.rng, optimizer, (target,) if target else ())
        targets = batched_mlps(target) if target is not None else []
        counts = 0
        for index, mlp in enumerate(batched_mlps(network)):
            counts = counts + recycle_dormant(mlp, x, self.config.tau, ctx.rng, optimizer, tuple(targets[index: index + 1]))
        return counts
