"""Offline runs end to end on a small dataset the test builds: records, no environment steps, the grid."""
import numpy as np
import pytest

from plasticbench.benchmark import runner
from plasticbench.benchmark.cli import main
from plasticbench.benchmark.suite import grid
from plasticbench.envs.offline import DATASET_DIR_VARIABLE
from tests.offline_data import write_small_dataset

OFFLINE_TINY = ["suite=hopper_random", "scale=smoke", "seeds=2", "scale.eval_every=20", "scale.checkpoint_every=20",
                "scale.steps_per_task=40", "scale.episode_length=20"]
LEARNER_TINY = {"bcq": ["learner=bcq", "learner.vae_hidden=[16,16]", "learner.action_samples=5"], "iql": ["learner=iql"]}


@pytest.fixture
def datasets(tmp_path, monkeypatch):
    folder = tmp_path / "datasets"
    write_small_dataset(folder)
    monkeypatch.setenv(DATASET_DIR_VARIABLE, str(folder))
    return folder


class NoTrainingEnv:
    def __init__(self, *args, **kwargs):
        raise AssertionError("an offline learner built a training environment")


@pytest.mark.parametrize("learner", ["bcq", "iql"])
def test_offline_run_trains_on_the_dataset_only_and_records_d4rl_scores(learner, datasets, tiny_config, monkeypatch):
    monkeypatch.setattr(runner, "make_vector_env", NoTrainingEnv)
    config = tiny_config("method=ft1", *LEARNER_TINY[learner], *OFFLINE_TINY)
    run = runner.Run(config, progress=False)
    record = run.execute()
    assert run.learner.env_steps == 0 and run.learner.updates == 40
    assert record["setting"] == "offline" and record["normalization"]["kind"] == "d4rl"
    assert record["dataset"]["source"] == "local" and record["dataset"]["policy_return"] == 12.5
    raw = [seed[0] for seed in record["final_returns"]]
    expected = [(r + 20.272305) / (3234.3 + 20.272305) for r in raw]
    assert record["scores"] == pytest.approx(expected)
    assert record["normalization"]["episode_cap"] == 20  # scale.episode_length: a capped score says so
    assert len(record["curves"]["steps"]) == 2


def test_the_smoke_grid_holds_offline_cells_only_with_offline_learners(datasets):
    cells = [c for c in grid("smoke", suites=["hopper_random"])]
    learners = {c[1] for c in cells}
    assert learners == {"learner=bcq", "learner=iql"} and "method=ft1" in {c[0] for c in cells}
    assert not [c for c in grid("smoke", suites=["hopper"]) if c[1] in ("learner=bcq", "learner=iql")]
    assert "method=random" not in {c[0] for c in cells}  # D4RL's REF_MIN is R_random: nothing to measure
    assert "method=random" in {c[0] for c in grid("smoke", suites=["hopper"])}


def test_mismatched_learner_or_file_is_refused_before_any_work(datasets, tmp_path, capsys):
    results = tmp_path / "results"
    assert main(["run", "method=ft1", "learner=sac", "suite=hopper_random", f"results_dir={results}"]) == 2
    assert "learners for it: bcq, iql" in capsys.readouterr().err
    assert main(["run", "method=ft1", "learner=iql", "suite=hopper", f"results_dir={results}"]) == 2
    bad = write_small_dataset(tmp_path / "bad", kind="medium", terminals=None)
    assert main(["run", "method=ft1", "learner=iql", "suite=hopper_medium", f"dataset={bad}", f"results_dir={results}"]) == 2
    assert "'terminals'" in capsys.readouterr().err and not results.exists()


def test_list_suites_shows_a_present_dataset(datasets, capsys):
    assert main(["list", "suites"]) == 0
    assert "hopper_random" in capsys.readouterr().out


def test_an_offline_run_killed_and_resumed_equals_an_uninterrupted_one(datasets, tiny_config, tmp_path, monkeypatch):
    from tests.resume import killed_and_resumed

    resumed, straight = killed_and_resumed(tiny_config, ["method=ft1", *LEARNER_TINY["iql"], *OFFLINE_TINY],
                                           tmp_path, monkeypatch, die_at=1)
    assert resumed["curves"]["returns"] == straight["curves"]["returns"]


