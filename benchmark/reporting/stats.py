"""Aggregate statistics over runs: rliable's metrics as pure numpy functions, with reproducible CIs.

Formulas: metrics-benchmark.md §7 (after google-research/rliable, rliable/metrics.py and
rliable/library.py; Agarwal et al. 2021). Every function takes a score matrix ``scores``
[runs, tasks] of normalized scores; a 1-D array is read as [runs, 1] (one task).

Why not call ``rliable.library.get_interval_estimates``: it imports ``arch.bootstrap``, and arch
7.2 (the newest rliable 1.2 allows) fails at import under pandas 3 (``deprecate_kwarg() missing
... 'new_arg_name'``), which a user's environment may well have; it also runs one Python call per
resample. The stratified percentile bootstrap is therefore implemented here, vectorized, drawing
every index from one ``numpy.random.RandomState(seed)`` so a regenerated leaderboard is
byte-identical. It follows rliable's semantics: runs are resampled with replacement
independently within each task (tasks are never resampled), and the interval is the percentile
interval of the aggregate over the resamples. ``tests/test_stats.py`` checks the intervals against
``rliable.library`` itself (the dev extra pins pandas < 3 for that) to Monte-Carlo error.
"""

from __future__ import annotations

import functools
from typing import Callable

import numpy as np

Aggregate = Callable[[np.ndarray], float]


def _as_matrix(scores: np.ndarray) -> np.ndarray:
    """[runs] -> [runs, 1]; [runs, tasks] unchanged; anything else or empty is an error."""
    x = np.asarray(scores, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"scores must be a non-empty [runs, tasks] or [runs] array, got shape {np.shape(scores)}")
    return x


def iqm(scores: np.ndarray) -> float:
    """Interquartile mean: 25% trimmed mean of all runs x tasks entries pooled (§7 "IQM").

    Same cut as ``scipy.stats.trim_mean(x, 0.25, axis=None)`` (int(0.25 n) entries dropped at each
    end), written in numpy because the bootstrap calls it thousands of times and scipy's call
    overhead (~100 us) dominated leaderboard generation.
    """
    flat = np.sort(_as_matrix(scores), axis=None)
    cut = int(0.25 * flat.size)
    return float(np.mean(flat[cut : flat.size - cut]))


def mean(scores: np.ndarray) -> float:
    """Mean over tasks of per-task mean over runs (§7 "Mean")."""
    return float(np.mean(np.mean(_as_matrix(scores), axis=0)))


def median(scores: np.ndarray) -> float:
    """Median over tasks of per-task mean over runs (§7 "Median")."""
    return float(np.median(np.mean(_as_matrix(scores), axis=0)))


def optimality_gap(scores: np.ndarray, gamma: float = 1.0) -> float:
    """gamma - mean(min(X, gamma)) over all entries: how far below the target gamma (§7; gamma = 1)."""
    return float(gamma - np.mean(np.minimum(_as_matrix(scores), gamma)))


def probability_of_improvement(x: np.ndarray, y: np.ndarray) -> float:
    """P(X > Y): per task, U / (n_x n_y) with ties counted 1/2, then averaged over tasks (§7).

    U is the Mann-Whitney statistic of X[:, m] against Y[:, m] ("greater"). Counting pairs with
    integers makes identical sets give exactly 0.5, the value rliable hard-codes for that case.
    Runs may differ in number between x and y; the task count must match.
    """
    xm, ym = _as_matrix(x), _as_matrix(y)
    if xm.shape[1] != ym.shape[1]:
        raise ValueError(f"x and y must have the same number of tasks, got {xm.shape[1]} and {ym.shape[1]}")
    a, b = xm[:, None, :], ym[None, :, :]  # [n_x, n_y, tasks]
    greater = np.sum(a > b, axis=(0, 1))
    ties = np.sum(a == b, axis=(0, 1))
    per_task = (greater + 0.5 * ties) / (xm.shape[0] * ym.shape[0])
    return float(np.mean(per_task))


def stratified_resamples(scores: np.ndarray, reps: int, rng: np.random.RandomState) -> np.ndarray:
    """[reps, runs, tasks] bootstrap copies: runs drawn with replacement independently per task."""
    x = _as_matrix(scores)
    return _take(x, _draw_rows(rng, x.shape, reps))


