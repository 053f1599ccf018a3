"""N environments per seed from N one-per-seed vector envs, for backends without a native batch of them.

Brax steps S x N environments in one jitted call (envs/brax.py). The other backends' vector envs hold
one environment per seed; `EnvsPerSeed` stacks N of them along a new axis, [S, N, ...]. Environment j
of a seed draws from its own stream, `env_seed(seed, seed_offset + j * ENV_STRIDE)`: environment 0 is
the stream a one-environment run uses, and every stream depends on its seed and position only, never
on S, so seed independence holds as it does for one environment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from plasticbench.envs.vector import StepResult

ENV_STRIDE = 100_000
"""Offset between environment j and j + 1 of a seed: above every task index and the evaluation
offsets (benchmark/runner.py: 10,000 + task), so no training stream repeats another's."""


class EnvsPerSeed:
    """N vector envs of one task, stepped together: actions [S, N, act] -> [S, N, ...] results."""

    def __init__(self, make: Callable[[int], Any], envs_per_seed: int, seed_offset: int) -> None:
        if envs_per_seed < 1:
            raise ValueError(f"envs_per_seed={envs_per_seed}; allowed: an integer >= 1")
        self.envs = [make(seed_offset + j * ENV_STRIDE) for j in range(envs_per_seed)]
        self.envs_per_seed = envs_per_seed

    def reset(self) -> torch.Tensor:
        return torch.stack([env.reset() for env in self.envs], dim=1)

    @property
    def obs(self) -> torch.Tensor:
        return torch.stack([env.obs for env in self.envs], dim=1)

    def step(self, actions: torch.Tensor) -> StepResult:
        results = [env.step(actions[:, j]) for j, env in enumerate(self.envs)]
        stacked = {key: torch.stack([getattr(r, key) for r in results], dim=1)
                   for key in ("next_obs", "reward", "terminated", "truncated", "obs")}
        return StepResult(**stacked, finished_returns=[pair for r in results for pair in r.finished_returns])

    def state_dict(self) -> dict[str, Any]:
        return {"envs_per_seed": self.envs_per_seed, "envs": [env.state_dict() for env in self.envs]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("envs_per_seed") != self.envs_per_seed:
            raise ValueError(f"state of {state.get('envs_per_seed')} envs per seed loaded into {self.envs_per_seed}")
        for env, env_state in zip(self.envs, state["envs"]):
            env.load_state_dict(env_state)

    def close(self) -> None:
        for env in self.envs:
            env.close()
