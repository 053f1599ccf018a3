"""Continual World metrics (metrics-benchmark.md §4) against hand-computed values, both success modes."""

import math

import numpy as np
import pytest

from plasticbench.benchmark.metrics.continual_world import (average_performance, balanced_reference, forgetting,
                                                           forward_transfer, group_forward_transfer, window_auc)
from plasticbench.benchmark.reporting.cw_bootstrap import forward_transfer_interval, mean_interval

NAN = np.nan
STEPS = np.arange(10, 130, 10)  # 12 evaluations, 6 per task; the one at 60 is task 0's end (every task)
BOUNDS = [(0, 60), (60, 120)]
ANY = np.array([  # [E, N] success when any step of an episode succeeded
    [0.1, 0.3, 0.5, 0.7, 0.9, 0.9, 0.8, 0.6, 0.6, 0.4, 0.4, 0.2],
    [NAN, NAN, NAN, NAN, NAN, 0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.0],
]).T
LAST = np.array([  # [E, N] success at the last step: 0.1 lower wherever ANY is positive
    [0.0, 0.2, 0.4, 0.6, 0.8, 0.8, 0.7, 0.5, 0.5, 0.3, 0.3, 0.1],
    [NAN, NAN, NAN, NAN, NAN, 0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 0.9],
]).T
# Hand values. End of run: the last 5 evaluations (steps 80..120). Own end: the last 5 of the task's
# own window (task 0: steps 20..60; task 1: 80..120). AUC: every point of the own window
# (task 0: 10..60; task 1: 70..120, the 0.0 at step 60 being task 0's end).
HAND = {
    "any": {"P": ((0.6 + 0.6 + 0.4 + 0.4 + 0.2) / 5 + (0.4 + 0.6 + 0.8 + 1.0 + 1.0) / 5) / 2,  # (0.44 + 0.76) / 2
            "F": ((0.3 + 0.5 + 0.7 + 0.9 + 0.9) / 5 - 0.44 + 0.0) / 2,  # the last task's 0 is averaged in
            "AUC": [3.4 / 6, 4.0 / 6]},
    "last": {"P": (1.7 / 5 + 3.3 / 5) / 2, "F": (2.8 / 5 - 1.7 / 5 + 0.0) / 2, "AUC": [2.8 / 6, 3.4 / 6]},
}
REF_AUC = np.array([[0.0, 0.4], [0.5, 0.6]])  # two reference seeds: means 0.25 and 0.5


def _step_flags(any_table: np.ndarray, last_table: np.ndarray) -> np.ndarray:
    """[E, N, 10 episodes, 2 steps]: in episode j, step 0 succeeds for j < 10 any, step 1 for j < 10 last."""
    episodes = np.arange(10)[None, None, :]
    first = episodes < np.round(np.nan_to_num(any_table) * 10)[..., None]
    last = episodes < np.round(np.nan_to_num(last_table) * 10)[..., None]
    return np.stack([first | last, last], axis=-1)


def _success_rate(flags: np.ndarray, mode: str) -> np.ndarray:
    """scenarios.md §2.2: an episode succeeds if `success` was set at any step (CW) or at its last (Rewire)."""
    return (flags.any(axis=-1) if mode == "any" else flags[..., -1]).mean(axis=-1)


@pytest.mark.parametrize("mode", ["any", "last"])
def test_metrics_on_a_hand_made_success_table_equal_hand_values(mode):
    flags = _step_flags(ANY, LAST)
    table = np.where(np.isnan(ANY), NAN, _success_rate(flags, mode))  # [E, N], not evaluated stays NaN
    np.testing.assert_allclose(table, ANY if mode == "any" else LAST)
    success = table[None]  # one seed
    assert average_performance(success)[0] == pytest.approx(HAND[mode]["P"])
    assert forgetting(success, STEPS, BOUNDS)[0] == pytest.approx(HAND[mode]["F"])
    auc = window_auc(success, STEPS, BOUNDS)
    np.testing.assert_allclose(auc[0], HAND[mode]["AUC"])
    hand_ft = ((HAND[mode]["AUC"][0] - 0.25) / 0.75 + (HAND[mode]["AUC"][1] - 0.5) / 0.5) / 2
    assert forward_transfer(auc, REF_AUC)[0] == pytest.approx(hand_ft)


def test_forward_transfer_averages_over_seeds_first():
    """CW's `normalized_ft` takes the seed means inside the ratio; the other orders give other numbers."""
    auc, ref = np.array([[0.4], [0.6]]), np.array([[0.0], [0.5]])
    cw = (0.5 - 0.25) / (1 - 0.25)
    assert group_forward_transfer(auc, ref) == pytest.approx(cw)
    assert forward_transfer(auc, ref).mean() == pytest.approx(cw)  # per-seed values average to CW's
    ratio_per_reference_seed = np.mean([(0.5 - y) / (1 - y) for y in (0.0, 0.5)])  # 0.25
    ratio_per_seed_pair = np.mean([(x - y) / (1 - y) for x, y in ((0.4, 0.0), (0.6, 0.5))])  # 0.3
    assert not math.isclose(cw, ratio_per_reference_seed) and not math.isclose(cw, ratio_per_seed_pair)


