"""Continual World runs: the CW learner variant (heads, hidden one-hot), the success modes and their
evaluation protocol, the record's success fields, config errors, and one end-to-end smoke run."""

import numpy as np
import pytest
import torch

pytest.importorskip("metaworld")  # in the dev extra; CI installs it, so this never skips there

from plasticbench.benchmark.cli import main
from plasticbench.benchmark.runner import build, run
from plasticbench.benchmark.success_evaluation import episode_success, evaluate_success_tasks, play_success
from plasticbench.benchmark.suite import grid
from plasticbench.envs.continual_world_scenarios import SCENARIOS
from plasticbench.envs.catalog import get_scenario
from tests.missing_package import hide_package

CONTINUAL = ["ft1", "ft_l2", "ft_n", "sac_n", "ewc", "packnet", "pnn", "rewire", "csp"]


@pytest.fixture(scope="module")
def packnet_record(tmp_path_factory):
    from plasticbench.benchmark.config import load_run_config
    from tests.conftest import TINY

    results = tmp_path_factory.mktemp("cw")
    return run(load_run_config([*TINY, f"results_dir={results}", "method=packnet", "learner=sac", "suite=cw3_t1",
                                "scale=smoke", "seeds=2"]), progress=False)


def test_packnet_on_cw3_t1_end_to_end_records_success(packnet_record):
    record = packnet_record
    assert record["family"] == "continual_world" and record["success_mode"] == "last"
    assert record["tasks"] == ["push-v3", "window-close-v3", "hammer-v3"]
    returns, success = record["curves"]["returns"], record["curves"]["success"]
    assert [[v is None for v in row] for row in success] == [[v is None for v in row] for row in returns]
    assert all(0.0 <= x <= 1.0 for row in success for v in row if v is not None for x in v)
    final = np.array(record["final_success"])  # [N][S]
    assert final.shape == (3, 2) and final.tolist() == success[-1]
    assert record["scores"] == pytest.approx(final.mean(axis=0).tolist())
    assert record["normalization"]["kind"] == "success"


def test_cw_learner_variant_hides_the_one_hot_and_picks_a_head_per_task(tiny_config):
    learner, _ = build(tiny_config("suite=cw3_t1", "seeds=2"))
    actor = learner.networks["actor"]
    assert learner.obs_dim == 39 and learner.buffer.storage["obs"].shape[-1] == 39
    assert actor.layers[0].weight.shape[1] == 39 and actor.layers[-1].weight.shape[-1] == 2 * 4 * 3
    assert learner.networks["critic"].q1.layers[-1].weight.shape[-1] == 3  # one Q head per task
    obs = torch.randn(2, 39 + 3)
    other_task = torch.cat([obs[:, :39], torch.tensor([[0.0, 0.0, 1.0]] * 2)], dim=1)
    torch.testing.assert_close(learner.policy_action(obs, False, 1), learner.policy_action(other_task, False, 1))
    assert not torch.allclose(learner.policy_action(obs, False, 0), learner.policy_action(obs, False, 1))


def test_success_modes_on_scripted_flags():
    assert episode_success([False, True, False], "any") and not episode_success([False, True, False], "last")
    assert episode_success([False, False, True], "last") and not episode_success([False] * 3, "any")
    with pytest.raises(ValueError, match="allowed: last, any"):
        episode_success([True], "first")


@pytest.mark.parametrize("mode", ["last", "any"])
def test_metaworld_expert_succeeds_and_standing_still_fails(mode):
    from metaworld.policies import SawyerWindowCloseV3Policy

    task = get_scenario("cw3_t1").tasks[1]  # window-close
    expert = SawyerWindowCloseV3Policy()
    scripted = lambda obs: torch.from_numpy(np.stack([expert.get_action(o[:39].numpy().astype(np.float64))
                                                      for o in obs])).float()
    _, rate = play_success(scripted, task, [0, 1], 2, None, 0, mode)
    assert rate == [1.0, 1.0]
    _, rate = play_success(lambda obs: torch.zeros(len(obs), 4), task, [0], 1, 50, 0, mode)
    assert rate == [0.0]


def test_stochastic_evaluation_leaves_the_learner_stream_and_repeats(tiny_config):
    config = tiny_config("suite=cw3_t1", "seeds=2", "success_mode=any", "scale.eval_episodes=1", "scale.episode_length=20")
    learner, method = build(config)
    counter = learner.rng.counter
    first = evaluate_success_tasks(config, learner, method, 0, draw=5, seed_offset=100)
    assert learner.rng.counter == counter
    assert evaluate_success_tasks(config, learner, method, 0, draw=5, seed_offset=100) == first
    assert evaluate_success_tasks(config, learner, method, 0, draw=6, seed_offset=100)[0] != first[0]
    assert first[0][1] is None and first[0][2] is None  # unseen tasks


def test_success_mode_is_part_of_cw_identity_only(tiny_config):
    last, any_ = tiny_config("suite=cw3_t1"), tiny_config("suite=cw3_t1", "success_mode=any")
    assert last.success_mode == "last" and any_.success_mode == "any" and last.run_id != any_.run_id
    assert "success_mode" not in tiny_config("suite=halfcheetah").identity()


@pytest.mark.parametrize("argv,expected", [
    (["run", "suite=cw3_t1", "success_mode=first"], ["unknown success_mode 'first'", "last, any"]),
    (["run", "suite=halfcheetah", "success_mode=any"], ["success_mode='any'", "Continual World"]),
])
def test_bad_success_mode_is_a_one_line_error(capsys, argv, expected):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert all(e in err for e in expected)


def test_missing_metaworld_exits_2_before_any_work(capsys, monkeypatch, tmp_path):
    hide_package(monkeypatch, "metaworld")
    assert main(["run", "method=packnet", "suite=cw3_t1", f"results_dir={tmp_path}"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'plasticbench[metaworld]'" in err and len(err.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())


def test_smoke_grid_has_every_continual_method_on_every_cw_scenario():
    cells = {(c[0], c[2]) for c in grid("smoke", learners=["sac"])}
    assert {(f"method={m}", f"suite={s}") for m in CONTINUAL for s in SCENARIOS} <= cells


def test_stochastic_success_evaluation_of_two_seeds_equals_each_alone(tiny_config):
    overrides = ("suite=cw3_t1", "success_mode=any", "scale.eval_episodes=2", "scale.episode_length=15")
    def evaluate(seeds):
        config = tiny_config(*overrides, f"seeds={seeds}")
        learner, method = build(config)
        return evaluate_success_tasks(config, learner, method, 1, draw=0, seed_offset=100)
    together = evaluate("[3,4]")
    for i, seed in enumerate((3, 4)):
        alone = evaluate(f"[{seed}]")
        for kind in range(2):  # returns, success
            assert [row[i] for row in together[kind][:2]] == [row[0] for row in alone[kind][:2]]


def test_a_cw_run_killed_mid_task_resumes_to_the_same_record(tiny_config, tmp_path, monkeypatch):
    """Mid-episode in task 1: Meta-World state in worker processes, the stochastic evaluation's stream."""
    from tests.resume import killed_and_resumed

    overrides = ("method=ft1", "suite=cw3_t1", "seeds=2", "success_mode=any", "scale.checkpoint_every=30",
                 "scale.eval_every=50", "scale.episode_length=40")
    resumed, uninterrupted = killed_and_resumed(tiny_config, overrides, tmp_path, monkeypatch, die_at=5)
    assert resumed["curves"] == uninterrupted["curves"] and "success" in resumed["curves"]
    assert resumed["final_success"] == uninterrupted["final_success"]
