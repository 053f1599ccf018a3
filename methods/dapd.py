"""DAPD, Data Adaptive Pathway Discovery (Arnob et al., NeurIPS 2024; spec dapd.md).

Each network trains only a sparse pathway: a binary mask keeps `keep_ratio` of its weights (biases
stay dense), chosen as the global top-k of SNIP connection sensitivities |theta * dL/dtheta|,
normalized to sum 1 per network (dapd.md §2). Online (SAC, TD3) the scores come from a minibatch of
the most recent transitions, are averaged over the last K mask updates, and the mask is recomputed
at every episode end of a seed until that seed's evaluation return first exceeds `freeze_return`;
then it is frozen (§3). Offline (BCQ, IQL) the masks are found once, from the dataset, before
training (§3, "Offline"). Masked weights neither act nor learn: the forward uses theta * m, so their
gradient is exactly zero; the target network uses its online network's mask.

Decisions where the spec and the harness differ (each per seed, seeds never mix):
- Scores: the learner's own update runs on the current agent with every mask opened (the dense
  forward of §3), its gradients are read between backward and the optimizer step, and the agent
  is then restored, so a role's score is |theta * dL_role/dtheta| for that role's own loss (the
  clean variant; [C] also adds the actor loss into the critic's score, which the method contract
  cannot see without reaching into the learner).
- Initial masks: from the harness's warm-up transitions (uniform-random actions, `learning_starts`
  of them), just before the first gradient step, instead of a separate 5,000-step collection with
  the initial policy that [C] then discards; the warm-up is kept in the buffer.
- The recent window is the last `window` rows of the replay buffer (its ring order is time order),
  not a second buffer: the same transitions, no copy.
- Roles: actor, critic (both Q heads ranked together) and IQL's value network. BCQ's VAE stays
  dense: it is the data model, not the policy or the value (the poster is silent).
- The freeze threshold is an absolute return, so it is per environment (scenario overrides in
  envs/mujoco.py, dapd.md §5); at scales too short to reach it the mask keeps adapting to the end.
- Multitask (a scenario whose tasks all train at once, benchmark/multitask_loop.py): one pathway per
  task in the shared weights, selected per row by the task one-hot, and the merged gradient of dapd.md
  §2 (methods/dapd_masks.py says how and why). Each task's masks start from its own warm-up rows and
  adapt at its own episode ends, scored on its own recent rows; batches hold the same number of rows
  per task; the freeze compares each seed's mean return over the tasks with R_th.
"""
from __future__ import annotations

import contextlib
import copy
from collections import deque
from dataclasses import dataclass
from typing import Iterator

import torch
from torch import nn

from plasticbench.baselines.batched import BatchedMLP
from plasticbench.baselines.seed_rng import SeedRNG
from plasticbench.benchmark.registry import register_method
from plasticbench.methods.base import Method
from plasticbench.baselines.multitask_replay import task_rows, task_size
from plasticbench.methods.dapd_masks import (MaskedLinear, PathwayMLP, masked_layers, merge_gradients,
                                              open_pathways, pathway_layers)

SCORE_STREAM = 0xDA9D  # the method's own random stream (window minibatches): scoring never moves the learner's


def snip_scores(layers: list[MaskedLinear]) -> torch.Tensor:
    """|theta * dL/dtheta| of every weight, flattened per seed and normalized to sum 1: [S, N]."""
    raw = torch.cat([(layer.weight * layer.weight.grad).abs().flatten(1) for layer in layers], dim=1)
    return raw / raw.sum(dim=1, keepdim=True).clamp_min(torch.finfo(raw.dtype).tiny)


def top_k_mask(scores: torch.Tensor, keep_ratio: float, previous: torch.Tensor | None = None) -> torch.Tensor:
    """Keep the floor(keep_ratio * N) highest scores of each seed's row [S, N] (ties at the k-th may add
    a few); a seed whose k-th score is 0 keeps its previous mask, as [C] does (dapd.md §2)."""
    k = max(int(keep_ratio * scores.shape[1]), 1)
    kth = scores.topk(k, dim=1).values[:, -1:]  # [S, 1]
    mask = scores >= kth
    if previous is not None:
        mask = torch.where(kth > 0, mask, previous)
    return mask


