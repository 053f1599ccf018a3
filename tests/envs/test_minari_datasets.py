"""Minari datasets from a local folder: real files written by minari's DataCollector, transitions as
minari's own reader gives them, discovery through the dataset folder, and refusal of bad folders."""
import json
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from plasticbench.benchmark.cli import main
from plasticbench.envs.offline import (DATASET_DIR_VARIABLE, DatasetError, available_suites, checked_scenario,
                                       content_hash, qlearning_dataset, read_dataset)

HOPPER_OBS, HOPPER_ACT = 11, 3
EPISODES, LIMIT = 4, 9


@pytest.fixture(scope="module")
def minari_hopper(tmp_path_factory) -> Path:
    """A Minari dataset of 4 random Hopper-v5 episodes cut at 9 steps, written by minari itself."""
    import gymnasium as gym
    import minari
    from minari import DataCollector

    store = tmp_path_factory.mktemp("minari_store")
    env = DataCollector(gym.make("Hopper-v5", max_episode_steps=LIMIT))
    env.action_space.seed(0)
    for episode in range(EPISODES):
        env.reset(seed=episode)
        done = False
        while not done:
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            done = terminated or truncated
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MINARI_DATASETS_PATH", str(store))
        env.create_dataset(dataset_id="test/hopper/tiny-v0", algorithm_name="random")
    folder = store / "test" / "hopper" / "tiny-v0"
    assert minari.MinariDataset(folder / "data").total_episodes == EPISODES
    return folder


def copy_of(dataset: Path, where: Path) -> Path:
    shutil.copytree(dataset, where)
    return where


def test_transitions_equal_those_of_minaris_own_reader_and_keep_every_step(minari_hopper):
    import minari

    raw, metadata = read_dataset(minari_hopper, HOPPER_OBS, HOPPER_ACT)
    t = qlearning_dataset(raw)
    episodes = list(minari.MinariDataset(minari_hopper / "data").iterate_episodes())
    expected = {"obs": np.concatenate([e.observations[:-1] for e in episodes]),
                "next_obs": np.concatenate([e.observations[1:] for e in episodes]),
                "action": np.concatenate([e.actions for e in episodes]),
                "reward": np.concatenate([e.rewards for e in episodes])[:, None],
                "done": np.concatenate([e.terminations for e in episodes])[:, None]}
    for key, value in expected.items():
        np.testing.assert_allclose(t[key], value.astype(np.float32), err_msg=key)
    # one trajectory per episode for IQL's return scaling: each ends where its episode ends
    np.testing.assert_array_equal(np.flatnonzero(t["episode_end"]), np.cumsum([len(e.rewards) for e in episodes]) - 1)
    assert metadata["format"] == "minari" and metadata["env_id"] == "Hopper-v5" and metadata["episodes"] == EPISODES


def test_a_minari_folder_is_a_suite_by_the_dataset_variable_and_by_dataset_key(minari_hopper, tmp_path, monkeypatch):
    folder = tmp_path / "datasets"
    copy_of(minari_hopper, folder / "hopper_medium")
    monkeypatch.setenv(DATASET_DIR_VARIABLE, str(folder))
    assert available_suites() == {"hopper_medium": ("hopper", "medium")}
    by_variable = checked_scenario("hopper_medium", None)
    by_key = checked_scenario("hopper_expert", minari_hopper)
    raw, _ = read_dataset(minari_hopper, HOPPER_OBS, HOPPER_ACT)
    assert by_variable.offline_data.sha256 == by_key.offline_data.sha256 == content_hash(raw)
    assert by_variable.offline_data.source == "published"  # not built by `plasticbench dataset collect`


def _edit_episode(folder: Path, episode: str, key: str, value) -> None:
    with h5py.File(folder / "data" / "main_data.hdf5", "r+") as f:
        del f[episode][key]
        if value is not None:
            f[episode].create_dataset(key, data=value)


def _edit_metadata(folder: Path, **changes) -> None:
    path = folder / "data" / "metadata.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


BAD = {
    "missing terminations": (lambda f: _edit_episode(f, "episode_1", "terminations", None), "episode_1/terminations"),
    "NaN reward": (lambda f: _edit_episode(f, "episode_0", "rewards", np.full(LIMIT, np.nan)), "episode_0/rewards"),
    "no final observation": (lambda f: _edit_episode(f, "episode_2", "observations", np.zeros((LIMIT, 11))),
                             "episode_2/observations"),
    "other observation size": (lambda f: [_edit_episode(f, f"episode_{i}", "observations", np.zeros((LIMIT + 1, 17)))
                                          for i in range(EPISODES)], "observations"),
    "episode lost": (lambda f: _edit_metadata(f, total_episodes=EPISODES + 1), "total_episodes"),
    "other environment": (lambda f: _edit_metadata(f, env_spec=json.dumps({"id": "Walker2d-v5"})), "env_spec.id"),
    "arrow storage": (lambda f: _edit_metadata(f, data_format="arrow"), "data_format"),
    "no metadata": (lambda f: (f / "data" / "metadata.json").unlink(), "metadata.json"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_malformed_or_mismatched_minari_dataset_is_refused_naming_the_key_and_the_path(case, minari_hopper, tmp_path):
    folder = copy_of(minari_hopper, tmp_path / "hopper_medium")
    edit, key = BAD[case]
    edit(folder)
    with pytest.raises(DatasetError, match=f"{tmp_path}.*'{key}'"):
        checked_scenario("hopper_medium", folder)


def test_the_cli_refuses_a_bad_minari_dataset_before_any_work(minari_hopper, tmp_path, capsys):
    folder = copy_of(minari_hopper, tmp_path / "bad")
    _edit_episode(folder, "episode_3", "actions", np.zeros((LIMIT, 2), np.float32))
    results = tmp_path / "results"
    code = main(["run", "method=ft1", "learner=iql", "suite=hopper_medium", f"dataset={folder}", f"results_dir={results}"])
    err = capsys.readouterr().err
    assert code == 2 and "'episode_3/actions'" in err and str(folder) in err and not results.exists()


def test_an_offline_run_trains_on_a_minari_dataset_end_to_end(minari_hopper, tiny_config):
    from plasticbench.benchmark import runner

    config = tiny_config("method=ft1", "learner=iql", "suite=hopper_medium", f"dataset={minari_hopper}", "scale=smoke",
                         "seeds=2", "scale.eval_every=20", "scale.steps_per_task=20", "scale.episode_length=20")
    record = runner.run(config, progress=False)
    raw, _ = read_dataset(minari_hopper, HOPPER_OBS, HOPPER_ACT)
    assert record["dataset"]["format"] == "minari" and record["dataset"]["sha256"] == content_hash(raw)
    assert record["normalization"]["kind"] == "d4rl" and len(record["scores"]) == 2
