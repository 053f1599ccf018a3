"""How a method's hook reaches the environments: `ctx.rollout(task, policy, steps)` (ARCHITECTURE.md,
"The method contract": one way to try a policy in an environment, per-seed returns).

The run loop attaches one `Rollouts` to the learner; the learner numbers the calls and counts the
steps (`Learner.rollout`), so this object only plays. Seed s's environment is built and seeded from
(seeds[s], seed_offset) alone, exactly as the run's evaluation environments are, so a seed's rollout
returns are the same whether it runs alone or among others.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch

from plasticbench.envs.backends import rollout_makers
from plasticbench.envs.evaluation import Policy, play_episodes, play_steps
from plasticbench.envs.task import Task


class Rollouts:
    """Plays a policy with the run's episode cap: `steps` None = the run's evaluation protocol
    (`eval_episodes` full episodes, mean return), an int = exactly that many steps, total reward."""

    def __init__(self, seeds: Sequence[int], episode_length: int | None, eval_episodes: int,
                 device: torch.device | str = "cpu") -> None:
        self.seeds, self.episode_length, self.eval_episodes = list(seeds), episode_length, eval_episodes
        self.device = torch.device(device)

    def __call__(self, task: Task, policy: Policy, steps: int | None, seed_offset: int) -> tuple[torch.Tensor, list[int]]:
        """([S] returns, [S] env steps each seed spent)."""
        episode_env, vector_env = rollout_makers(task)
        if steps is None:
            return play_episodes(policy, task, self.seeds, self.eval_episodes, self.episode_length, seed_offset,
                                 self.device, make_env=episode_env)
        returns = play_steps(policy, task, self.seeds, steps, self.episode_length, seed_offset, self.device, vector_env)
        return returns, [steps] * len(self.seeds)
