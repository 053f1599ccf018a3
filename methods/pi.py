"""PI: plasticity injection (Nikishin, Oh, Ostrovski, Lyle, Pascanu, Dabney & Barreto, NeurIPS 2023; spec pi.md).

At the injection time the head h_theta (the last `head_layers` linear layers of every actor and critic
MLP) is frozen, and a freshly initialised head theta'_1 plus a frozen copy theta'_2 of it are added,
so that (pi.md §2, [P] Expression (1))

    f_inj(x) = h_theta(phi(x)) + h_theta'_1(phi(x)) - h_theta'_2(phi(x)).

At injection theta'_1 == theta'_2 bit for bit, so the output is unchanged; afterwards only theta'_1 and the
encoder phi learn. Gradients reach phi through all three heads (pi.md §2, [T] README). theta'_1 is drawn
by the architecture's own initializer (`BatchedLinear.reset_parameters`) from each seed's own stream, so
seeds stay independent (ARCHITECTURE.md, "The seed axis").

Repeated injections (continual: one per task switch) stack: the previous theta'_1 is frozen too and a new
pair is appended. This is exact for any head depth; [Pl] folds a linear head into one Linear instead,
which gives the same function up to rounding.

Targets (pi.md §3.3, §8): target networks are injected too. Each target gets a copy of the online
network's new pair, so its output is unchanged, and Polyak averaging continues parameter by parameter
(online and target keep the same parameter order); the frozen online parts are constants, so their
targets stay equal to them.

Optimizer (pi.md §3.2): `ctx.reset_optimizers()` re-registers every parameter, so theta'_1 is optimised
(pi.md §8, the bug of [Pl]); frozen tensors have requires_grad False and never receive a gradient, so
Adam skips them. With `keep_optimizer_state` (default, [T] README) the Adam moments of the parameters
that existed before are carried over and theta'_1 starts from fresh moments.

On DQN (the setting of the PI paper, Atari) the encoder phi is the Nature CNN's conv trunk and its
dense hidden layers, the head the last `head_layers` dense layers of the Q-network; its layers are
DQN's own (Xavier, the exact Q head), so DQN and DQN+PI differ by the injection alone.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from plasticbench.baselines.batched import BatchedLinear, BatchedMLP
from plasticbench.baselines.nature_cnn import ConvNetworkSpec
from plasticbench.baselines.seed_rng import SeedRNG
from plasticbench.benchmark.registry import register_method
from plasticbench.methods.base import Method
from plasticbench.methods.schedule import steps_for

SINGLE_TASK_INJECTION_FRACTION = 0.5
"""pi.md §5 harness default: one injection at 50 % of training, i.e. env step 500,000 of the 1M-step
paper budget (scenarios.md §3 PROPOSAL), 25,000 at short and 150 at smoke (methods/schedule.py)."""


class InjectedHead(nn.Module):
    """One injection: the trainable fresh head theta'_1 and its frozen copy theta'_2."""

    def __init__(self, fresh: nn.ModuleList) -> None:
        super().__init__()
        self.trainable = fresh
        self.frozen = copy.deepcopy(fresh)  # pi.md §8: an exact copy, not a second draw
        self.frozen.requires_grad_(False)


class InjectableMLP(BatchedMLP):
    """A BatchedMLP whose head (its last `head_layers` layers) can be injected; x [S, B, in] -> [S, B, out]."""

    def __init__(self, num_seeds: int, sizes: tuple[int, ...], activation: str, rng: SeedRNG, heads: int = 1,
                 head_layers: int = 1, linear: Callable[..., BatchedLinear] = BatchedLinear) -> None:
        super().__init__(num_seeds, sizes, activation, rng, heads, linear)
        if not 1 <= head_layers < len(self.layers):
            raise ValueError(f"head_layers={head_layers} must be in [1, {len(self.layers) - 1}] for sizes {tuple(sizes)}")
        self.head_layers = head_layers
        self.injections = nn.ModuleList()

    def encoder(self, x: torch.Tensor) -> torch.Tensor:
        """phi(x): the layers before the head, each followed by the activation."""
        for layer in self.layers[: -self.head_layers]:
            x = self.activation(layer(x))
        return x

    def head_output(self, head: nn.ModuleList, z: torch.Tensor, columns: slice | None) -> torch.Tensor:
        for layer in head[:-1]:
            z = self.activation(layer(z))
        return head[-1](z, columns)

    def forward(self, x: torch.Tensor, head: int = 0) -> torch.Tensor:
        columns = None if self.heads == 1 else slice(head * self.out_features, (head + 1) * self.out_features)
        z = self.encoder(x)
        out = self.head_output(self.layers[-self.head_layers:], z, columns)
        for injection in self.injections:
            out = out + self.head_output(injection.trainable, z, columns) - self.head_output(injection.frozen, z, columns)
        return out

    @property
    def live(self) -> bool:
        """Whether this network trains (online) or not (a target: every tensor frozen)."""
        return self.layers[0].weight.requires_grad

    def _freeze_heads(self) -> None:
        """theta and every earlier theta'_1 are frozen; only the newest theta'_1 may train."""
        for layer in self.layers[-self.head_layers:]:
            layer.requires_grad_(False)
        for injection in self.injections[:-1]:
            injection.trainable.requires_grad_(False)

    @torch.no_grad()
    def inject(self, rng: SeedRNG) -> InjectedHead:
        """Add a fresh head drawn from each seed's stream and its frozen copy (pi.md §3.1)."""
        live = self.live
        fresh = copy.deepcopy(self.layers[-self.head_layers:])
        for layer in fresh:
            layer.reset_parameters(rng)
        fresh.requires_grad_(live)
        self.injections.append(InjectedHead(fresh))
        self._freeze_heads()
        return self.injections[-1]

    @torch.no_grad()
    def inject_copy(self, online: InjectedHead) -> None:
        """Mirror an online injection in this (target) network, output unchanged (pi.md §3.3)."""
        injection = copy.deepcopy(online)
        injection.requires_grad_(False)
        self.injections.append(injection)
        self._freeze_heads()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs) -> None:
        """Re-create the injected structure a checkpoint holds before its tensors are loaded (resume)."""
        pattern = re.compile(re.escape(prefix) + r"injections\.(\d+)\.")
        found = [int(m.group(1)) for key in state_dict if (m := pattern.match(key))]
        count = max(found) + 1 if found else 0
        while len(self.injections) < count:
            fresh = copy.deepcopy(self.layers[-self.head_layers:])  # placeholder values, overwritten by the load
            fresh.requires_grad_(self.live)
            self.injections.append(InjectedHead(fresh))
            self._freeze_heads()
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)


