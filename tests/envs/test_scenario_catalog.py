"""The scenario catalog: names, task order, budgets and overrides as the specs give them."""

import pickle

import pytest

from plasticbench.envs import SCALES, get_scenario, scenario_names
from plasticbench.envs.locomotion_scenarios import LOCOMOTION_BUILDERS

SINGLE = {"halfcheetah": "HalfCheetah-v5", "hopper": "Hopper-v5", "walker2d": "Walker2d-v5",
          "ant": "Ant-v5", "humanoid": "Humanoid-v5"}


def test_unknown_name_lists_the_allowed_names():
    with pytest.raises(ValueError) as error:
        get_scenario("cheetah")
    for name in scenario_names():
        assert name in str(error.value)
    assert set(scenario_names()) == set(SINGLE) | {"halfcheetah_forgetting", "ne_cycle"} | set(LOCOMOTION_BUILDERS)


def test_halfcheetah_forgetting_follows_the_spec_order():
    scenario = get_scenario("halfcheetah_forgetting")
    assert [t.name for t in scenario.tasks] == ["hugefoot", "moon", "carry_stuff", "rainfall"] * 2
    assert [t.index for t in scenario.tasks] == list(range(8))
    assert (scenario.family, scenario.setting, scenario.backend) == ("mujoco", "continual", "mujoco")
    assert (scenario.obs_dim, scenario.act_dim) == (17, 6)
    assert [scenario.budget(s) for s in SCALES] == [150, 20_000, 1_000_000]
    assert scenario.learner_overrides["sac"] == {"actor_lr": 1e-3, "critic_lr": 3e-4, "reward_scale": 1.0,
                                                 "policy_delay": 2, "target_delay": 2,
                                                 "target_entropy_multiplier": 2.0,
                                                 "hidden": (256, 256, 256), "activation": "leaky_relu",
                                                 "init_temperature": 2.0, "bootstrap_on_timeout": False}
    assert scenario.method_overrides["ft_l2"] == {"strength": 1e4}


@pytest.mark.parametrize("name", sorted(SINGLE))
def test_single_task_scenarios(name):
    scenario = get_scenario(name)
    assert [t.name for t in scenario.tasks] == [SINGLE[name]]
    assert scenario.setting == "online" and scenario.tasks[0].index == 0
    assert [scenario.budget(s) for s in SCALES] == [300, 50_000, 1_000_000]
    env = scenario.tasks[0].make(None)
    assert env.spec.max_episode_steps == 1000
    assert env.observation_space.shape == (scenario.obs_dim,) and env.action_space.shape == (scenario.act_dim,)


def test_unknown_scale_names_the_allowed_ones():
    with pytest.raises(ValueError, match="smoke"):
        get_scenario("hopper").budget("huge")


def test_scenarios_pickle_for_launchers():
    scenario = pickle.loads(pickle.dumps(get_scenario("halfcheetah_forgetting")))
    assert scenario.tasks[4].make(7).spec.max_episode_steps == 7
