"""Published numbers the leaderboard sets its runs beside, in the papers' own units.

Rewire Table 1 (results-to-reproduce.md §1.1) reports, per domain, the mean over its four scenarios
of final return / SAC-N's return per task (the papers' ratio, scores.paper_ratio). The published rows
come from Brax; this harness's HalfCheetah scenarios run on MuJoCo (envs/halfcheetah_scenarios.py),
so the two columns are different benchmarks side by side, not a pass/fail check.
"""
from __future__ import annotations

import numpy as np

HALFCHEETAH_SCENARIOS = ("halfcheetah_forgetting", "halfcheetah_transfer", "halfcheetah_robustness",
                         "halfcheetah_compositionality")
REWIRE_TABLE1_HALFCHEETAH = {"ft1": "0.62 ± 0.29", "ft_l2": "0.38 ± 0.15", "packnet": "0.85 ± 0.14", "ewc": "0.43 ± 0.24",
                             "pnn": "1.03 ± 0.14", "sac_n": "1.00 ± 0.15", "ft_n": "1.16 ± 0.20"}
"""results-to-reproduce.md §1.1, "HC perf" column (± as published; its meaning is not stated)."""


def halfcheetah_comparison(scale: str, ratios: dict[tuple[str, str, str], list[float]]) -> list[str]:
    """Markdown lines: per method and learner with a ratio in all four HalfCheetah scenarios at `scale`,
    the mean over scenarios of its per-scenario mean ratio, beside Rewire Table 1 (or nothing)."""
    by_method: dict[tuple[str, str], dict[str, float]] = {}
    for (suite, method, learner), values in ratios.items():
        if suite in HALFCHEETAH_SCENARIOS and values:
            by_method.setdefault((method, learner), {})[suite] = float(np.mean(values))
    complete = {key: per for key, per in by_method.items() if len(per) == len(HALFCHEETAH_SCENARIOS)}
    if not complete:
        return []
    lines = [f"### Published comparison · scale `{scale}` · HalfCheetah (Rewire Table 1)", "",
             "Final return / SAC-N's per task, mean over tasks, seeds and the 4 HalfCheetah scenarios (the papers' "
             "ratio). This harness runs the MuJoCo backend; the published column is Brax: different benchmarks.", "",
             "| Method | Learner | Final / SAC-N (here) | Published (Brax) |", "|---|---|---:|---|"]
    for (method, learner), per in sorted(complete.items()):
        lines.append(f"| {method} | {learner} | {np.mean(list(per.values())):.2f} | "
                     f"{REWIRE_TABLE1_HALFCHEETAH.get(method, '—')} |")
    return lines + [""]
