"""What SAC and TD3 share: networks by role, per-task resets, hooks, checkpoint state.

The learner is the `ctx` methods see. Per-task resets follow the Rewire/CSP code
(continual-baselines.md §3, "Reset rules"): at every task start a new empty replay buffer, new
optimizers, the temperature back to its initial value and targets re-copied; networks are kept.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Callable, ClassVar, Iterator, Sequence

import torch
from torch import nn

from plasticbench.baselines.batched import BatchedMLP, params_per_seed
from plasticbench.baselines.divergence import SeedHealth
from plasticbench.baselines.events import EventLog, StructuralEvent, snapshot_due
from plasticbench.baselines.replay import Batch, DatasetBuffer, ReplayBuffer, buffer_bytes, obs_dtype
from plasticbench.baselines.seed_rng import SeedRNG
from plasticbench.benchmark.metrics.plasticity import EVENT_PROBE_STREAM, grad_norm, plasticity_snapshot, probe_batch
from plasticbench.methods.base import Method

ROLLOUT_SEED_OFFSET = 20_000
"""Rollout environments of hook call i are seeded from (seed, ROLLOUT_SEED_OFFSET + i): apart from the
training envs (offset = task index) and the evaluation envs (10,000 + task index), and a fresh stream
per call, numbered in the checkpoint so a resumed run replays the same rollouts."""


@dataclass(frozen=True)
class LearnerConfig:
    """Hyperparameters every off-policy learner here shares (defaults: Haarnoja et al. 2018 / Fujimoto et al. 2018)."""

    hidden: tuple[int, ...] = (256, 256)
    activation: str = "relu"
    actor_lr: float = 3e-4
    critic_lr: float = 3e-4
    batch_size: int = 256
    gamma: float = 0.99
    tau: float = 0.005
    buffer_size: int = 1_000_000
    policy_delay: int = 1
    target_delay: int = 1
    reward_scale: float = 1.0
    multi_head: bool = False
    bootstrap_on_timeout: bool = True  # gymnasium separates truncation; Rewire's Brax code could not (§2.2)
    updates_per_step: float = 1.0  # update-to-data ratio: gradient steps per env step of each seed ([RN] 0.5, §2.3)
    envs_per_seed: int = 1  # kept at 1 so run ids stay put: environments per seed are `scale.envs_per_seed`
    replay_dtype: str = "float32"  # observation storage in the replay: float32 (exact), bfloat16, float16
    task_id_dims: int = 0
    """Trailing observation components holding the task one-hot, which no network reads: Continual
    World's `hide_task_id` (continual-baselines.md §2.5), where a multi-head network picks the task's
    head instead. They are cut off where observations enter the learner (`trunk_obs`)."""

    def __post_init__(self) -> None:
        obs_dtype(self.replay_dtype)  # a bad name fails here, before any work, listing the allowed ones
        if not self.updates_per_step > 0:
            raise ValueError(f"learner updates_per_step={self.updates_per_step}; it must be > 0 (gradient steps per env step)")
        if self.task_id_dims < 0:
            raise ValueError(f"learner task_id_dims={self.task_id_dims}; it must be >= 0")
        if self.envs_per_seed != 1:
            raise ValueError(f"learner.envs_per_seed={self.envs_per_seed}: environments per seed are a collection "
                             f"setting, scale.envs_per_seed={self.envs_per_seed}; allowed here: 1")


@dataclass(frozen=True)
class NetworkSpec:
    """What a method's `build` hook needs to make a replacement network."""

    role: str
    sizes: tuple[int, ...]
    activation: str
    heads: int
    num_seeds: int
    rng: SeedRNG = field(repr=False)

    def default(self) -> BatchedMLP:
        return BatchedMLP(self.num_seeds, self.sizes, self.activation, self.rng, self.heads)


