"""Several environments per seed (`scale.envs_per_seed`, Rewire's brax code collects from 128 per seed):
the budget and the update schedule stay counted in transitions, seeds stay independent, a killed run
resumes to the same record, and the run ids of one-environment runs do not move."""
import pytest
import torch

from plasticbench.benchmark.runner import crossed, run, updates_due, updates_over
from plasticbench.envs.catalog import get_scenario
from plasticbench.envs.wide_vector import EnvsPerSeed
from plasticbench.envs.backends import make_vector_env
from tests.resume import killed_and_resumed
from tests.seeds import assert_same_seed_record

WIDE = ("suite=halfcheetah_forgetting", "scale.steps_per_task=70", "scale.learning_starts=20", "scale.eval_every=30",
        "scale.checkpoint_every=25", "scale.envs_per_seed=4")


@pytest.mark.parametrize("rate", [0.5, 1.0, 0.25, 2.0, 1 / 3])
def test_updates_over_a_span_equal_the_sum_of_the_per_step_updates(rate):
    for first in range(0, 40):
        for count in range(1, 9):
            assert updates_over(first, count, rate) == sum(updates_due(k, rate) for k in range(first, first + count))


def test_crossed_is_the_modulo_check_for_one_step_and_catches_a_multiple_inside_a_wide_step():
    assert all(crossed(k, k + 1, 5) == ((k + 1) % 5 == 0) for k in range(50))
    assert crossed(8, 12, 10) and not crossed(10, 14, 10) and crossed(16, 20, 10)


def test_each_seed_collects_from_its_own_distinct_environments():
    scenario = get_scenario("halfcheetah_forgetting")
    task = scenario.tasks[0]
    env = make_vector_env(task, [0, 1], 50, envs_per_seed=3)
    assert isinstance(env, EnvsPerSeed)
    obs = env.reset()
    assert obs.shape == (2, 3, scenario.obs_dim)
    flat = obs.reshape(6, -1)
    assert len({tuple(row.tolist()) for row in flat}) == 6  # every environment starts from its own state
    alone = make_vector_env(task, [1], 50, envs_per_seed=3).reset()
    assert torch.equal(alone[0], obs[1])  # a seed's environments do not depend on its neighbours
    one = make_vector_env(task, [1], 50).reset()
    assert torch.equal(one[0], obs[1, 0])  # environment 0 is the one-environment run's stream
    result = env.step(torch.zeros(2, 3, scenario.act_dim))
    assert result.reward.shape == (2, 3) and result.next_obs.shape == obs.shape


def test_a_wide_run_stores_exactly_the_budget_and_learns_at_the_per_transition_rate(tiny_config):
    config = tiny_config(*WIDE, "seeds=1")
    from plasticbench.benchmark.runner import Run

    runner = Run(config, progress=False)
    record = runner.execute()
    learner = runner.learner
    tasks = len(config.scenario.tasks)
    assert learner.env_steps == 70 * tasks  # 70 is not a multiple of 4: the last step of a task stores 2
    rate = config.learner_config.updates_per_step
    # every task: no update until 20 transitions are in its buffer, then the per-transition rate
    assert rate == 0.5 and learner.updates == updates_over(20, 50, rate) * tasks == 25 * tasks
    assert record["curves"]["steps"][:3] == [32, 60, 70]  # after the steps that passed 30 and 60, then the task end


def test_seeds_stay_independent_with_several_environments_per_seed(tiny_config):
    together = run(tiny_config(*WIDE, "seeds=[0,1]"), progress=False)
    for i, seed in enumerate([0, 1]):
        alone = run(tiny_config(*WIDE, f"seeds=[{seed}]"), progress=False)
        assert_same_seed_record(together, i, alone, 0)


def test_a_wide_run_killed_mid_task_resumes_to_the_same_record(tiny_config, tmp_path, monkeypatch):
    resumed, uninterrupted = killed_and_resumed(tiny_config, (*WIDE, "seeds=2"), tmp_path, monkeypatch, die_at=2)
    assert resumed["curves"] == uninterrupted["curves"]
    assert resumed["final_returns"] == uninterrupted["final_returns"]


def test_one_environment_per_seed_keeps_the_run_id_of_runs_named_before_the_option(tiny_config):
    plain, explicit = tiny_config("suite=halfcheetah"), tiny_config("suite=halfcheetah", "scale.envs_per_seed=1")
    assert plain.run_id == explicit.run_id and "envs_per_seed" not in plain.identity()["scale"]
    assert tiny_config("suite=halfcheetah", "scale.envs_per_seed=2").run_id != plain.run_id


@pytest.mark.parametrize("overrides, message", [
    (("scale.envs_per_seed=0",), "allowed: an integer >= 1"),
    (("suite=halfcheetah_mt", "scale.envs_per_seed=2"), "multitask"),
    (("suite=atari_pong", "learner=dqn", "scale.envs_per_seed=2"), "Atari"),
])
def test_envs_per_seed_that_cannot_apply_fail_before_any_work(tiny_config, overrides, message):
    with pytest.raises(ValueError, match=message):
        tiny_config(*overrides)


def test_csp_ties_each_environments_point_to_its_own_transition_and_splits_d_and_d2(tiny_config):
    """§9.3 with N = 4: environments 0-1 act at points of the new subspace (weight on the newest anchor),
    2-3 at points of the old one (none on it); each transition is stored with its environment's point."""
    from plasticbench.benchmark.runner import Run

    config = tiny_config("method=csp", *WIDE[:-5], "scale.steps_per_task=72", "scale.learning_starts=20",
                         "scale.eval_every=72", "scale.checkpoint_every=72", "scale.envs_per_seed=4", "seeds=2",
                         "method.repeat_fraction=1.0")  # one draw per task: the last step's points are the task's
    runner = Run(config, progress=False)
    runner.execute()
    method, learner = runner.method, runner.learner
    points = torch.stack(method.collect_alpha, dim=1)  # [S, 4, T]
    for s in range(2):
        k = int(points[s, 0].nonzero().max())  # the newest anchor while the last task collected (before any prune)
        assert k >= 1  # the last task searched a subspace with an old part
        assert (points[s, :2, k] > 0).all() and (points[s, 2:, k:] == 0).all()
        assert torch.allclose(points[s].sum(-1), torch.ones(4))
    last = torch.arange(learner.buffer.pointer - 4, learner.buffer.pointer) % learner.buffer.capacity
    assert torch.equal(method.stored_alphas(learner)[:, last], points)
