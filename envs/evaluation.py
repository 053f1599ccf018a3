"""Deterministic evaluation of a batched policy: S seeds, each on its own fresh environment.

Each seed's returns depend only on its own (seed, seed_offset) and its own row of the policy's
output: seeds whose episodes end early stop stepping and wait (their envs are not stepped,
so their RNG streams do not depend on how long the other seeds play).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from plasticbench.envs.task import Task
from plasticbench.envs.vector import SeedEnv, SeedVectorEnv

Policy = Callable[[torch.Tensor], torch.Tensor]


@torch.no_grad()
def play_episodes(policy: Policy, task: Task, seeds: Sequence[int], episodes: int, max_episode_steps: int | None,
                  seed_offset: int, device: torch.device | str = "cpu",
                  observer: Callable[[int, SeedEnv, bool], None] | None = None,
                  make_env: Callable = SeedEnv) -> tuple[torch.Tensor, list[int]]:
    """([S] mean episodic return over `episodes` full episodes per seed, [S] env steps each seed took).

    `policy` maps [S, obs] float32 to [S, act] in [-1, 1]; rows of seeds that already finished
    are fed their last observation and their actions ignored. Fresh envs seeded from
    (seeds[s], seed_offset) keep evaluation independent of the training envs' streams.
    `observer(s, env, episode_ended)` sees every step of seed s before an ended episode's env is
    reset (the success rates of benchmark/success_evaluation.py read the step's flag there).
    `make_env(task, seed, max_episode_steps, seed_offset)` builds one seed's env with SeedEnv's interface
    (the Atari games: uint8 frames in, action indices out, kept in their own dtypes).
    """
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    envs = [make_env(task, int(s), max_episode_steps, seed_offset) for s in seeds]
    steps = [0] * len(envs)
    try:
        for env in envs:
            env.reset()
        returns: list[list[float]] = [[] for _ in envs]
        while any(len(r) < episodes for r in returns):
            rows = np.stack([env.obs for env in envs])
            obs = torch.from_numpy(rows.astype(np.float32) if rows.dtype.kind == "f" else rows).to(device)
            actions = policy(obs).detach().cpu().numpy()  # [S, act] (SeedEnv scales them in float64), or [S] indices
            for s, env in enumerate(envs):
                if len(returns[s]) == episodes:
                    continue
                _, _, terminated, truncated = env.step(actions[s])
                steps[s] += 1
                if observer is not None:
                    observer(s, env, terminated or truncated)
                if terminated or truncated:
                    returns[s].append(env.episode_return)
                    if len(returns[s]) < episodes:
                        env.reset()
    finally:
        for env in envs:
            env.close()
    return torch.tensor([float(np.mean(r)) for r in returns], dtype=torch.float32, device=device), steps


def evaluate_policy(policy: Policy, task: Task, seeds: Sequence[int], episodes: int, max_episode_steps: int | None,
                    seed_offset: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """[S] mean episodic return over `episodes` full episodes per seed (`play_episodes` without the step count)."""
    return play_episodes(policy, task, seeds, episodes, max_episode_steps, seed_offset, device)[0]


@torch.no_grad()
def play_steps(policy: Policy, task: Task, seeds: Sequence[int], steps: int, max_episode_steps: int | None,
               seed_offset: int, device: torch.device | str = "cpu", make_vector: Callable = SeedVectorEnv) -> torch.Tensor:
    """[S] total reward of exactly `steps` env steps per seed from a fresh, seeded reset (episodes that
    end restart, and their rewards keep adding up): CSP's "cumulative reward at the last step" of a
    validation rollout (continual-baselines.md §9.4), one environment per seed. `make_vector(task, seeds,
    max_episode_steps, device, seed_offset)` builds the S envs (SeedVectorEnv's interface)."""
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    env = make_vector(task, seeds, max_episode_steps, device, seed_offset)
    try:
        obs, total = env.reset(), torch.zeros(len(seeds), dtype=torch.float64)
        for _ in range(steps):
            result = env.step(policy(obs))
            total += result.reward.to("cpu", torch.float64)
            obs = result.obs
    finally:
        env.close()
    return total.to(device=device, dtype=torch.float32)
