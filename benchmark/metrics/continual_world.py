"""Continual World's metrics on success rates, exactly as its results code computes them.

metrics-benchmark.md §4, after [CW: continualworld/results_processing/tables.py]:
- average performance P: per run, each task's success averaged over the **last 5 evaluation points**
  of the whole run (`calculate_data_at_the_end`: `.tail(5)`), then the mean over tasks;
- forgetting F: per run and task, the mean over the last 5 evaluation points of the task's own
  training window minus that end value, averaged over **all** T tasks, the last one included (its
  term is 0 by construction; `calculate_forgetting_individual`). The return-based `forgetting` in
  continual.py leaves the last task out instead (metrics-continual.md); the two are kept apart;
- forward transfer FT: AUC_i = the plain mean of task i's success over the evaluation points of
  its own training window (not a trapezoid: the CW code takes `.mean()` over the log rows), the
  same for the reference run (single-task from scratch, the `scratch` record of the suite), then
  FT = mean_i (mean_s AUC_i - mean_r AUC_i^b) / (1 - mean_r AUC_i^b): seeds are averaged **first**
  (`normalized_ft` takes the means inside the ratio). The reference has the same number of seeds on
  every task, truncated to the smallest (`get_task_balanced_baseline_data`).

The window is CW's literal 5 evaluation points, not 100k steps rescaled: the two agree under CW's
protocol (an evaluation every 20k steps of a 1M-step task), which the spec states. The harness's
scales evaluate on their own grid (paper: every 10k steps, so the window is the last 50k; short:
every 5k of a 50k task, the last half; smoke: once per task, so the end window spans the last 5
task ends). The count is kept because it is what the brief, the spec and CW's code fix; a CW suite
that evaluates every 20k steps at paper scale reproduces CW's window exactly.

A task's window is (start, end] of its `task_bounds`: an evaluation logged exactly at `start` is the
previous task's end (the run loop evaluates after on_task_end), as CW logs it under the previous
`train/active_env`. Means skip tasks not evaluated at a point (NaN), as pandas' `mean` does.

Per-seed forward transfer (a record's `metrics`): FT_s = mean_i (AUC_si - mean_r AUC_i^b) / (1 -
mean_r AUC_i^b). The reference is averaged over its seeds first, and since the denominator does not
depend on the run's seeds, the mean of FT_s over seeds equals CW's group value exactly. A task
whose mean reference AUC is 1 has no headroom (CW's ratio divides by zero there); it is left out of
the mean over tasks, as continual.forward_transfer does, and FT is NaN if every task is.
"""
from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np

from plasticbench.benchmark.metrics.continual import forward_transfer as _ratio_over_tasks

FAMILY = "continual_world"  # a record's `family` for the Continual World suites
SCRATCH_METHOD = "scratch"  # the forward-transfer reference: every task trained from scratch (methods/scratch.py)
LAST_POINTS = 5  # CW `calculate_data_at_the_end`: `.tail(5)`, the last 100k steps at 20k-step evaluations
METRICS = ("average_performance", "forgetting", "forward_transfer")


def success_array(curve: Sequence[Sequence[Sequence[float] | None]], num_seeds: int) -> np.ndarray:
    """A record's `curves["success"]` [E][N] -> [S] or null  ==>  [S, E, N], NaN where not evaluated."""
    out = np.full((num_seeds, len(curve), len(curve[0]) if curve else 0), np.nan)
    for e, row in enumerate(curve):
        for i, values in enumerate(row):
            if values is not None:
                out[:, e, i] = [np.nan if v is None else v for v in values]
    return out


def _nanmean(x: np.ndarray, axis: int) -> np.ndarray:
    with warnings.catch_warnings():  # an all-NaN slice is NaN, as pandas' skipna mean of nothing
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(x, axis=axis)


def _windows(steps: np.ndarray, bounds: Sequence[Sequence[float]]) -> list[np.ndarray]:
    """Per task, the indices of the evaluation points of its own training window (start, end]."""
    steps = np.asarray(steps, dtype=float)
    return [np.flatnonzero((steps > start) & (steps <= end)) for start, end in bounds]


def end_success(success: np.ndarray) -> np.ndarray:
    """[S, E, N] -> [S, N]: each task's success over the last LAST_POINTS evaluation points of the run."""
    return _nanmean(success[:, -LAST_POINTS:, :], axis=1)


def task_end_success(success: np.ndarray, steps: np.ndarray, bounds: Sequence[Sequence[float]]) -> np.ndarray:
    """[S, E, N] -> [S, N]: task i's success over the last LAST_POINTS points of its own window."""
    columns = [success[:, idx[-LAST_POINTS:], i] for i, idx in enumerate(_windows(steps, bounds))]
    return np.stack([_nanmean(c, axis=1) for c in columns], axis=1)


