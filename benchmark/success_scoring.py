"""A Continual World record's score and metrics, from its per-seed success curves.

A success rate is already a bounded, comparable score (ARCHITECTURE.md "Scores": the suite's own
definition), so nothing is divided by a measured reference. The run loop's record carries
`curves["success"]` ([E][N] -> [S] or null, shaped like `curves["returns"]`), `success_mode` and
`final_success`; this fills in, from those alone (so the leaderboard can recompute them):
- `scores`: each seed's Continual World average performance P (metrics-benchmark.md §4.1, the last
  5 evaluation points), FAILURE_SCORE for a seed that diverged, as for every other suite;
- `metrics`: per-seed P, forgetting F and forward transfer FT (metrics/continual_world.py), null for
  a diverged seed; FT against the `scratch` records already in the results directory (null
  without one, and for a scratch run itself, which is the reference);
- `normalization`: kind `success`, the success mode, and the reference runs used (other keys kept).
It runs last in record.build_record, over whatever score the record was first given (the mean final
success rate of the run loop's first CW records), so the metrics are CW's wherever a record is built.
"""
from __future__ import annotations

from typing import Any, Sequence

from plasticbench.benchmark.metrics.continual_world import (SCRATCH_METHOD, reference_auc, reference_records,
                                                           success_metrics)
from plasticbench.benchmark.reporting.scores import FAILURE_SCORE


def success_scored(record: dict[str, Any], others: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """`scores`, `metrics` and `normalization` of a CW `record` (module docstring); `others` are the
    records the reference is looked for in (the results directory's)."""
    refs = reference_records(record, others) if record["method"] != SCRATCH_METHOD else []
    metrics = success_metrics(record, reference_auc(refs) if refs else None)
    diverged = {str(seed) for seed in record.get("diverged") or {}}
    scores = []
    for seed, value in zip(record["seeds"], metrics["average_performance"]):
        if value is None and str(seed) not in diverged:
            raise ValueError(f"record {record.get('run_id')!r}: seed {seed} has no success on some task over the last "
                             "evaluation points; every task must be evaluated at the end of the run")
        scores.append(FAILURE_SCORE if str(seed) in diverged else value)
    normalization = {**(record.get("normalization") or {}), "kind": "success", "success_mode": record.get("success_mode"),
                     "reference_runs": [r["run_id"] for r in refs]}
    kept = {key: value for key, value in (record.get("metrics") or {}).items() if key not in metrics}
    return {"scores": [float(s) for s in scores], "metrics": {**metrics, **kept},
            "normalization": normalization}
