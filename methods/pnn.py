"""PNN: Progressive Neural Networks (Rusu et al. 2016) as the Rewire/CSP code builds the actor
(continual-baselines.md §11, [RN: agents/pnn_agents.py; configs/pnn.yaml]).

The actor is a list of columns, one per task. Column 0 is a plain MLP. Column c >= 1 computes, at
every layer l >= 1 (layer 0 has no lateral),

    h_l^c = W_l^c h_{l-1}^c + U_l^c( act( V_l^c( a_l^c * H_{l-1}^{<c} ) ) ),

followed by `act` except at the output layer, where H_{l-1}^{<c} concatenates the layer-(l-1)
activations of columns 0..c-1 (in column order), V is bias-free (width*c -> width), U has a bias
(width -> width, or width -> out at the last layer) and a_l^c is a learned scalar initialised to
U(0, 1)/c. At each task start k > 0 every existing column is frozen and column k is added; the
answer for task j is column j's output (tasks not trained yet: the newest column). Only the actor
is progressive: the critic is the learner's own, kept warm across tasks as every [RN] method does
(§3 rule 2).

Choices where §11 is silent or does not fit this harness:
- Depth follows the learner's `hidden` (one column layer per hidden layer). The width is 96/256 of
  the learner's widest hidden layer unless `width` is set: Rewire's 3x256 actor gives §11's
  in->96->96->96->2|A| exactly, and a smaller learner (the smoke scale's 64x64) gets columns in the
  same proportion, so the model-size ratio (~7.8 for 8 tasks) means the same at every scale; a
  fixed 96 would make a smoke PNN ~110x "one policy".
- Seed axis: every tensor, a_l^c included ([S, 1, 1]), has a leading seed axis and is drawn from
  its seed's own stream (`SeedRNG`), so seeds stay independent; freezing is the same for all seeds
  because columns are added at task boundaries, which all seeds share.
- Multi-head learners: a column already is its task's head, so the `head` argument is ignored and
  a column has one output block.
- Plasticity metrics hook the network's `activation`: it sees every column's hidden units (the
  last call is the answering column's penultimate layer); the adapters' nonlinearity is a
  separate module so adapter units are not counted as neurons.
- TD3's target actor mirrors every new column (a frozen copy, as `sync_targets` would make), so
  Polyak averaging keeps pairing online and target parameters in order.
- A checkpoint holds every column in the actor's state dict; loading it into a freshly built
  learner re-creates the missing columns first (resume mid-scenario), so the method itself keeps
  no state.
"""
from __future__ import annotations

import contextlib
import copy
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, Optional, Sequence

import torch
from torch import nn

from plasticbench.baselines.batched import ACTIVATIONS, BatchedLinear, params_per_seed
from plasticbench.baselines.seed_rng import SeedRNG
from plasticbench.benchmark.registry import register_method
from plasticbench.methods.base import Method

if TYPE_CHECKING:
    from plasticbench.baselines.learner import Learner, NetworkSpec
    from plasticbench.envs.task import Task

WIDTH_RATIO = 96 / 256  # §11: columns of width 96 beside Rewire's width-256 actor


class BatchedProjection(nn.Module):
    """y[s] = x[s] @ V[s] with no bias: the adapter's V (§11). Init is PyTorch's `nn.Linear(bias=False)`,
    uniform in +-1/sqrt(fan_in), as `BatchedLinear` draws its weight."""

    def __init__(self, num_seeds: int, in_features: int, out_features: int, rng: SeedRNG) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(in_features)
        self.weight = nn.Parameter(rng.uniform(in_features, out_features, low=-bound, high=bound))  # [S, in, out]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.bmm(x, self.weight)


class Column(nn.Module):
    """Column `index`: its own layers W_l (with bias) and, for index >= 1, one lateral adapter
    (a_l, V_l, U_l) per layer l >= 1. `sizes` = (in, width, ..., width, out)."""

    def __init__(self, index: int, num_seeds: int, sizes: Sequence[int], rng: SeedRNG) -> None:
        super().__init__()
        self.index = index
        self.layers = nn.ModuleList(BatchedLinear(num_seeds, i, o, rng) for i, o in zip(sizes[:-1], sizes[1:]))
        adapted = range(1, len(self.layers)) if index > 0 else range(0)
        self.scales = nn.ParameterList(nn.Parameter(rng.uniform(1, 1) / index) for _ in adapted)  # a_l ~ U(0,1)/c
        self.lateral_in = nn.ModuleList(BatchedProjection(num_seeds, index * sizes[l], sizes[l], rng) for l in adapted)
        self.lateral_out = nn.ModuleList(BatchedLinear(num_seeds, sizes[l], sizes[l + 1], rng) for l in adapted)


