"""The random policy's record (R_random): seed-independent, learner-independent, stored once, CLI-reachable."""
import numpy as np

from plasticbench.benchmark.cli import main
from plasticbench.benchmark.random_policy import measure_random, random_config, task_returns
from tests.conftest import TINY


def _config(tmp_path, *extra):
    return random_config([*TINY, "method=random", "suite=halfcheetah", "scale=smoke", f"results_dir={tmp_path}", *extra])


def test_seeds_measured_together_equal_seeds_measured_alone(tmp_path):
    together = task_returns(_config(tmp_path, "seeds=[0,1,2]"))
    for i, seed in enumerate([0, 1, 2]):
        np.testing.assert_array_equal(together[i], task_returns(_config(tmp_path, f"seeds=[{seed}]"))[0])
    assert len(set(together[:, 0].tolist())) == 3  # each seed its own stream and environment


def test_one_record_serves_every_learner_and_is_measured_once(tmp_path, capsys):
    sac, td3 = _config(tmp_path, "learner=sac"), _config(tmp_path, "learner=td3", "learner.hidden=[8]")
    assert sac.run_id == td3.run_id  # nothing is trained: the learner plays no part
    assert _config(tmp_path, "scale.eval_episodes=2").run_id != sac.run_id  # the evaluation protocol does
    assert main(["run", *TINY, "method=random", "suite=halfcheetah", "scale=smoke", "seeds=2", f"results_dir={tmp_path}"]) == 0
    record = measure_random(_config(tmp_path, "seeds=2"))
    assert (record["method"], record["learner"], np.shape(record["final_returns"])) == ("random", "none", (2, 1))
    assert record["normalization"]["published_returns"] == [12135.0 * 50 / 1000]  # D4RL's, prorated to 50 steps
    assert "scores per seed" in capsys.readouterr().out