def injectable_modules(network: nn.Module) -> list[InjectableMLP]:
    """The injectable MLPs inside a network (one for an actor, q1 and q2 for a twin critic), in module order."""
    return [m for m in network.modules() if isinstance(m, InjectableMLP)]


@register_method("pi", settings={"online", "continual"}, learners={"sac", "td3", "dqn"})
class PlasticityInjection(Method):
    """Freeze the head, add a fresh head minus its frozen copy; the output is unchanged at injection."""

    event_kinds = ("injection",)

    @dataclass(frozen=True)
    class Config:
        """Defaults: pi.md §5 (harness proposal; the sources leave injection time and head undefined for
        actor-critic MLPs).

        head_layers: the final Linear layer of the actor and of each critic ([Pl]).
        injection_fraction: the one mid-training injection of a single-task run, as a fraction of its
            budget (0.5: env step 500,000 at `scale=paper`); a continual run has none.
        injection_step: global env step of that injection; overrides injection_fraction and applies
            to continual runs too.
        inject_at_task_switch: continual runs inject at every task switch (pi.md §5 proposal).
        keep_optimizer_state: keep the encoder's Adam moments, fresh moments for theta'_1 ([T] README).
        """

        head_layers: int = 1
        injection_fraction: float = SINGLE_TASK_INJECTION_FRACTION
        injection_step: int | None = None
        inject_at_task_switch: bool = True
        keep_optimizer_state: bool = True
        roles: tuple[str, ...] = ("actor", "critic")

    def __init__(self, config: Config | None = None) -> None:
        super().__init__(config)
        if self.config.head_layers < 1:
            raise ValueError(f"pi head_layers={self.config.head_layers} must be >= 1")
        if self.config.injection_step is not None and self.config.injection_step < 0:
            raise ValueError(f"pi injection_step={self.config.injection_step} must be >= 0 or None")
        if not 0.0 < self.config.injection_fraction < 1.0:
            raise ValueError(f"pi injection_fraction={self.config.injection_fraction} must be in (0, 1)")
        self.injected_at: list[int] = []  # env step of every injection so far
        self.step_injection_done = False

    def build(self, ctx, role, spec):
        if role not in self.config.roles:
            return None
        make = lambda sizes, linear: InjectableMLP(spec.num_seeds, sizes, spec.activation, spec.rng, spec.heads,
                                                   self.config.head_layers, linear)
        if isinstance(spec, ConvNetworkSpec):  # DQN: the head is the dense part's last layers (module docstring)
            return spec.default(dense=make)
        return make(spec.sizes, BatchedLinear)

    def injection_step(self, ctx) -> int | None:
        if self.config.injection_step is not None:
            return self.config.injection_step
        return steps_for(None, self.config.injection_fraction, lambda: ctx.task_budget) if ctx.num_tasks == 1 else None

    def inject(self, ctx) -> None:
        """Inject every chosen network and its target, then re-register the parameters with the optimizers."""
        with ctx.structural_event("injection"):
            self._inject(ctx)
        self.injected_at.append(ctx.env_steps)

    def _inject(self, ctx) -> None:
        for role in (r for r in self.config.roles if r in ctx.networks):  # DQN has no actor
            online = injectable_modules(ctx.networks[role])
            target_role = ctx.target_roles.get(role)
            targets = injectable_modules(ctx.networks[target_role]) if target_role is not None else [None] * len(online)
            for net, target in zip(online, targets, strict=True):
                injection = net.inject(ctx.rng)
                if target is not None:
                    target.inject_copy(injection)
        kept = {p: state for opt in ctx.optimizers.values() for p, state in opt.state.items()}
        ctx.reset_optimizers()
        if self.config.keep_optimizer_state:
            for optimizer in ctx.optimizers.values():
                for group in optimizer.param_groups:
                    for p in group["params"]:
                        if p in kept:
                            optimizer.state[p] = kept[p]

    def after_update(self, ctx) -> None:
        step = self.injection_step(ctx)
        if step is not None and not self.step_injection_done and ctx.env_steps >= step:
            self.inject(ctx)
            self.step_injection_done = True

    def on_task_start(self, ctx, task) -> None:
        if self.config.inject_at_task_switch and task.index > 0:
            self.inject(ctx)

    def model_size(self, ctx) -> int:
        """Every policy parameter held per seed: phi, theta, and each theta'_1 and theta'_2 (pi.md §4)."""
        return ctx.policy_params()

    def state_dict(self) -> dict:
        return {"injected_at": list(self.injected_at), "step_injection_done": self.step_injection_done}

    def load_state_dict(self, state: dict) -> None:
        self.injected_at = [int(s) for s in state["injected_at"]]
        self.step_injection_done = bool(state["step_injection_done"])
