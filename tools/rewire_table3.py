"""Dev tool: Rewire's Table 3 ablation and the method comparison on HalfCheetah forgetting, at a chosen scale.

    python -m tools.rewire_table3 run results_dir=DIR [backend=brax] [scale=short] [seeds=3] [KEY=VALUE ...]
    python -m tools.rewire_table3 table results_dir=DIR [suite=halfcheetah_forgetting|halfcheetah_forgetting_brax]

`run` runs every row's configuration in one process (SAC-N first: it is the ratio's reference; brax
compiles once), each through the harness's own run loop, so a killed `run` resumes where it stopped;
extra KEY=VALUE pairs go to every run (`scale.steps_per_task=20000`, `learner.hidden=[64,64,64]`).
`table` prints, per row, the papers' score (metrics-benchmark.md §2): final return / SAC-N's mean
final return per task, averaged over tasks, mean ± std over seeds, beside the published numbers
(results-to-reproduce.md §1.3 for the ablation; §1.1's HalfCheetah column, an average over four
scenarios, for the comparison).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Row:
    label: str
    method: str
    flags: tuple[str, ...]  # method.KEY=VALUE overrides of the row
    published: str


TABLE3 = (
    Row("FT-L2", "ft_l2", (), "0.67 ± 0.32"),
    Row("+ rewiring, not cached (*)", "rewire", ("caching=false", "modes=1", "alignment=false"), "0.76 ± 0.29"),
    Row("+ rewiring", "rewire", ("modes=1", "alignment=false"), "0.95 ± 0.24"),
    Row("+ rewiring + multi-mode", "rewire", ("alignment=false",), "1.14 ± 0.22"),
    Row("+ rewiring + alignment", "rewire", ("modes=1",), "1.15 ± 0.25"),
    Row("Rewire (all)", "rewire", (), "1.31 ± 0.21"),
)
"""Rewire Table 3 (HalfCheetah forgetting): FT-L2, then Rewire's components one at a time."""

COMPARISON = (
    Row("SAC-N", "sac_n", (), "1.00 ± 0.15"), Row("FT-1", "ft1", (), "0.62 ± 0.29"),
    Row("FT-L2", "ft_l2", (), "0.38 ± 0.15"), Row("PackNet", "packnet", (), "0.85 ± 0.14"),
    Row("EWC", "ewc", (), "0.43 ± 0.24"), Row("CSP", "csp", (), "1.27 ± 0.27"),
    Row("Rewire", "rewire", (), "1.17 ± 0.15"),
)
"""Rewire Table 1's HalfCheetah column (four scenarios averaged; the runs here are forgetting only)."""

REWIRE_SWITCHES = ("modes", "caching", "alignment")


def _value(text: str) -> object:
    return {"true": True, "false": False}.get(text, int(text) if text.isdigit() else text)


def row_matches(row: Row, record: dict) -> bool:
    """The record ran the row's method with exactly the row's ablation switches (others at their defaults)."""
    if record["method"] != row.method:
        return False
    if row.method != "rewire":
        return True
    from plasticbench.methods.rewire import Rewire

    expected = {k: getattr(Rewire.Config(), k) for k in REWIRE_SWITCHES}
    expected.update({k: _value(v) for k, v in (flag.split("=", 1) for flag in row.flags)})
    config = record["config"]["method_config"]
    return all(config.get(k) == v for k, v in expected.items())


def ratios(record: dict, reference: np.ndarray) -> np.ndarray:
    """[S] mean over tasks of final return / SAC-N's mean final return on that task."""
    return np.mean(np.asarray(record["final_returns"], dtype=float) / reference, axis=1)


def table(records: list[dict], rows: tuple[Row, ...], title: str) -> list[str]:
    """Markdown lines for `rows`; every record must be of one suite and one scale."""
    scales = {repr(r["config"]["scale"]) for r in records}
    if len(scales) > 1:
        raise ValueError(f"records of {len(scales)} different scales; keep one scale per results_dir")
    sac_n = [r for r in records if r["method"] == "sac_n"]
    if not sac_n:
        return [f"{title}: no SAC-N record, the ratio's reference"]
    reference = np.mean([np.asarray(r["final_returns"], dtype=float) for r in sac_n], axis=(0, 1))  # [N]
    lines = [f"### {title}", "", "| Row | Method | Seeds | Final / SAC-N (here) | Published |", "|---|---|---:|---:|---:|"]
    for row in rows:
        found = [r for r in records if row_matches(row, r)]
        if not found:
            lines.append(f"| {row.label} | {row.method} | 0 | — | {row.published} |")
            continue
        values = np.concatenate([ratios(r, reference) for r in found])
        cell = f"{values.mean():.2f} ± {values.std(ddof=1) if len(values) > 1 else 0.0:.2f}"
        if np.any(reference <= 0):
            cell += " (SAC-N ≤ 0 on a task: not a ratio)"
        lines.append(f"| {row.label} | {row.method} | {len(values)} | {cell} | {row.published} |")
    return lines + [""]


def run_rows(results_dir: str, extra: list[str]) -> None:
    from plasticbench.benchmark.config import load_run_config
    from plasticbench.benchmark.runner import run

    configs = {(row.method, row.flags) for row in (*COMPARISON, *TABLE3)}
    scale = [] if any(e.startswith("scale=") for e in extra) else ["scale=short"]
    for method, flags in sorted(configs, key=lambda c: (c[0] != "sac_n", c)):
        overrides = [f"method={method}", "learner=sac", "suite=halfcheetah_forgetting", *scale,
                     *(f"method.{f}" for f in flags), *extra, f"results_dir={results_dir}"]
        print(" ".join(overrides), flush=True)
        run(load_run_config(overrides))


def main(args: list[str]) -> None:
    if not args or args[0] not in ("run", "table"):
        raise SystemExit(__doc__)
    options = [a for a in args[1:] if not a.startswith("results_dir=")]
    results_dir = next((a.split("=", 1)[1] for a in args[1:] if a.startswith("results_dir=")), "results")
    if args[0] == "run":
        run_rows(results_dir, options)
        return
    from plasticbench.benchmark.reporting.record_loading import load_records

    suite = dict(o.split("=", 1) for o in options).get("suite", "halfcheetah_forgetting")
    records = [r for r in load_records(Path(results_dir)) if r["suite"] == suite]
    print("\n".join(table(records, TABLE3, f"Rewire Table 3 ablation · {suite}")
                    + table(records, COMPARISON, f"Methods · {suite} (published: HalfCheetah 4-scenario averages)")))


if __name__ == "__main__":
    main(sys.argv[1:])