def window_auc(success: np.ndarray, steps: np.ndarray, bounds: Sequence[Sequence[float]]) -> np.ndarray:
    """[S, E, N] -> [S, N]: AUC_i, the mean of task i's success over all points of its own window."""
    return np.stack([_nanmean(success[:, idx, i], axis=1) for i, idx in enumerate(_windows(steps, bounds))], axis=1)


def average_performance(success: np.ndarray) -> np.ndarray:
    """[S, E, N] -> [S]: P per seed, the mean over tasks of the end success."""
    return _nanmean(end_success(success), axis=1)


def forgetting(success: np.ndarray, steps: np.ndarray, bounds: Sequence[Sequence[float]]) -> np.ndarray:
    """[S, E, N] -> [S]: F per seed, mean over all tasks of (end of own window - end of run)."""
    return _nanmean(task_end_success(success, steps, bounds) - end_success(success), axis=1)


def balanced_reference(ref_auc: np.ndarray) -> np.ndarray:
    """[R, N] reference AUCs (NaN where a seed has none) -> [R', N]: each task's first R' values,
    R' the smallest count over tasks (CW `get_task_balanced_baseline_data`)."""
    ref_auc = np.asarray(ref_auc, dtype=float)
    columns = [col[~np.isnan(col)] for col in ref_auc.T]
    keep = min((len(c) for c in columns), default=0)
    return np.stack([c[:keep] for c in columns], axis=1) if columns else ref_auc


def forward_transfer(auc: np.ndarray, ref_auc: np.ndarray) -> np.ndarray:
    """[S, N] run AUCs and [R, N] reference AUCs -> [S]: FT_s against the seed-mean reference."""
    ref_mean = _nanmean(np.asarray(ref_auc, dtype=float), axis=0)
    return np.array([_ratio_over_tasks(row, ref_mean) for row in np.asarray(auc, dtype=float)])


def group_forward_transfer(auc: np.ndarray, ref_auc: np.ndarray) -> float:
    """CW's FT of a group of runs [S, N] against its reference [R, N]: both averaged over seeds first."""
    return _ratio_over_tasks(_nanmean(np.asarray(auc, float), axis=0), _nanmean(np.asarray(ref_auc, float), axis=0))


def record_success(record: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, list]:
    """(success [S, E, N], steps [E], task bounds) of a CW record; a clear error when it has none."""
    curves = record.get("curves") or {}
    if not curves.get("success"):
        raise ValueError(f"record {record.get('run_id')!r} of family {FAMILY!r} has no curves['success'] "
                         "([E][N] -> [S] success rates, null where not evaluated)")
    return success_array(curves["success"], len(record["seeds"])), np.asarray(curves["steps"], float), record["task_bounds"]


def healthy(record: dict[str, Any]) -> np.ndarray:
    """[S] bool: the record's seeds that did not diverge (its `diverged` field)."""
    diverged = {str(seed) for seed in record.get("diverged") or {}}
    return np.array([str(seed) not in diverged for seed in record["seeds"]], dtype=bool)


def reference_auc(scratch_records: Sequence[dict[str, Any]]) -> np.ndarray | None:
    """[R, N] AUCs of the healthy seeds of the `scratch` records (in the order given), task-balanced;
    None without one."""
    rows = [window_auc(*record_success(r))[healthy(r)] for r in scratch_records]
    rows = [r for r in rows if r.size]
    if not rows or len({r.shape[1] for r in rows}) != 1:
        return None
    ref = balanced_reference(np.concatenate(rows))
    return ref if ref.shape[0] else None


def reference_records(record: dict[str, Any], records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The `scratch` records that are `record`'s forward-transfer reference, by run_id: same suite,
    scale, learner and success mode (single-task SAC of the same scale, metrics-benchmark.md §4.3)."""
    same = ("suite", "scale", "learner", "success_mode")
    found = [r for r in records if r.get("method") == SCRATCH_METHOD and r.get("family") == FAMILY
             and all(r.get(key) == record.get(key) for key in same)]
    return sorted(found, key=lambda r: r["run_id"])


def success_metrics(record: dict[str, Any], ref_auc: np.ndarray | None) -> dict[str, list[float | None]]:
    """The record's per-seed P, F and FT (null for a diverged seed, FT null without a reference)."""
    success, steps, bounds = record_success(record)
    ok = healthy(record)
    values = {"average_performance": average_performance(success), "forgetting": forgetting(success, steps, bounds),
              "forward_transfer": (forward_transfer(window_auc(success, steps, bounds), ref_auc)
                                   if ref_auc is not None else np.full(len(ok), np.nan))}
    return {key: [float(v) if good and not np.isnan(v) else None for v, good in zip(values[key], ok)] for key in METRICS}
