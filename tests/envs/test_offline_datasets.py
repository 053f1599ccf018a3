"""D4RL-layout files: round trip, qlearning_dataset semantics, and refusal of malformed files."""
import h5py
import numpy as np
import pytest

from plasticbench.envs.offline import (DatasetError, checked_scenario, content_hash, qlearning_dataset, read_dataset,
                                       write_d4rl)
from tests.offline_data import HOPPER_ACT, HOPPER_OBS, small_arrays, write_small_dataset


def test_a_written_file_reads_back_identically_with_its_metadata(tmp_path):
    path = write_small_dataset(tmp_path)
    raw, metadata = read_dataset(path, HOPPER_OBS, HOPPER_ACT)
    for key, value in small_arrays().items():
        np.testing.assert_array_equal(raw[key], value)
    assert metadata["policy_return"] == 12.5 and metadata["content_sha256"] == content_hash(raw)


def test_qlearning_dataset_on_a_hand_made_six_row_file():
    """Rows 0-2 one episode cut by time at row 2, rows 3-5 a second one ending on a terminal at row 4."""
    obs = np.arange(6, dtype=np.float32)[:, None] * np.ones((1, 2), dtype=np.float32)
    raw = {"observations": obs, "actions": np.arange(6, dtype=np.float32)[:, None] / 10,
           "rewards": np.arange(6, dtype=np.float32), "terminals": np.array([0, 0, 0, 0, 1, 0], dtype=bool),
           "timeouts": np.array([0, 0, 1, 0, 0, 0], dtype=bool)}
    t = qlearning_dataset(raw)
    # row 2 (timeout) is dropped, row 5 (the last row) has no next observation
    np.testing.assert_array_equal(t["obs"][:, 0], [0, 1, 3, 4])
    np.testing.assert_array_equal(t["next_obs"][:, 0], [1, 2, 4, 5])
    np.testing.assert_array_equal(t["reward"][:, 0], [0, 1, 3, 4])
    np.testing.assert_array_equal(t["done"][:, 0], [0, 0, 0, 1])
    np.testing.assert_array_equal(t["episode_end"], [False, True, False, True])


def test_without_timeouts_episodes_are_cut_at_the_d4rl_limit():
    n = 2003
    raw = {"observations": np.zeros((n, 1), np.float32), "actions": np.zeros((n, 1), np.float32),
           "rewards": np.arange(n, dtype=np.float32), "terminals": np.zeros(n, bool)}
    t = qlearning_dataset(raw)
    assert 999 not in t["reward"] and 1999 not in t["reward"] and len(t["reward"]) == n - 1 - 2


@pytest.mark.parametrize("change,key", [
    ({"terminals": None}, "terminals"),
    ({"observations": None}, "observations"),
    ({"actions": np.zeros((300, 4), np.float32)}, "actions"),
    ({"observations": np.zeros((300, 12), np.float32)}, "observations"),
    ({"timeouts": np.zeros(299, bool)}, "timeouts"),
    ({"rewards": np.where(np.arange(300) == 7, np.nan, 1.0).astype(np.float32)}, "rewards"),
])
def test_a_malformed_file_is_refused_naming_the_key_and_the_file(tmp_path, change, key):
    path = write_small_dataset(tmp_path, **change)
    with pytest.raises(DatasetError, match=f"{path}.*'{key}'"):
        read_dataset(path, HOPPER_OBS, HOPPER_ACT)


def test_a_truncated_or_altered_file_is_refused(tmp_path):
    path = write_small_dataset(tmp_path)
    data = path.read_bytes()
    truncated = tmp_path / "hopper_medium.hdf5"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetError, match="cannot be read"):
        read_dataset(truncated, HOPPER_OBS, HOPPER_ACT)
    with h5py.File(path, "r+") as f:
        f["rewards"][3] = 99.0
    with pytest.raises(DatasetError, match="content_sha256"):
        read_dataset(path, HOPPER_OBS, HOPPER_ACT)


def test_the_scenario_records_the_content_hash_and_the_d4rl_range(tmp_path):
    path = write_small_dataset(tmp_path)
    scenario = checked_scenario("hopper_random", path)
    assert scenario.setting == "offline" and scenario.offline_data.source == "local"
    assert scenario.offline_data.sha256 == content_hash(read_dataset(path, HOPPER_OBS, HOPPER_ACT)[0])
    assert (scenario.offline_data.ref_min, scenario.offline_data.ref_max) == (-20.272305, 3234.3)
    with pytest.raises(DatasetError, match="does not exist"):
        checked_scenario("hopper_expert", tmp_path / "missing.hdf5")
