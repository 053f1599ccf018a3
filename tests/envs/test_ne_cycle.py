"""NE continual-adaptation cycle (scenarios.md §3.1): order, shared padded spaces, zero padding, unused actions."""
import gymnasium
import numpy as np
import torch

from plasticbench.envs import SCALES, get_scenario, scenario_names
from plasticbench.envs.ne_cycle import ACT_DIM_MAX, CYCLE_ENV_IDS, OBS_DIM_MAX
from plasticbench.envs.vector import SeedVectorEnv

ORDER = ["HalfCheetah-v5", "Humanoid-v5", "Ant-v5", "Hopper-v5"]


def test_catalog_lists_ne_cycle_in_the_spec_order():
    assert "ne_cycle" in scenario_names()
    scenario = get_scenario("ne_cycle")
    assert [t.name for t in scenario.tasks] == ORDER * 3
    assert [t.index for t in scenario.tasks] == list(range(12))
    assert (scenario.family, scenario.setting, scenario.backend) == ("mujoco", "continual", "mujoco")
    assert [scenario.budget(s) for s in SCALES] == [100, 20_000, 1_000_000]


def test_padding_targets_are_the_largest_sizes_in_the_cycle():
    sizes = []
    for env_id in CYCLE_ENV_IDS:
        env = gymnasium.make(env_id)
        sizes.append((env.observation_space.shape[0], env.action_space.shape[0]))
        env.close()
    assert (OBS_DIM_MAX, ACT_DIM_MAX) == (max(o for o, _ in sizes), max(a for _, a in sizes)) == (348, 17)
    assert [task.act_dim for task in get_scenario("ne_cycle").tasks[:4]] == [a for _, a in sizes]  # Task.act_dim


def test_every_task_exposes_the_same_spaces_and_pads_with_zeros():
    scenario = get_scenario("ne_cycle")
    assert (scenario.obs_dim, scenario.act_dim) == (OBS_DIM_MAX, ACT_DIM_MAX)
    for task in scenario.tasks[:4]:
        env = task.make(None)
        plain = gymnasium.make(task.name)
        assert env.observation_space.shape == (OBS_DIM_MAX,)
        assert env.action_space == gymnasium.spaces.Box(-1.0, 1.0, (ACT_DIM_MAX,), dtype=env.action_space.dtype)
        obs, _ = env.reset(seed=3)
        raw, _ = plain.reset(seed=3)
        n = raw.shape[0]
        np.testing.assert_array_equal(obs[:n], raw)
        assert np.all(obs[n:] == 0.0)
        env.close()
        plain.close()


def test_extra_action_dims_do_not_change_the_next_state():
    scenario = get_scenario("ne_cycle")
    for task in scenario.tasks[:4]:
        a, b = task.make(None), task.make(None)
        a.reset(seed=7)
        b.reset(seed=7)
        used = a.env.action_space.shape[0]
        rng = np.random.default_rng(0)
        for _ in range(5):
            action = rng.uniform(-1, 1, ACT_DIM_MAX)
            other = action.copy()
            other[used:] = rng.uniform(-1, 1, ACT_DIM_MAX - used)
            obs_a, r_a, *_ = a.step(action)
            obs_b, r_b, *_ = b.step(other)
            np.testing.assert_array_equal(obs_a, obs_b)
            assert r_a == r_b
        a.close()
        b.close()


def test_padded_actions_are_scaled_like_the_plain_env():
    """The vector env scales [-1, 1] to the bounds; for Humanoid (+-0.4) the wrapper must do it instead."""
    humanoid = get_scenario("ne_cycle").tasks[1]
    padded = humanoid.make(None)
    scaled = padded.action(np.full(ACT_DIM_MAX, 0.5))
    np.testing.assert_allclose(scaled, 0.5 * padded.env.action_space.high)
    assert scaled.shape == (17,)
    hopper = get_scenario("ne_cycle").tasks[3].make(None)
    assert hopper.action(np.full(ACT_DIM_MAX, 2.0)).tolist() == [1.0, 1.0, 1.0]


def test_seed_vector_env_steps_every_task_with_the_shared_shapes():
    scenario = get_scenario("ne_cycle")
    for task in scenario.tasks[:4]:
        env = SeedVectorEnv(task, [0, 1], 10, torch.device("cpu"))
        obs = env.reset()
        assert obs.shape == (2, OBS_DIM_MAX)
        result = env.step(torch.zeros(2, ACT_DIM_MAX))
        assert result.obs.shape == (2, OBS_DIM_MAX)
        env.close()
