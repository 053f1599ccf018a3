"""Multitask runs end to end (benchmark/multitask_loop.py): every task at once with its one-hot id,
evaluated per task; the replay layout DAPD's per-task batches rely on; seeds; resume; the grid."""
import pytest
import torch

from plasticbench.benchmark import runner
from plasticbench.benchmark.cli import main
from plasticbench.benchmark.suite import grid
from plasticbench.envs.catalog import get_scenario
from tests.seeds import assert_same_seed_record

T, STEPS = 4, 40
TINY_MT = ["suite=halfcheetah_mt", "scale=smoke", f"scale.steps_per_task={STEPS}", "scale.eval_every=20",
           "scale.checkpoint_every=20", "scale.learning_starts=8", "scale.episode_length=10"]
DAPD = ["method=dapd", "learner=sac", "method.keep_ratio=0.3", "method.score_batch=8", "method.window=20"]


def test_each_tasks_observation_ends_in_its_one_hot():
    scenario = get_scenario("halfcheetah_mt")
    assert scenario.multitask and len(scenario.tasks) == T and scenario.obs_dim == 17 + T
    for task in scenario.tasks:
        obs, _ = task.make(5).reset(seed=0)
        assert obs[-T:].tolist() == [float(i == task.index) for i in range(T)]


@pytest.fixture(scope="module")
def dapd_run(tmp_path_factory):
    from plasticbench.benchmark.config import load_run_config
    from tests.conftest import TINY

    config = load_run_config([*TINY, f"results_dir={tmp_path_factory.mktemp('mt')}", *DAPD, *TINY_MT, "seeds=[0,1]"])
    run = runner.Run(config, progress=False)
    return run, run.execute()


def test_a_multitask_run_trains_every_task_at_once_and_evaluates_each(dapd_run):
    run, record = dapd_run
    assert record["setting"] == "multitask" and record["task_bounds"] == [[0, STEPS]] * T
    assert record["curves"]["steps"] == [20, STEPS]
    assert all(len(row) == T and all(len(r) == 2 for r in row) for row in record["curves"]["returns"])
    assert run.learner.env_steps == T * STEPS and run.learner.updates > 0  # every task its budget
    summary = record["method_summary"]
    episodes = STEPS // 10
    assert summary["mask_updates"] == [T + T * episodes] * 2  # initial masks per task, then each task's episode ends
    assert all(len(summary["pathway_weights"][role]) == T for role in ("actor", "critic"))
    assert record["task_matrix"][0] == record["task_matrix"][-1]  # every task ends at the same step


def test_the_replay_rows_cycle_through_the_tasks(dapd_run):
    buffer = dapd_run[0].learner.buffer
    assert buffer.capacity % T == 0
    tasks = buffer.storage["obs"][:, : buffer.size, -T:].argmax(-1)
    assert (tasks == torch.arange(buffer.size) % T).all()


def test_seeds_of_a_multitask_run_equal_single_seed_runs(dapd_run, tiny_config):
    _, both = dapd_run
    for index, seed in enumerate([0, 1]):
        single = runner.run(tiny_config(*DAPD, *TINY_MT, f"seeds=[{seed}]"), progress=False)
        assert_same_seed_record(both, index, single, 0)


def test_a_multitask_run_killed_and_resumed_equals_an_uninterrupted_one(tiny_config, tmp_path, monkeypatch):
    from tests.resume import killed_and_resumed

    resumed, straight = killed_and_resumed(tiny_config, [*DAPD, *TINY_MT, "seeds=1"], tmp_path, monkeypatch, die_at=1)
    assert resumed["curves"]["returns"] == straight["curves"]["returns"]
    assert resumed["method_summary"] == straight["method_summary"]


def test_only_methods_declaring_multitask_run_on_a_multitask_suite(tmp_path, capsys):
    cells = grid("smoke", suites=["halfcheetah_mt"])
    methods = {c[0] for c in cells if len(c) > 3}
    assert methods == {"method=ft1", "method=dapd"} and {c[1] for c in cells if len(c) > 3} == {"learner=sac", "learner=td3"}
    assert main(["run", "method=ewc", "learner=sac", "suite=halfcheetah_mt", f"results_dir={tmp_path / 'r'}"]) == 2
    assert "multitask" in capsys.readouterr().err and not (tmp_path / "r").exists()


def test_task_rows_find_each_tasks_rows_after_the_ring_wraps():
    from plasticbench.baselines.multitask_replay import task_rows, task_size
    from plasticbench.baselines.replay import ReplayBuffer

    buffer, tasks = ReplayBuffer(1, 6, 3, 1, "cpu"), 2
    for step in range(9):  # 4.5 multitask steps of 2 tasks into 6 rows: the ring wrapped
        obs = torch.tensor([[float(step // tasks), float(step % tasks == 0), float(step % tasks == 1)]])
        buffer.add(obs, torch.zeros(1, 1), torch.zeros(1), obs, torch.zeros(1))
    assert task_size(buffer, tasks) == 3
    back = torch.arange(3)[None]
    for task, newest_step in ((0, 4), (1, 3)):  # the last step stored task 0 only
        rows = buffer.gather(task_rows(buffer, tasks, task, back)).obs[0]
        assert rows[:, 1 + task].tolist() == [1.0] * 3
        assert rows[:, 0].tolist() == [newest_step, newest_step - 1, newest_step - 2]
