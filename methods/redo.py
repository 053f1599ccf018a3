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

On DQN's Nature CNN (baselines/nature_cnn.py) a convolution's neurons are its output channels: a
dormant channel gets a fresh filter and zero bias, and its outgoing weights (the next convolution's
input channel, or the h*w flattened columns of the dense layer after the flatten) are zeroed
(redo.md §2, §7 test 5). The ReDo paper's DQN settings (redo.md §5: F = 1,000 gradient steps,
tau = 0.025, B_stat = 64; as a fraction of the 10M-agent-step budget `period_fraction=1e-4`; its
`reset_end_step` 2.5M counts gradient steps, i.e. the whole run at one update per 4 agent steps)
are the Atari scenarios' method overrides (envs/atari.py `REDO_ATARI`), not these defaults. DQN has no
actor: roles the learner lacks are skipped.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from plasticbench.baselines.batched import BatchedMLP, batched_mlps
from plasticbench.baselines.batched_conv import BatchedConv2d
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


def unit_masks(layer: nn.Module, dormant: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Masks of the incoming weights and the biases of the units marked in dormant [S, H].

    A dense neuron i is column i of the [S, in, out] weight and `bias[:, 0, i]`; a convolution's
    neuron is output channel i (redo.md §2): filter `weight[:, i]` of [S, out, in, k, k], `bias[:, i]`.
    """
    if isinstance(layer, BatchedConv2d):
        return dormant[:, :, None, None, None], dormant
    return dormant[:, None, :], dormant[:, None, :]


def input_mask(layer: nn.Module, dormant: torch.Tensor) -> torch.Tensor:
    """Mask of `layer`'s weights that read the units marked in dormant [S, H] of the layer before it:
    row i of a dense weight, input channel i of a convolution's, and after a conv -> dense flatten
    every row that reads channel i (h*w of them, channel-major as `ConvQNetwork.trunk` flattens;
    redo.md §7 test 5)."""
    if isinstance(layer, BatchedConv2d):
        return dormant[:, None, :, None, None]
    per_unit = layer.weight.shape[1] // dormant.shape[1]  # 1 after a dense layer, h*w after the flatten
    return dormant.repeat_interleave(per_unit, dim=1)[:, :, None]


@torch.no_grad()
def recycle_neurons(incoming: nn.Module, outgoing: nn.Module, dormant: torch.Tensor,
                    fresh_weight: torch.Tensor, optimizer: torch.optim.Optimizer | None = None) -> None:
    """Recycle the neurons marked in dormant [S, H] (redo.md §2): incoming weights from fresh_weight
    (shaped like `incoming.weight`), bias 0, outgoing weights 0, and the Adam moments of both touched
    weight slices 0."""
    weight_in, bias_in = unit_masks(incoming, dormant)
    weight_out = input_mask(outgoing, dormant)
    incoming.weight.copy_(torch.where(weight_in, fresh_weight, incoming.weight))
    incoming.bias.masked_fill_(bias_in, 0.0)
    outgoing.weight.masked_fill_(weight_out, 0.0)
    if optimizer is not None:
        zero_adam_moments(optimizer, incoming.weight, weight_in)
        zero_adam_moments(optimizer, outgoing.weight, weight_out)


@torch.no_grad()
def fresh_weight(layer: nn.Module, rng: SeedRNG) -> torch.Tensor:
    """A weight drawn by the layer's own initializer for every seed, [S, in, out]; the layer is untouched."""
    clone = copy.deepcopy(layer)
    clone.reset_parameters(rng)
    return clone.weight.detach()


def layers_of(network: BatchedMLP | ConvQNetwork) -> list[nn.Module]:
    """The network's layers in forward order, the output layer last."""
    return network.layer_sequence() if isinstance(network, ConvQNetwork) else list(network.layers)


@torch.no_grad()
def recycle_dormant(network: BatchedMLP | ConvQNetwork, x: torch.Tensor, tau: float, rng: SeedRNG,
                    optimizer: torch.optim.Optimizer | None = None, targets: tuple[nn.Module, ...] = ()) -> torch.Tensor:
    """Score every hidden neuron (a conv layer's: every channel) of `network` on inputs x [S, B, ...]
    and recycle the tau-dormant ones.

    All layers are scored on one forward before any is changed (as the reference code does). `targets`
    (copies of `network`, e.g. Polyak targets) receive the same edits. Returns recycled neurons per seed [S].
    """
    masks = dormant_masks(hidden_activations(network, x), tau)
    layers = layers_of(network)
    for index, dormant in enumerate(masks):
        fresh = fresh_weight(layers[index], rng)
        recycle_neurons(layers[index], layers[index + 1], dormant, fresh, optimizer)
        for target in targets:
            twin = layers_of(target)
            recycle_neurons(twin[index], twin[index + 1], dormant, fresh)
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
        """Recycle one role's network (a CNN whole, else each MLP in it: a twin critic's two); counts per seed [S]."""
        parts = (lambda net: [net]) if isinstance(network, ConvQNetwork) else batched_mlps
        targets = parts(target) if target is not None else []
        counts = 0
        for index, part in enumerate(parts(network)):
            counts = counts + recycle_dormant(part, x, self.config.tau, ctx.rng, optimizer, tuple(targets[index: index + 1]))
        return counts
