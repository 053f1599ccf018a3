"""DQN (Mnih et al. 2015) on pixels over S seeds at once, with Dopamine's settings as the defaults.

The update reads as the paper's: sample an n-step transition per seed, target
r + gamma^k (1 - done) max_a' Q_target(s', a') over the legal actions, Huber loss (delta 1) per
seed, one Adam step on the sum over seeds of each seed's mean loss, and every `target_period`
gradient steps a hard copy into the target network. Acting is epsilon-greedy over the legal actions.

Defaults (the `paper` configuration): the ReDo DQN of scenarios.md §5.1, Dopamine's `dqn.gin` +
ReDo's `dqn_dense.gin`: Nature CNN, Adam lr 6.25e-5 and eps 1.5e-4, batch 32, gamma 0.99, n = 1,
replay 1M, an update every 4 agent steps (`updates_per_step` 0.25), the target copied every 8,000
agent steps, epsilon 1 -> 0.01 linearly over 250,000 agent steps after a warm-up of 20,000
(min_replay_history), epsilon 0.001 in evaluation. The ReDo DQN runs 10M agent steps per game, so
its schedules are these fractions of the task budget, which keeps them acting at every scale
(ARCHITECTURE.md): warm-up 0.002, decay 0.025, target period 0.0008 (in agent steps; the copy is
made every round(period x updates_per_step) gradient steps, 2,000 at paper). An absolute `target_period` / `epsilon_decay_steps`
overrides the fraction. Epsilon counts agent steps within the task, so a continual run explores each
new game afresh, as a DQN started on it would (no source fixes this for game sequences). The loss is
the Huber loss of ReDo's `RecycledDQNAgent` (`recycled_dqn_agents.py`, `loss_fn`; Dopamine's plain JAX
DQN defaults to MSE, `loss=mse`). Random actions come from the legal ones only; Dopamine explores with
`p <= epsilon` over all actions, here `p < epsilon` (a difference of measure zero).

Discrete actions: the learner's `act_dim` is the number of actions |A|; actions are int64 [S];
observations uint8 [S, stack, 84, 84] (newest frame last). The legal actions are the learner's
`legal_actions` ([A] bool from the run loop's per-task masks; continual Atari: one 18-action head,
each game's own actions legal; None: all): illegal actions are never chosen, explored or
maximised over in targets. The replay holds the current task's transitions only
(every task start empties it, baselines/learner.py), so the current mask is the one of every
stored transition.

Seeds: every random draw (exploration coin, random action, replay indices) comes from the seed's own
stream, drawn for all seeds whatever each decides; convolutions are per seed (baselines/batched_conv.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from plasticbench.baselines.frame_replay import FrameBatch, FrameReplay, frame_replay_bytes
from plasticbench.baselines.learner import Learner, LearnerConfig, seed_means, uniform_legal_action
from plasticbench.baselines.nature_cnn import ConvNetworkSpec, flat_features
from plasticbench.baselines.batched import params_per_seed
from plasticbench.baselines.seed_rng import SeedRNG
from plasticbench.methods.schedule import steps_for

LOSSES = ("huber", "mse")


@dataclass(frozen=True)
class DQNConfig(LearnerConfig):
    hidden: tuple[int, ...] = (512,)
    conv_channels: tuple[int, ...] = (32, 64, 64)
    frame_stack: int = 4
    frame_size: int = 84
    lr: float = 6.25e-5
    adam_eps: float = 1.5e-4
    batch_size: int = 32
    gamma: float = 0.99
    n_step: int = 1
    loss: str = "huber"
    updates_per_step: float = 0.25
    target_period_fraction: float = 0.0008  # 8,000 of 10M agent steps
    target_period: int | None = None  # agent steps; overrides the fraction
    epsilon_train: float = 0.01
    epsilon_eval: float = 0.001
    epsilon_warmup_fraction: float = 0.002  # 20,000 of 10M agent steps at epsilon 1
    epsilon_decay_fraction: float = 0.025  # 250,000 of 10M agent steps
    epsilon_decay_steps: int | None = None  # agent steps; overrides the fraction

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.loss not in LOSSES:
            raise ValueError(f"learner loss={self.loss!r}; allowed: {', '.join(LOSSES)}")
        if self.n_step < 1 or not 0.0 <= self.epsilon_train <= 1.0 or not 0.0 <= self.epsilon_eval <= 1.0:
            raise ValueError(f"learner n_step={self.n_step} must be >= 1, epsilon_train={self.epsilon_train} and "
                             f"epsilon_eval={self.epsilon_eval} in [0, 1]")


def linear_epsilon(step: int, warmup: int, decay: int, final: float) -> float:
    """Dopamine's `linearly_decaying_epsilon`: 1 for `warmup` steps, then linear to `final` over `decay` steps."""
    left = decay + warmup - step
    return final + (1.0 - final) * min(max(left / max(decay, 1), 0.0), 1.0)


