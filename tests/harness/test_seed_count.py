"""A seed's record does not depend on how many seeds ran beside it, S = 1 included (issue #17),
with one torch thread and with two (baselines/batched.py, `batched_affine`)."""
import pytest
import torch

from plasticbench.benchmark.runner import run
from tests.seeds import assert_same_seed_record

CASES = [(learner, suite) for learner in ("sac", "td3") for suite in ("halfcheetah", "halfcheetah_forgetting")]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("learner,suite", CASES)
def test_seed_zero_is_bit_identical_whether_it_runs_alone_or_beside_one_or_two_others(tiny_config, learner, suite, threads):
    torch.set_num_threads(threads)  # the autouse fixture puts the thread count back
    records = [run(tiny_config(f"learner={learner}", f"suite={suite}", f"seeds={n}", "scale.steps_per_task=60", "scale.learning_starts=32", "learner.batch_size=27"),
                   progress=False) for n in (1, 2, 3)]
    for record in records[1:]:
        assert_same_seed_record(records[0], 0, record, 0)
