"""A tiny discrete learner standing in for DQN in the Atari run-loop tests (never registered outside them).

It follows the discrete contract of baselines/learner.py (`Learner.discrete`): int64 [S] actions, only
legal ones, frames uint8 [S, 4, 84, 84] in. Its Q-function reads 4 numbers per observation (each frame's
mean intensity), so a whole smoke run costs seconds; one Q-learning step per update on the actor
(the critic pair exists only for the SAC-shaped plasticity probe). Actions are stored one-hot.
"""
from __future__ import annotations

import torch
from torch import nn

from plasticbench.baselines.learner import Learner, seed_means
from plasticbench.baselines.replay import Batch

FEATURES = 4  # one mean intensity per stacked frame


def frame_features(obs: torch.Tensor) -> torch.Tensor:
    """uint8 [S, 4, 84, 84] -> float [S, 4] in [0, 1]."""
    return obs.to(torch.float32).mean(dim=(-1, -2)) / 255.0


class StandInDQN(Learner):
    name = "standin_dqn"
    discrete = True

    def __init__(self, config, obs_dim, act_dim, seeds, method, **kwargs) -> None:
        self.calls: list[str] = []
        super().__init__(config, FEATURES, act_dim, seeds, method, **kwargs)

    def build_networks(self) -> dict[str, nn.Module]:
        return {"actor": self.network("actor", FEATURES, self.act_dim), "critic": self.critic()}

    def q_values(self, features: torch.Tensor) -> torch.Tensor:
        """[S, B, 4] -> [S, B, A] with illegal actions at -inf."""
        q = self.networks["actor"](features)
        legal = self.legal_actions
        return q if legal is None else q.masked_fill(~legal, float("-inf"))

    def policy_action(self, obs: torch.Tensor, explore: bool, head: int) -> torch.Tensor:
        greedy = self.q_values(frame_features(obs)[:, None, :])[:, 0].argmax(dim=-1)  # [S]
        if not explore:
            return greedy
        coin = self.rng.uniform(1)[:, 0] < 0.1
        return torch.where(coin, self.random_action(), greedy)

    def observe(self, obs, action, reward, next_obs, terminated, truncated) -> None:
        self.calls.append("observe")
        one_hot = nn.functional.one_hot(action, self.act_dim).to(torch.float32)
        super().observe(frame_features(obs), one_hot, reward, frame_features(next_obs), terminated, truncated)

    def learn(self, batch: Batch) -> None:
        q = (self.networks["actor"](batch.obs) * batch.action).sum(dim=-1)  # [S, B]
        with torch.no_grad():
            best = self.q_values(batch.next_obs).max(dim=-1).values
            target = batch.reward.squeeze(-1) + self.config.gamma * (1.0 - batch.done.squeeze(-1)) * best
        self.step_optimizer("actor", seed_means((q - target) ** 2), batch)
