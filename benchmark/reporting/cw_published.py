"""Published Continual World numbers the leaderboard sets its runs beside, each in its own protocol.

- Success mode `last` (Rewire/CSP's protocol, deterministic episodes): Rewire Table 2
  (results-to-reproduce.md §1.2); its CW3 column is the mean over the eight triplets cw3_t1..cw3_t8
  (scenarios.md §2.1), its CW10 column the ten-task sequence. The ± is as published: its meaning
  and the seed count are not stated.
- Success mode `any` (CW's protocol, stochastic episodes): CW's CW20 table (results-to-reproduce.md
  §3.1), average performance, forgetting and forward transfer with CW's own 90% intervals, the
  methods this harness has (CW's fine-tuning = ft1, L2 = ft_l2).
The published runs are Meta-World v1 at 1M steps per task; this harness runs the v3 tasks
(scenarios.md §2.3) at the scale shown. Different benchmarks side by side, never a pass/fail check;
the two protocols are never mixed in one table (results-to-reproduce.md §3.2).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from plasticbench.benchmark.metrics.continual_world import SCRATCH_METHOD

if TYPE_CHECKING:
    from plasticbench.benchmark.reporting.continual_world import SuccessRow

CW3_SUITES = tuple(f"cw3_t{i}" for i in range(1, 9))
REWIRE_TABLE2 = {  # method: (CW3, CW10), results-to-reproduce.md §1.2
    "ft1": ("0.29 ± 0.10", "0.10 ± 0.01"), "ft_l2": ("0.22 ± 0.11", "0.48 ± 0.05"),
    "packnet": ("0.49 ± 0.12", "0.83 ± 0.02"), "ewc": ("0.32 ± 0.11", "0.66 ± 0.03"),
    "pnn": ("0.56 ± 0.14", "0.63 ± 0.07"), "sac_n": ("0.60 ± 0.14", "0.73 ± 0.12"),
    "ft_n": ("0.65 ± 0.11", "0.77 ± 0.09"), "csp": ("0.65 ± 0.08", "0.81 ± 0.06"),
    "rewire": ("0.67 ± 0.09", "0.84 ± 0.02"),
}
CW20_TABLE = {  # method: (average performance, forgetting, forward transfer) [90% CI], results-to-reproduce.md §3.1
    "ft1": ("0.05 [0.05, 0.06]", "0.73 [0.72, 0.75]", "0.20 [0.17, 0.23]"),
    "ft_l2": ("0.43 [0.39, 0.47]", "0.02 [0.00, 0.03]", "-0.73 [-0.84, -0.62]"),
    "ewc": ("0.60 [0.57, 0.64]", "0.02 [-0.00, 0.05]", "-0.18 [-0.25, -0.13]"),
    "packnet": ("0.80 [0.79, 0.82]", "-0.00 [-0.01, 0.01]", "0.18 [0.14, 0.21]"),
}
MISSING = "—"


def _ci(interval: tuple[float, float, float] | None) -> str:
    return MISSING if interval is None else "{:.2f} [{:.2f}, {:.2f}]".format(*interval)


def _eligible(rows: list["SuccessRow"], min_seeds: int) -> dict[tuple[str, str], "SuccessRow"]:
    """The ranked rows by (method, learner), the from-scratch reference left out (no published row)."""
    return {(r.method, r.learner): r for r in rows if r.seeds >= min_seeds and r.method != SCRATCH_METHOD}


def _rewire_table2(scale: str, by_suite: dict[str, list["SuccessRow"]], min_seeds: int) -> list[str]:
    """CW3 (every triplet present with >= min_seeds seeds) and CW10 here, beside Rewire Table 2."""
    triplets = [_eligible(by_suite.get(suite, []), min_seeds) for suite in CW3_SUITES]
    cw3 = {key: [t[key].performance[0] for t in triplets] for key in set.intersection(*map(set, triplets))}
    cw10 = _eligible(by_suite.get("cw10", []), min_seeds)
    keys = sorted(set(cw3) | set(cw10))
    if not keys:
        return []
    lines = [f"## Published comparison · scale `{scale}` · success mode `last` (Rewire Table 2)", "",
             "Average performance here: CW3 = mean over the 8 triplets of each triplet's mean (± the standard deviation "
             "over the 8 triplet means), CW10 with CW's 90% interval. Published: Meta-World v1, 1M steps per task, "
             "± as printed. This harness runs Meta-World v3 at this scale: different benchmarks side by side.", "",
             "| Method | Learner | CW3 here | CW3 Rewire | CW10 here [90% CI] | CW10 Rewire |", "|---|---|---|---|---|---|"]
    for method, learner in keys:
        here3 = f"{np.mean(cw3[(method, learner)]):.2f} ± {np.std(cw3[(method, learner)]):.2f}" if (method, learner) in cw3 else MISSING
        row10 = cw10.get((method, learner))
        published = REWIRE_TABLE2.get(method, (MISSING, MISSING))
        lines.append(f"| {method} | {learner} | {here3} | {published[0]} | {_ci(row10 and row10.performance)} | {published[1]} |")
    return lines + [""]


def _cw20(scale: str, rows: list["SuccessRow"], min_seeds: int) -> list[str]:
    """CW20 here beside Continual World's own CW20 table."""
    eligible = _eligible(rows, min_seeds)
    if not eligible:
        return []
    lines = [f"## Published comparison · scale `{scale}` · success mode `any` (Continual World, CW20)", "",
             "Both with CW's 90% bootstrap interval. Published: Meta-World v1, 1M steps per task, 20 seeds. This harness "
             "runs Meta-World v3 at this scale: different benchmarks side by side.", "",
             "| Method | Learner | Performance here | Performance CW | Forgetting here | Forgetting CW | "
             "Forward transfer here | Forward transfer CW |", "|---|---|---|---|---|---|---|---|"]
    for (method, learner), row in sorted(eligible.items()):
        published = CW20_TABLE.get(method, (MISSING,) * 3)
        lines.append(f"| {method} | {learner} | {_ci(row.performance)} | {published[0]} | {_ci(row.forgetting)} | "
                     f"{published[1]} | {_ci(row.forward_transfer)} | {published[2]} |")
    return lines + [""]


def published_comparison(scale: str, mode: str, by_suite: dict[str, list["SuccessRow"]], min_seeds: int) -> list[str]:
    """Markdown lines comparing the rows of one scale and success mode with the published tables of
    that protocol (module docstring), or nothing when no scenario of theirs has enough seeds here."""
    if mode == "last":
        return _rewire_table2(scale, by_suite, min_seeds)
    if mode == "any":
        return _cw20(scale, by_suite.get("cw20", []), min_seeds)
    return []
