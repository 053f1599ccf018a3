"""evaluate_policy: deterministic, and each seed's score depends only on that seed."""

import pytest
import torch

from plasticbench.envs import get_scenario
from plasticbench.envs.evaluation import evaluate_policy


def _linear_policy(obs_dim, act_dim):
    """A fixed row-wise policy: each seed's action depends only on its own observation row."""
    weight = torch.randn(obs_dim, act_dim, generator=torch.Generator().manual_seed(0))
    return lambda obs: torch.tanh(obs @ weight)


def _hopper():
    return get_scenario("hopper").tasks[0]


def test_evaluation_is_deterministic():
    task, policy = _hopper(), _linear_policy(11, 3)
    a = evaluate_policy(policy, task, [1, 2], episodes=2, max_episode_steps=50, seed_offset=100)
    b = evaluate_policy(policy, task, [1, 2], episodes=2, max_episode_steps=50, seed_offset=100)
    assert a.shape == (2,) and torch.equal(a, b)


def test_seed_score_is_the_same_alone_or_among_others():
    """Hopper falls at different times per seed, so some seeds wait while others play on."""
    task, policy = _hopper(), _linear_policy(11, 3)
    many = evaluate_policy(policy, task, [3, 7, 11], episodes=3, max_episode_steps=200, seed_offset=100)
    alone = evaluate_policy(policy, task, [7], episodes=3, max_episode_steps=200, seed_offset=100)
    assert many[1] == alone[0]
    assert len(set(many.tolist())) == 3


def test_offset_selects_an_independent_stream():
    task, policy = _hopper(), _linear_policy(11, 3)
    a = evaluate_policy(policy, task, [5], episodes=1, max_episode_steps=50, seed_offset=100)
    b = evaluate_policy(policy, task, [5], episodes=1, max_episode_steps=50, seed_offset=101)
    assert not torch.equal(a, b)


def test_mean_over_episodes_of_a_time_limited_task():
    """With a zero policy HalfCheetah never terminates: every episode lasts max_episode_steps."""
    task = get_scenario("halfcheetah_forgetting").tasks[0]
    calls = []

    def policy(obs):
        calls.append(obs.shape)
        return torch.zeros(obs.shape[0], 6)

    scores = evaluate_policy(policy, task, [0, 1], episodes=2, max_episode_steps=5, seed_offset=0)
    assert len(calls) == 10 and all(shape == (2, 17) for shape in calls)
    assert torch.isfinite(scores).all()
    with pytest.raises(ValueError, match="episodes"):
        evaluate_policy(policy, task, [0], episodes=0, max_episode_steps=5, seed_offset=0)
