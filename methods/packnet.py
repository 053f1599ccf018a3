"""PackNet, Salina/Brax version (Mallya & Lazebnik 2018; continual-baselines.md §10.1, [RN] agents/packnet_agents.py,
algorithms/pruning.py, frameworks/baselines.py `TwoSteps`).

Every weight and bias of the actor has an owner: -1 = free, k = allocated to task k. Task 0 trains the
whole actor. At task k > 0 the actor starts from task k-1's consolidated weights (free entries are 0 there)
and only free entries learn: owned entries get zero gradient before the actor's optimizer step and are
re-imposed after every update, so no optimizer state can move them ([RN] re-imposes them before every forward).

At the end of task k (`on_task_end`), each parameter tensor (per Linear layer, weights and biases apart)
gives task k its free entries above the floor(prune_coeff * N)-th smallest |theta * [M = -1]|, per seed
(`allocate`); then SAC fine-tunes on the task's buffer with the temperature re-initialised, targets re-copied
and fresh Adam states ([RN] `PruneAndFinetune.run_sac`), the actor restricted to: M < k the previous
consolidated values, M = k trainable, all else 0. [RN] runs this after every task, the last one included
(`TwoSteps._train`), and so does this file.

Fine-tune length: [RN] fixes 100,000 gradient steps for 1M-step tasks, at its update-to-data ratio of 0.5
(§2.3), i.e. 20% of the 500,000 gradient steps a task's budget allows. A method cannot see the run's scale,
so the length is `retrain_fraction` (default 0.2, the HalfCheetah scenarios' setting) of the gradient steps
the task's env steps allow at the learner's `updates_per_step`: 100,000 at the paper's 1M steps and ratio 0.5,
15 at smoke's 150 steps; `retrain_steps`, when set, is an absolute count that wins (set it to 100,000 for a
2M-step Humanoid task to match [RN]'s fixed count).

Evaluation views: later tasks never change an entry with M <= j, so task j's snapshot is exactly the latest
consolidated actor masked to 0 <= M <= j. One consolidated copy therefore answers for every finished task
(bit-identical to keeping T snapshots); tasks not consolidated yet use the live actor, as FT-N does. The model
size is 2.0 policies by the Rewire convention (weights plus the integer owner mask, §13).

Seeds: owners, cutoffs and views are per seed (every tensor leads with S; `kthvalue` runs along each seed's
own row). `variant="cw"` runs Continual World's PackNet instead (methods/packnet_cw.py, §10.2; the CW suites'
default). TD3's target actor is re-synchronised whenever the actor's weights are installed; its frozen entries
then stay equal to the actor's, since Polyak averaging of equal values leaves them unchanged.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Iterator, Optional

import torch
from torch import nn

from plasticbench.baselines.batched import batched_mlps
from plasticbench.benchmark.registry import register_method
from plasticbench.methods.base import Method
from plasticbench.methods.packnet_cw import CWPackNet
from plasticbench.methods.task_heads import check_variant

FREE = -1


def allocate(param: torch.Tensor, owner: torch.Tensor, task: int, prune_coeff: float) -> torch.Tensor:
    """New owners for one tensor [S, ...]: M <- task where |theta * [M = -1]| > c, per seed.

    c is the floor(prune_coeff * N)-th smallest value of |theta * [M = -1]| over the tensor's N entries
    (allocated entries count as 0; [RN] `add_filter`). Rank 0 (a one-entry tensor, where [RN]'s `kthvalue(0)`
    would raise) prunes nothing: the free entry goes to the task.
    """
    free = owner == FREE
    magnitude = (param.detach() * free).abs().flatten(1)  # [S, N]
    rank = math.floor(prune_coeff * magnitude.shape[1])
    cutoff = magnitude.kthvalue(rank, dim=1).values if rank > 0 else magnitude.new_full(magnitude.shape[:1], -1.0)
    return owner.masked_fill((magnitude > cutoff[:, None]).view_as(owner) & free, task)


def task_view(consolidated: torch.Tensor, owner: torch.Tensor, task: int) -> torch.Tensor:
    """Task `task`'s weights: the consolidated values where 0 <= M <= task, else 0 (task -1: all zero)."""
    return torch.where((owner >= 0) & (owner <= task), consolidated, 0.0)


