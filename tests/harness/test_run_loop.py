"""End-to-end properties of a run: seed independence, resume after a kill, record contents."""
import dataclasses
import json

import numpy as np
import pytest

from plasticbench.benchmark.random_policy import measure_random, random_config
from plasticbench.benchmark.runner import Run, run, updates_due
from plasticbench.benchmark.store import RunStore
from tests.conftest import TINY
from tests.resume import killed_and_resumed


@pytest.mark.parametrize("learner", ["sac", "td3"])
def test_four_seeds_in_one_run_equal_four_single_seed_runs(tiny_config, learner, tmp_path):
    together = run(tiny_config(f"learner={learner}", "suite=halfcheetah", "seeds=[0,1,2,3]"), progress=False)
    for i, seed in enumerate([0, 1, 2, 3]):
        alone = run(tiny_config(f"learner={learner}", "suite=halfcheetah", f"seeds=[{seed}]"), progress=False)
        np.testing.assert_allclose(together["final_returns"][i], alone["final_returns"][0], rtol=1e-4, atol=1e-3)
        curves_together = [row[0][i] for row in together["curves"]["returns"]]
        curves_alone = [row[0][0] for row in alone["curves"]["returns"]]
        np.testing.assert_allclose(curves_together, curves_alone, rtol=1e-4, atol=1e-3)


def test_a_run_killed_after_its_first_checkpoint_resumes_to_the_same_record(tiny_config, tmp_path, monkeypatch):
    overrides = ("method=ft_n", "suite=halfcheetah_forgetting", "seeds=2")
    resumed, uninterrupted = killed_and_resumed(tiny_config, overrides, tmp_path, monkeypatch, die_at=3)  # task 2, mid-way
    assert resumed["run_id"] == uninterrupted["run_id"]
    assert resumed["curves"] == uninterrupted["curves"]
    assert resumed["final_returns"] == uninterrupted["final_returns"]


def test_record_carries_what_the_leaderboard_and_readers_need(tiny_config):
    config = tiny_config("method=ft_n", "suite=halfcheetah_forgetting", "seeds=2")
    record = run(config, progress=False)
    on_disk = json.loads(RunStore(config.results_dir, config.run_id).record_path.read_text())
    assert on_disk == record
    assert record["tasks"] == ["hugefoot", "moon", "carry_stuff", "rainfall"] * 2
    assert np.array(record["final_returns"]).shape == (2, 8)
    assert len(record["scores"]) == 2 and record["normalization"]["kind"] == "raw"
    assert record["model_size"]["actor"] == 8.0  # FT-N keeps one actor per task (Rewire Table 1)
    assert len(record["metrics"]["forgetting"]) == 2
    assert record["versions"]["torch"] and "wall_time_s" in record
    # every task seen so far is evaluated at every evaluation point, unseen ones are null; at a task's end every task
    first_eval = record["curves"]["returns"][0]
    assert first_eval[0] is not None and all(v is None for v in first_eval[1:])
    assert np.array(record["task_matrix"]).shape == (8, 8, 2)


def test_scores_and_forward_transfer_follow_the_random_sac_n_and_scratch_records(tiny_config, tmp_path):
    random = measure_random(random_config([*TINY, "method=random", "suite=halfcheetah_forgetting", "seeds=2",
                                           f"results_dir={tmp_path}"]))
    r_random = np.mean(random["final_returns"], axis=0)  # [N]
    config = tiny_config("method=ft_n", "suite=halfcheetah_forgetting", "seeds=2")
    reference = run(tiny_config("method=sac_n", "suite=halfcheetah_forgetting", "seeds=2"), progress=False)
    # a reference that did learn: 100 above random on every task, at every evaluation
    reference["final_returns"] = (r_random + 100.0 + np.array(reference["final_returns"])).tolist()
    reference["curves"]["returns"] = [[None if v is None else [x + 100.0 for x in v] for v in row]
                                      for row in reference["curves"]["returns"]]
    RunStore(config.results_dir, reference["run_id"]).write_record(reference)
    scratch = {**reference, "method": "scratch", "run_id": "0" * 16}
    RunStore(config.results_dir, scratch["run_id"]).write_record(scratch)

    record = run(config, progress=False)
    r_ref = np.mean(reference["final_returns"], axis=0)
    assert record["normalization"]["kind"] == "sac_n"
    assert record["normalization"]["reference_runs"] == sorted([random["run_id"], reference["run_id"]])
    np.testing.assert_allclose(record["normalization"]["random_returns"], r_random, rtol=1e-6)
    expected = np.mean((np.array(record["final_returns"]) - r_random) / (r_ref - r_random), axis=1)
    np.testing.assert_allclose(record["scores"], expected, rtol=1e-6)
    assert all(ft is not None for ft in record["metrics"]["forward_transfer"])


def test_task_matrix_on_a_three_task_toy(tiny_config):
    """At every task end every task is evaluated, seen or not: an N x N matrix per seed. FT-N answers
    for a finished task with the actor stored at its end, and evaluation is deterministic, so each
    column below the diagonal repeats the diagonal: a stored policy is never forgotten."""
    config = tiny_config("method=ft_n", "suite=halfcheetah_forgetting", "seeds=2", "scale.steps_per_task=40",
                         "scale.eval_every=20", "scale.episode_length=10", "scale.learning_starts=16")
    config = dataclasses.replace(config, scenario=dataclasses.replace(config.scenario, tasks=config.scenario.tasks[:3]))
    record = run(config, progress=False)
    matrix = np.array(record["task_matrix"])  # [N, N, S]
    assert matrix.shape == (3, 3, 2) and np.isfinite(matrix).all()
    steps, returns = record["curves"]["steps"], record["curves"]["returns"]
    for k, (_, end) in enumerate(record["task_bounds"]):
        assert [returns[i] for i, step in enumerate(steps) if step == end] == [record["task_matrix"][k]]
        mid = [returns[i] for i, step in enumerate(steps) if end - 20 == step][0]
        assert all(v is None for v in mid[k + 1:]) and all(v is not None for v in mid[: k + 1])
    np.testing.assert_array_equal(matrix[np.arange(3), np.arange(3)], np.array(record["task_end_returns"]))
    np.testing.assert_array_equal(matrix[-1].T, np.array(record["final_returns"]))
    for j in range(3):
        for k in range(j + 1, 3):
            np.testing.assert_array_equal(matrix[k, j], matrix[j, j])
    assert not np.array_equal(matrix[0, 1], matrix[1, 1])  # an unseen task is measured before its training


def test_update_to_data_ratio_spreads_gradient_steps_over_env_steps():
    assert [updates_due(s, 0.5) for s in range(6)] == [0, 1, 0, 1, 0, 1]
    assert [updates_due(s, 1.0) for s in range(3)] == [1, 1, 1] and [updates_due(s, 2.0) for s in range(2)] == [2, 2]
    assert sum(updates_due(s, 1 / 3) for s in range(300)) == 100


@pytest.mark.parametrize("ratio,updates", [(1.0, 300 - 64), (0.5, 150 - 32)])
def test_a_run_makes_the_gradient_steps_its_ratio_asks_for(tiny_config, ratio, updates):
    """Hopper at smoke: 300 env steps, updates from the 65th on (learning_starts 64)."""
    one = Run(tiny_config("suite=hopper", "seeds=1", f"learner.updates_per_step={ratio}"), progress=False)
    one.execute()
    assert one.learner.updates == updates
