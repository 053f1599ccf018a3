"""The leaderboard's Continual World section: success-rate tables per scenario and success mode.

Records of family `continual_world` score by success rate (benchmark/success_scoring.py), a unit of
their own, so they are kept out of the return-based tables and overall aggregates and get this
section instead: per (scale, scenario, success mode), methods ranked by Continual World's average
performance, with forgetting and forward transfer, all recomputed from the records' raw success
curves (metrics/continual_world.py, metrics-benchmark.md §4). The two success modes
(scenarios.md §2.2) are different protocols and never share a table. Each number carries both
intervals: CW's own (plain bootstrap over seeds, 4,000 resamples, 90%; cw_bootstrap.py), for
comparison with published tables, and the leaderboard's rliable IQM with its stratified 95% CI.
Forward transfer needs the `scratch` runs of the same scenario, scale, learner and mode.
"""
from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from plasticbench.benchmark.metrics.continual_world import (FAMILY, SCRATCH_METHOD, average_performance, forgetting,
                                                           healthy, record_success, reference_auc, reference_records,
                                                           window_auc)
from plasticbench.benchmark.reporting import figures
from plasticbench.benchmark.reporting.cw_published import published_comparison
from plasticbench.benchmark.reporting.cw_bootstrap import CW_CONFIDENCE, CW_REPS, forward_transfer_interval, mean_interval
from plasticbench.benchmark.reporting.scores import FAILURE_SCORE, RANDOM_METHOD

if TYPE_CHECKING:
    from plasticbench.benchmark.reporting.leaderboard import Report

Interval = tuple[float, float, float]  # (point, low, high)
MISSING = "—"
MODE_TEXT = {"any": "an episode succeeds if `success` was true at any step (Continual World's protocol)",
             "last": "an episode succeeds if `success` is true at its last step (Rewire/CSP's protocol, Rewire Table 2)"}
TABLE_HEAD = ["| Method | Learner | Seeds | Average performance [90% CI] | IQM [95% CI] | Forgetting [90% CI] | "
              "Forward transfer [90% CI] |", "|---|---|---:|---|---|---|---|"]


def is_success_record(record: dict[str, Any]) -> bool:
    return record.get("family") == FAMILY


@dataclass(frozen=True)
class Rules:
    """The leaderboard's own rules, handed in by leaderboard.py (this module builds on it, not the
    other way round): its IQM with CI, its ranking floor, its scale order, and whether a run acted."""

    iqm_interval: Callable[[np.ndarray], Interval]
    min_seeds: int
    scale_key: Callable[[str], Any]
    events_fired: Callable[[dict], bool]


@dataclass(frozen=True)
class SuccessRow:
    """One method+learner on one CW scenario, scale and success mode, pooled over its runs' seeds."""

    method: str
    learner: str
    seeds: int
    performance: Interval  # mean P, CW's 90% interval
    iqm: Interval  # IQM of P, the leaderboard's stratified 95% interval
    forgetting: Interval | None
    forward_transfer: Interval | None


