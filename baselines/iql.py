"""Implicit Q-Learning (Kostrikov, Nair & Levine 2022), over S seeds at once.

Offline only. The update reads as the reference code's `_update_jit` ([IQL] learner.py), in its
order: expectile regression of V toward the target critic's min(Q1, Q2); advantage-weighted
regression of the policy with weights exp(beta * (Q - V)) clipped at 100, using the new V; the
twin critics toward r + gamma * V(s'); Polyak averaging of the critic. Defaults are the MuJoCo
config (scenarios.md §4.4): expectile 0.7 and temperature 3.0, not the Learner constructor's.
The policy is a Gaussian with tanh-bounded mean and a state-independent log sigma ([IQL] actor.py,
`tanh_squash_distribution=False`), its learning rate on a cosine decay over the training budget.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from plasticbench.baselines.learner import Learner, LearnerConfig, seed_means
from plasticbench.baselines.replay import Batch

REWARD_SPAN = 1000.0  # rewards scaled so the dataset's trajectory returns span 1000 ([IQL] train_offline.py `normalize`)


@dataclass(frozen=True)
class IQLConfig(LearnerConfig):
    """scenarios.md §4.4: lr 3e-4 (actor, value, critic), 256-256, batch 256, gamma 0.99, tau 0.005."""

    value_lr: float = 3e-4
    expectile: float = 0.7
    temperature: float = 3.0  # beta, the inverse temperature of the advantage weights
    max_weight: float = 100.0
    log_std_min: float = -5.0
    log_std_max: float = 2.0
    cosine_actor_lr: bool = True
    normalize_rewards: bool = True  # the MuJoCo preprocessing (halfcheetah, hopper, walker2d)


def expectile_loss(diff: torch.Tensor, expectile: float) -> torch.Tensor:
    """|tau - 1(u < 0)| * u^2 elementwise, u = Q - V (IQL Eq. 5)."""
    return torch.abs(expectile - (diff < 0).to(diff.dtype)) * diff.pow(2)


def advantage_weights(q: torch.Tensor, v: torch.Tensor, temperature: float, max_weight: float) -> torch.Tensor:
    """exp(beta * (Q - V)), clipped above at `max_weight` (IQL Eq. 7, [IQL] actor.py)."""
    return torch.exp(temperature * (q - v)).clamp(max=max_weight)


def cosine_lr(base: float, step: int, total: int | None) -> float:
    """optax.cosine_decay_schedule(base, total) at `step`: base * (1 + cos(pi * min(step, total) / total)) / 2."""
    if not total:
        return base
    return base * 0.5 * (1.0 + math.cos(math.pi * min(step, total) / total))


def trajectory_returns(reward: torch.Tensor, episode_end: torch.Tensor) -> torch.Tensor:
    """Returns [T] of the trajectories that rows reward [N] / episode_end [N] (bool) cut the data into.

    A dataset that ends mid-episode closes its last trajectory there ([IQL] split_into_trajectories).
    """
    ends = episode_end.clone().bool()
    ends[-1] = True
    trajectory = torch.cumsum(ends.long(), dim=0) - ends.long()  # index of each row's trajectory
    return torch.zeros(int(ends.sum()), dtype=reward.dtype, device=reward.device).index_add_(0, trajectory, reward)


class IQL(Learner):
    name = "iql"
    Config = IQLConfig
    offline = True

    def build_networks(self) -> dict[str, nn.Module]:
        self.log_std = nn.Parameter(torch.zeros(self.num_seeds, 1, self.act_dim, device=self.device))
        return {"actor": self.network("actor", self.obs_dim, self.act_dim), "critic": self.critic(),
                "value": self.network("value", self.obs_dim, 1)}

    def optimizer_groups(self) -> dict[str, tuple[list[nn.Parameter], float]]:
        groups = super().optimizer_groups()
        actor, lr = groups["actor"]
        return {**groups, "actor": ([*actor, self.log_std], lr),
                "value": (list(self.networks["value"].parameters()), self.config.value_lr)}

    def role_inputs(self, batch: Batch) -> dict[str, torch.Tensor]:
        return {**super().role_inputs(batch), "value": batch.obs}

    def load_dataset(self, data: dict[str, torch.Tensor], total_updates: int) -> None:
        """Rewards times 1000 / (max - min trajectory return) of the dataset (scenarios.md §4.4)."""
        if self.config.normalize_rewards:
            returns = trajectory_returns(data["reward"][:, 0], data["episode_end"])
            span = float(returns.max() - returns.min())
            if span > 0:
                data = {**data, "reward": data["reward"] * (REWARD_SPAN / span)}
        super().load_dataset(data, total_updates)

    def policy_mean(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.networks["actor"](obs))

    def policy_action(self, obs: torch.Tensor, explore: bool, head: int) -> torch.Tensor:
        mean = self.policy_mean(obs[:, None])[:, 0]
        if not explore:
            return mean
        std = self.log_std[:, 0].clamp(self.config.log_std_min, self.config.log_std_max).exp()
        return (mean + std * self.rng.normal(self.act_dim)).clamp(-1.0, 1.0)

    def log_prob(self, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """log N(action; tanh(mu(s)), sigma^2) summed over action dims, [S, B, 1]."""
        log_std = self.log_std.clamp(self.config.log_std_min, self.config.log_std_max)
        return torch.distributions.Normal(self.policy_mean(obs), log_std.exp()).log_prob(action).sum(-1, keepdim=True)

    def learn(self, batch: Batch) -> None:
        cfg = self.config
        with torch.no_grad():
            q = torch.min(*self.networks["critic_target"](batch.obs, batch.action))
        value_loss = seed_means(expectile_loss(q - self.networks["value"](batch.obs), cfg.expectile))
        self.step_optimizer("value", value_loss, batch)

        with torch.no_grad():
            weights = advantage_weights(q, self.networks["value"](batch.obs), cfg.temperature, cfg.max_weight)
        if cfg.cosine_actor_lr:
            for group in self.optimizers["actor"].param_groups:
                group["lr"] = cosine_lr(cfg.actor_lr, self.updates, self.total_updates)
        self.step_optimizer("actor", -seed_means(weights * self.log_prob(batch.obs, batch.action)), batch)

        with torch.no_grad():
            target = cfg.reward_scale * batch.reward + cfg.gamma * (1 - batch.done) * self.networks["value"](batch.next_obs)
        q1, q2 = self.networks["critic"](batch.obs, batch.action)
        self.step_optimizer("critic", seed_means((q1 - target) ** 2) + seed_means((q2 - target) ** 2), batch)
        self.polyak("critic")

    def extra_state(self) -> dict:
        return {"log_std": self.log_std.detach().clone()}

    def load_extra_state(self, state: dict) -> None:
        with torch.no_grad():
            self.log_std.copy_(state["log_std"])
