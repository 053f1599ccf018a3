"""CSP: Continual Subspace of Policies (Gaya et al., ICLR 2023), as the Rewire/CSP code runs it
(continual-baselines.md §9, [RN]: agents/subspace_agents.py, algorithms/alpha_search.py), on SAC.

The actor is a subspace: policies theta(alpha) = sum_i alpha_i theta_i over anchors theta_1..theta_n, alpha
in the simplex (`csp_subspace`). Per task k (§9.2-§9.5):
- start (k > 0): append an anchor at the midpoint of the existing ones (only it trains), and a fresh
  alpha-conditioned critic Q(s, a, alpha);
- collection: each seed acts at a point drawn from D (flat, or "peaked" Dirichlet(1, ..., 1, n^2)) or from D2
  (flat over the old anchors) with even odds, redrawn every `repeat_fraction` of the budget; the point is
  stored with the transition; the critic regresses Q(s, a, alpha_stored) on a target at a fresh alpha' ~ D,
  the actor loss draws alpha ~ D per sample;
- end (k > 0): screen 4096 points of the new and of the old subspace with Q1 on replay transitions (the
  stored actions), keep the top R/2 of each, validate the R candidates by deterministic rollouts charged to
  the task's budget, and keep the new anchor only if best_new > best_old * (1 + epsilon), epsilon = 0.1; the
  task's best point goes into the best-alpha table.
Task j is evaluated at its best point; tasks not finished yet at the midpoint of the current anchors.
Model size = anchors kept x one policy.

Decisions where §9 is silent or does not fit this harness:
- Seeds: anchors are added, pruned and counted per seed (preallocated [S, T, ...], T = the scenario's tasks,
  seed s uses its first count[s]); draws, screening and the keep/prune rule are per seed. The model size is
  the mean anchor count over seeds x one policy (the metric is an int of parameters).
- §9.3's "half of the 128 envs draw from D, half from D2" holds with N environments per seed (the first
  N // 2 from D); with one environment per seed it becomes an even coin per seed at every redraw. An
  environment redraws every `repeat_fraction` x budget of its own steps (100 of 1M, [RN]'s per-env
  repeat_alpha); [RN] also redraws at episode ends, which at 1000-step HalfCheetah episodes are multiples of
  100 anyway.
- Validation length is `validation_fraction` x budget (1,000 of 1M, §9.4), at least `min_validation_steps`
  (default 1: the proportion holds at every scale, so a smoke task of 150 steps validates 8 one-step
  rollouts and still trains 142 steps; raise it for meaningful searches at small budgets). R x that is
  reserved from the training budget of every task that searches (k > 0; task 0 has one anchor and no
  search, so nothing is reserved there).
- Screening pairs each point with `screening_repeats` replay transitions (1,024 in [RN]), or with as many
  as the buffer holds when it holds fewer (a smoke task's buffer has ~100).
- The critic keeps a fixed input width obs + act + T (alpha zero-padded to T rather than to n + 1): the same
  function of the live coordinates; only PyTorch's default init bound (1/sqrt(fan_in)) sees the padding.
- Which alpha a critic call sees is decided by `csp_subspace.AlphaContext`: replay actions pair with their
  stored alpha, actor actions with the alpha the actor drew for them.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

import torch

from plasticbench.baselines.batched import BatchedMLP
from plasticbench.benchmark.registry import register_method
from plasticbench.methods.base import Method
from plasticbench.methods.csp_subspace import AlphaContext, AlphaQ, SubspaceActor, dirichlet, midpoint

if TYPE_CHECKING:
    from plasticbench.baselines.learner import Learner, NetworkSpec
    from plasticbench.baselines.replay import Batch, ReplayBuffer
    from plasticbench.envs.task import Task

DISTRIBUTIONS = ("flat", "peaked")
TARGET_ALPHAS = ("resampled", "stored")


def keep_new_anchor(best_new: torch.Tensor, best_old: torch.Tensor, epsilon: float) -> torch.Tensor:
    """[S] bool: keep the newest anchor unless best_new <= best_old * (1 + epsilon) (§9.4 step 4, as written,
    also for negative returns)."""
    return best_new > best_old * (1.0 + epsilon)


def top_points(scores: torch.Tensor, points: torch.Tensor, count: int) -> torch.Tensor:
    """The `count` highest-scoring points per seed: scores [S, M], points [S, M, T] -> [S, count, T]."""
    index = scores.topk(count, dim=1).indices
    return points.gather(1, index[..., None].expand(-1, -1, points.shape[-1]))


@register_method("csp", settings={"continual"}, learners={"sac"})
class CSP(Method):
    """A growing subspace of policies; each task keeps its best point, the new anchor only if it pays."""

    @dataclass(frozen=True)
    class Config:
        distribution: str = "peaked"  # §9.3 dist_type (HC forgetting: peaked)
        repeat_fraction: float = 1e-4  # alpha redraw period / task budget ([RN] repeat_alpha 100 of 1M)
        rollouts: int = 8  # R candidates validated by rollouts (Brax)
        validation_fraction: float = 1e-3  # steps per candidate / task budget (1,000 of 1M)
        min_validation_steps: int = 1
        screening_samples: int = 4096  # points screened per subspace ([RN] n_samples)
        screening_repeats: int = 1024  # replay transitions per point ([RN] n_estimations)
        improvement_threshold: float = 0.1  # epsilon
        target_alpha: str = "resampled"  # §9.3: the critic target's alpha ([RN]: a fresh draw) or "stored"

    def __init__(self, config: Config | None = None) -> None:
        super().__init__(config)
        cfg = self.config
        if cfg.distribution not in DISTRIBUTIONS:
            raise ValueError(f"csp distribution={cfg.distribution!r}; allowed: {', '.join(DISTRIBUTIONS)}")
        if cfg.target_alpha not in TARGET_ALPHAS:
            raise ValueError(f"csp target_alpha={cfg.target_alpha!r}; allowed: {', '.join(TARGET_ALPHAS)}")
        for name in ("rollouts", "min_validation_steps", "screening_samples", "screening_repeats"):
            if getattr(cfg, name) < 1 or (name == "rollouts" and cfg.rollouts < 2):
                raise ValueError(f"csp {name}={getattr(cfg, name)}; it must be >= {2 if name == 'rollouts' else 1}")
        for name in ("repeat_fraction", "validation_fraction", "improvement_threshold"):
            if getattr(cfg, name) < 0:
                raise ValueError(f"csp {name}={getattr(cfg, name)}; it must be >= 0")
        self.context = AlphaContext()
        self.table: list[torch.Tensor] = []  # best alpha [S, T] of each finished task
        self.decisions: list[dict] = []  # per searched task: best_new, best_old, kept (per seed)
        self.budget = 0
        self.task_start_steps = 0
        self.collect_alpha: list[torch.Tensor | None] = []  # env j -> [S, T]: the point each seed's env j acts at
        self.stored: torch.Tensor | None = None  # [S, capacity, T] alpha stored with each replay transition
        self.stored_rows: torch.Tensor | None = None  # rows restored from a checkpoint, copied in on first use

    # ----- networks ------------------------------------------------------------------------
    def build(self, ctx: "Learner", role: str, spec: "NetworkSpec") -> SubspaceActor | AlphaQ:
        anchors = ctx.num_tasks
        if role == "actor":
            actor = SubspaceActor(spec.num_seeds, spec.sizes, spec.activation, spec.rng, anchors)
            self.context.actor = actor
            return actor
        sizes = (spec.sizes[0] + anchors, *spec.sizes[1:])
        return AlphaQ(BatchedMLP(spec.num_seeds, sizes, spec.activation, spec.rng), ctx.obs_dim, self.context)

    @staticmethod
    def actor(ctx: "Learner") -> SubspaceActor:
        return ctx.networks["actor"]

    def draw(self, ctx: "Learner", size: int) -> torch.Tensor:
        """[S, size, T] points from D (§9.3)."""
        actor = self.actor(ctx)
        return dirichlet(ctx.rng, actor.count, size, actor.anchors, peaked=self.config.distribution == "peaked")

    # ----- budget and task start -----------------------------------------------------------
    def validation_steps(self, budget: int) -> int:
        return max(self.config.min_validation_steps, round(self.config.validation_fraction * budget))

    def reserved_steps(self, ctx: "Learner", task: "Task", budget: int) -> int:
        self.budget = budget
        return self.config.rollouts * self.validation_steps(budget) if task.index > 0 else 0

    def on_task_start(self, ctx: "Learner", task: "Task") -> None:
        self.task_start_steps, self.collect_alpha = ctx.env_steps, []
        if task.index == 0:
            return
        self.actor(ctx).add_anchor()
        ctx.reinitialize(["critic"])  # §9.2 step 2: a fresh critic at every new task

    # ----- collection and updates ----------------------------------------------------------
    def stored_alphas(self, ctx: "Learner") -> torch.Tensor:
        if self.stored is None:
            actor = self.actor(ctx)
            self.stored = torch.zeros(ctx.num_seeds, ctx.buffer.capacity, actor.anchors, device=ctx.device)
            self.stored[..., 0] = 1.0  # task 0's uniform warm-up acts at the only point, [1]
            if self.stored_rows is not None:
                self.stored[:, : self.stored_rows.shape[1]] = self.stored_rows.to(ctx.device)
                self.stored_rows = None
        return self.stored

    def act(self, ctx: "Learner", obs: torch.Tensor, explore: bool) -> torch.Tensor | None:
        if not explore:
            return None
        actor, alpha = self.actor(ctx), self.env_alpha(ctx)
        self.stored_alphas(ctx)[:, (ctx.buffer.pointer + ctx.act_offset) % ctx.buffer.capacity] = alpha
        previous, actor.alpha = actor.alpha, alpha
        try:
            return ctx.policy_action(obs, True, ctx.head)
        finally:
            actor.alpha = previous

    def env_alpha(self, ctx: "Learner") -> torch.Tensor:
        """[S, T] point of environment j = `ctx.act_offset` of each seed's N = `ctx.act_width`.

        An environment keeps its point for `repeat_fraction` x budget of its own steps ([RN]'s
        repeat_alpha 100 per env), then redraws: with N > 1 the first N // 2 environments from D (the
        new subspace) and the others from D2 (the old one), as §9.3 splits [RN]'s 128; with one
        environment an even coin picks which.
        """
        j, width = ctx.act_offset, ctx.act_width
        self.collect_alpha += [None] * (j + 1 - len(self.collect_alpha))
        period = max(1, round(self.config.repeat_fraction * self.budget))
        own_steps = (ctx.env_steps - self.task_start_steps) // width
        if self.collect_alpha[j] is None or own_steps % period == 0:
            actor = self.actor(ctx)
            new = self.draw(ctx, 1)[:, 0]
            old = dirichlet(ctx.rng, actor.count, 1, actor.anchors, skip_newest=True)[:, 0]
            if width == 1:
                self.collect_alpha[j] = torch.where(ctx.rng.uniform(1) < 0.5, new, old)
            else:
                self.collect_alpha[j] = new if j < width // 2 else old
        return self.collect_alpha[j]

    def sample(self, ctx: "Learner", buffer: "ReplayBuffer", batch_size: int) -> "Batch":
        """Uniform replay as the learner's, plus the alpha stored with each transition."""
        index = ctx.rng.integers(buffer.size, batch_size)
        batch = buffer.gather(index)
        stored = self.stored_alphas(ctx)[torch.arange(ctx.num_seeds, device=index.device)[:, None], index]
        self.context.stored_action, self.context.stored_alpha = batch.action, stored
        target_stored = self.config.target_alpha == "stored"
        # no-grad actor forwards are the critic target's (alpha'): a fresh draw, or the stored alpha by flag
        self.actor(ctx).draw = lambda size: stored if target_stored and not torch.is_grad_enabled() else self.draw(ctx, size)
        return batch

    def after_update(self, ctx: "Learner") -> None:
        actor = self.actor(ctx)
        actor.draw, actor.last_alpha = None, None
        self.context.stored_action = self.context.stored_alpha = None

    def before_optimizer_step(self, ctx: "Learner", role: str) -> None:
        if role == "actor":
            self.actor(ctx).mask_old_anchor_grads()

    # ----- task end: choose the best point, keep or prune ----------------------------------
    @torch.no_grad()
    def on_task_end(self, ctx: "Learner", task: "Task") -> None:
        actor = self.actor(ctx)
        if task.index == 0:
            best = midpoint(actor.count, actor.anchors)  # one anchor: [1]
        else:
            best = self.search(ctx, task)
        self.table.append(best)

    def search(self, ctx: "Learner", task: "Task") -> torch.Tensor:
        """§9.4: critic screening in the new and old subspace, rollout validation, keep or prune. [S, T]."""
        actor, cfg = self.actor(ctx), self.config
        half = cfg.rollouts // 2
        new = self.draw_flat(ctx, skip_newest=False)
        old = self.draw_flat(ctx, skip_newest=True)
        candidates = torch.cat([top_points(self.screen(ctx, new), new, half),
                                top_points(self.screen(ctx, old), old, cfg.rollouts - half)], dim=1)  # [S, R, T]
        returns = torch.stack([self.validate(ctx, task, candidates[:, r]) for r in range(cfg.rollouts)], dim=1)
        best_new, new_index = returns[:, :half].max(dim=1)
        best_old, old_index = returns[:, half:].max(dim=1)
        keep = keep_new_anchor(best_new, best_old, cfg.improvement_threshold)
        seeds = torch.arange(ctx.num_seeds, device=returns.device)
        best = torch.where(keep[:, None], candidates[seeds, new_index], candidates[seeds, half + old_index])
        actor.remove_newest(~keep)
        self.decisions.append({"task": task.index, "best_new": best_new.tolist(), "best_old": best_old.tolist(),
                               "kept": keep.tolist()})
        return best

    def draw_flat(self, ctx: "Learner", skip_newest: bool) -> torch.Tensor:
        actor = self.actor(ctx)
        return dirichlet(ctx.rng, actor.count, self.config.screening_samples, actor.anchors, skip_newest=skip_newest)

    def screen(self, ctx: "Learner", points: torch.Tensor) -> torch.Tensor:
        """[S, M] mean Q1(s, a_replay, alpha_i) over replay transitions paired with each point (§9.4 step 1)."""
        q1 = ctx.networks["critic"].q1
        repeats = min(self.config.screening_repeats, ctx.buffer.size)
        total = torch.zeros(points.shape[:2], device=points.device)
        for _ in range(repeats):
            batch = ctx.buffer.gather(ctx.rng.integers(ctx.buffer.size, points.shape[1]))
            total += q1.q(torch.cat([batch.obs, batch.action], dim=-1), points)[..., 0]
        return total / repeats

    def validate(self, ctx: "Learner", task: "Task", point: torch.Tensor) -> torch.Tensor:
        """[S] total reward of the deterministic policy at `point` [S, T] (charged to the budget, §9.4 step 3)."""
        with self.at(self.actor(ctx), point):
            return ctx.rollout(task, lambda obs: ctx.policy_action(obs, False, ctx.head),
                               self.validation_steps(self.budget), charged=True)

    # ----- evaluation ----------------------------------------------------------------------
    @staticmethod
    @contextlib.contextmanager
    def at(actor: SubspaceActor, point: torch.Tensor) -> Iterator[None]:
        previous, actor.alpha = actor.alpha, point
        try:
            yield
        finally:
            actor.alpha = previous

    @contextlib.contextmanager
    def evaluating(self, ctx: "Learner", task_index: int) -> Iterator[None]:
        """Task j at its best point; tasks not finished at the midpoint of the current anchors (§9.5)."""
        actor = self.actor(ctx)
        point = self.table[task_index] if task_index < len(self.table) else midpoint(actor.count, actor.anchors)
        with self.at(actor, point):
            yield

    # ----- accounting and checkpoints ------------------------------------------------------
    def model_size(self, ctx: "Learner") -> int:
        """Anchors kept x one policy (§9.6), averaged over seeds."""
        actor = self.actor(ctx)
        return round(actor.count.float().mean().item() * actor.anchor_params())

    def state_dict(self) -> dict:
        rows = None if self.stored is None else self.stored.clone()
        return {"table": self.table, "decisions": self.decisions, "budget": self.budget,
                "task_start_steps": self.task_start_steps, "collect_alpha": self.collect_alpha, "stored": rows}

    def load_state_dict(self, state: dict) -> None:
        self.table, self.decisions = list(state["table"]), list(state["decisions"])
        self.budget, self.task_start_steps = state["budget"], state["task_start_steps"]
        alpha = state["collect_alpha"]
        self.collect_alpha = [alpha] if isinstance(alpha, torch.Tensor) else list(alpha or [])  # a tensor: saved before N envs
        self.stored, self.stored_rows = None, state["stored"]