def test_a_task_window_excludes_the_previous_task_end_evaluation():
    success = ANY[None].copy()
    success[0, 5, 1] = 1.0  # task 1 measured at task 0's end (step 60): not part of task 1's window
    assert window_auc(success, STEPS, BOUNDS)[0, 1] == pytest.approx(4.0 / 6)
    assert forgetting(success, STEPS, BOUNDS)[0] == pytest.approx(HAND["any"]["F"])


def test_reference_is_balanced_to_the_smallest_seed_count_over_tasks():
    ref = np.array([[0.1, 0.2], [NAN, 0.4], [0.3, 0.6]])
    np.testing.assert_array_equal(balanced_reference(ref), [[0.1, 0.2], [0.3, 0.4]])


def test_a_reference_at_the_ceiling_is_left_out_not_divided_by_zero():
    assert group_forward_transfer(np.array([[0.5, 0.5]]), np.array([[1.0, 0.0]])) == pytest.approx(0.5)
    point, low, high = forward_transfer_interval(np.array([[0.5, 0.5], [0.7, 0.3]]), np.array([[1.0, 0.0], [1.0, 0.5]]))
    assert np.isfinite([point, low, high]).all()


def test_cw_interval_is_its_plain_bootstrap_reproducible_and_covers_the_mean():
    values = np.array([0.1, 0.5, 0.4, 0.9, 0.35, 0.6])
    saved = np.random.get_state()
    try:  # CW's draws: np.random.seed(0), then choice(n, (4000, n)) for all resamples at once
        np.random.seed(0)
        means = values[np.random.choice(values.size, (4000, values.size))].mean(axis=1)
    finally:
        np.random.set_state(saved)
    expected = np.quantile(means, [0.05, 0.95], method="midpoint")
    point, low, high = mean_interval(values)
    assert point == pytest.approx(values.mean()) and (low, high) == pytest.approx(tuple(expected), abs=0)
    assert mean_interval(values) == (point, low, high)
    assert low <= point <= high and low < high


def test_forward_transfer_interval_resamples_runs_then_references_independently():
    rng = np.random.RandomState(7)
    auc, ref = rng.rand(5, 3) * 0.8, rng.rand(4, 3) * 0.8
    draws = np.random.RandomState(0)
    x = auc[draws.choice(5, (4000, 5))].mean(axis=1)  # [4000, N]
    y = ref[draws.choice(4, (4000, 4))].mean(axis=1)
    expected = np.quantile(((x - y) / (1 - y)).mean(axis=1), [0.05, 0.95], method="midpoint")
    point, low, high = forward_transfer_interval(auc, ref)
    assert point == pytest.approx(group_forward_transfer(auc, ref))
    assert (low, high) == pytest.approx(tuple(expected)) and low <= point <= high


def test_equal_to_continual_worlds_own_code_on_a_seeded_log():
    """The numbers below were produced by CW's own results code (awarelab/continual_world @73f63bb,
    results_processing/tables.py: calculate_forgetting_individual, compute_mean_and_ci,
    calculate_forward_transfer; patched only for numpy 2 / pandas 2 API changes) on this same log
    written as its progress DataFrames: 7 runs, 4 tasks of 12 evaluations, every task evaluated at
    every point as CW does, and 5 single-task reference runs per task (experiment ids in seed order)."""
    rng = np.random.RandomState(3)
    steps = np.array([t * 120 + (k + 1) * 10 for t in range(4) for k in range(12)])
    bounds = [(t * 120, (t + 1) * 120) for t in range(4)]
    success = np.round(rng.rand(7, 48, 4), 1)  # [S, E, N]
    ref_auc = np.round(rng.rand(5, 12, 4) * 0.8, 1).mean(axis=1)  # [R, N]: each reference run's mean
    cw = {"P": (0.5135714285714286, 0.4907142857142857, 0.5328571428571428),
          "F": (-0.009285714285714286, -0.042857142857142864, 0.021428571428571408),
          "FT": (0.1677206534107813, 0.12752093566521933, 0.20499943848355423)}
    np.testing.assert_allclose(mean_interval(average_performance(success)), cw["P"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(mean_interval(forgetting(success, steps, bounds)), cw["F"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(forward_transfer_interval(window_auc(success, steps, bounds), ref_auc), cw["FT"],
                               rtol=0, atol=1e-12)