def td_loss(q: torch.Tensor, target: torch.Tensor, kind: str) -> torch.Tensor:
    """Elementwise Huber (delta 1: the Nature paper's error clipping) or squared TD error."""
    if kind == "huber":
        return F.huber_loss(q, target, reduction="none", delta=1.0)
    return (q - target) ** 2


def legal_q(q: torch.Tensor, legal: torch.Tensor | None) -> torch.Tensor:
    """q [S, B, A] with the illegal actions' values at -inf (legal [A] bool, None = all legal), so no
    max or argmax ever picks one."""
    return q if legal is None else q.masked_fill(~legal, -math.inf)


class DQN(Learner):
    name = "dqn"
    Config = DQNConfig
    target_roles = {"critic": "critic_target"}
    discrete = True

    @classmethod
    def replay_bytes(cls, num_seeds: int, capacity: int, obs_dim: int, act_dim: int, dtype: str = "float32") -> int:
        """The frame replay's bytes (each frame once) for stacks of obs_dim / (84 * 84) frames of 84 x 84."""
        size = DQNConfig.frame_size
        return frame_replay_bytes(num_seeds, capacity, (obs_dim // (size * size), size, size))

    def __init__(self, config: DQNConfig, obs_dim, act_dim: int, *args, **kwargs) -> None:
        self.obs_shape = (config.frame_stack, config.frame_size, config.frame_size)
        if not 1 < act_dim <= torch.iinfo(torch.int16).max:  # the replay stores actions as int16
            raise ValueError(f"dqn needs between 2 and 32767 discrete actions; the suite has {act_dim}")
        if obs_dim not in (self.obs_shape, list(self.obs_shape), math.prod(self.obs_shape)):
            raise ValueError(f"dqn takes frame stacks of shape {list(self.obs_shape)} (frame_stack, frame_size, frame_size); "
                             f"the suite's observations are {obs_dim}")
        super().__init__(config, math.prod(self.obs_shape), act_dim, *args, **kwargs)
        self.eval_rng = SeedRNG(self.seeds, self.device, stream=2)  # evaluation's epsilon never moves training's stream

    # ----- construction -------------------------------------------------------------------
    def network_spec(self, num_seeds: int, rng: SeedRNG) -> ConvNetworkSpec:
        cfg = self.config
        kernels, strides = (8, 4, 3)[: len(cfg.conv_channels)], (4, 2, 1)[: len(cfg.conv_channels)]
        flat = flat_features(self.obs_shape, cfg.conv_channels, kernels, strides)
        return ConvNetworkSpec("critic", (flat, *cfg.hidden, self.act_dim), "relu", self.num_heads, num_seeds, rng,
                               self.obs_shape, tuple(cfg.conv_channels), kernels, strides)

    def build_networks(self) -> dict[str, nn.Module]:
        spec = self.specs["critic"] = self.network_spec(self.num_seeds, self.rng)
        module = self.method.build(self, "critic", spec)
        return {"critic": (module if module is not None else spec.default()).to(self.device)}

    def make_buffer(self) -> FrameReplay:
        cfg = self.config
        return FrameReplay(self.num_seeds, cfg.buffer_size, self.obs_shape, self.device, cfg.gamma, cfg.n_step)

    def optimizer_groups(self) -> dict[str, tuple[list[nn.Parameter], float]]:
        return {"critic": (list(self.networks["critic"].parameters()), self.config.lr)}

    def reset_optimizers(self) -> None:
        self.optimizers = {role: torch.optim.Adam(params, lr=lr, eps=self.config.adam_eps)
                           for role, (params, lr) in self.optimizer_groups().items()}

    def metric_networks(self) -> dict[str, tuple[nn.Module, str]]:
        return {"critic": (self.networks["critic"], "critic")}

    def role_inputs(self, batch: FrameBatch) -> dict[str, torch.Tensor]:
        return {"critic": batch.obs}

    def policy_params(self) -> int:
        """The policy is greedy in the Q-network: its parameters are the model size."""
        return params_per_seed(self.networks["critic"])

    def reference_policy_params(self) -> int:
        return params_per_seed(self.network_spec(1, SeedRNG([0], "cpu")).default())

    # ----- schedules ---------------------------------------------------------------------
    def epsilon(self) -> float:
        """Training epsilon at the current agent step of the task (module docstring)."""
        cfg, budget = self.config, (lambda: self.task_budget)
        warmup = steps_for(None, cfg.epsilon_warmup_fraction, budget, minimum=0)
        decay = steps_for(cfg.epsilon_decay_steps, cfg.epsilon_decay_fraction, budget)
        return linear_epsilon(self.env_steps - self.task_start_step, warmup, decay, cfg.epsilon_train)

    def target_period(self) -> int:
        """Gradient steps between target copies: the agent-step period at `updates_per_step`, at least 1."""
        cfg = self.config
        agent_steps = steps_for(cfg.target_period, cfg.target_period_fraction, lambda: self.task_budget)
        return max(1, round(agent_steps * cfg.updates_per_step))

    # ----- acting and learning ------------------------------------------------------------
    def policy_action(self, obs: torch.Tensor, explore: bool, head: int) -> torch.Tensor:
        """Epsilon-greedy: epsilon(t) in training, `epsilon_eval` from its own stream in evaluation.
        Both the coin and the random action are drawn for every seed, whatever it picks."""
        with torch.no_grad():
            q = self.networks["critic"](obs[:, None], head)  # [S, 1, A]
            if explore:
                self.health.observe(torch.isfinite(q).flatten(1).all(dim=1), self.clock)
            legal = self.legal_actions
            greedy = legal_q(q, legal).argmax(dim=-1)[:, 0]
            rng, epsilon = (self.rng, self.epsilon()) if explore else (self.eval_rng, self.config.epsilon_eval)
            coin, random = rng.uniform(), uniform_legal_action(rng, self.act_dim, legal)
            return torch.where(coin < epsilon, random, greedy)

    def learn(self, batch: FrameBatch) -> None:
        cfg, head, legal = self.config, self.head, self.legal_actions
        with torch.no_grad():
            next_q = legal_q(self.networks["critic_target"](batch.next_obs, head), legal).max(dim=-1).values  # [S, B]
            target = batch.reward[..., 0] + batch.discount[..., 0] * (1.0 - batch.done[..., 0]) * next_q
        q = self.networks["critic"](batch.obs, head).gather(-1, batch.action).squeeze(-1)  # [S, B]
        self.step_optimizer("critic", seed_means(td_loss(q, target, cfg.loss)), batch)
        if (self.updates + 1) % self.target_period() == 0:
            self.sync_targets()

    @torch.no_grad()
    def sync_targets(self) -> None:
        """Hard copy online -> target for the healthy seeds (a diverged seed's target stays as it was)."""
        for p, tp in zip(self.networks["critic"].parameters(), self.networks["critic_target"].parameters()):
            self.health.polyak(tp, p, 1.0)

    def extra_state(self) -> dict:
        return {"eval_rng": self.eval_rng.state_dict()}

    def load_extra_state(self, state: dict) -> None:
        self.eval_rng.load_state_dict(state["eval_rng"])
