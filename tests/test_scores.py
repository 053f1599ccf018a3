"""Score normalization on hand-built returns: the clear-margin rule, the formula, the papers' ratio."""
import numpy as np
import pytest

from plasticbench.benchmark.reporting.scores import (MARGIN_FRACTION, References, TaskReference, normalize,
                                                     normalize_returns, paper_ratio, reference_learned)

RANDOM = np.array([[-10.0], [-12.0], [-8.0]])  # mean -10, standard error 2 / sqrt(3)


def test_reference_must_beat_random_by_three_standard_errors():
    se_gap = np.sqrt(4 / 3 + 4 / 3)  # Welch: both sides have sample variance 4 over 3 seeds
    close = np.array([[-10.0], [-12.0], [-8.0]]) + 2.9 * se_gap
    far = np.array([[-10.0], [-12.0], [-8.0]]) + 3.1 * se_gap
    assert not reference_learned(close, RANDOM)
    assert reference_learned(far, RANDOM)


def test_reference_must_beat_random_by_a_share_of_the_returns_size():
    # a published constant has no standard error; the gap of 6 is 6 / (4 + 10) = 0.43 of the size, 2 / 18 = 0.11 fails
    assert reference_learned(np.array([-4.0]), RANDOM)
    assert not reference_learned(np.array([-8.0]), RANDOM)
    assert MARGIN_FRACTION * (8 + 10) > 2.0


def test_one_task_without_a_margin_fails_the_whole_scenario():
    random = np.hstack([RANDOM, RANDOM])
    assert not reference_learned(np.array([100.0, -9.0]), random)
    assert not reference_learned(np.array([100.0, np.nan]), random)


def test_normalize_returns_maps_random_to_zero_and_reference_to_one():
    ref = TaskReference(random=np.array([-10.0, 0.0]), reference=np.array([90.0, 50.0]), kind="sac_n", learned=True)
    np.testing.assert_allclose(normalize_returns([[-10.0, 50.0], [40.0, 25.0]], ref), [[0.0, 1.0], [0.5, 0.5]])


def _record(method: str, final: list[list[float]], setting: str = "continual") -> dict:
    return {"method": method, "learner": "sac" if method != "random" else "none", "suite": "s", "scale": "smoke",
            "setting": setting, "family": "mujoco", "final_returns": final, "scores": [0.0] * len(final),
            "normalization": {"kind": "raw"}}


def test_normalize_falls_back_to_raw_without_a_random_record():
    refs = References(random={}, measured={("smoke", "s", "sac"): np.array([[100.0, 50.0]] * 3)})
    out = normalize(_record("ewc", [[1.0, 3.0]]), refs)
    assert out.kind == "raw" and not out.comparable and out.scores.tolist() == [2.0]


def test_paper_ratio_is_final_over_sac_n_and_undefined_for_a_non_positive_reference():
    refs = References(random={}, measured={("smoke", "s", "sac"): np.array([[100.0, 50.0], [100.0, 30.0]])})
    np.testing.assert_allclose(paper_ratio(_record("ewc", [[50.0, 40.0]]), refs), [(0.5 + 1.0) / 2])
    negative = References(random={}, measured={("smoke", "s", "sac"): np.array([[100.0, -5.0]])})
    assert paper_ratio(_record("ewc", [[50.0, 40.0]]), negative) is None
    assert paper_ratio(_record("ewc", [[50.0]], setting="online"), refs) is None


@pytest.mark.parametrize("gap", [1.0, 1e-9])
def test_a_tiny_gap_never_becomes_a_denominator(gap):
    refs = References(random={("smoke", "s"): RANDOM}, measured={("smoke", "s", "sac"): RANDOM + gap})
    out = normalize(_record("ewc", [[500.0]]), refs)
    assert out.kind == "reference not learned" and out.scores.tolist() == [500.0]