def actor_tensors(ctx) -> list[nn.Parameter]:
    """Every Linear weight and bias of the actor, in layer order (the tensors PackNet owns)."""
    return [p for mlp in batched_mlps(ctx.networks["actor"]) for layer in mlp.layers for p in (layer.weight, layer.bias)]


@torch.no_grad()
def install(params: list[nn.Parameter], values: list[torch.Tensor]) -> None:
    """Copy `values` into the parameters in place (optimizers keep referring to the same tensors)."""
    for param, value in zip(params, values):
        param.copy_(value)


@register_method("packnet", settings={"continual"}, learners={"sac", "td3"})
class PackNet(Method):
    """Allocate a share of the actor to each task by magnitude, freeze it, fine-tune, evaluate by owner."""

    @dataclass(frozen=True)
    class Config:
        prune_coeff: float = 0.875  # [RN] configs/packnet.yaml: each task takes ~12.5 % of what is left free
        retrain_steps: Optional[int] = None  # absolute fine-tune gradient steps; None = retrain_fraction
        retrain_fraction: float = 0.2  # of the task's gradient steps at its update-to-data ratio: [RN]'s 100,000 of 500,000
        variant: str = "salina"  # "salina" ([RN], §10.1) or "cw" (Continual World, §10.2; methods/packnet_cw.py)

    def __init__(self, config: Config | None = None) -> None:
        super().__init__(config)
        cfg = self.config
        check_variant("packnet", cfg.variant)
        self.cw = CWPackNet() if cfg.variant == "cw" else None
        if not 0.0 < cfg.prune_coeff < 1.0:
            raise ValueError(f"packnet prune_coeff={cfg.prune_coeff}; it must be in (0, 1)")
        if cfg.retrain_steps is not None and cfg.retrain_steps < 0:
            raise ValueError(f"packnet retrain_steps={cfg.retrain_steps}; use a count >= 0, or null for the fraction")
        if cfg.retrain_fraction < 0:
            raise ValueError(f"packnet retrain_fraction={cfg.retrain_fraction}; it must be >= 0")
        self.owners: list[torch.Tensor] | None = None  # int16, shaped like each actor tensor [S, ...]
        self.consolidated: list[torch.Tensor] | None = None  # the actor after the last fine-tune
        self.finished = 0  # tasks 0..finished-1 have been consolidated
        self.task_start_env_steps = 0
        self._frozen: list[tuple[nn.Parameter, torch.Tensor, torch.Tensor]] | None = None  # (param, frozen, value)

    # ----- masks ---------------------------------------------------------------------------
    def owner_tensors(self, ctx) -> list[torch.Tensor]:
        if self.owners is None:
            self.owners = [torch.full_like(p, FREE, dtype=torch.int16) for p in actor_tensors(ctx)]
        return self.owners

    def freeze(self, ctx, task: int, trainable_owner: int) -> None:
        """Train only entries owned by `trainable_owner`; every other entry is held at task-1's view."""
        owners = self.owner_tensors(ctx)
        bases = self.consolidated or [torch.zeros_like(p) for p in actor_tensors(ctx)]
        self._frozen = [(p, m != trainable_owner, task_view(base, m, task - 1))
                        for p, m, base in zip(actor_tensors(ctx), owners, bases)]

    def frozen(self, ctx) -> list[tuple[nn.Parameter, torch.Tensor, torch.Tensor]]:
        """The current freeze; after a resume, the training freeze of the learner's task (none on task 0)."""
        if self._frozen is None:
            if ctx.task_index == 0:
                self._frozen = []
            else:
                self.freeze(ctx, ctx.task_index, FREE)
        return self._frozen

    @torch.no_grad()
    def impose(self, ctx) -> None:
        for param, frozen, value in self.frozen(ctx):
            param.copy_(torch.where(frozen, value, param))

    # ----- hooks ---------------------------------------------------------------------------
    def on_task_start(self, ctx, task) -> None:
        self.task_start_env_steps = ctx.env_steps
        self._frozen = None
        if self.cw:
            return
        if task.index > 0 and self.consolidated is not None:  # the previous task's actor, free entries 0
            install(actor_tensors(ctx), [task_view(c, m, task.index - 1) for c, m in zip(self.consolidated, self.owners)])
            ctx.sync_targets()

    def before_optimizer_step(self, ctx, role: str) -> None:
        if role != "actor":
            return
        if self.cw:
            self.cw.mask_gradients(ctx, ctx.task_index)
            return
        for param, frozen, _ in self.frozen(ctx):
            if param.grad is not None:
                param.grad.masked_fill_(frozen, 0.0)

    def after_update(self, ctx) -> None:
        if not self.cw:
            self.impose(ctx)

    def on_task_end(self, ctx, task) -> None:
        """Allocate, fine-tune with task k's entries trainable, keep the result (§10.1)."""
        k = task.index
        if self.cw:
            self.cw_task_end(ctx, k)
            return
        self.owners = [allocate(p, m, k, self.config.prune_coeff) for p, m in zip(actor_tensors(ctx), self.owner_tensors(ctx))]
        self.freeze(ctx, k, k)
        ctx.reset_temperature()
        ctx.reset_optimizers()
        self.impose(ctx)
        ctx.sync_targets()
        if ctx.buffer.size > 0:
            for _ in range(self.retrain_length(ctx)):
                ctx.update()
        self.consolidated = [p.detach().clone() for p in actor_tensors(ctx)]
        self.finished = k + 1
        self._frozen = None

    def cw_task_end(self, ctx, k: int) -> None:
        """§10.2: unless k is the last task, prune k's share for k+1, reset Adam, retrain, reset Adam."""
        if k < ctx.num_tasks - 1:
            self.cw.prune(ctx, k)
            ctx.reset_optimizers()
            if ctx.buffer.size > 0:
                for _ in range(self.retrain_length(ctx)):
                    ctx.update()
            ctx.reset_optimizers()
        self.finished = k + 1

    def retrain_length(self, ctx) -> int:
        """Fine-tune gradient steps: `retrain_steps` if set, else `retrain_fraction` of the gradient steps the
        task's env steps allow at the learner's update-to-data ratio."""
        if self.config.retrain_steps is not None:
            return self.config.retrain_steps
        task_env_steps = ctx.env_steps - self.task_start_env_steps
        return round(self.config.retrain_fraction * task_env_steps * ctx.config.updates_per_step)

    @contextlib.contextmanager
    def evaluating(self, ctx, task_index: int) -> Iterator[None]:
        if self.cw:
            with self.cw.evaluating(ctx, task_index):
                yield
            return
        if self.consolidated is None or task_index >= self.finished:
            yield
            return
        params = actor_tensors(ctx)
        live = [p.detach().clone() for p in params]
        install(params, [task_view(c, m, task_index) for c, m in zip(self.consolidated, self.owners)])
        try:
            yield
        finally:
            install(params, live)

    # ----- accounting and checkpoints ------------------------------------------------------
    def model_size(self, ctx) -> int:
        """2.0 policies by convention (§13): the weights plus the owner mask; views are not counted."""
        return 2 * ctx.policy_params()

    def state_dict(self) -> dict:
        return {"owners": self.owners, "consolidated": self.consolidated, "finished": self.finished,
                "task_start_env_steps": self.task_start_env_steps, "cw_owners": self.cw.owners if self.cw else None}

    def load_state_dict(self, state: dict) -> None:
        self.owners, self.consolidated = state["owners"], state["consolidated"]
        self.finished, self.task_start_env_steps = state["finished"], state["task_start_env_steps"]
        self._frozen = None
        if self.cw:
            self.cw.owners = state.get("cw_owners")
