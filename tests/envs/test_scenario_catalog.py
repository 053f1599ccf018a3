"""The scenario catalog: names, task order, budgets and overrides as the specs give them."""

import pickle

import pytest

from plasticbench.envs import SCALES, get_scenario, scenario_names
from plasticbench.envs.atari import ATARI_BUILDERS
from plasticbench.envs.continual_world_scenarios import CW_BUILDERS
from plasticbench.envs.locomotion_scenarios import LOCOMOTION_BUILDERS

HALFCHEETAH = {  # scenarios-halfcheetah.md "Scenarios"
    "halfcheetah_forgetting": ["hugefoot", "moon", "carry_stuff", "rainfall"] * 2,
    "halfcheetah_transfer": ["carry_stuff_hugegravity", "moon", "defective_module", "hugefoot_rainfall"] * 2,
    "halfcheetah_robustness": ["normal", "inverted_actions"] * 4,
    "halfcheetah_compositionality": ["tinyfoot", "moon", "carry_stuff_hugegravity", "tinyfoot_moon"] * 2,
}
SINGLE = {"halfcheetah": "HalfCheetah-v5", "hopper": "Hopper-v5", "walker2d": "Walker2d-v5",
          "ant": "Ant-v5", "humanoid": "Humanoid-v5"}


def test_unknown_name_lists_the_allowed_names():
    with pytest.raises(ValueError) as error:
        get_scenario("cheetah")
    for name in scenario_names():
        assert name in str(error.value)
    assert set(scenario_names()) == set(SINGLE) | set(HALFCHEETAH) | {"ne_cycle", "halfcheetah_mt", "mt10"} | set(LOCOMOTION_BUILDERS) | set(CW_BUILDERS) | set(ATARI_BUILDERS)


@pytest.mark.parametrize("name", sorted(HALFCHEETAH))
def test_halfcheetah_scenarios_follow_the_spec_order(name):
    scenario = get_scenario(name)
    assert [t.name for t in scenario.tasks] == HALFCHEETAH[name]
    assert [t.index for t in scenario.tasks] == list(range(8))
    assert (scenario.family, scenario.setting, scenario.backend) == ("mujoco", "continual", "mujoco")
    assert (scenario.obs_dim, scenario.act_dim) == (17, 6)
    assert [scenario.budget(s) for s in SCALES] == [150, 20_000, 1_000_000]
    assert scenario.scale_overrides["paper"] == {"learning_starts": 12_800, "random_steps": 1}  # [RN] §2.3 warm-up
    assert scenario.method_overrides["packnet"] == {"retrain_fraction": 0.2}


@pytest.mark.parametrize("name,sac,lambdas", [  # continual-baselines.md §2.3, §7.1, §8.1
    ("halfcheetah_forgetting", (1e-3, 3e-4, 1.0, 2, 2, 2.0), (1e4, 0.01)),
    ("halfcheetah_transfer", (3e-4, 3e-4, 1.0, 4, 2, 1.0), (1.0, 1.0)),
    ("halfcheetah_robustness", (1e-3, 1e-3, 1.0, 4, 2, 2.0), (100.0, 0.01)),
    ("halfcheetah_compositionality", (3e-4, 3e-4, 10.0, 4, 4, 2.0), (100.0, 1.0)),
])
def test_halfcheetah_scenarios_carry_the_rewire_settings(name, sac, lambdas):
    scenario = get_scenario(name)
    keys = ("actor_lr", "critic_lr", "reward_scale", "policy_delay", "target_delay", "target_entropy_multiplier")
    assert scenario.learner_overrides["sac"] == {**dict(zip(keys, sac)), "hidden": (256, 256, 256), "activation": "leaky_relu",
                                                 "init_temperature": 2.0, "bootstrap_on_timeout": False,
                                                 "updates_per_step": 0.5}
    assert scenario.learner_overrides["td3"] == {"updates_per_step": 0.5}
    assert (scenario.method_overrides["ft_l2"]["strength"], scenario.method_overrides["ewc"]["strength"]) == lambdas


def test_a_scenario_schedule_reaches_the_resolved_config():
    from plasticbench.benchmark.config import load_run_config

    paper = load_run_config(["method=packnet", "suite=halfcheetah_transfer", "scale=paper"])
    assert (paper.scale.learning_starts, paper.scale.random_steps) == (12_800, 1)
    assert paper.learner_config.updates_per_step == 0.5 and paper.method_config.retrain_fraction == 0.2
    smoke = load_run_config(["method=ft1", "suite=halfcheetah_transfer", "scale=smoke", "scale.random_steps=5"])
    assert (smoke.scale.learning_starts, smoke.scale.random_steps) == (64, 5)  # the user's override wins
    assert load_run_config(["suite=hopper", "scale=paper"]).learner_config.updates_per_step == 1.0


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
