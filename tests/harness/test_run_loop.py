"""End-to-end properties of a run: seed independence, resume after a kill, record contents."""
import json

import numpy as np
import pytest

from plasticbench.benchmark.runner import run
from plasticbench.benchmark.store import RunStore
from tests.resume import killed_and_resumed
from tests.seeds import assert_same_seed_record


@pytest.mark.parametrize("learner", ["sac", "td3"])
def test_four_seeds_in_one_run_equal_four_single_seed_runs(tiny_config, learner, tmp_path):
    together = run(tiny_config(f"learner={learner}", "suite=halfcheetah", "seeds=[0,1,2,3]"), progress=False)
    for i, seed in enumerate([0, 1, 2, 3]):
        alone = run(tiny_config(f"learner={learner}", "suite=halfcheetah", f"seeds=[{seed}]"), progress=False)
        assert_same_seed_record(together, i, alone, 0)  # bit for bit: README, "Seeds"


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
    # every task seen so far is evaluated at every evaluation point, unseen ones are null
    first_eval = record["curves"]["returns"][0]
    assert first_eval[0] is not None and all(v is None for v in first_eval[1:])


def _positive(values):
    """Returns made positive, keeping the nesting (None = task not evaluated yet)."""
    if values is None:
        return None
    return [_positive(v) for v in values] if isinstance(values, list) else abs(values) + 1.0


def test_scores_are_normalized_by_a_sac_n_record_when_one_exists(tiny_config):
    reference = run(tiny_config("method=sac_n", "suite=halfcheetah_forgetting", "seeds=2"), progress=False)
    assert np.any(np.mean(reference["final_returns"], axis=0) <= 0)  # tiny HalfCheetah runs lose reward ...
    raw = run(tiny_config("method=ft1", "suite=halfcheetah_forgetting", "seeds=2"), progress=False)
    assert raw["normalization"]["kind"] == "raw"  # ... and a non-positive reference cannot scale returns
    assert raw["metrics"]["forward_transfer"] == [None, None]

    config = tiny_config("method=ft_n", "suite=halfcheetah_forgetting", "seeds=2")
    reference["final_returns"] = _positive(reference["final_returns"])  # a reference that did learn
    reference["curves"]["returns"] = _positive(reference["curves"]["returns"])
    RunStore(config.results_dir, reference["run_id"]).write_record(reference)
    record = run(config, progress=False)
    assert record["normalization"]["kind"] == "reference"
    assert record["normalization"]["source"] == f"sac_n:{reference['run_id']}"
    ref = np.mean(reference["final_returns"], axis=0)
    expected = np.mean(np.array(record["final_returns"]) / ref, axis=1)
    np.testing.assert_allclose(record["scores"], expected, rtol=1e-6)
    assert all(ft is not None for ft in record["metrics"]["forward_transfer"])