def _draw_rows(rng: np.random.RandomState, shape: tuple[int, int], reps: int) -> np.ndarray:
    """[reps, runs, tasks] run indices, drawn with replacement within each task."""
    n_runs, n_tasks = shape
    return rng.randint(0, n_runs, size=(reps, n_runs, n_tasks))


def _take(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    return x[rows, np.arange(x.shape[1])[None, None, :]]


@functools.lru_cache(maxsize=4)
def _seeded_rows(shapes: tuple[tuple[int, int], ...], reps: int, seed: int) -> tuple[np.ndarray, ...]:
    """The row draws of ``RandomState(seed)`` for score matrices of ``shapes`` [runs, tasks], in turn.

    Cached (read-only arrays) because every statistic of one leaderboard section resamples
    matrices of the same shape with the same seed, and drawing was the costliest step of a
    10,000-record regeneration. Equal to ``stratified_resamples``'s draws for the same rng.
    """
    rng = np.random.RandomState(seed)
    out = []
    for shape in shapes:
        rows = _draw_rows(rng, shape, reps)
        rows.flags.writeable = False
        out.append(rows)
    return tuple(out)


@functools.lru_cache(maxsize=4)
def _seeded_counts(shapes: tuple[tuple[int, int], ...], reps: int, seed: int) -> tuple[np.ndarray, ...]:
    """How often each run is drawn in each resample, [reps, tasks, runs] per shape (same draws
    as ``_seeded_rows``): a resample only re-weights the original runs."""
    out = []
    for (n_runs, n_tasks), rows in zip(shapes, _seeded_rows(shapes, reps, seed)):
        flat = (np.arange(reps)[:, None, None] * n_tasks + np.arange(n_tasks)[None, None, :]) * n_runs + rows
        counts = np.bincount(flat.ravel(), minlength=reps * n_tasks * n_runs).reshape(reps, n_tasks, n_runs)
        counts = counts.astype(float)
        counts.flags.writeable = False
        out.append(counts)
    return tuple(out)


def _resamples(x: np.ndarray, reps: int, seed: int) -> np.ndarray:
    (rows,) = _seeded_rows((x.shape,), reps, seed)
    return _take(x, rows)


def interval_estimate(
    scores: np.ndarray,
    aggregate: Aggregate,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """(point, low, high): ``aggregate(scores)`` with a stratified percentile bootstrap CI.

    Defaults: 2,000 resamples and 95% as in metrics-continual.md ("2,000 resamples by default,
    fixed seed"); rliable's own default of 50,000 (§7) buys little precision for a leaderboard.
    ``seed`` feeds a private RandomState, so the same inputs always give the same interval.
    """
    if reps < 1:
        raise ValueError(f"reps must be >= 1, got {reps}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    x = _as_matrix(scores)
    point = float(aggregate(x))
    samples = _resamples(x, reps, seed)
    batched = BATCHED.get(aggregate)
    stats = batched(samples) if batched else np.array([aggregate(s) for s in samples], dtype=float)
    tail = 100.0 * (1.0 - confidence) / 2.0
    low, high = np.percentile(stats, [tail, 100.0 - tail])
    return point, float(low), float(high)


# --- Batched aggregates: the same formulas over a stack of bootstrap resamples [reps, runs, tasks]. ---
# `interval_estimate` uses them when it knows the aggregate, so a leaderboard of 10,000 records
# bootstraps in array operations instead of 2,000 Python calls per interval.

def _iqm_batch(samples: np.ndarray) -> np.ndarray:
    flat = np.sort(samples.reshape(samples.shape[0], -1), axis=1)
    cut = int(0.25 * flat.shape[1])
    return np.mean(flat[:, cut : flat.shape[1] - cut], axis=1)


def _mean_batch(samples: np.ndarray) -> np.ndarray:
    return np.mean(np.mean(samples, axis=1), axis=1)


def _median_batch(samples: np.ndarray) -> np.ndarray:
    return np.median(np.mean(samples, axis=1), axis=1)


def _optimality_gap_batch(samples: np.ndarray) -> np.ndarray:
    return 1.0 - np.mean(np.minimum(samples, 1.0).reshape(samples.shape[0], -1), axis=1)


BATCHED: dict[Callable, Callable[[np.ndarray], np.ndarray]] = {
    iqm: _iqm_batch, mean: _mean_batch, median: _median_batch, optimality_gap: _optimality_gap_batch,
}


def _percentile_interval(stats: np.ndarray, confidence: float) -> tuple[float, float]:
    tail = 100.0 * (1.0 - confidence) / 2.0
    low, high = np.percentile(stats, [tail, 100.0 - tail], axis=0)
    return low, high


def interval_estimates(
    scores: np.ndarray, aggregates: dict[str, Aggregate], reps: int = 2000, confidence: float = 0.95, seed: int = 0
) -> dict[str, tuple[float, float, float]]:
    """Several aggregates of one score matrix over the *same* resamples: name -> (point, low, high).

    Equal to calling ``interval_estimate`` once per aggregate with the same seed (same draws).
    """
    if reps < 1 or not 0.0 < confidence < 1.0:
        raise ValueError(f"need reps >= 1 and confidence in (0, 1), got reps={reps}, confidence={confidence}")
    x = _as_matrix(scores)
    samples = _resamples(x, reps, seed)
    out = {}
    for name, aggregate in aggregates.items():
        batched = BATCHED.get(aggregate)
        values = batched(samples) if batched else np.array([aggregate(s) for s in samples], dtype=float)
        low, high = _percentile_interval(values, confidence)
        out[name] = (float(aggregate(x)), float(low), float(high))
    return out


def performance_profile(scores: np.ndarray, taus: np.ndarray) -> np.ndarray:
    """Score distribution F(tau): fraction of all run-task scores > tau, for each tau (§7). [len(taus)]"""
    flat = _as_matrix(scores).ravel()
    return np.mean(flat[:, None] > np.asarray(taus, dtype=float)[None, :], axis=0)


def performance_profile_interval(
    scores: np.ndarray, taus: np.ndarray, reps: int = 2000, confidence: float = 0.95, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(profile, low, high) over ``taus``, CIs by the stratified bootstrap (rliable
    ``create_performance_profile``: 2,000 resamples, 95%)."""
    x = _as_matrix(scores)
    taus = np.asarray(taus, dtype=float)
    # count(score > tau) in a resample = the draw counts of the runs above tau summed: one matrix
    # product for all resamples and taus instead of a sort per resample.
    (counts,) = _seeded_counts((x.shape,), reps, seed)
    counts = counts.reshape(reps, -1)  # [reps, tasks*runs]
    above = (x.T.reshape(-1)[:, None] > taus[None, :]).astype(float)  # [tasks*runs, taus]
    low, high = _percentile_interval(counts @ above / x.size, confidence)
    return performance_profile(x, taus), low, high


def _poi_resampled(xm: np.ndarray, ym: np.ndarray, reps: int, seed: int) -> np.ndarray:
    """P(X > Y) of ``reps`` independent stratified resamples of x and y -> [reps].

    A resample only re-weights the original runs, so U = c_x^T W c_y with W[i, j] = 1 if x_i > y_j,
    1/2 on a tie, and c the draw counts: one matrix product per task instead of a pair table per
    resample.
    """
    (n_x, tasks), n_y = xm.shape, ym.shape[0]
    cx, cy = _seeded_counts((xm.shape, ym.shape), reps, seed)  # [reps, tasks, n]
    wins = np.zeros((reps, tasks))
    for m in range(tasks):
        w = (xm[:, m, None] > ym[None, :, m]) + 0.5 * (xm[:, m, None] == ym[None, :, m])  # [n_x, n_y]
        wins[:, m] = np.einsum("ri,ij,rj->r", cx[:, m], w, cy[:, m], optimize=True)
    return np.mean(wins / (n_x * n_y), axis=1)


def probability_of_improvement_interval(
    x: np.ndarray, y: np.ndarray, reps: int = 2000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float, float]:
    """(P(X > Y), low, high): x and y resampled independently, each stratified by task
    (rliable's ``StratifiedIndependentBootstrap``, §7)."""
    xm, ym = _as_matrix(x), _as_matrix(y)
    point = probability_of_improvement(xm, ym)
    low, high = _percentile_interval(_poi_resampled(xm, ym, reps, seed), confidence)
    return point, float(low), float(high)
