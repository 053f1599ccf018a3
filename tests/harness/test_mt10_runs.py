"""Meta-World MT10 as a multitask suite (envs/continual_world_scenarios.py `mt10`): listed and in the
smoke grid for the methods declaring multitask; the task one-hot appended once; DAPD and FT-1 end to end
with per-task success curves; seeds independent; the leaderboard's multitask success table."""
import numpy as np
import pytest

pytest.importorskip("metaworld")  # in the dev extra; CI installs it, so this never skips there

from plasticbench.benchmark import runner
from plasticbench.benchmark.cli import main
from plasticbench.benchmark.reporting.leaderboard import build_leaderboard
from plasticbench.benchmark.store import RunStore
from plasticbench.benchmark.suite import grid
from plasticbench.envs.catalog import get_scenario, scenario_names
from plasticbench.envs.continual_world import MT10_V3
from plasticbench.envs.multitask import multitask_scenario
from tests.multitask_runs import executed_run
from tests.seeds import assert_same_seed_record

T, OBS, STEPS = 10, 39, 20
TINY_MT10 = ["suite=mt10", "scale=smoke", f"scale.steps_per_task={STEPS}", "scale.eval_every=10", "scale.eval_episodes=1",
             "scale.checkpoint_every=10", "scale.learning_starts=4", "scale.episode_length=10"]
DAPD = ["method=dapd", "learner=sac", "method.keep_ratio=0.3", "method.score_batch=8", "method.window=20"]


@pytest.fixture(scope="module")
def mt10():
    return get_scenario("mt10")


@pytest.fixture(scope="module")
def dapd_run(tmp_path_factory):
    return executed_run(tmp_path_factory, *DAPD, *TINY_MT10, "seeds=[0,1]")


def test_mt10_is_a_listed_multitask_suite_in_the_smoke_grid_of_multitask_methods(mt10):
    assert "mt10" in scenario_names() and mt10.multitask and mt10.family == "continual_world"
    assert [t.name for t in mt10.tasks] == list(MT10_V3) and [t.index for t in mt10.tasks] == list(range(T))
    cells = grid("smoke", suites=["mt10"])
    assert {c[0] for c in cells if len(c) > 3} == {"method=ft1", "method=dapd"}
    assert not [c for c in cells if c[0] == "method=random"]  # success needs no R_random (benchmark/suite.py)
    assert {c[0] for c in grid("smoke", suites=["cw3_t1"]) if c[0] == "method=random"} == set()


def test_the_one_hot_is_appended_once(mt10, dapd_run):
    assert mt10.obs_dim == OBS + T  # not OBS + 2 T: the multitask wrapper adds none of its own
    for task in mt10.tasks[:3]:
        env = task.make(5)
        obs, _ = env.reset(seed=0)
        assert obs.shape == (OBS + T,) and obs[-T:].tolist() == [float(i == task.index) for i in range(T)]
        env.close()
    learner = dapd_run[0].learner
    assert learner.obs_dim == OBS + T and learner.num_heads == 1  # the single trunk reads the one-hot
    assert learner.networks["actor"].layers[0].weight.shape[1] == OBS + T  # [S, in, out]
    stored = learner.buffer.storage["obs"][:, : learner.buffer.size, -T:]
    assert (stored.argmax(-1) == np.arange(learner.buffer.size) % T).all() and (stored.sum(-1) == 1).all()


def test_tasks_carrying_their_own_one_hot_must_be_in_index_order(mt10):
    with pytest.raises(ValueError, match="indices 0..1 in order"):
        multitask_scenario("bad", mt10.tasks[1:3], "continual_world", "metaworld", one_hot_appended=True)


def test_dapd_on_mt10_end_to_end_records_per_task_success(dapd_run):
    run, record = dapd_run
    assert record["setting"] == "multitask" and record["success_mode"] == "last" and record["tasks"] == list(MT10_V3)
    assert record["task_bounds"] == [[0, STEPS]] * T and record["curves"]["steps"] == [10, STEPS]
    assert run.learner.env_steps == T * STEPS
    success = record["curves"]["success"]  # [E][N] -> [S]: every task evaluated at every point
    assert all(len(row) == T and all(v is not None and len(v) == 2 and all(0 <= x <= 1 for x in v) for v in row)
               for row in success)
    final = np.array(record["final_success"])
    assert final.shape == (T, 2) and final.tolist() == success[-1]
    assert record["normalization"]["kind"] == "success" and record["normalization"]["reference_runs"] == []
    assert set(record["metrics"]) >= {"average_performance"} and not {"forgetting", "forward_transfer"} & set(record["metrics"])
    assert record["scores"] == pytest.approx(record["metrics"]["average_performance"])
    assert len(record["method_summary"]["pathway_weights"]["actor"]) == T  # one pathway per task


def test_seeds_of_an_mt10_run_equal_single_seed_runs(dapd_run, tiny_config):
    _, both = dapd_run
    for index, seed in enumerate([0, 1]):
        single = runner.run(tiny_config(*DAPD, *TINY_MT10, f"seeds=[{seed}]"), progress=False)
        assert_same_seed_record(both, index, single, 0)
        assert [[v[index] for v in row] for row in both["curves"]["success"]] == \
            [[v[0] for v in row] for row in single["curves"]["success"]]


def test_ft1_runs_from_the_cli_with_stochastic_success(tmp_path):
    results = tmp_path / "r"
    assert main(["run", "method=ft1", "learner=sac", *TINY_MT10, "seeds=1", "success_mode=any",
                 "learner.hidden=[16,16]", "learner.batch_size=16", f"results_dir={results}"]) == 0
    (record,) = [RunStore(results, p.parent.name).load_record() for p in results.glob("runs/*/record.json")]
    assert record["method"] == "ft1" and record["success_mode"] == "any" and len(record["curves"]["success"][-1]) == T


def test_leaderboard_shows_mt10_as_a_multitask_success_table(dapd_run):
    text = build_leaderboard([dapd_run[1]])
    section = text.split("Meta-World multitask `mt10` · success mode `last`")[1].split("\n## ")[0]
    assert "forgetting and forward transfer do not apply" in section
    row = next(line for line in section.splitlines() if line.startswith("| dapd | sac | 2 |"))
    mean = float(np.mean(dapd_run[1]["scores"]))
    assert row.split(" | ")[3].startswith(f"{mean:.3f}") and row.endswith("| — | — |")


def test_an_mt10_run_killed_mid_episode_and_resumed_equals_an_uninterrupted_one(tiny_config, tmp_path, monkeypatch):
    from tests.resume import killed_and_resumed

    overrides = [*DAPD, *TINY_MT10, "scale.episode_length=15", "success_mode=any", "seeds=1"]  # killed at step 10 of 15
    resumed, straight = killed_and_resumed(tiny_config, overrides, tmp_path, monkeypatch, die_at=1)
    assert resumed["curves"]["returns"] == straight["curves"]["returns"]
    assert resumed["curves"]["success"] == straight["curves"]["success"]
    assert resumed["method_summary"] == straight["method_summary"]
