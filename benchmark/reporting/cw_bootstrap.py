"""Continual World's own confidence intervals, for comparison with its published tables.

metrics-benchmark.md §4.4 [CW: results_processing/tables.py `BootstrapCI`, `compute_mean_and_ci`]: a
plain (non-stratified) percentile bootstrap over runs, 4,000 resamples, a 90% interval, quantiles
with "midpoint" interpolation, NumPy's legacy generator seeded 0. The draws are CW's own: the run
indices of all resamples at once, `choice(n, (4000, n))`, and for forward transfer the CL runs first,
then the reference runs, independently, from the same stream. Each interval starts from a fresh
seed, as CW reseeds per table. The leaderboard's rliable statistics (stratified, 95%, stats.py)
stay beside these; neither replaces the other.
"""
from __future__ import annotations

import numpy as np

from plasticbench.benchmark.metrics.continual_world import group_forward_transfer

CW_REPS = 4000
CW_CONFIDENCE = 0.90
CW_SEED = 0


def _midpoint_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    tail = (1.0 - confidence) / 2.0
    return (float(np.quantile(values, tail, method="midpoint")),
            float(np.quantile(values, 1.0 - tail, method="midpoint")))


def mean_interval(values: np.ndarray, reps: int = CW_REPS, confidence: float = CW_CONFIDENCE,
                  seed: int = CW_SEED) -> tuple[float, float, float]:
    """(mean, low, high) of per-run values [n] (P or F of each seed): CW's `compute_mean_and_ci`."""
    x = np.asarray(values, dtype=float)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"values must be a non-empty 1-D array of per-run values, got shape {x.shape}")
    rows = np.random.RandomState(seed).choice(x.size, (reps, x.size))
    return (float(x.mean()), *_midpoint_interval(x[rows].mean(axis=1), confidence))


def _normalized_ft(x_mean: np.ndarray, y_mean: np.ndarray) -> np.ndarray:
    """[..., N] seed means of run and reference AUCs -> [...]: mean over tasks of the normalized
    transfer, tasks whose reference mean is 1 or more left out (metrics/continual_world.py)."""
    keep = ~(y_mean >= 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(keep, (x_mean - y_mean) / (1.0 - y_mean), 0.0)
        return ratio.sum(axis=-1) / keep.sum(axis=-1)


def forward_transfer_interval(auc: np.ndarray, ref_auc: np.ndarray, reps: int = CW_REPS,
                              confidence: float = CW_CONFIDENCE, seed: int = CW_SEED) -> tuple[float, float, float]:
    """(FT, low, high) of runs' AUCs [S, N] against reference AUCs [R, N]: CW's `BootstrapCI` with
    `normalized_ft` over all tasks, runs and reference runs resampled independently."""
    x, y = np.asarray(auc, dtype=float), np.asarray(ref_auc, dtype=float)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1] or not x.size or not y.size:
        raise ValueError(f"auc [S, N] and ref_auc [R, N] must be non-empty with the same N, got {x.shape} and {y.shape}")
    rng = np.random.RandomState(seed)
    rows_x = rng.choice(x.shape[0], (reps, x.shape[0]))
    rows_y = rng.choice(y.shape[0], (reps, y.shape[0]))
    point = group_forward_transfer(x, y)
    return (point, *_midpoint_interval(_normalized_ft(x[rows_x].mean(axis=1), y[rows_y].mean(axis=1)), confidence))
