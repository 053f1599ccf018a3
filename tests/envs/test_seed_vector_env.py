"""SeedVectorEnv: seeds are independent of each other, and a checkpoint resumes bit-identically."""

import io

import pytest
import torch

from plasticbench.envs import get_scenario
from plasticbench.envs.vector import SeedVectorEnv


def _task(scenario):
    return get_scenario(scenario).tasks[0]


def _seed_actions(seed, steps, act_dim):
    """[steps, act] actions drawn from the seed's own generator, so they do not depend on S."""
    return torch.rand(steps, act_dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 2 - 1


def _run(env, actions, steps):
    """Step `env` for `steps` rows of actions [T, S, act]; every StepResult, in order."""
    return [env.step(actions[t]) for t in range(steps)]


def _assert_same(a, b):
    for x, y in zip(a, b):
        for field in ("next_obs", "reward", "terminated", "truncated", "obs"):
            assert torch.equal(getattr(x, field), getattr(y, field)), field
        assert x.finished_returns == y.finished_returns


def test_seed_gives_the_same_trajectory_alone_or_among_others():
    task, steps = _task("halfcheetah_forgetting"), 40
    many, alone = SeedVectorEnv(task, [3, 7, 11], max_episode_steps=15), SeedVectorEnv(task, [7], max_episode_steps=15)
    actions = torch.stack([_seed_actions(s, steps, 6) for s in [3, 7, 11]], dim=1)  # [T, S, act]
    assert torch.equal(many.reset()[1:2], alone.reset())
    ended = 0
    for t in range(steps):
        m, a = many.step(actions[t]), alone.step(actions[t, 1:2])
        for field in ("next_obs", "reward", "terminated", "truncated", "obs"):
            assert torch.equal(getattr(m, field)[1:2], getattr(a, field)), field
        assert [r for s, r in m.finished_returns if s == 1] == [r for _, r in a.finished_returns]
        ended += len(a.finished_returns)
    assert ended == 2  # the comparison crossed episode ends (15-step episodes)


def test_different_seeds_differ():
    env = SeedVectorEnv(_task("halfcheetah"), [0, 1], max_episode_steps=None)
    obs = env.reset()
    assert obs.shape == (2, 17) and obs.dtype == torch.float32
    assert not torch.equal(obs[0], obs[1])


@pytest.mark.parametrize("scenario", ["halfcheetah_forgetting", "ant", "humanoid"])
def test_state_dict_resume_is_bit_identical(scenario):
    """K steps, save, NEW env, load, K more == 2K uninterrupted steps (episodes of 10 cross the save).

    Ant and Humanoid read derived body poses before a step, so they also test that part of the state.
    """
    task, k, seeds = _task(scenario), 23, [4, 9]
    probe = SeedVectorEnv(task, seeds, max_episode_steps=10)
    actions = torch.stack([_seed_actions(s, 2 * k, probe.act_dim) for s in seeds], dim=1)
    probe.close()

    full = SeedVectorEnv(task, seeds, max_episode_steps=10)
    full.reset()
    uninterrupted = _run(full, actions, 2 * k)

    first = SeedVectorEnv(task, seeds, max_episode_steps=10)
    first.reset()
    before = _run(first, actions, k)
    buffer = io.BytesIO()
    torch.save(first.state_dict(), buffer)
    first.close()
    buffer.seek(0)
    resumed = SeedVectorEnv(task, seeds, max_episode_steps=10)
    resumed.load_state_dict(torch.load(buffer, weights_only=True))
    assert torch.equal(resumed.obs, before[-1].obs)
    after = [resumed.step(actions[t]) for t in range(k, 2 * k)]
    _assert_same(before + after, uninterrupted)
    assert sum(len(r.finished_returns) for r in after) > 0


def test_load_rejects_other_seeds():
    task = _task("halfcheetah")
    env = SeedVectorEnv(task, [1, 2], max_episode_steps=10)
    env.reset()
    with pytest.raises(ValueError, match="seeds"):
        SeedVectorEnv(task, [1, 3], max_episode_steps=10).load_state_dict(env.state_dict())


def test_step_rejects_wrong_action_shape():
    env = SeedVectorEnv(_task("halfcheetah"), [1, 2], max_episode_steps=10)
    env.reset()
    with pytest.raises(ValueError, match="shape"):
        env.step(torch.zeros(1, 6))


def test_unit_actions_are_scaled_to_humanoid_bounds():
    env = SeedVectorEnv(_task("humanoid"), [0], max_episode_steps=10)
    seed_env = env._envs[0]
    assert seed_env.scale_action(torch.ones(17).numpy()).tolist() == pytest.approx([0.4] * 17)
    assert seed_env.scale_action(-2 * torch.ones(17).numpy()).tolist() == pytest.approx([-0.4] * 17)
