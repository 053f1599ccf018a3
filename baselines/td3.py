"""TD3 (Fujimoto et al. 2018) over S seeds at once.

Constants from the paper and its reference code (scenarios.md §3, "NE TD3 defaults"): target
policy noise 0.2 clipped at 0.5, actor and target updates every 2 critic steps, Gaussian
exploration noise 0.1, 256x256 ReLU networks, lr 3e-4, tau 0.005.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from plasticbench.baselines.learner import Learner, LearnerConfig, seed_means
from plasticbench.baselines.replay import Batch


@dataclass(frozen=True)
class TD3Config(LearnerConfig):
    policy_delay: int = 2
    target_delay: int = 2
    policy_noise: float = 0.2
    noise_clip: float = 0.5
    exploration_noise: float = 0.1


class TD3(Learner):
    name = "td3"
    Config = TD3Config
    target_roles = {"critic": "critic_target", "actor": "actor_target"}

    def build_networks(self) -> dict[str, nn.Module]:
        return {"actor": self.network("actor", self.obs_dim, self.act_dim), "critic": self.critic()}

    def deterministic(self, role: str, obs: torch.Tensor, head: int) -> torch.Tensor:
        return self.mask_action(torch.tanh(self.networks[role](obs, head)))

    def policy_action(self, obs: torch.Tensor, explore: bool, head: int) -> torch.Tensor:
        action = self.deterministic("actor", self.trunk_obs(obs)[:, None], head)[:, 0]
        if explore:
            action = self.mask_action((action + self.config.exploration_noise * self.rng.normal(self.act_dim)).clamp(-1.0, 1.0))
        return action

    def learn(self, batch: Batch) -> None:
        cfg, head = self.config, self.head
        with torch.no_grad():
            noise = (cfg.policy_noise * self.rng.normal(batch.obs.shape[1], self.act_dim)).clamp(-cfg.noise_clip, cfg.noise_clip)
            next_action = self.mask_action((self.deterministic("actor_target", batch.next_obs, head) + noise).clamp(-1.0, 1.0))
            next_q = torch.min(*self.networks["critic_target"](batch.next_obs, next_action, head))
            target = cfg.reward_scale * batch.reward + cfg.gamma * (1 - batch.done) * next_q
        q1, q2 = self.networks["critic"](batch.obs, batch.action, head)
        self.step_optimizer("critic", seed_means((q1 - target) ** 2) + seed_means((q2 - target) ** 2), batch)

        if self.updates % cfg.policy_delay == 0:
            action = self.deterministic("actor", batch.obs, head)
            with self.frozen("critic"):
                q1_pi = self.networks["critic"].first(batch.obs, action, head)
            self.step_optimizer("actor", -seed_means(q1_pi), batch)
        if self.updates % cfg.target_delay == 0:
            self.polyak("critic")
            self.polyak("actor")