@pytest.mark.parametrize("kind", ["random", "medium", "medium-replay"])
def test_collect_writes_a_checked_dataset_that_a_run_accepts(kind, tmp_path, monkeypatch, tiny_config):
    from plasticbench.envs.offline import DatasetError, read_dataset

    monkeypatch.setenv(DATASET_DIR_VARIABLE, str(tmp_path / "data"))
    assert main(["dataset", "collect", "env=hopper", f"kind={kind}", "steps=60", "train_steps=40"]) == 0
    raw, meta = read_dataset(tmp_path / "data" / f"hopper_{kind}.hdf5", 11, 3)
    assert meta["source"] == "local" and meta["kind"] == kind and len(raw["rewards"]) == meta["rows"]
    assert meta["rows"] == (meta.get("medium_step") if kind == "medium-replay" else 60)
    assert kind == "random" or meta["policy_return"] is not None
    assert main(["dataset", "collect", "env=hopper", "kind=expertish"]) == 2


def test_collected_random_hopper_ends_episodes_on_terminals_and_keeps_every_other_row(tmp_path):
    from plasticbench.benchmark.dataset_collect import collect
    from plasticbench.envs.offline import qlearning_dataset, read_dataset

    path = collect("hopper", "random", steps=80, train_steps=1, output=tmp_path / "r.hdf5")
    raw, _ = read_dataset(path, 11, 3)
    t = qlearning_dataset(raw)
    assert raw["terminals"].any()  # a random hopper falls within 80 steps
    assert len(t["reward"]) == 79 - raw["timeouts"][:79].sum()
    np.testing.assert_array_equal(t["done"][:, 0], raw["terminals"][:79][~raw["timeouts"][:79]])


@pytest.mark.parametrize("learner", ["bcq", "iql"])
def test_dapd_runs_offline_with_single_shot_masks_and_records_its_pathway(learner, datasets, tiny_config):
    config = tiny_config("method=dapd", *LEARNER_TINY[learner], *OFFLINE_TINY)
    record = runner.run(config, progress=False)
    summary = record["method_summary"]
    assert summary["mask_updates"] == [1, 1] and summary["frozen_at_env_step"] == [0, 0]
    dense = summary["dense_params"]["actor"]
    assert all(a < 0.2 * dense for a in summary["active_params"]["actor"])  # 5% of weights + dense biases
    assert record["model_size"]["actor"] < 0.2


def test_dapd_runs_online_and_updates_masks_at_episode_ends(tiny_config):
    config = tiny_config("method=dapd", "learner=sac", "suite=hopper", "seeds=2", "scale.steps_per_task=120",
                         "scale.eval_every=60")
    record = runner.run(config, progress=False)
    summary = record["method_summary"]
    assert all(n > 1 for n in summary["mask_updates"]) and summary["frozen_at_env_step"] == [None, None]
    assert record["config"]["method_config"]["freeze_return"] == 2500.0  # the hopper threshold (dapd.md §5)
    assert all(f < summary["dense_flops_per_forward"]["critic"] for f in summary["flops_per_forward"]["critic"])


def test_an_offline_plan_counts_the_dataset_once_and_checkpoints_write_no_replay_chunks(datasets, tiny_config):
    from plasticbench.benchmark.memory_plan import plan_run

    overrides = ["method=ft1", *LEARNER_TINY["iql"], *OFFLINE_TINY]
    one, three = plan_run(tiny_config(*overrides, "seeds=1")), plan_run(tiny_config(*overrides, "seeds=3"))
    assert one.replay_bytes == three.replay_bytes and one.capacity == three.capacity  # shared by the seeds
    assert "one copy for all seeds" in three.line() and three.checkpoint_bytes == three.learner_bytes
    run = runner.Run(tiny_config(*overrides, "seeds=3"), progress=False)
    assert run.learner.buffer.size <= three.capacity
    assert 0 < run.learner.buffer.allocated_bytes() <= three.replay_bytes  # timeout rows are dropped when loaded
    run.execute()
    assert not list(run.store.replay_dir.glob("*"))
