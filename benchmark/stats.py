"""Aggregate statistics over runs: rliable's metrics as pure numpy functions, with reproducible CIs.

Formulas: metrics-benchmark.md §7 (after google-research/rliable, rliable/metrics.py and
rliable/library.py; Agarwal et al. 2021). Every function takes a score matrix ``scores``
[runs, tasks] of normalized scores; a 1-D array is read as [runs, 1] (one task).

Why not call ``rliable.library.get_interval_estimates``: it imports ``arch.bootstrap``, and the
installed arch 7.2 fails at import under pandas 3 (``deprecate_kwarg() missing ...
'new_arg_name'``). The stratified percentile bootstrap is therefore implemented here, vectorized,
drawing every index from one ``numpy.random.RandomState(seed)`` so a regenerated leaderboard is
byte-identical. It follows rliable's semantics: runs are resampled with replacement
independently within each task (tasks are never resampled), and the interval is the percentile
interval of the aggregate over the resamples.
"""

from __future__ import annotations

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
    n_runs, n_tasks = x.shape
    rows = rng.randint(0, n_runs, size=(reps, n_runs, n_tasks))
    return x[rows, np.arange(n_tasks)[None, None, :]]


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
    samples = stratified_resamples(x, reps, np.random.RandomState(seed))
    stats = np.array([aggregate(s) for s in samples], dtype=float)
    tail = 100.0 * (1.0 - confidence) / 2.0
    low, high = np.percentile(stats, [tail, 100.0 - tail])
    return point, float(low), float(high)
