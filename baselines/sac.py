"""Soft Actor-Critic (Haarnoja et al. 2018) over S seeds at once.

The update reads as the Rewire/CSP pseudocode (continual-baselines.md §2.2): critic targets,
critic loss, delayed actor and temperature steps, delayed Polyak averaging. Defaults are the
standard SAC of Haarnoja et al. 2018 (256x256 ReLU, lr 3e-4, target entropy -|A|, alpha_0 = 1);
the Rewire/CSP variant (3x256 LeakyReLU(0.2), alpha_0 = 2, target entropy -2|A|) is a set of
overrides the scenarios apply (envs/catalog.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from plasticbench.baselines.learner import Learner, LearnerConfig, seed_means
from plasticbench.baselines.replay import Batch

LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0  # continual-baselines.md §2.1


@dataclass(frozen=True)
class SACConfig(LearnerConfig):
    alpha_lr: float = 3e-4
    init_temperature: float = 1.0
    target_entropy_multiplier: float = 1.0  # H_target = -multiplier * |A| (Rewire uses 2, §2.2)


def softplus(x: torch.Tensor) -> torch.Tensor:
    """log(1 + e^x) as max(x, 0) + log1p(e^-|x|), the overflow-safe form.

    Why not `F.softplus`: on CPU (torch 2.13) its vectorized body and its scalar tail round some
    inputs differently, so an element's value depends on its position in the tensor, and with it on
    how many seeds share the tensor (issue #17); `exp`, `log1p`, `abs` and `clamp_min` do not.
    """
    return x.clamp_min(0.0) + torch.log1p(torch.exp(-x.abs()))


def squashed_gaussian(out: torch.Tensor, noise: torch.Tensor | None,
                      mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Actor output [..., 2A] -> (tanh action, log-probability [..., 1]); noise None = deterministic.

    log pi follows §2.1: the Gaussian log-density of u minus the tanh Jacobian written with
    softplus for numerical stability, 2 * (log 2 - u - softplus(-2u)). `mask` [A] (1 = used, 0 =
    padding of a padded scenario) zeroes the padded components of the action and leaves them out of
    log pi, so they neither act nor count as entropy (issue #10).
    """
    mu, log_std = out.chunk(2, dim=-1)
    if noise is None:
        action = torch.tanh(mu)
        return (action if mask is None else action * mask), None
    log_std = log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)
    u = mu + log_std.exp() * noise
    gaussian = -0.5 * noise.pow(2) - log_std - 0.5 * math.log(2 * math.pi)
    jacobian = 2.0 * (math.log(2.0) - u - softplus(-2.0 * u))
    log_prob, action = gaussian - jacobian, torch.tanh(u)
    if mask is not None:
        log_prob, action = log_prob * mask, action * mask
    return action, log_prob.sum(dim=-1, keepdim=True)


class SAC(Learner):
    name = "sac"
    Config = SACConfig

    def build_networks(self) -> dict[str, nn.Module]:
        self.log_alpha = nn.Parameter(torch.zeros(self.num_seeds, 1, 1, device=self.device))
        self.reset_temperature()
        return {"actor": self.network("actor", self.obs_dim, 2 * self.act_dim), "critic": self.critic()}

    @property
    def target_entropy(self) -> float:
        """-multiplier x |A| of the current task: the used components only in a padded scenario (issue #10)."""
        return -self.config.target_entropy_multiplier * self.used_act_dim

    @torch.no_grad()
    def reset_temperature(self) -> None:
        self.log_alpha.fill_(math.log(self.config.init_temperature))

    def optimizer_groups(self) -> dict[str, tuple[list[nn.Parameter], float]]:
        return {**super().optimizer_groups(), "alpha": ([self.log_alpha], self.config.alpha_lr)}

    def sample_action(self, obs: torch.Tensor, head: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Reparameterized action and log pi for obs [S, B, obs]."""
        noise = self.rng.normal(obs.shape[1], self.act_dim)
        action, log_prob = squashed_gaussian(self.networks["actor"](obs, head), noise, self.action_mask)
        return action, log_prob

    def policy_action(self, obs: torch.Tensor, explore: bool, head: int) -> torch.Tensor:
        out = self.networks["actor"](self.trunk_obs(obs)[:, None], head)
        noise = self.rng.normal(1, self.act_dim) if explore else None
        return squashed_gaussian(out, noise, self.action_mask)[0][:, 0]

    def learn(self, batch: Batch) -> None:
        cfg, head, alpha = self.config, self.head, self.log_alpha.exp().detach()
        with torch.no_grad():
            next_action, next_log_prob = self.sample_action(batch.next_obs, head)
            next_q = torch.min(*self.networks["critic_target"](batch.next_obs, next_action, head))
            target = cfg.reward_scale * batch.reward + cfg.gamma * (1 - batch.done) * (next_q - alpha * next_log_prob)
        q1, q2 = self.networks["critic"](batch.obs, batch.action, head)
        self.step_optimizer("critic", seed_means((q1 - target) ** 2) + seed_means((q2 - target) ** 2), batch)

        if self.updates % cfg.policy_delay == 0:
            action, log_prob = self.sample_action(batch.obs, head)
            with self.frozen("critic"):
                q = torch.min(*self.networks["critic"](batch.obs, action, head))
            self.step_optimizer("actor", seed_means(alpha * log_prob - q), batch)
            alpha_loss = -seed_means(self.log_alpha.exp() * (log_prob.detach() + self.target_entropy))
            self.step_optimizer("alpha", alpha_loss, batch)
        if self.updates % cfg.target_delay == 0:
            self.polyak("critic")

    def diagnostics(self) -> dict[str, torch.Tensor]:
        return {**super().diagnostics(), "temperature": self.log_alpha.detach().exp().flatten()}

    def extra_state(self) -> dict:
        return {"log_alpha": self.log_alpha.detach().clone()}

    def load_extra_state(self, state: dict) -> None:
        with torch.no_grad():
            self.log_alpha.copy_(state["log_alpha"])
