"""Brax with several environments per seed, in the default run: one compiled shape ([2 seeds, 3 envs])
serves every check, so the test pays one jit (~15 s on a fresh machine, less from the disk cache).

A seed's three environments must be three distinct streams that depend on that seed alone, in
either position and beside any co-seed; a resumed batch must continue bit for bit.
"""
from __future__ import annotations

import pytest
import torch

from plasticbench.envs.brax import BraxVectorEnv
from plasticbench.envs.catalog import get_scenario

N, STEPS, EPISODE = 3, 8, 4  # episodes of 4 steps: the rollout crosses an auto-reset in every environment


@pytest.fixture(scope="module")
def task():
    return get_scenario("halfcheetah_forgetting_brax").tasks[0]


def actions(t: int) -> torch.Tensor:
    """The same actions for every seed row, so a seed sees the same ones in either position."""
    return torch.sin(torch.arange(N * 6, dtype=torch.float32).reshape(1, N, 6) + t).expand(2, N, 6).contiguous()


def rollout(task, seeds, steps=STEPS, env=None):
    env = env or BraxVectorEnv(task, seeds, EPISODE, seed_offset=2, envs_per_seed=N)
    obs = [env.reset() if env._carry is None else env.obs]
    rewards = []
    for t in range(len(obs) - 1, steps):
        result = env.step(actions(t))
        obs.append(result.obs)
        rewards.append(result.reward)
    return torch.stack(obs), torch.stack(rewards), env


def test_each_seed_has_n_distinct_environments_that_ignore_co_seed_and_position(task):
    obs_a, rew_a, env = rollout(task, [0, 1])
    assert obs_a.shape == (STEPS + 1, 2, N, env.obs_dim) and rew_a.shape == (STEPS, 2, N)
    assert len({tuple(row.tolist()) for row in obs_a[0].reshape(2 * N, -1)}) == 2 * N  # six distinct starts
    obs_b, rew_b, _ = rollout(task, [5, 0])
    assert torch.equal(obs_a[:, 0], obs_b[:, 1]) and torch.equal(rew_a[:, 0], rew_b[:, 1])


def test_a_resumed_batch_continues_bit_for_bit(task):
    obs_full, rew_full, _ = rollout(task, [0, 1])
    _, _, env = rollout(task, [0, 1], steps=5)
    resumed = BraxVectorEnv(task, [0, 1], EPISODE, seed_offset=2, envs_per_seed=N)
    resumed.load_state_dict(env.state_dict())
    assert torch.equal(resumed.obs, obs_full[5])
    for t in range(5, STEPS):
        assert torch.equal(resumed.step(actions(t)).reward, rew_full[t])
