"""NE: Neuroplastic Expansion (Liu, Obando-Ceron, Courville & Pan, ICLR 2025; spec ne.md).

Actor and critic start sparse (Erdos-Renyi layer densities at the initial sparsity, the largest |w|
at init kept, [C]) and grow: every `grow_interval` steps of a network the inactive connections with
the largest dense-gradient magnitude are activated at zero weight, then its fully dormant hidden
neurons (tau = 0) are pruned, at most an upper bound per layer (ne.md §2). Masked weights receive no
gradient and are re-zeroed after every update (with their Polyak targets), so Adam moments cannot
revive them. Experience Review replaces some minibatches by samples from the oldest part of the
buffer (ne.md §2, `sample`). Masks are [S, in, out] booleans and every decision is per seed; the
per-update paths (gradient/weight masking, replay) are batched tensor ops, events loop over layers.

Phases (ne.md §2 "End of growth", [C] `STL_Scheduler`): a seed's network grows (grow + dormant
prune) until a growth step brings it to the target density 1 - S_final; from its next event on it
makes constant-density RigL updates instead: the floor(|M_l| zeta'_t) smallest-|w| active
connections are dropped and as many largest-|G| inactive ones grown at zero, zeta'_t the cosine of
a clock restarted at 0 with zeta' = 0.2, while that clock is below T_end. The switch is decided on
the density right after growing, before pruning: pruning after every growth step means the density
seen before the next event may never reach the target, and growth would never end.

Schedule (methods/schedule.py), counted in each network's own updates (ne.md §8):
- Delta T = `grow_interval_fraction` x the task budget, 1e-4 by default: 100 updates at
  `scale=paper` (1M env steps per task), [C] `delta`. It is at least `min_grow_interval` (10): an
  event skips that update's optimizer step ([C]), which costs 1 % of the updates at the paper's
  interval and would cost all of them at interval 1. 10 at smoke (300 steps) and short (50k: 5 -> 10).
- T_end = `end_fraction` x the run's budget (all tasks: in a continual run growth spans the run,
  ne.md §3), 0.975 by default: 975,000 at `scale=paper`, [C] `max_timesteps - start_timesteps`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import torch

from plasticbench.baselines.batched import BatchedLinear
from plasticbench.benchmark.metrics.plasticity import active_unit_fraction, dormant_masks, hidden_activations
from plasticbench.benchmark.registry import register_method
from plasticbench.methods.base import Method
from plasticbench.methods.ne_topology import (code_gate, cosine_grow_rate, erdos_renyi_densities, grow_connections,
                                              incoming_alive, initial_mask, neurons_to_prune, post_growth_rate,
                                              review_indices, smallest_active)
from plasticbench.methods.schedule import steps_for
from plasticbench.baselines.batched import batched_mlps
from plasticbench.methods.redo import zero_adam_moments

PRUNE_MODES = ("dormant_neuron", "weight_magnitude")
ER_MODES = ("code_gate", "dormant_slope")
INIT_TOPOLOGIES = ("magnitude", "random")


@register_method("ne", settings={"online", "continual"}, learners={"sac", "td3"})
class NE(Method):
    """Grow sparse actor and critic by gradient, prune dormant neurons, review old experience."""

    event_kinds = ("topology",)

    @dataclass(frozen=True)
    class Config:
        """Defaults: the harness column of ne.md §5 (App. B.2's numbers were lost in the seed text)."""

        initial_sparsity: float = 0.8  # S0, [C] `initial_stl_sparsity`
        final_sparsity: float = 0.0  # growth target: the dense baseline architecture [P §5.1]
        init_topology: str = "magnitude"  # largest |w| at init [C]; "random" = RigL's random set
        grow_interval_fraction: float = 1e-4  # Delta T / task budget (module docstring)
        grow_interval: Optional[int] = None  # Delta T in steps of each network; overrides the fraction
        min_grow_interval: int = 10  # floor of the Delta T derived from the fraction
        grow_rate: float = 0.008  # constant fraction of the budget per event [C `uni=True`], the spec's default
        cosine: bool = False  # True: the paper's cosine-annealed rate zeta_0/2 (1 + cos(pi t / T_end))
        cosine_rate: float = 0.5  # zeta_0 for cosine=True [C `zeta`, MuJoCo]
        code_budget: bool = False  # True: [C]'s budget B_l = S0 N_l - |M_l| instead of (1 - S_final) N_l - |M_l|
        end_fraction: float = 0.975  # T_end / run budget [C: max_timesteps - start_timesteps]
        end: Optional[int] = None  # T_end in steps of each network; overrides end_fraction
        post_growth_rate: float = 0.2  # zeta' of the constant-density phase after growth [C]
        prune_mode: str = "dormant_neuron"  # [P]; "weight_magnitude" = [C] floor(0.4 n_grow) smallest-|w| connections
        prune_upper_bound: Optional[int] = None  # U per layer and event; None = 5 % of the layer's width (spec proposal)
        prune_batch_size: int = 256  # batch the dormancy score is measured on
        skip_step_on_event: bool = True  # [C] `scheduler(...)` returns False: the event update's step is undone
        weight_clip: float = 0.0  # kappa of Elsayed et al. 2024 on once-pruned neurons [P App. B.2]; 0 = off (ne.md §3)
        experience_review: bool = True
        er_mode: str = "code_gate"  # [C] FAU gate (the spec's default); "dormant_slope" = paper proposal
        er_fraction: float = 0.25  # oldest quarter of the buffer [P §4.2]; [C] 0.3
        er_start: int = 0  # ER step: no review before this many updates [P App. B.2, value lost]
        awaken: float = 0.4  # a, [C train.py]
        t_amp: float = 0.9  # T_amp, [C]
        er_window: int = 1_000  # W of the dormant-count slope (dormant_slope mode, proposal)
        er_max_prob: float = 0.5  # review probability when the slope is 0 (dormant_slope mode, proposal)
        er_slope_scale: float = 0.01  # slope at which that probability falls by 1/e (dormant_slope mode, proposal)
        roles: tuple[str, ...] = ("actor", "critic")

    def __init__(self, config: Config | None = None) -> None:
        super().__init__(config)
        cfg = self.config
        for name, value, allowed in (("prune_mode", cfg.prune_mode, PRUNE_MODES), ("er_mode", cfg.er_mode, ER_MODES),
                                     ("init_topology", cfg.init_topology, INIT_TOPOLOGIES)):
            if value not in allowed:
                raise ValueError(f"ne {name}={value!r}; allowed: {', '.join(allowed)}")
        if (cfg.grow_interval is not None and cfg.grow_interval < 1) or cfg.min_grow_interval < 1:
            raise ValueError(f"ne grow_interval={cfg.grow_interval} and min_grow_interval={cfg.min_grow_interval} "
                             "must be positive numbers of steps")
        if not 0.0 < cfg.grow_interval_fraction <= 1.0 or not 0.0 < cfg.end_fraction <= 1.0:
            raise ValueError(f"ne grow_interval_fraction={cfg.grow_interval_fraction} and end_fraction="
                             f"{cfg.end_fraction} must be in (0, 1]")
        if not 0.0 <= cfg.final_sparsity <= cfg.initial_sparsity < 1.0:
            raise ValueError(f"ne needs 0 <= final_sparsity ({cfg.final_sparsity}) <= initial_sparsity "
                             f"({cfg.initial_sparsity}) < 1")
        self.masks: dict[str, list[torch.Tensor]] | None = None  # role -> one [S, in, out] mask per weight
        self.budgets: dict[str, list[torch.Tensor]] = {}  # role -> B_l per seed [S], fixed at the first event
        self.ever_pruned: dict[str, list[torch.Tensor]] = {}  # role -> [S, out] per weight (weight clipping)
        self.steps = {role: 0 for role in cfg.roles}  # each network's own step counter (ne.md §8)
        self.dormant_history: list[torch.Tensor] = []  # D_t of the critic per seed [S] (dormant_slope mode)
        self.last_event: dict[str, dict[str, torch.Tensor]] = {}  # role -> grown / pruned / dropped counts [S]
        self.growth_end: dict[str, torch.Tensor] = {}  # role -> step growth ended per seed [S], -1 while growing
        self.reached: dict[str, torch.Tensor] = {}  # role -> [S] a growth step reached the target density
        self._grads: dict[str, list[torch.Tensor]] = {}  # role -> dense gradients at a pending event
        self._snapshots: dict[str, list] = {}  # role -> (param, value, Adam state) to undo the event step

    # ----- topology ------------------------------------------------------------------------
    @staticmethod
    def mlp_layers(ctx, role: str) -> list[list[BatchedLinear]]:
        """The linear layers of each per-seed MLP of `role` (one for an actor, two for a twin critic)."""
        return [list(mlp.layers) for mlp in batched_mlps(ctx.networks[role])]

    def weights(self, ctx, role: str, target: bool = False) -> list[BatchedLinear]:
        name = ctx.target_roles.get(role) if target else role
        return [] if name is None else [layer for layers in self.mlp_layers(ctx, name) for layer in layers]

    @torch.no_grad()
    def init_topology(self, ctx) -> None:
        """Erdos-Renyi initial masks per network and seed (ne.md §2), applied to weights and targets."""
        if self.masks is not None:
            return
        self.masks = {}
        for role in self.config.roles:
            self.masks[role] = []
            for layers in self.mlp_layers(ctx, role):
                shapes = [(layer.in_features, layer.weight.shape[2]) for layer in layers]
                for layer, density in zip(layers, erdos_renyi_densities(shapes, self.config.initial_sparsity)):
                    scores = ctx.rng.uniform(*layer.weight.shape[1:]) if self.config.init_topology == "random" else None
                    self.masks[role].append(initial_mask(layer.weight, density, scores))
            self.ever_pruned[role] = [torch.zeros_like(m[:, 0, :]) for m in self.masks[role]]
        self.apply_masks(ctx)

    @torch.no_grad()
    def apply_masks(self, ctx) -> None:
        """W <- W * M for every masked network and its Polyak target; optional clipping of once-pruned neurons."""
        for role, masks in self.masks.items():
            for target in (False, True):
                for layer, mask, pruned in zip(self.weights(ctx, role, target), masks, self.ever_pruned[role]):
                    layer.weight.masked_fill_(~mask, 0.0)
                    if self.config.weight_clip > 0:
                        bound = self.config.weight_clip / math.sqrt(layer.in_features)  # kappa * init bound
                        clipped = layer.weight.clamp(-bound, bound)
                        layer.weight.copy_(torch.where(pruned[:, None, :], clipped, layer.weight))

    def interval(self, ctx) -> int:
        """Delta T in steps of each network (module docstring)."""
        cfg = self.config
        return steps_for(cfg.grow_interval, cfg.grow_interval_fraction, lambda: ctx.task_budget, cfg.min_grow_interval)

    def end(self, ctx) -> int:
        """T_end in steps of each network (module docstring)."""
        return steps_for(self.config.end, self.config.end_fraction, lambda: ctx.run_budget)

    def phases(self, ctx, role: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Per seed [S]: growing (phase 1, before T_end) and constant-density RigL (phase 2, its clock below T_end)."""
        step, end = self.steps[role], self.end(ctx)
        first = self.masks[role][0]
        growth_end = self.growth_end.setdefault(role, torch.full((first.shape[0],), -1, dtype=torch.long,
                                                                 device=first.device))
        after = growth_end >= 0
        return ~after & (step < end), after & (step - growth_end < end)

    def grow_number(self, ctx, role: str, index: int, mask: torch.Tensor) -> torch.Tensor:
        """n_grow per seed [S] = floor(zeta_t B_l), capped by what is left before the growth target (ne.md §2)."""
        cfg, size = self.config, mask[0].numel()
        count = mask.flatten(1).sum(dim=1)
        target = self.target_density() * size
        budgets = self.budgets.setdefault(role, [])
        if len(budgets) <= index:
            budgets.append((target - count).clamp_min(0).floor().long())
        step = self.steps[role]
        rate = cosine_grow_rate(step, self.end(ctx), cfg.cosine_rate) if cfg.cosine else cfg.grow_rate
        left = (math.floor(target) - count).clamp_min(0)
        return torch.minimum((rate * budgets[index]).floor().long(), left)

    def target_density(self) -> float:
        """Growth target as a density: 1 - S_final ([C]'s budget mode: 1 - S0 of the remaining capacity)."""
        cfg = self.config
        return cfg.initial_sparsity if cfg.code_budget else 1.0 - cfg.final_sparsity

    @torch.no_grad()
    def grow(self, ctx, role: str, grads: list[torch.Tensor], growing: torch.Tensor | None = None,
             rigl: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """One topology update of every layer of `role`; per-seed counts [S] of grown and dropped connections.

        Growing seeds: n_grow by |G| (ne.md §2; [C] mode first drops floor(0.4 n_grow) smallest-|w|).
        RigL seeds: drop floor(|M_l| zeta'_t) smallest-|w| and grow as many by |G| (module docstring).
        Afterwards, growing seeds whose network reached the target density switch at their next event.
        """
        if growing is None or rigl is None:
            growing, rigl = self.phases(ctx, role)
        grown, dropped = 0, 0
        optimizer = ctx.optimizers[role]
        since = self.steps[role] - self.growth_end[role]
        zeta = post_growth_rate(since, self.end(ctx), self.config.post_growth_rate)
        for index, (layer, grad) in enumerate(zip(self.weights(ctx, role), grads)):
            mask = self.masks[role][index]
            n_grow = torch.where(growing, self.grow_number(ctx, role, index, mask), 0)
            n_rigl = torch.where(rigl, (mask.flatten(1).sum(dim=1) * zeta).floor().long(), 0)
            n_drop = n_rigl + ((0.4 * n_grow).floor().long() if self.config.prune_mode == "weight_magnitude" else 0)
            drop = smallest_active(mask, layer.weight, n_drop)
            mask &= ~drop
            layer.weight.masked_fill_(drop, 0.0)
            zero_adam_moments(optimizer, layer.weight, drop)
            new = grow_connections(mask, grad, n_grow + n_rigl)
            mask |= new
            layer.weight.masked_fill_(new, 0.0)  # zero init: the function is unchanged (RigL)
            zero_adam_moments(optimizer, layer.weight, new)
            grown = grown + new.flatten(1).sum(dim=1)
            dropped = dropped + drop.flatten(1).sum(dim=1)
        active = sum(m.flatten(1).sum(dim=1) for m in self.masks[role])
        capacity = sum(m[0].numel() for m in self.masks[role])
        self.reached[role] = growing & (active >= math.floor(self.target_density() * capacity))
        return {"grown": grown, "dropped": dropped}

    @torch.no_grad()
    def prune_dormant(self, ctx, role: str, inputs: torch.Tensor, seeds: torch.Tensor | None = None) -> torch.Tensor:
        """Prune each hidden layer's fully dormant neurons, at most U per layer (ne.md §2, proposal).

        Neuron i: its incoming column and bias and its outgoing row are zeroed and masked; Adam moments
        of the touched entries are zeroed; the positions become growth candidates again. Only neurons
        with an incoming connection count against U (`neurons_to_prune`); `seeds` [S] limits pruning
        to the seeds still growing. Returns pruned neurons per seed [S].
        """
        pruned_total, offset = 0, 0
        optimizer, targets = ctx.optimizers[role], self.weights(ctx, role, target=True)
        for layers, mlp in zip(self.mlp_layers(ctx, role), batched_mlps(ctx.networks[role])):
            for i, activations in enumerate(hidden_activations(mlp, inputs)):
                bound = self.config.prune_upper_bound
                bound = int(0.05 * activations.shape[2]) if bound is None else bound
                k = offset + i
                prune = neurons_to_prune(activations, bound, incoming_alive(self.masks[role][k]))  # [S, H]
                if seeds is not None:
                    prune &= seeds[:, None]
                column, row = prune[:, None, :], prune[:, :, None]
                self.masks[role][k] &= ~column
                self.masks[role][k + 1] &= ~row
                self.ever_pruned[role][k] |= prune
                for layer in [layers[i]] + targets[k:k + 1]:
                    layer.bias.masked_fill_(column, 0.0)
                zero_adam_moments(optimizer, layers[i].weight, column)
                zero_adam_moments(optimizer, layers[i].bias, column)
                zero_adam_moments(optimizer, layers[i + 1].weight, row)
                pruned_total = pruned_total + prune.sum(dim=1)
            offset += len(layers)
        self.apply_masks(ctx)
        return pruned_total

    # ----- hooks ---------------------------------------------------------------------------
    def on_task_start(self, ctx, task) -> None:
        self.init_topology(ctx)  # continual: nothing is reset at task switches (ne.md §3)

    def event_due(self, ctx, role: str) -> bool:
        """An event at this step of `role` for at least one seed (either phase)."""
        if self.steps[role] % self.interval(ctx) != 0:
            return False
        growing, rigl = self.phases(ctx, role)
        return bool((growing | rigl).any())

    def before_optimizer_step(self, ctx, role: str) -> None:
        """Count the step, keep dense gradients at an event (before masking), then mask the gradients."""
        if role not in self.config.roles:
            return
        self.init_topology(ctx)
        self.steps[role] += 1
        layers = self.weights(ctx, role)
        if self.event_due(ctx, role):
            self._grads[role] = [layer.weight.grad.detach().clone() for layer in layers]
            if self.config.skip_step_on_event:
                optimizer = ctx.optimizers[role]
                params = [p for group in optimizer.param_groups for p in group["params"]]
                self._snapshots[role] = [(p, p.detach().clone(), {k: v.clone() if torch.is_tensor(v) else v
                                                                   for k, v in optimizer.state.get(p, {}).items()})
                                         for p in params]
        for layer, mask in zip(layers, self.masks[role]):
            layer.weight.grad.masked_fill_(~mask, 0.0)

    @torch.no_grad()
    def after_update(self, ctx) -> None:
        self.init_topology(ctx)
        due = [role for role in self.config.roles if role in self._grads]
        if not due:
            return
        batch = ctx.buffer.sample(self.config.prune_batch_size, ctx.rng)
        inputs = {"actor": batch.obs, "critic": torch.cat([batch.obs, batch.action], dim=-1)}
        with ctx.structural_event("topology") as event:
            acted = torch.zeros(ctx.num_seeds, dtype=torch.long, device=ctx.device)
            for role in due:
                self._undo_step(ctx, role)
                self.phases(ctx, role)  # creates growth_end on first use
                switch = self.reached.pop(role, None)
                if switch is not None:  # growth reached its target at the last event: RigL from now on
                    self.growth_end[role] = torch.where(switch, self.steps[role], self.growth_end[role])
                growing, rigl = self.phases(ctx, role)
                counts = self.grow(ctx, role, self._grads.pop(role), growing, rigl)
                counts["pruned"] = torch.zeros_like(counts["grown"])
                if self.config.prune_mode == "dormant_neuron":
                    counts["pruned"] = self.prune_dormant(ctx, role, inputs[role], growing)
                self.last_event[role] = counts
                for name, value in counts.items():
                    event.details[f"{role}_{name}"] = value
                    acted = acted + value
            event.acted = acted > 0
        self.apply_masks(ctx)

    def _undo_step(self, ctx, role: str) -> None:
        """[C] skips the optimizer step of an event update: restore the weights and Adam state of before it."""
        optimizer = ctx.optimizers[role]
        for param, value, state in self._snapshots.pop(role, []):
            param.copy_(value)
            if state:
                optimizer.state[param] = state
            else:
                optimizer.state.pop(param, None)

    def sample(self, ctx, buffer, batch_size: int):
        """Experience Review (ne.md §2): per seed, the whole minibatch comes from the oldest part of the buffer
        when that seed's gate opens; the same draws are made whatever the seeds decide."""
        cfg = self.config
        if not cfg.experience_review or ctx.updates < cfg.er_start:
            return None
        index = ctx.rng.integers(buffer.size, batch_size)  # [S, B], the learner's own uniform draw
        positions, u = ctx.rng.uniform(batch_size), ctx.rng.uniform(1)[:, 0]
        uniform = buffer.gather(index)
        candidates = self.gate_candidates(u)
        if candidates is None:
            review = self.review_decision(ctx, uniform, u)  # [S]
        elif not candidates.any():
            return uniform
        else:  # FAU of the seeds whose gate can open, the others stay shut
            seeds = candidates.nonzero()[:, 0]
            review = torch.zeros_like(candidates)
            review[seeds] = self.review_decision(ctx, uniform, u, seeds)
        old = review_indices(positions, buffer.size, buffer.pointer, buffer.capacity, cfg.er_fraction)
        return buffer.gather(torch.where(review[:, None], old, index))

    def gate_candidates(self, u: torch.Tensor) -> torch.Tensor | None:
        """[S] bool: seeds whose gate can open whatever their FAU is; None when every seed must be measured.

        Why: measuring FAU is a critic forward, a fifth of NE's update (issue #20). The [C] gate opens
        only for FAU < a and u >= g(FAU); g rises with FAU, so on [0, a) it is at least
        min(g(0), 0.4) (0.4 is what g >= 0.6 becomes), and a seed whose u is below that (less a
        float margin) keeps its gate shut: its FAU need not be measured, and the decision is the same.
        Read on the host, so on CPU only (a GPU would wait for it); the paper's slope mode needs
        every seed's dormant count at every update."""
        cfg = self.config
        if cfg.er_mode != "code_gate" or u.device.type != "cpu":
            return None
        floor = min(code_gate(torch.zeros((), dtype=u.dtype), cfg.awaken, cfg.t_amp).item(), 0.4) - 1e-6
        return u >= floor

    @torch.no_grad()
    def review_decision(self, ctx, batch, u: torch.Tensor, seeds: torch.Tensor | None = None) -> torch.Tensor:
        """[S] booleans: [C] FAU gate (default) or the paper's dormant-count slope (proposal).
        `seeds` [k] (code gate only): decide for those seeds alone, [k]."""
        cfg = self.config
        x = torch.cat([batch.obs, batch.action], dim=-1)
        if seeds is not None:
            x, u = x[seeds], u[seeds]
        hidden = [h for mlp in batched_mlps(ctx.networks["critic"]) for h in hidden_activations(mlp, x, seeds)]
        if cfg.er_mode == "code_gate":
            fau = active_unit_fraction(hidden).to(u.dtype)
            return (fau < cfg.awaken) & (u >= code_gate(fau, cfg.awaken, cfg.t_amp))
        count = sum(m.sum(dim=1) for m in dormant_masks(hidden, 0.0)).to(u.dtype)  # D_t [S]
        self.dormant_history = (self.dormant_history + [count])[-(cfg.er_window + 1):]
        span = max(len(self.dormant_history) - 1, 1)
        slope = (self.dormant_history[0] - count) / span  # kappa_t: positive while the dormant count falls
        p_review = cfg.er_max_prob * torch.exp(-slope.clamp_min(0) / cfg.er_slope_scale)
        return u > 1.0 - p_review

    # ----- accounting and checkpoints ------------------------------------------------------
    def active_parameters(self, ctx, role: str = "actor") -> torch.Tensor:
        """Active weights plus every bias of one network, per seed [S] (ne.md §4)."""
        self.init_topology(ctx)
        biases = sum(layer.bias[0].numel() for layer in self.weights(ctx, role))
        return sum(m.flatten(1).sum(dim=1) for m in self.masks[role]) + biases

    def model_size(self, ctx) -> int:
        """The actor at its dense storage size plus its masks at 1 bit per weight, i.e. ceil(#mask entries / 32)
        float32-parameter equivalents (the targets share the masks; no sparse kernels, ne.md §4)."""
        self.init_topology(ctx)
        mask_entries = sum(m[0].numel() for m in self.masks.get("actor", []))
        return ctx.policy_params() + math.ceil(mask_entries / 32)

    def state_dict(self) -> dict:
        return {"masks": self.masks, "budgets": self.budgets, "ever_pruned": self.ever_pruned, "steps": dict(self.steps),
                "dormant_history": self.dormant_history, "growth_end": dict(self.growth_end), "reached": dict(self.reached)}

    def load_state_dict(self, state: dict) -> None:
        self.masks, self.budgets, self.ever_pruned = state["masks"], state["budgets"], state["ever_pruned"]
        self.steps, self.dormant_history = dict(state["steps"]), list(state["dormant_history"])
        self.growth_end, self.reached = dict(state.get("growth_end", {})), dict(state.get("reached", {}))
