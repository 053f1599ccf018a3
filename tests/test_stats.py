"""Aggregate statistics against exact values on tiny hand-built matrices (as rliable's tests do)."""

import numpy as np
import pytest
from scipy.stats import trim_mean
import rliable.metrics as rly_metrics  # imports without arch; used only as a cross-check

from plasticbench.benchmark.reporting.stats import (
    interval_estimate,
    iqm,
    mean,
    median,
    optimality_gap,
    probability_of_improvement,
    stratified_resamples,
)

TWELVE = np.arange(1.0, 13.0).reshape(4, 3)  # [runs=4, tasks=3], entries 1..12


def test_iqm_pools_all_entries():
    assert iqm(TWELVE) == pytest.approx(6.5)  # drop 1..3 and 10..12, mean of 4..9
    assert iqm(np.array([0.0, 1.0, 2.0, 100.0])) == pytest.approx(1.5)  # 1-D is [runs, 1]


@pytest.mark.parametrize("shape", [(1, 1), (3, 1), (5, 3), (7, 2), (10, 5)])
def test_iqm_matches_scipy_trim_mean(shape):
    x = np.random.RandomState(sum(shape)).randn(*shape)
    assert iqm(x) == pytest.approx(trim_mean(x, 0.25, axis=None))


def test_mean_and_median_of_task_means():
    x = np.array([[0.0, 0.0, 3.0], [0.0, 2.0, 3.0]])  # task means 0, 1, 3
    assert mean(x) == pytest.approx(4.0 / 3.0)
    assert median(x) == pytest.approx(1.0)


def test_optimality_gap():
    x = np.array([[0.5, 1.5], [0.0, 1.0]])  # clipped to 0.5, 1, 0, 1 -> mean 0.625
    assert optimality_gap(x) == pytest.approx(0.375)
    assert optimality_gap(x, gamma=2.0) == pytest.approx(2.0 - 0.75)


def test_probability_of_improvement_hand_values():
    same = np.array([[1.0, 5.0], [2.0, 6.0], [3.0, 7.0]])
    assert probability_of_improvement(same, same) == 0.5
    assert probability_of_improvement(same + 10.0, same) == 1.0
    assert probability_of_improvement(same, same + 10.0) == 0.0
    # pairs (2,2) tie, (2,1), (3,2), (3,1) greater: 3.5 / 4; different run counts allowed
    assert probability_of_improvement(np.array([2.0, 3.0]), np.array([2.0, 1.0])) == pytest.approx(0.875)
    assert probability_of_improvement(np.array([1.0, 3.0]), np.array([2.0])) == pytest.approx(0.5)


def test_probability_of_improvement_matches_rliable():
    rng = np.random.RandomState(3)
    x, y = rng.randint(0, 4, size=(5, 3)).astype(float), rng.randint(0, 4, size=(7, 3)).astype(float)
    assert probability_of_improvement(x, y) == pytest.approx(rly_metrics.probability_of_improvement(x, y))


def test_probability_of_improvement_rejects_task_mismatch():
    with pytest.raises(ValueError, match="same number of tasks"):
        probability_of_improvement(np.ones((3, 2)), np.ones((3, 3)))


def test_stratified_resamples_stay_within_each_task():
    x = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])
    samples = stratified_resamples(x, 50, np.random.RandomState(0))  # [reps, runs, tasks]
    assert samples.shape == (50, 3, 2)
    assert set(np.unique(samples[:, :, 0])) <= {1.0, 2.0, 3.0}
    assert set(np.unique(samples[:, :, 1])) <= {10.0, 20.0, 30.0}
    # rows are drawn per task, not shared: some resample pairs run i of task 0 with run j != i of task 1
    assert np.any(samples[:, :, 1] != 10.0 * samples[:, :, 0])


def test_interval_estimate_is_reproducible_and_seeded():
    x = np.random.RandomState(1).rand(6, 3)
    first = interval_estimate(x, iqm, reps=500, seed=0)
    assert first == interval_estimate(x, iqm, reps=500, seed=0)
    assert first != interval_estimate(x, iqm, reps=500, seed=1)
    point, low, high = first
    assert point == iqm(x) and low <= point <= high


def test_interval_estimate_hand_case():
    # two runs 0 and 1: bootstrap means are 0, 0.5, 1 with prob 1/4, 1/2, 1/4 -> 95% CI [0, 1]
    assert interval_estimate(np.array([0.0, 1.0]), mean, reps=2000) == (0.5, 0.0, 1.0)
    assert interval_estimate(np.full((4, 2), 0.3), iqm) == pytest.approx((0.3, 0.3, 0.3))