def masked_flops(layers: list[MaskedLinear], seed_masks: list[torch.Tensor] | None = None) -> torch.Tensor:
    """Multiply-adds of one forward of one input row, per seed [S]: 2 per active weight plus one add per bias."""
    masks = seed_masks or [layer.mask for layer in layers]
    return sum(2 * m.flatten(1).sum(dim=1) + layer.out_features for m, layer in zip(masks, layers))


@register_method("dapd", settings={"online", "offline", "multitask"}, learners={"sac", "td3", "bcq", "iql"})
class DAPD(Method):
    """Sparse neural pathways found from data: SNIP top-k masks, adapted while warming up, then frozen."""

    @dataclass(frozen=True)
    class Config:
        """Defaults: dapd.md §5 (95% sparsity, K = 1 in the official single-task command, window
        max(1000 episode steps, batch) = 1,000, score batch 256, config default threshold 2,000)."""

        keep_ratio: float = 0.05
        moving_average: int = 1  # K
        window: int = 1_000  # L, most recent transitions
        score_batch: int = 256
        freeze_return: float = 2_000.0  # R_th, absolute; per environment through scenario overrides
        continual_pruning: bool = False  # never freeze
        roles: tuple[str, ...] = ("actor", "critic", "value")

    def __init__(self, config: Config | None = None) -> None:
        super().__init__(config)
        cfg = self.config
        if not 0.0 < cfg.keep_ratio <= 1.0 or cfg.moving_average < 1 or cfg.window < 1 or cfg.score_batch < 1:
            raise ValueError(f"dapd keep_ratio={cfg.keep_ratio} must be in (0, 1]; moving_average={cfg.moving_average}, "
                             f"window={cfg.window} and score_batch={cfg.score_batch} must be >= 1")
        self.history: dict[str, list[deque]] = {}  # role -> per seed, the last K normalized score vectors [N]
        self.frozen: torch.Tensor | None = None  # [S] bool
        self.mask_updates: list[int] = []
        self.frozen_at: list[int | None] = []
        self.initialized = False
        self.rng: SeedRNG | None = None
        self._rng_state: dict | None = None  # a checkpoint's stream position, applied on first use
        self._scores: dict[str, torch.Tensor] | None = None  # filled while scoring

    def build(self, ctx, role, spec):
        if role not in self.config.roles:
            return None
        if ctx.multitask:  # the task one-hot ends the observation, which every role's input starts with
            T = ctx.num_tasks
            return PathwayMLP(spec.num_seeds, spec.sizes, spec.activation, spec.rng, spec.heads, T,
                              slice(ctx.obs_dim - T, ctx.obs_dim))
        return BatchedMLP(spec.num_seeds, spec.sizes, spec.activation, spec.rng, spec.heads, linear=MaskedLinear)

    def roles(self, ctx) -> list[str]:
        return [r for r in self.config.roles if r in ctx.networks and masked_layers(ctx.networks[r])]

    # ----- scoring -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _dense_scratch(self, ctx) -> Iterator[None]:
        """Open every mask and let the learner update; afterwards restore weights, optimizers, RNG and counters."""
        saved = {"networks": {r: copy.deepcopy(n.state_dict()) for r, n in ctx.networks.items()},
                 "optimizers": {r: copy.deepcopy(o.state_dict()) for r, o in ctx.optimizers.items()},
                 "rng": ctx.rng.state_dict(), "extra": copy.deepcopy(ctx.extra_state()), "updates": ctx.updates,
                 "losses": dict(ctx.last_losses), "norms": dict(ctx.last_grad_norms)}
        for network in ctx.networks.values():
            open_pathways(network)
        try:
            yield
        finally:
            for role, state in saved["networks"].items():
                ctx.networks[role].load_state_dict(state)
            for role, state in saved["optimizers"].items():
                ctx.optimizers[role].load_state_dict(state)
            ctx.rng.load_state_dict(saved["rng"])
            ctx.load_extra_state(saved["extra"])
            ctx.updates, ctx.last_losses, ctx.last_grad_norms = saved["updates"], saved["losses"], saved["norms"]

    def window_batch(self, ctx, task: int | None = None):
        """`score_batch` transitions per seed, uniform over the last `window` rows of the buffer (of `task`'s rows)."""
        buffer = ctx.buffer
        if task is None:
            back = self.rng.integers(min(self.config.window, buffer.size), self.config.score_batch)  # [S, B] back from the newest
            return buffer.gather((buffer.pointer - 1 - back) % buffer.capacity)
        back = self.rng.integers(min(self.config.window, task_size(buffer, ctx.num_tasks)), self.config.score_batch)
        return buffer.gather(task_rows(buffer, ctx.num_tasks, task, back))

    def task_batch(self, ctx, batch_size: int):
        """Multitask: batch_size // T rows (at least 1) of every task, uniform over its rows, task after task."""
        buffer, T = ctx.buffer, ctx.num_tasks
        per_task, held = max(batch_size // T, 1), task_size(buffer, T)
        return buffer.gather(torch.cat([task_rows(buffer, T, n, self.rng.integers(held, per_task)) for n in range(T)], dim=1))

    def dataset_batch(self, ctx):
        return ctx.buffer.sample(self.config.score_batch, self.rng)

    def scores(self, ctx, batch) -> dict[str, torch.Tensor]:
        """role -> normalized SNIP scores [S, N] from one learner update on `batch` with dense forward."""
        self._scores = {}
        with self._dense_scratch(ctx):
            ctx.updates = 0  # every delayed step (TD3's actor) takes part
            ctx.learn(batch)
        scores, self._scores = self._scores, None
        return scores

    def before_optimizer_step(self, ctx, role):
        if role not in self.roles(ctx):
            return
        if self._scores is not None:
            self._scores[role] = snip_scores(masked_layers(ctx.networks[role]))
        elif ctx.multitask:
            merge_gradients(ctx.networks[role])

    # ----- masks -------------------------------------------------------------------------------
    def install(self, ctx, role: str, flat: torch.Tensor, seeds: torch.Tensor, task: int | None = None) -> None:
        """Write mask rows [S, N] of `seeds` [S] bool into `role`'s layers and its target's (into `task`'s pathway)."""
        networks = [ctx.networks[role]] + ([ctx.networks[ctx.target_roles[role]]] if role in ctx.target_roles else [])
        for network in networks:
            offset = 0
            for layer in masked_layers(network):
                n = layer.weight[0].numel()
                part = flat[:, offset: offset + n].view_as(layer.mask).to(layer.mask.dtype)
                (layer.mask if task is None else layer.task_masks[task])[seeds] = part[seeds]
                if task is not None:
                    layer.refresh_union()
                offset += n

    @staticmethod
    def current(ctx, role: str, task: int | None) -> torch.Tensor:
        """The installed mask [S, N] of `role` (of `task`'s pathway)."""
        layers = masked_layers(ctx.networks[role])
        return torch.cat([(l.mask if task is None else l.task_masks[task]).flatten(1) for l in layers], dim=1).bool()

    def update_masks(self, ctx, batch, seeds: torch.Tensor, task: int | None = None) -> None:
        """Score, push into each seed's K-deque, average, keep the top k: for the seeds in `seeds` [S] bool
        (multitask: `task`'s pathway, from a batch of its rows, with a K-deque of its own)."""
        seeds = seeds.to(ctx.device)
        for role, score in self.scores(ctx, batch).items():
            key = role if task is None else f"{role}/task{task}"
            history = self.history.setdefault(key, [deque(maxlen=self.config.moving_average) for _ in range(ctx.num_seeds)])
            for s in torch.nonzero(seeds).flatten().tolist():
                history[s].append(score[s].detach().clone())
            average = torch.stack([torch.stack(list(h)).mean(dim=0) if h else torch.zeros_like(score[0]) for h in history])
            previous = self.current(ctx, role, task)
            self.install(ctx, role, top_k_mask(average, self.config.keep_ratio, previous), seeds, task)
        for s in torch.nonzero(seeds).flatten().tolist():
            self.mask_updates[s] += 1

    def _start(self, ctx) -> None:
        """Per-seed state on first use (or its stream on the learner's device after a resume)."""
        if self.frozen is None:
            self.frozen = torch.zeros(ctx.num_seeds, dtype=torch.bool)
            self.mask_updates, self.frozen_at = [0] * ctx.num_seeds, [None] * ctx.num_seeds
        if self.rng is None:
            self.rng = SeedRNG(ctx.seeds, ctx.device, stream=SCORE_STREAM)
            if self._rng_state is not None:
                self.rng.load_state_dict(self._rng_state)

    def on_task_start(self, ctx, task) -> None:
        """Offline: single-shot masks from the dataset, frozen from the start (dapd.md §3)."""
        self._start(ctx)
        if ctx.offline and not self.initialized:
            everyone = torch.ones(ctx.num_seeds, dtype=torch.bool)
            self.update_masks(ctx, self.dataset_batch(ctx), everyone)
            self.frozen, self.initialized = everyone, True
            self.frozen_at = [0] * ctx.num_seeds

    def sample(self, ctx, buffer, batch_size):
        """Online: the initial masks, just before the first gradient step (on the warm-up data)."""
        self._start(ctx)
        if not self.initialized:
            everyone = torch.ones(ctx.num_seeds, dtype=torch.bool)
            for task in range(ctx.num_tasks) if ctx.multitask else [None]:
                self.update_masks(ctx, self.window_batch(ctx, task), everyone, task)
            self.initialized = True
        return self.task_batch(ctx, batch_size) if ctx.multitask else None

    def on_episode_end(self, ctx, ended):
        self._start(ctx)
        due = ended.cpu() & ~self.frozen if self.initialized else None
        if due is not None and due.any():
            task = ctx.task_index if ctx.multitask else None  # multitask: the task being stepped
            self.update_masks(ctx, self.window_batch(ctx, task), due.to(ended.device), task)

    def on_evaluation(self, ctx, task_index, returns):
        self._start(ctx)
        if self.config.continual_pruning or not self.initialized:
            return
        crossed = torch.tensor(returns) > self.config.freeze_return
        for s in torch.nonzero(crossed & ~self.frozen).flatten().tolist():
            self.frozen_at[s] = ctx.env_steps
        self.frozen |= crossed

    # ----- accounting and state ----------------------------------------------------------------
    def active_params(self, network: nn.Module) -> torch.Tensor:
        """Per seed [S]: kept weights plus every bias and every unmasked parameter (dapd.md §4)."""
        masked = masked_layers(network)
        kept = sum(layer.mask.flatten(1).sum(dim=1) for layer in masked)
        dense_rest = sum(p[0].numel() for p in network.parameters()) - sum(layer.weight[0].numel() for layer in masked)
        return kept + dense_rest

    def model_size(self, ctx) -> int:
        return int(self.active_params(ctx.networks["actor"]).max()) if masked_layers(ctx.networks["actor"]) else ctx.policy_params()

    def summary(self, ctx) -> dict:
        roles = self.roles(ctx)
        return {"active_params": {r: self.active_params(ctx.networks[r]).tolist() for r in roles},
                "dense_params": {r: sum(p[0].numel() for p in ctx.networks[r].parameters()) for r in roles},
                "flops_per_forward": {r: masked_flops(masked_layers(ctx.networks[r])).tolist() for r in roles},
                "dense_flops_per_forward": {r: int(masked_flops(masked_layers(ctx.networks[r]),
                                                                [torch.ones_like(l.mask) for l in masked_layers(ctx.networks[r])])[0])
                                            for r in roles},
                "mask_updates": list(self.mask_updates), "frozen_at_env_step": list(self.frozen_at),
                **({"pathway_weights": {r: [sum(l.task_masks[n].flatten(1).sum(dim=1) for l in pathway_layers(ctx.networks[r])).tolist()
                                            for n in range(ctx.num_tasks)] for r in roles}} if ctx.multitask else {})}

    def state_dict(self) -> dict:
        return {"history": {r: [list(h) for h in hs] for r, hs in self.history.items()},
                "frozen": None if self.frozen is None else self.frozen.clone(), "mask_updates": list(self.mask_updates),
                "frozen_at": list(self.frozen_at), "initialized": self.initialized,
                "rng": None if self.rng is None else self.rng.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        K = self.config.moving_average
        self.history = {r: [deque(h, maxlen=K) for h in hs] for r, hs in state["history"].items()}
        self.frozen, self.initialized = state["frozen"], state["initialized"]
        self.mask_updates, self.frozen_at = list(state["mask_updates"]), list(state["frozen_at"])
        self.rng, self._rng_state = None, state["rng"]
