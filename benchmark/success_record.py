"""The success part of a Continual World run's record (results/README.md, "Success-rate suites").

Fields, beside everything a record holds: `success_mode` ("last" | "any"), `curves["success"]` shaped
exactly like `curves["returns"]` ([E][N] -> [S] success rates in [0, 1], or null where task N was not
evaluated at evaluation E) and `final_success` [N][S] (the interface fixed with the CW metrics work,
task-major, unlike `final_returns` [S][N]). The record's `scores` are `success_scores`: per seed, the
mean over tasks of the final success rate, so the leaderboard ranks success until Continual World's
own metrics (metrics-benchmark.md §4) replace it; a diverged seed scores FAILURE_SCORE as everywhere.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from plasticbench.benchmark.reporting.scores import FAILURE_SCORE, Normalized

if TYPE_CHECKING:
    from plasticbench.benchmark.runner import RunState

SUCCESS_KIND = "success"


def success_scores(final_success: np.ndarray, failed: list[bool]) -> np.ndarray:
    """[S] per-seed scores from final success [N][S]: the mean over tasks (FAILURE_SCORE where failed)."""
    scores = np.asarray(final_success, dtype=float).mean(axis=0)
    return np.where(failed, FAILURE_SCORE, scores)


def success_fields(state: "RunState", success: np.ndarray, mode: str, failed: list[bool]) -> tuple[Normalized, dict[str, Any]]:
    """(the scores, the record's success fields and normalization) from `success` [S, E, N]."""
    final = success[:, -1, :].T  # [N, S]
    norm = Normalized(success_scores(final, failed), SUCCESS_KIND, True)
    fields = {"success_mode": mode, "success_curve": state.eval_success, "final_success": final.tolist(),
              "normalization": {"kind": SUCCESS_KIND, "source": "info_success", "success_mode": mode}}
    return norm, fields
