"""Continual-learning metrics for one seed: average performance, forgetting, forward transfer, model size.

Definitions follow /work/shared/spec/metrics-continual.md (Rewire, CSP, Continual World) and
sections 2-4 of /work/shared/spec/metrics-benchmark.md. Every function is pure numpy over one
seed's evaluation log, so the metrics can be recomputed from a stored record without retraining;
aggregation across seeds belongs to ``plasticbench.benchmark.reporting.stats`` (IQM with stratified-bootstrap CIs).

Shared input conventions:
    perf        [E, N]  normalized performance p_i(t) at E evaluation points for N tasks,
                        NaN where task i was not evaluated at that point.
    eval_steps  [E]     global env step of each evaluation point, increasing.
    task_bounds [N]     (start_step, end_step) of each task's own training interval.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

TaskBounds = Sequence[tuple[int, int]]


def average_performance(final: np.ndarray) -> float:
    """P = (1/N) sum_i p_i(T) (metrics-continual.md "Average performance"; Rewire/CSP/CW).

    ``final`` [N] holds p_i(T). A NaN propagates: a task missing from the final evaluation is
    an upstream bug and must not be hidden by averaging over the tasks that remain.
    """
    final = np.asarray(final, dtype=float)
    if final.ndim != 1 or final.size == 0:
        raise ValueError(f"final must be a non-empty 1-D array of per-task values, got shape {final.shape}")
    return float(np.mean(final))


def forgetting(at_task_end: np.ndarray, final: np.ndarray) -> float:
    """Mean over tasks i < N-1 of F_i = p_i(t_i) - p_i(T); positive means forgotten.

    metrics-continual.md: "report the mean over tasks i < N (the last task cannot be forgotten)",
    so the last task is excluded. (The CW code, metrics-benchmark.md §4.2, averages over all N
    columns with a zero for the last; multiply by (N-1)/N to reproduce its number.)
    Returns NaN when N == 1: a single task has nothing to forget.
    """
    at_task_end = np.asarray(at_task_end, dtype=float)
    final = np.asarray(final, dtype=float)
    if at_task_end.shape != final.shape or at_task_end.ndim != 1:
        raise ValueError(f"at_task_end {at_task_end.shape} and final {final.shape} must be equal 1-D shapes")
    if final.size <= 1:
        return float("nan")
    return float(np.mean(at_task_end[:-1] - final[:-1]))


def task_auc(eval_steps: np.ndarray, values: np.ndarray, start: int, end: int) -> float:
    """Area under p_i(t) over the evaluations of task i's own training, divided by the span they cover.

    The CW forward-transfer AUC (metrics-benchmark.md §4.3: the mean of p_i(t) over the evaluation
    points logged while task i is trained), as a trapezoid so uneven spacing is weighted by time.

    Points used: the non-NaN evaluations with start < step <= end, i.e. those taken while task i
    trained (its end evaluation included). An evaluation at exactly `start` belongs to the previous
    task (it is that task's end, taken before task i's on_task_start) and is excluded. The area runs
    from the first such point to the last, divided by that span: nothing is extended back to
    `start`, since holding the first evaluation constant over the interval before it inflated the
    area at short budgets (issue #10). One point alone gives its value; no point -> NaN.
    """
    steps = np.asarray(eval_steps, dtype=float)
    vals = np.asarray(values, dtype=float)
    if steps.shape != vals.shape or steps.ndim != 1:
        raise ValueError(f"eval_steps {steps.shape} and values {vals.shape} must be equal 1-D shapes")
    if not end > start:
        raise ValueError(f"task interval must have end > start, got start={start}, end={end}")
    inside = (steps > start) & (steps <= end) & ~np.isnan(vals)
    if not inside.any():
        return float("nan")
    xs, ys = steps[inside], vals[inside]
    if xs.size == 1 or xs[-1] == xs[0]:
        return float(np.mean(ys))
    return float(np.sum((ys[1:] + ys[:-1]) * np.diff(xs)) / 2.0 / (xs[-1] - xs[0]))


def forward_transfer(auc: np.ndarray, auc_ref: np.ndarray) -> float:
    """FT = mean_i (AUC_i - AUC_i^ref) / (1 - AUC_i^ref) (Continual World; metrics-continual.md).

    Tasks with AUC_i^ref >= 1 are excluded from the mean: the reference already sits at the
    ceiling, so there is no headroom to transfer into and the ratio is undefined (== 1) or has a
    flipped sign (> 1, possible for reference-normalized returns). Returns NaN when every task is
    excluded. NaN AUCs propagate.

    Per seed, pass that seed's AUCs. To follow CW's averaging order (metrics-benchmark.md §4.3:
    seeds averaged first, then the ratio), pass the seed-mean AUCs instead.
    """
    auc = np.asarray(auc, dtype=float)
    auc_ref = np.asarray(auc_ref, dtype=float)
    if auc.shape != auc_ref.shape or auc.ndim != 1:
        raise ValueError(f"auc {auc.shape} and auc_ref {auc_ref.shape} must be equal 1-D shapes")
    keep = ~(auc_ref >= 1.0)  # NaN references stay in and propagate
    if not keep.any():
        return float("nan")
    return float(np.mean((auc[keep] - auc_ref[keep]) / (1.0 - auc_ref[keep])))


def model_size(max_policy_params: int, one_policy_params: int) -> float:
    """Maximum policy parameters held at any time / parameters of one FT-1 policy (Rewire Table 1, CSP).

    metrics-benchmark.md §3; the caller counts masks and permutations at their storage size.
    """
    if one_policy_params <= 0:
        raise ValueError(f"one_policy_params must be a positive parameter count, got {one_policy_params}")
    if max_policy_params < 0:
        raise ValueError(f"max_policy_params must be >= 0, got {max_policy_params}")
    return float(max_policy_params) / float(one_policy_params)


def value_at(eval_steps: np.ndarray, values: np.ndarray, step: float) -> float:
    """The latest non-NaN evaluation of one task at or before ``step``; NaN if there is none.

    Used to read p_i(t_i) (the last evaluation of task i during its own training) and p_i(T).
    """
    steps = np.asarray(eval_steps, dtype=float)
    vals = np.asarray(values, dtype=float)
    ok = (steps <= step) & ~np.isnan(vals)
    if not ok.any():
        return float("nan")
    return float(vals[np.flatnonzero(ok)[-1]])


def _task_aucs(perf: np.ndarray, eval_steps: np.ndarray, task_bounds: TaskBounds) -> np.ndarray:
    return np.array([task_auc(eval_steps, perf[:, i], s, e) for i, (s, e) in enumerate(task_bounds)])


def _check_log(perf: np.ndarray, eval_steps: np.ndarray, task_bounds: TaskBounds, name: str) -> None:
    if perf.ndim != 2 or perf.shape[0] != eval_steps.shape[0] or perf.shape[1] != len(task_bounds):
        raise ValueError(
            f"{name}: perf must be [E, N] with E = len(eval_steps) and N = len(task_bounds); "
            f"got perf {perf.shape}, eval_steps {eval_steps.shape}, {len(task_bounds)} task bounds"
        )


def continual_summary(
    perf: np.ndarray,
    eval_steps: np.ndarray,
    task_bounds: TaskBounds,
    ref_perf: np.ndarray | None = None,
    ref_eval_steps: np.ndarray | None = None,
    ref_task_bounds: TaskBounds | None = None,
) -> dict[str, float | None]:
    """One seed's continual metrics from its evaluation log.

    p_i(T) is each task's latest evaluation in the log; p_i(t_i) its latest evaluation at or
    before its own end step. Forward transfer needs a reference run (single-task SAC-N per task,
    metrics-continual.md): ``ref_perf`` [E_ref, N] with its own steps and per-task intervals
    (``ref_eval_steps`` defaults to ``eval_steps``, ``ref_task_bounds`` to ``task_bounds``);
    without it ``forward_transfer`` is None.
    """
    perf = np.asarray(perf, dtype=float)
    eval_steps = np.asarray(eval_steps, dtype=float)
    _check_log(perf, eval_steps, task_bounds, "run")
    n_tasks = perf.shape[1]
    last_step = float(np.max(eval_steps))
    final = np.array([value_at(eval_steps, perf[:, i], last_step) for i in range(n_tasks)])
    at_end = np.array([value_at(eval_steps, perf[:, i], e) for i, (_, e) in enumerate(task_bounds)])
    summary: dict[str, float | None] = {
        "average_performance": average_performance(final),
        "forgetting": forgetting(at_end, final),
        "forward_transfer": None,
    }
    if ref_perf is not None:
        ref_perf = np.asarray(ref_perf, dtype=float)
        ref_steps = eval_steps if ref_eval_steps is None else np.asarray(ref_eval_steps, dtype=float)
        ref_bounds = task_bounds if ref_task_bounds is None else ref_task_bounds
        _check_log(ref_perf, ref_steps, ref_bounds, "reference")
        if ref_perf.shape[1] != n_tasks:
            raise ValueError(f"reference has {ref_perf.shape[1]} tasks, run has {n_tasks}")
        summary["forward_transfer"] = forward_transfer(
            _task_aucs(perf, eval_steps, task_bounds), _task_aucs(ref_perf, ref_steps, ref_bounds)
        )
    return summary