class ProgressiveNetwork(nn.Module):
    """Columns 0..C-1 over S seeds; x [S, B, in] -> the answering column's output [S, B, out]."""

    def __init__(self, num_seeds: int, sizes: Sequence[int], activation: str, rng: SeedRNG) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; allowed: {sorted(ACTIVATIONS)}")
        self.num_seeds, self.sizes = num_seeds, tuple(sizes)
        self.activation = ACTIVATIONS[activation]()  # column hidden units (what plasticity metrics hook)
        self.lateral_activation = ACTIVATIONS[activation]()  # inside the adapters
        self.columns = nn.ModuleList([Column(0, num_seeds, self.sizes, rng)])
        self.answering: int | None = None  # column whose output `forward` returns; None = the newest

    def column_outputs(self, x: torch.Tensor, upto: int) -> list[torch.Tensor]:
        """Outputs [S, B, out] of columns 0..upto, each column reading the earlier ones' activations."""
        below: list[list[torch.Tensor]] = []  # below[c][l]: column c's activation after layer l
        outputs = []
        for column in self.columns[: upto + 1]:
            hidden, h = [], x
            for l, layer in enumerate(column.layers):
                z = layer(h)
                if l > 0 and column.index > 0:
                    lateral = torch.cat([b[l - 1] for b in below], dim=-1)  # H_{l-1}^{<c} [S, B, width*c]
                    lateral = column.lateral_in[l - 1](column.scales[l - 1] * lateral)
                    z = z + column.lateral_out[l - 1](self.lateral_activation(lateral))
                if l < len(column.layers) - 1:
                    h = self.activation(z)
                    hidden.append(h)
            below.append(hidden)
            outputs.append(z)
        return outputs

    def forward(self, x: torch.Tensor, head: int = 0) -> torch.Tensor:
        """`head` is ignored: column j already is task j's head."""
        upto = len(self.columns) - 1 if self.answering is None else self.answering
        return self.column_outputs(x, upto)[-1]

    @property
    def live(self) -> bool:
        """Whether this network trains (online actor) or not (a target: every tensor frozen)."""
        return self.columns[-1].layers[0].weight.requires_grad

    @torch.no_grad()
    def add_column(self, rng: SeedRNG) -> Column:
        """Freeze every existing column and append a fresh one drawn from each seed's stream (§11)."""
        live = self.live
        self.columns.requires_grad_(False)
        column = Column(len(self.columns), self.num_seeds, self.sizes, rng)
        column.requires_grad_(live)
        self.columns.append(column)
        return column

    @torch.no_grad()
    def adopt(self, column: Column) -> None:
        """Append a frozen copy of an online column (a target network's mirror of `add_column`)."""
        self.columns.requires_grad_(False)
        self.columns.append(copy.deepcopy(column).requires_grad_(False))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs) -> None:
        """Re-create the columns a checkpoint holds before its tensors are loaded (resume mid-scenario)."""
        pattern = re.compile(re.escape(prefix) + r"columns\.(\d+)\.")
        count = 1 + max((int(m.group(1)) for key in state_dict if (m := pattern.match(key))), default=0)
        placeholder = SeedRNG(range(self.num_seeds), self.columns[0].layers[0].weight.device)  # values overwritten
        while len(self.columns) < count:
            self.add_column(placeholder)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)


@register_method("pnn", settings={"continual"}, learners={"sac", "td3"})
class PNN(Method):
    """A new actor column per task with lateral adapters from the frozen earlier columns."""

    @dataclass(frozen=True)
    class Config:
        """width: every hidden layer of a column; None = WIDTH_RATIO x the learner's widest hidden
        layer (`hidden_size: 96` for Rewire's 256, [RN: configs/pnn.yaml]).
        activation: LeakyReLU(0.2) in columns and adapters (§11), a name from `plasticbench.baselines.batched.ACTIVATIONS`."""

        width: Optional[int] = None
        activation: str = "leaky_relu"

    def __init__(self, config: Config | None = None) -> None:
        super().__init__(config)
        if self.config.width is not None and self.config.width < 1:
            raise ValueError(f"pnn width={self.config.width} must be >= 1")
        if self.config.activation not in ACTIVATIONS:
            raise ValueError(f"pnn activation={self.config.activation!r}; allowed: {sorted(ACTIVATIONS)}")

    def build(self, ctx: "Learner", role: str, spec: "NetworkSpec") -> ProgressiveNetwork | None:
        if role != "actor":
            return None
        width = self.config.width or max(1, round(WIDTH_RATIO * max(spec.sizes[1:-1])))
        sizes = (spec.sizes[0], *[width] * (len(spec.sizes) - 2), spec.sizes[-1])
        network = ProgressiveNetwork(spec.num_seeds, sizes, self.config.activation, spec.rng)
        return network

    def on_task_start(self, ctx: "Learner", task: "Task") -> None:
        actor = ctx.networks["actor"]
        if len(actor.columns) > task.index:
            return
        target_role = ctx.target_roles.get("actor")
        while len(actor.columns) <= task.index:
            column = actor.add_column(ctx.rng)
            if target_role is not None:
                ctx.networks[target_role].adopt(column)
        # start_task built the optimizers before the new column existed: rebuild them so it trains
        # (they were fresh anyway; frozen columns get no gradient, so Adam skips them).
        ctx.reset_optimizers()

    @contextlib.contextmanager
    def evaluating(self, ctx: "Learner", task_index: int) -> Iterator[None]:
        actor = ctx.networks["actor"]
        previous = actor.answering
        actor.answering = min(task_index, len(actor.columns) - 1)
        try:
            yield
        finally:
            actor.answering = previous

    def held_params(self, ctx: "Learner") -> int:
        """Every tensor the policy keeps per seed (§13): all columns and adapters; PNN has no buffers."""
        return params_per_seed(ctx.networks["actor"])

    def model_size(self, ctx: "Learner") -> int:
        """All columns held (§13); the record divides by one default actor of the learner's config
        (`Learner.reference_policy_params`), so 8 columns of width 96 read 7.78 on HalfCheetah."""
        return self.held_params(ctx)