def test_interval_estimate_rejects_bad_arguments():
    with pytest.raises(ValueError, match="confidence"):
        interval_estimate(np.ones(3), mean, confidence=95)
    with pytest.raises(ValueError, match="non-empty"):
        interval_estimate(np.ones((0, 2)), mean)


def test_performance_profile_at_known_thresholds():
    from plasticbench.benchmark.reporting.stats import performance_profile, performance_profile_interval

    x = np.array([[0.0, 1.0], [2.0, 3.0]])  # entries 0, 1, 2, 3
    assert performance_profile(x, np.array([-1.0, 0.0, 1.5, 3.0])).tolist() == [1.0, 0.75, 0.5, 0.0]
    profile, low, high = performance_profile_interval(np.full((3, 2), 0.5), np.array([0.0, 1.0]), reps=100)
    assert profile.tolist() == low.tolist() == high.tolist() == [1.0, 0.0]


def test_probability_of_improvement_interval_identical_sets():
    from plasticbench.benchmark.reporting.stats import probability_of_improvement_interval

    x = np.array([[1.0, 5.0], [2.0, 6.0], [3.0, 7.0]])
    point, low, high = probability_of_improvement_interval(x, x, reps=500)
    assert point == 0.5 and low <= 0.5 <= high
    assert probability_of_improvement_interval(x + 10.0, x, reps=200) == (1.0, 1.0, 1.0)


def test_interval_estimates_share_resamples_with_interval_estimate():
    from plasticbench.benchmark.reporting.stats import interval_estimates

    x = np.random.RandomState(2).rand(5, 3)
    both = interval_estimates(x, {"iqm": iqm, "median": median}, reps=300, seed=4)
    assert both["iqm"] == pytest.approx(interval_estimate(x, iqm, reps=300, seed=4))
    assert both["median"] == pytest.approx(interval_estimate(x, median, reps=300, seed=4))


def test_bootstrap_shortcuts_equal_explicit_resampling():
    """The profile and PoI bands re-weight the original runs by draw counts instead of building each
    resample; they must equal the statistic computed on explicit stratified resamples (same draws)."""
    from plasticbench.benchmark.reporting.stats import _poi_resampled, performance_profile, performance_profile_interval

    rng = np.random.RandomState(7)
    x, y = rng.rand(6, 3).round(1), rng.rand(4, 3).round(1)  # rounded: ties occur
    taus = np.linspace(0.0, 1.0, 11)
    _, low, high = performance_profile_interval(x, taus, reps=200, seed=3)
    explicit = np.stack([performance_profile(s, taus) for s in stratified_resamples(x, 200, np.random.RandomState(3))])
    assert np.allclose(low, np.percentile(explicit, 2.5, axis=0)) and np.allclose(high, np.percentile(explicit, 97.5, axis=0))

    draws = np.random.RandomState(5)
    xs, ys = stratified_resamples(x, 100, draws), stratified_resamples(y, 100, draws)
    explicit_poi = [probability_of_improvement(a, b) for a, b in zip(xs, ys)]
    assert np.allclose(_poi_resampled(x, y, 100, 5), explicit_poi)


@pytest.mark.filterwarnings("ignore:random_state is deprecated:FutureWarning")  # arch's, under rliable
def test_intervals_agree_with_rliable_library():
    """Our stratified percentile bootstrap against rliable's own (arch's bootstrap, other draws):
    with 5,000 resamples both estimate the same percentiles, so the bounds agree to Monte-Carlo error.
    rliable.library needs arch 7 with pandas < 3 (the dev extra pins it); the leaderboard never does."""
    import rliable.library as library  # the dev extra makes this importable: a failure here is a failure
    from plasticbench.benchmark.reporting.stats import interval_estimates

    x = np.random.RandomState(11).normal(1.0, 0.3, size=(10, 3))
    ours = interval_estimates(x, {"IQM": iqm, "Mean": mean, "Optimality gap": optimality_gap}, reps=5000, seed=1)
    aggregate = lambda s: np.array([rly_metrics.aggregate_iqm(s), rly_metrics.aggregate_mean(s),  # noqa: E731
                                    rly_metrics.aggregate_optimality_gap(s)])
    points, cis = library.get_interval_estimates({"m": x}, aggregate, reps=5000, random_state=np.random.RandomState(1))
    for i, name in enumerate(ours):
        point, low, high = ours[name]
        assert point == pytest.approx(points["m"][i])
        assert low == pytest.approx(cis["m"][0, i], abs=0.01) and high == pytest.approx(cis["m"][1, i], abs=0.01)