class TwinQ(nn.Module):
    """Two independent Q-networks (clipped double Q, Fujimoto et al. 2018)."""

    def __init__(self, q1: nn.Module, q2: nn.Module) -> None:
        super().__init__()
        self.q1, self.q2 = q1, q2

    def forward(self, obs: torch.Tensor, action: torch.Tensor, head: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.cat([obs, action], dim=-1)
        return self.q1(x, head), self.q2(x, head)

    def first(self, obs: torch.Tensor, action: torch.Tensor, head: int = 0) -> torch.Tensor:
        """Q1 alone: TD3's actor loss reads only Q1 (Fujimoto et al. 2018, Algorithm 1), so Q2 is not evaluated."""
        return self.q1(torch.cat([obs, action], dim=-1), head)

    def reset_parameters(self, rng: SeedRNG, seeds: torch.Tensor | None = None) -> None:
        self.q1.reset_parameters(rng, seeds)
        self.q2.reset_parameters(rng, seeds)


def seed_means(x: torch.Tensor) -> torch.Tensor:
    """Each seed's own mean [S]: seeds never share a normalizer (ARCHITECTURE.md). The optimizer
    step sums them, so the gradient is exactly that of the sum; the vector stays for logging."""
    return x.flatten(1).mean(dim=1)


def _action_masks(masks: Sequence[Sequence[bool]] | None, num_tasks: int, act_dim: int,
                  device: torch.device | str) -> torch.Tensor | None:
    """[N, A] bool from one legal-action mask per task, checked; None when none is given."""
    if masks is None:
        return None
    out = torch.as_tensor([list(m) for m in masks], dtype=torch.bool, device=device)
    if tuple(out.shape) != (num_tasks, act_dim) or not out.any(dim=1).all():
        raise ValueError(f"task_action_masks must be {num_tasks} masks of {act_dim} actions, each with a legal action; "
                         f"got shape {tuple(out.shape)}")
    return out


def uniform_legal_action(rng: SeedRNG, num_actions: int, legal: torch.Tensor | None) -> torch.Tensor:
    """int64 [S]: each seed's uniform draw among the legal actions (`legal` [A] bool; None: all), from its own stream."""
    if legal is None:
        return rng.integers(num_actions)
    choices = torch.nonzero(legal).flatten()  # [n_legal] action indices
    return choices[rng.integers(int(choices.numel()))]


class Learner:
    """Base of the seed-batched off-policy learners. Subclasses define networks, acting and `update`."""

    name: ClassVar[str] = ""
    Config: ClassVar[type] = LearnerConfig
    target_roles: ClassVar[dict[str, str]] = {"critic": "critic_target"}
    offline: ClassVar[bool] = False  # trains from a fixed dataset only (BCQ, IQL); never steps an environment
    discrete: ClassVar[bool] = False
    """The discrete-action contract (Atari; DQN), in full: such a learner acts with action indices, int64 [S]
    in [0, act_dim), where act_dim is the number of actions; observations are what the env gives (uint8
    frames [S, 4, 84, 84] for Atari, obs_dim their element count); rewards reach `observe` already clipped
    and a lost life is `terminated` in training (envs/atari_vector.py). Only the actions in
    `legal_actions` may be chosen, whether acting, exploring or maximizing in a target. The run loop pairs
    such a learner exactly with the suites whose `Scenario.discrete_actions` is set."""

    def __init__(self, config: LearnerConfig, obs_dim: int, act_dim: int, seeds: Sequence[int], method: Method,
                 num_tasks: int = 1, device: torch.device | str = "cpu", task_budgets: Sequence[int] | None = None,
                 task_act_dims: Sequence[int] | None = None, multitask: bool = False,
                 task_action_masks: Sequence[Sequence[bool]] | None = None) -> None:
        self.config, self.method = config, method
        self.multitask = multitask  # every task trains at once; observations end in the task's one-hot (envs/multitask.py)
        self.seeds, self.num_seeds = list(seeds), len(seeds)
        if not 0 <= config.task_id_dims < obs_dim:
            raise ValueError(f"learner task_id_dims={config.task_id_dims} must lie in [0, obs_dim={obs_dim})")
        self.obs_dim, self.act_dim, self.num_tasks = obs_dim - config.task_id_dims, act_dim, num_tasks
        if task_budgets is not None and len(task_budgets) != num_tasks:
            raise ValueError(f"task_budgets={list(task_budgets)} must give one budget per task ({num_tasks})")
        self.task_budgets = None if task_budgets is None else [int(b) for b in task_budgets]
        if task_act_dims is not None and (len(task_act_dims) != num_tasks or not all(0 < a <= act_dim for a in task_act_dims)):
            raise ValueError(f"task_act_dims={list(task_act_dims)} must give one action size in [1, {act_dim}] per task ({num_tasks})")
        self.task_act_dims = None if task_act_dims is None else [int(a) for a in task_act_dims]
        self.task_action_masks = _action_masks(task_action_masks, num_tasks, act_dim, device)  # [N, A] bool or None
        self._acting_task: int | None = None  # the task whose legal actions apply while `acting_on` runs
        self.events = EventLog(num_tasks, self.num_seeds)
        self.event_snapshots = False  # the run loop turns on before/after plasticity snapshots at events
        self.num_heads = num_tasks if config.multi_head else 1
        self.device = torch.device(device)
        self.rng = SeedRNG(self.seeds, self.device, stream=1)
        self.health = SeedHealth(self.num_seeds, self.device)  # diverged seeds are frozen (baselines/divergence.py)
        self.task_index, self.env_steps, self.updates = 0, 0, 0
        self.task_start_step = 0  # env_steps when the current task started (schedules count within a task)
        # While the loop acts in environment j of each seed's N (benchmark/runner.py, envs_per_seed): j and N.
        # The transition an `act` produces is stored act_offset slots after buffer.pointer (CSP keys its alpha by it).
        self.act_offset, self.act_width = 0, 1
        self.specs: dict[str, NetworkSpec] = {}  # role -> what the learner asked for, before any method's build
        self.networks: dict[str, nn.Module] = self.build_networks()
        for role, target in self.target_roles.items():
            self.networks[target] = self._frozen_copy(self.networks[role])
        self.buffer = self.make_buffer()
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.reset_optimizers()
        self.last_losses: dict[str, torch.Tensor] = {}  # role -> [S], each seed's own loss (the method's term excluded)
        self.last_grad_norms: dict[str, torch.Tensor] = {}  # role -> [S], metrics-plasticity.md §G
        self.total_updates: int | None = None  # the training budget in gradient steps, when known (offline)
        self.rollouts: Callable | None = None  # the run loop's `benchmark.rollouts.Rollouts`
        self.rollout_calls = 0
        self.rollout_steps: dict[int, dict[str, list[int]]] = {}  # task -> {"charged", "uncharged"} -> [S]

    # ----- construction -------------------------------------------------------------------
    @classmethod
    def replay_bytes(cls, num_seeds: int, capacity: int, obs_dim: int, act_dim: int, dtype: str = "float32") -> int:
        """Bytes this class's replay allocates for `capacity` transitions per seed, known before one is
        built (benchmark/memory_plan.py); a learner with a replay of its own (DQN's uint8 frames, each
        stored once) answers for it."""
        return buffer_bytes(num_seeds, capacity, obs_dim, act_dim, dtype)

    def network(self, role: str, in_dim: int, out_dim: int, hidden: Sequence[int] | None = None) -> nn.Module:
        """The network for `role`: the method's replacement if it builds one, else a batched MLP."""
        hidden = self.config.hidden if hidden is None else hidden
        spec = NetworkSpec(role, (in_dim, *hidden, out_dim), self.config.activation,
                           self.num_heads, self.num_seeds, self.rng)
        self.specs[role] = spec
        module = self.method.build(self, role, spec)
        return (module if module is not None else spec.default()).to(self.device)

    def critic(self) -> TwinQ:
        return TwinQ(self.network("critic", self.obs_dim + self.act_dim, 1),
                     self.network("critic", self.obs_dim + self.act_dim, 1))

    def build_networks(self) -> dict[str, nn.Module]:
        raise NotImplementedError

    def make_buffer(self) -> ReplayBuffer:
        """The replay this learner trains from (a pixel learner stores frames once, baselines/frame_replay.py)."""
        cfg = self.config
        return ReplayBuffer(self.num_seeds, cfg.buffer_size, self.obs_dim, self.act_dim, self.device, cfg.replay_dtype)

    def metric_networks(self) -> dict[str, tuple[nn.Module, str]]:
        """name -> (network, role whose inputs it reads) for the plasticity metrics (twin critics: Q1, Q2)."""
        critic = self.networks["critic"]
        return {"actor": (self.networks["actor"], "actor"), "q1": (critic.q1, "critic"), "q2": (critic.q2, "critic")}

    @staticmethod
    def _frozen_copy(module: nn.Module) -> nn.Module:
        target = copy.deepcopy(module)
        target.requires_grad_(False)
        return target

    def optimizer_groups(self) -> dict[str, tuple[list[nn.Parameter], float]]:
        """role -> (parameters, learning rate)."""
        return {"actor": (list(self.networks["actor"].parameters()), self.config.actor_lr),
                "critic": (list(self.networks["critic"].parameters()), self.config.critic_lr)}

    def reset_optimizers(self) -> None:
        """Fresh Adam per role. Adam is elementwise, so one optimizer over [S, ...] tensors keeps seeds apart.

        `foreach=True` on every device: on the CPU it runs the same per-tensor kernels in the same order
        as the default loop (bit for bit, tests/baselines/test_update_bits.py) from one dispatch per op
        instead of one per tensor (issue #20)."""
        self.optimizers = {role: torch.optim.Adam(params, lr=lr, foreach=True)
                           for role, (params, lr) in self.optimizer_groups().items()}

    # ----- the task lifecycle -------------------------------------------------------------
    def start_task(self, task_index: int) -> None:
        """Per-task resets of continual-baselines.md §3 (buffer, optimizers, temperature, targets)."""
        self.task_index, self.task_start_step = task_index, self.env_steps
        self.buffer.clear()
        self.reset_temperature()
        self.sync_targets()
        self.reset_optimizers()

    def reset_temperature(self) -> None:
        """Learners with an entropy temperature restore its initial value."""

    @torch.no_grad()
    def sync_targets(self) -> None:
        for role, target in self.target_roles.items():
            self.networks[target].load_state_dict(self.networks[role].state_dict())

    def reinitialize(self, roles: Sequence[str], seeds: torch.Tensor | None = None) -> None:
        """Fresh weights for `roles` (and their targets, temperature and optimizer state).

        SAC-N and Reset call this; `seeds` [S] bool restricts it to some seeds.
        """
        for role in roles:
            self.networks[role].reset_parameters(self.rng, seeds)
        self.reset_temperature()
        self.sync_targets()
        self.reset_optimizers()

    def diverged(self) -> dict[int, int]:
        """{seed: env step at which it diverged} of the frozen seeds (a host read: call it rarely)."""
        return self.health.diverged(self.seeds)

    @property
    def used_act_dim(self) -> int:
        """Action components the current task's env uses (a padded scenario uses fewer than act_dim)."""
        return self.act_dim if self.task_act_dims is None else self.task_act_dims[self.task_index]

    @property
    def action_mask(self) -> torch.Tensor | None:
        """[act_dim] 1 on the used components, 0 on the padding; None when every component is used."""
        used = self.used_act_dim
        if used == self.act_dim:
            return None
        return (torch.arange(self.act_dim, device=self.device) < used).to(torch.float32)

    @property
    def legal_actions(self) -> torch.Tensor | None:
        """[act_dim] bool, the actions a discrete learner may choose now: the current task's, or under
        `acting_on(j)` task j's (continual Atari: each game's minimal set within the shared 18); None:
        all of them."""
        if self.task_action_masks is None:
            return None
        return self.task_action_masks[self.task_index if self._acting_task is None else self._acting_task]

    @contextlib.contextmanager
    def acting_on(self, task_index: int) -> Iterator[None]:
        """Act with task `task_index`'s legal actions while the block runs (the run loop evaluates every
        task seen so far, each with its own legal set)."""
        saved, self._acting_task = self._acting_task, task_index
        try:
            yield
        finally:
            self._acting_task = saved

    def mask_action(self, action: torch.Tensor) -> torch.Tensor:
        """Zero the padded components of actions [..., act_dim], so the buffer and critic never see them."""
        mask = self.action_mask
        return action if mask is None else action * mask

    @property
    def task_budget(self) -> int:
        """Env steps of the current task: every structural schedule is a fraction of it (methods/schedule.py)."""
        return self._budgets()[self.task_index]

    @property
    def run_budget(self) -> int:
        """Env steps of the whole run (all tasks), for schedules that span the run (NE's T_end in a continual run)."""
        return sum(self._budgets())

    def _budgets(self) -> list[int]:
        if self.task_budgets is None:
            raise ValueError("this learner was built without task_budgets, so a schedule relative to the task budget "
                             "cannot be resolved; pass task_budgets=[...] (the run loop does) or set the method's "
                             "absolute step option")
        return self.task_budgets

    @contextlib.contextmanager
    def structural_event(self, kind: str) -> Iterator[StructuralEvent]:
        """Wrap a structural change: counted per seed and task, with plasticity snapshots around it.

        The method sets `event.acted` [S] to the seeds it changed (default: all). Both snapshots use
        the same probe batch, drawn from a stream of its own keyed by the event's position in the log,
        so snapshots never move the learner's RNG and a resumed run probes the same batch.
        """
        event = StructuralEvent(kind, torch.ones(self.num_seeds, dtype=torch.bool, device=self.device))
        snapshot = self.event_snapshots and self.buffer.size > 0 and snapshot_due(self.events.number(kind, self.task_index))
        probe = probe_batch(self, draw=len(self.events.entries), stream=EVENT_PROBE_STREAM) if snapshot else None
        before = plasticity_snapshot(self, probe) if snapshot else None
        yield event
        after = plasticity_snapshot(self, probe) if snapshot else None
        self.events.add(event, self.task_index, self.env_steps, self.updates, before, after)

    @property
    def clock(self) -> int:
        """The run's step count that divergence is dated by: env steps online, gradient steps offline
        (an offline run's step is one update; it never steps an environment)."""
        return self.updates if self.offline else self.env_steps

    @property
    def head(self) -> int:
        return self.task_index if self.num_heads > 1 else 0

    # ----- acting and learning ------------------------------------------------------------
    def trunk_obs(self, obs: torch.Tensor) -> torch.Tensor:
        """obs [..., obs] as the networks read it: without the hidden task one-hot (`task_id_dims`);
        idempotent, so every entry point (acting, storing, evaluation) may apply it."""
        return obs[..., : self.obs_dim]

    def act(self, obs: torch.Tensor, explore: bool) -> torch.Tensor:
        """obs [S, obs] -> actions [S, act] in [-1, 1] (a discrete learner: int64 [S]); the method may override."""
        obs = self.trunk_obs(obs)
        with torch.no_grad():
            action = self.method.act(self, obs, explore)
            action = action if action is not None else self.policy_action(obs, explore, self.head)
            if self.discrete:
                return action  # indices are finite by construction; a discrete learner checks its values itself
            finite = torch.isfinite(action).all(dim=-1)  # [S]
            self.health.observe(finite, self.clock)
            return torch.where(finite[:, None], action, torch.zeros_like(action))

    def policy_action(self, obs: torch.Tensor, explore: bool, head: int) -> torch.Tensor:
        raise NotImplementedError

    def role_inputs(self, batch: Batch) -> dict[str, torch.Tensor]:
        """What each role's network reads from a batch [S, B, ...] (probes and neuron scores use it)."""
        return {"actor": batch.obs, "critic": torch.cat([batch.obs, batch.action], dim=-1)}

    def load_dataset(self, data: dict[str, torch.Tensor], total_updates: int) -> None:
        """Offline mode: train on `data` (rows [N, ...]: obs, action, reward [N, 1], next_obs, done [N, 1],
        episode_end [N]) for `total_updates` gradient steps; the data replaces the replay buffer."""
        if not self.offline:
            raise ValueError(f"learner {self.name!r} learns online; offline datasets need an offline learner (bcq, iql)")
        self.buffer = DatasetBuffer({k: v.to(self.device) for k, v in data.items() if k in DatasetBuffer.FIELDS})
        self.total_updates = total_updates

    def random_action(self) -> torch.Tensor:
        """[S, act] uniform in [-1, 1] (padding zeroed), or for a discrete learner int64 [S] uniform over the legal actions."""
        if self.discrete:
            return uniform_legal_action(self.rng, self.act_dim, self.legal_actions)
        return self.mask_action(self.rng.uniform(self.act_dim, low=-1.0, high=1.0))

    def observe(self, obs: torch.Tensor, action: torch.Tensor, reward: torch.Tensor, next_obs: torch.Tensor,
                terminated: torch.Tensor, truncated: torch.Tensor) -> None:
        done = terminated if self.config.bootstrap_on_timeout else terminated | truncated
        self.buffer.add(self.trunk_obs(obs), action, reward, self.trunk_obs(next_obs), done.to(torch.float32))
        self.env_steps += 1
        ended = terminated | truncated
        if ended.any():
            self.method.on_episode_end(self, ended)

    def sample_batch(self) -> Batch:
        batch = self.method.sample(self, self.buffer, self.config.batch_size)
        return batch if batch is not None else self.buffer.sample(self.config.batch_size, self.rng)

    def step_optimizer(self, role: str, per_seed_loss: torch.Tensor, batch: Batch) -> None:
        """Add the method's term to the sum of the seeds' losses [S], backpropagate, let the method
        edit gradients, step."""
        loss = per_seed_loss.sum()
        extra = self.method.loss(self, role, batch)
        if extra is not None:
            loss = loss + extra
        optimizer = self.optimizers[role]
        for group in optimizer.param_groups:  # zero_grad(set_to_none=True) without its dispatch wrappers (issue #20)
            for p in group["params"]:
                p.grad = None
        loss.backward()
        self.method.before_optimizer_step(self, role)
        self.last_grad_norms[role] = grad_norm(p for group in optimizer.param_groups for p in group["params"])
        self.health.guarded_step(optimizer, self.last_grad_norms[role], self.clock)
        self.last_losses[role] = per_seed_loss.detach()

    def diagnostics(self) -> dict[str, torch.Tensor]:
        """Per-seed training scalars [S] for live logging: each role's last loss (learners add theirs)."""
        return {f"{role}_loss": loss for role, loss in self.last_losses.items()}

    def update(self) -> None:
        """One gradient step on every role, then the method's structural hook."""
        self.learn(self.sample_batch())
        self.updates += 1
        self.method.after_update(self)

    def learn(self, batch: Batch) -> None:
        raise NotImplementedError

    @contextlib.contextmanager
    def frozen(self, role: str, keep: str = "actor") -> Iterator[None]:
        """Evaluate `role` as a constant: its parameters (all but those `keep` shares) build no gradient.

        Why: the actor's loss backpropagates through the critic to the action, but the critic's own
        weight gradients from that pass were computed and then discarded (the critic's next step
        zeroes them): two 256x256 products per SAC update, about a tenth of its matmul work. The
        action's gradient, and so every number, is unchanged (issue #20)."""
        shared = {id(p) for p in self.networks[keep].parameters()}
        params = [p for p in self.networks[role].parameters() if p.requires_grad and id(p) not in shared]
        for p in params:
            p.requires_grad_(False)
        try:
            yield
        finally:
            for p in params:
                p.requires_grad_(True)

    @torch.no_grad()
    def polyak(self, role: str) -> None:
        self.health.polyak_all(list(self.networks[self.target_roles[role]].parameters()),
                               list(self.networks[role].parameters()), self.config.tau)

    # ----- trying policies in environments (methods' hooks) -------------------------------
    def rollout(self, task, policy: Callable[[torch.Tensor], torch.Tensor], steps: int | None = None, *,
                charged: bool = False) -> torch.Tensor:
        """[S] returns of `policy` ([S, obs] -> [S, act] in [-1, 1]) on `task`, one fresh environment per seed.

        steps None plays the run's evaluation protocol (its episode count, mean episodic return); an int
        plays exactly that many steps and returns their total reward. charged=True spends steps of the
        current task's budget, which the method must have reserved with `Method.reserved_steps` (CSP's
        validation rollouts, continual-baselines.md §9.2); charged=False is spent outside it (Rewire's
        mode evaluations, rewire.md §8 "budget them outside the interaction count"). Both are counted
        per task in `rollout_steps` and land in the record.
        """
        if self.rollouts is None:
            raise RuntimeError("ctx.rollout needs environments: it works inside a run (the run loop attaches them)")
        returns, spent = self.rollouts(task, policy, steps, ROLLOUT_SEED_OFFSET + self.rollout_calls)
        self.rollout_calls += 1
        tally = self.rollout_steps.setdefault(self.task_index, {"charged": [0] * self.num_seeds,
                                                                 "uncharged": [0] * self.num_seeds})
        kind = "charged" if charged else "uncharged"
        tally[kind] = [a + b for a, b in zip(tally[kind], spent)]
        return returns

    # ----- accounting and checkpoints -----------------------------------------------------
    def policy_params(self) -> int:
        return params_per_seed(self.networks["actor"])

    def reference_policy_params(self) -> int:
        """Parameters of one plain actor of this config (no method's `build`): the unit of model
        size (continual-baselines.md §13, "one FT-1 policy"), whatever actor the method built.
        Counted on a throwaway one-seed RNG so that counting never moves the learner's stream."""
        spec = dataclasses.replace(self.specs["actor"], num_seeds=1, rng=SeedRNG([0], "cpu"))
        return params_per_seed(spec.default())

    def critic_params(self) -> int:
        return params_per_seed(self.networks["critic"])

    def extra_state(self) -> dict:
        return {}

    def load_extra_state(self, state: dict) -> None:
        pass

    def state_dict(self, replay: bool = True) -> dict:
        """Everything to resume; `replay=False` leaves the buffer out (the run loop checkpoints it
        incrementally, benchmark/replay_chunks.py, instead of copying it whole every time)."""
        state = {
            "networks": {role: net.state_dict() for role, net in self.networks.items()},
            "optimizers": {role: opt.state_dict() for role, opt in self.optimizers.items()},
            "rng": self.rng.state_dict(),
            "counters": {"task_index": self.task_index, "env_steps": self.env_steps, "updates": self.updates,
                         "rollout_calls": self.rollout_calls,
                         "rollout_steps": {t: {k: list(v) for k, v in d.items()} for t, d in self.rollout_steps.items()},
                         "task_start_step": self.task_start_step},
            "extra": self.extra_state(),
            "last_grad_norms": {role: norm.clone() for role, norm in self.last_grad_norms.items()},
            "health": self.health.state_dict(),
            "events": self.events.state_dict(),
        }
        return {**state, "buffer": self.buffer.state_dict()} if replay else state

    def load_state_dict(self, state: dict) -> None:
        for role, net_state in state["networks"].items():
            self.networks[role].load_state_dict(net_state)
        self.load_extra_state(state["extra"])
        self.reset_optimizers()
        for role, opt_state in state["optimizers"].items():
            self.optimizers[role].load_state_dict(opt_state)
        if "buffer" in state:
            self.buffer.load_state_dict(state["buffer"])
        self.rng.load_state_dict(state["rng"])
        counters = state["counters"]
        self.task_index, self.env_steps, self.updates = counters["task_index"], counters["env_steps"], counters["updates"]
        self.rollout_calls = counters.get("rollout_calls", 0)
        self.rollout_steps = {int(t): {k: list(v) for k, v in d.items()} for t, d in counters.get("rollout_steps", {}).items()}
        self.last_grad_norms = dict(state.get("last_grad_norms", {}))
        if "health" in state:  # checkpoints written before divergence tracking: every seed healthy
            self.health.load_state_dict(state["health"])
        self.task_start_step = counters.get("task_start_step", 0)
        if "events" in state:
            self.events.load_state_dict(state["events"])
