"""The simulator backends: which vector env and which evaluator step a task, by `Task.backend`.

The run loop asks here, never a backend by name, so `backend=brax|mujoco` changes nothing else.
The brax modules import JAX, so they load only when a brax task is stepped. Meta-World tasks
(envs/continual_world.py) are MuJoCo envs with a gymnasium interface, stepped by the MuJoCo path. The Atari ones
(`ale`) need the `atari` extra and load only when an Atari task is stepped.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import torch

from plasticbench.envs.evaluation import evaluate_policy
from plasticbench.envs.process_vector import ProcessSeedVectorEnv, parallel_envs_useful
from plasticbench.envs.task import Task
from plasticbench.envs.vector import SeedEnv, SeedVectorEnv

BACKENDS: tuple[str, ...] = ("mujoco", "brax", "metaworld", "ale")


def backend_available(backend: str) -> bool:
    """Whether `backend`'s optional dependencies import (the suite grid skips the others unless named)."""
    try:
        check_backend_available(backend)
    except ValueError:
        return False
    return True


def check_backend_available(backend: str) -> None:
    """Before any work: an unknown backend, or one whose optional dependency is missing, is a one-line error."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; allowed: {list(BACKENDS)}")
    if backend == "brax":
        from plasticbench.envs.brax_physics import require_brax

        require_brax()
    if backend == "metaworld":
        from plasticbench.envs.continual_world import require_metaworld

        require_metaworld()
    if backend == "ale":
        from plasticbench.envs.atari_preprocessing import require_ale

        require_ale()


def _check(task: Task) -> None:
    if task.backend not in BACKENDS:
        raise ValueError(f"task {task.name!r} has backend {task.backend!r}; allowed: {list(BACKENDS)}")


def make_vector_env(task: Task, seeds: Sequence[int], max_episode_steps: int | None,
                    device: torch.device | str = "cpu", seed_offset: int = 0, envs_per_seed: int = 1) -> Any:
    """S environments of `task`, one per seed, on its backend (SeedVectorEnv's interface); with
    `envs_per_seed` = N > 1, N per seed and [S, N, ...] tensors (brax natively, others stacked)."""
    _check(task)
    if task.backend == "brax":
        from plasticbench.envs.brax import BraxVectorEnv

        return BraxVectorEnv(task, seeds, max_episode_steps, device, seed_offset, envs_per_seed=envs_per_seed)
    if envs_per_seed > 1:
        from plasticbench.envs.wide_vector import EnvsPerSeed

        return EnvsPerSeed(lambda offset: make_vector_env(task, seeds, max_episode_steps, device, offset),
                           envs_per_seed, seed_offset)
    if task.backend == "metaworld" and parallel_envs_useful(len(seeds)):  # bit-identical, seeds in parallel
        return ProcessSeedVectorEnv(task, seeds, max_episode_steps, device, seed_offset)
    if task.backend == "ale":
        from plasticbench.envs.atari_vector import AtariVectorEnv

        return AtariVectorEnv(task, seeds, max_episode_steps, device, seed_offset, training=True)
    return SeedVectorEnv(task, seeds, max_episode_steps, device, seed_offset)


def evaluate_on_backend(policy: Callable[[torch.Tensor], torch.Tensor], task: Task, seeds: Sequence[int],
                        episodes: int, max_episode_steps: int | None, seed_offset: int,
                        device: torch.device | str = "cpu") -> torch.Tensor:
    """[S] mean deterministic-episode return per seed, on the task's backend (envs/evaluation.py's contract)."""
    _check(task)
    if task.backend == "brax":
        from plasticbench.envs.brax import evaluate_brax_policy

        return evaluate_brax_policy(policy, task, seeds, episodes, max_episode_steps, seed_offset, device)
    if task.backend == "ale":
        from plasticbench.envs.atari_vector import play_atari_episodes

        return play_atari_episodes(policy, task, seeds, episodes, max_episode_steps, seed_offset, device)[0]
    return evaluate_policy(policy, task, seeds, episodes, max_episode_steps, seed_offset, device)


def rollout_makers(task: Task) -> tuple[Callable, Callable]:
    """(one seed's env for whole episodes, the S seeds' vector env for a fixed number of steps) that
    `ctx.rollout` plays `task` with (benchmark/rollouts.py): Atari games in evaluation mode (whole games,
    raw rewards); SeedEnv and SeedVectorEnv for every other backend, as before."""
    _check(task)
    if task.backend == "ale":
        from plasticbench.envs.atari_vector import AtariVectorEnv, make_evaluation_game

        return make_evaluation_game, functools.partial(AtariVectorEnv, training=False)
    return SeedEnv, SeedVectorEnv