def pooled_metrics(records: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per seed over `records` (in order): P [n] (FAILURE_SCORE for a diverged seed), and over the
    healthy seeds only, F [h] and the task AUCs [h, N]."""
    perf, forg, auc = [], [], []
    for record in records:
        success, steps, bounds = record_success(record)
        ok = healthy(record)
        perf.append(np.where(ok, average_performance(success), FAILURE_SCORE))
        forg.append(forgetting(success, steps, bounds)[ok])
        auc.append(window_auc(success, steps, bounds)[ok])
    return np.concatenate(perf), np.concatenate(forg), np.concatenate(auc)


def success_row(method: str, learner: str, records: list[dict], ref_auc: np.ndarray | None,
                iqm_interval: Callable[[np.ndarray], Interval]) -> SuccessRow:
    """Pool the runs' seeds and compute P, F, FT with CW's intervals and P's IQM with the leaderboard's."""
    perf, forg, auc = pooled_metrics(records)
    transfer = None
    if ref_auc is not None and method != SCRATCH_METHOD and auc.shape[0]:
        transfer = forward_transfer_interval(auc, ref_auc)
    return SuccessRow(method, learner, int(perf.size), mean_interval(perf), iqm_interval(perf),
                      mean_interval(forg) if forg.size else None, transfer)


def _fmt(interval: Interval | None) -> str:
    if interval is None:
        return MISSING
    text = [f"{v:.3f}" for v in interval]
    text = [t[1:] if t.startswith("-") and float(t) == 0.0 else t for t in text]  # no "-0.000"
    return f"{text[0]} [{text[1]}, {text[2]}]"


def _line(row: SuccessRow) -> str:
    return (f"| {row.method} | {row.learner} | {row.seeds} | {_fmt(row.performance)} | {_fmt(row.iqm)} | "
            f"{_fmt(row.forgetting)} | {_fmt(row.forward_transfer)} |")


def _cells(records: list[dict]) -> dict[tuple[str, str, str], dict[tuple[str, str], list[dict]]]:
    """(scale, suite, success mode) -> (method, learner) -> records, in run_id order."""
    out: dict[tuple[str, str, str], dict[tuple[str, str], list[dict]]] = {}
    for record in sorted(records, key=lambda r: r["run_id"]):
        if record["method"] == RANDOM_METHOD:
            continue
        key = (record["scale"], record["suite"], str(record.get("success_mode", MISSING)))
        out.setdefault(key, {}).setdefault((record["method"], record["learner"]), []).append(record)
    return out


def task_success_curves(groups: dict[tuple[str, str], list[dict]]) -> dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Per task ("j: name") and method label, (steps, success) averaged over the seeds and over the
    runs that share the group's most common evaluation grid; NaN where the task was not evaluated."""
    panels: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
    for (method, learner), records in sorted(groups.items()):
        grids = Counter(tuple(r["curves"]["steps"]) for r in records)
        grid = max(sorted(grids), key=lambda g: grids[g])
        with warnings.catch_warnings():  # a task not evaluated at a point stays NaN (not drawn)
            warnings.simplefilter("ignore", RuntimeWarning)
            seeds = np.concatenate([record_success(r)[0] for r in records if tuple(r["curves"]["steps"]) == grid])
            mean = np.nanmean(seeds, axis=0)  # [E, N]
        for j, name in enumerate(records[0]["tasks"]):
            panels.setdefault(f"{j}: {name}", {})[f"{method}/{learner}"] = (np.asarray(grid), mean[:, j])
    return panels


def _ranked(groups: dict[tuple[str, str], list[dict]], ref_auc: np.ndarray | None, rules: Rules) -> list[SuccessRow]:
    """The rows, best average performance first (ties by method and learner)."""
    rows = [success_row(m, l, records, ref_auc, rules.iqm_interval) for (m, l), records in sorted(groups.items())]
    return sorted(rows, key=lambda r: (-r.performance[0] if not np.isnan(r.performance[0]) else np.inf, r.method, r.learner))


def _table(rows: list[SuccessRow], silent: list[str], min_seeds: int) -> list[str]:
    ranked, few = [r for r in rows if r.seeds >= min_seeds], [r for r in rows if r.seeds < min_seeds]
    lines = [*TABLE_HEAD, *map(_line, ranked)] if ranked else [f"_No method has {min_seeds} or more seeds here._"]
    if few:
        lines += ["", f"Below the minimum of {min_seeds} seeds (not ranked):", "", *TABLE_HEAD, *map(_line, few)]
    if silent:
        lines += ["", "No event fired (not ranked: the method never acted, so it is its learner under another name): "
                  + ", ".join(silent) + "."]
    return lines


@dataclass(frozen=True)
class Scenario:
    """One CW scenario at one scale and success mode, computed: its rows and what its text names."""

    scale: str
    suite: str
    mode: str
    rows: list[SuccessRow]  # best average performance first
    silent: list[str]  # "`method/learner` (n seeds)" of runs whose structural events never fired
    reference_seeds: int | None  # per task, of the forward-transfer reference; None without one
    acted: dict[tuple[str, str], list[dict]]  # the records of the rows


def _scenario(key: tuple[str, str, str], groups: dict[tuple[str, str], list[dict]], all_records: list[dict],
              rules: Rules) -> Scenario:
    refs = reference_records(next(iter(groups.values()))[0], all_records)
    ref_auc = reference_auc(refs) if refs else None
    silent = sorted(f"`{m}/{l}` ({sum(len(r['seeds']) for r in rs)} seeds)" for (m, l), rs in groups.items()
                    if not any(map(rules.events_fired, rs)))
    acted = {k: [r for r in rs if rules.events_fired(r)] for k, rs in groups.items()}
    acted = {k: rs for k, rs in acted.items() if rs}
    return Scenario(*key, _ranked(acted, ref_auc, rules), silent, None if ref_auc is None else ref_auc.shape[0], acted)


def _section(scenario: Scenario, report: "Report", min_seeds: int) -> list[str]:
    """One scenario, scale and success mode: the note, the table and the per-task success figure."""
    scale, suite, mode = scenario.scale, scenario.suite, scenario.mode
    reference = (f"`{SCRATCH_METHOD}` runs of this scenario, scale, learner and mode, {scenario.reference_seeds} seeds per task"
                 if scenario.reference_seeds else f"none (no `{SCRATCH_METHOD}` record of this scenario, scale and mode): {MISSING}")
    lines = [f"## Scale `{scale}` · Continual World `{suite}` · success mode `{mode}`", "",
             f"Success mode `{mode}`: {MODE_TEXT.get(mode, 'not stated by the records')}. "
             f"Forward-transfer reference: {reference}.", "", *_table(scenario.rows, scenario.silent, min_seeds)]
    if not scenario.acted:
        return lines + [""]
    some = next(iter(scenario.acted.values()))[0]
    tasks = [(str(n), float(b[0]), float(b[1])) for n, b in zip(some["tasks"], some["task_bounds"])]
    link = report.figure(f"{scale}-{suite}-{mode}-success".replace("/", "_"), "per-task success", figures.curves,
                         f"{suite} ({scale}, success mode {mode}): success rate per task", "success rate",
                         task_success_curves(scenario.acted), tasks if len(tasks) > 1 else (), None,
                         (tasks[0][1], tasks[-1][2]), (-0.03, 1.03))
    return lines + ["", f"Figures: {link}", ""]


def success_sections(records: list[dict], report: "Report", rules: Rules) -> list[str]:
    """The markdown of the Continual World section (nothing without a CW record); its figures are
    added to `report`."""
    cells = _cells([r for r in records if is_success_record(r)])
    if not cells:
        return []
    lines = ["# Continual World", "",
             "Success rates, Continual World's metrics as its code computes them (metrics-benchmark.md §4), recomputed "
             "from the records' success curves; never pooled with return-based suites, and one table per success mode. "
             "**Average performance**: per seed, each task's success averaged over the last 5 evaluations of the run, "
             "mean over tasks; mean over seeds. **Forgetting**: per task, success over the last 5 evaluations of its own "
             "training minus at the end, mean over all tasks (the last included, as CW's code). **Forward transfer**: "
             "per task, the mean success over its own training (AUC) against the from-scratch reference's, "
             "(AUC - AUC_ref) / (1 - AUC_ref) on seed means, mean over tasks. "
             f"**[90% CI]**: Continual World's interval, plain percentile bootstrap over seeds, {CW_REPS} resamples, "
             f"{CW_CONFIDENCE:.0%}, midpoint quantiles, `numpy.random.RandomState(0)` (FT: runs and reference "
             "resampled independently). **IQM [95% CI]**: the leaderboard's rliable statistic of the per-seed "
             "average performance (stratified bootstrap). A diverged seed's average performance counts as "
             f"{FAILURE_SCORE:g}; its forgetting and transfer are left out.", ""]
    scenarios = [_scenario(key, cells[key], records, rules)
                 for key in sorted(cells, key=lambda k: (rules.scale_key(k[0]), k[1], k[2]))]
    for scale, mode in dict.fromkeys((s.scale, s.mode) for s in scenarios):
        lines += published_comparison(scale, mode, {s.suite: s.rows for s in scenarios if (s.scale, s.mode) == (scale, mode)},
                                      rules.min_seeds)
    for scenario in scenarios:
        lines += _section(scenario, report, rules.min_seeds)
    return lines
