"""The offline table of a D4RL-scored scenario: the D4RL score beside the raw return and the dataset's own policy return.

A D4RL score alone hides what the agent did with its data: an offline learner is judged first against
the policy that produced the dataset (issue 13, item 3). So a section whose rows are D4RL-scored gets
three more columns, each a mean over the pooled seeds of the row's runs:
- **D4RL x100**: the papers' unit (scenarios.md §4.2 multiplies the library's fraction by 100);
- **Raw return**: the final evaluation return, mean over tasks (the record's `final_returns`);
- **Dataset policy return**: `dataset.policy_return`, what `plasticbench dataset collect` measured for
  the policy that wrote the file, with its own D4RL x100 in parentheses. A published file carries no
  such number: the cell is empty rather than guessed.
Published datasets get the same columns (the raw return is as useful there); only the last is empty.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from plasticbench.benchmark.reporting.record_loading import is_number

D4RL_KIND = "d4rl"
COLUMNS = ("D4RL x100", "Raw return", "Dataset policy return (D4RL x100)")


def is_offline_section(normalizations: list[str]) -> bool:
    """True when every row of the section is D4RL-scored (an offline suite)."""
    return bool(normalizations) and all(kind == D4RL_KIND for kind in normalizations)


def _seed_mean(values: list[Any]) -> float | None:
    present = [float(v) for v in values if is_number(v)]
    return float(np.mean(present)) if present else None


def _raw_returns(record: dict) -> list[Any]:
    """Per seed, the mean final return over tasks; None for a seed with a missing value."""
    out = []
    for per_task in record.get("final_returns") or []:
        ok = isinstance(per_task, list) and per_task and all(map(is_number, per_task))
        out.append(float(np.mean(per_task)) if ok else None)
    return out


def _policy_cell(records: list[dict], fmt: Callable[[float | None, int], str]) -> str:
    """The dataset policy's return (and its D4RL x100 from the record's own constants), or `fmt(None)`."""
    found = set()
    for record in records:
        policy = (record.get("dataset") or {}).get("policy_return")
        norm = record.get("normalization") or {}
        if is_number(policy):
            low, high = norm.get("ref_min"), norm.get("ref_max")
            score = 100 * (policy - low) / (high - low) if is_number(low) and is_number(high) and high != low else None
            found.add((float(policy), score))
    if not found:
        return fmt(None, 1)
    # Runs pooled in one row share a suite, hence normally one file; differing files are averaged, said so.
    returns, scores = zip(*sorted(found))
    score = None if any(s is None for s in scores) else float(np.mean(scores))
    text = f"{fmt(float(np.mean(returns)), 1)} ({fmt(score, 1)})"
    return text + (f" over {len(found)} datasets" if len(found) > 1 else "")


def offline_cells(records: list[dict], fmt: Callable[[float | None, int], str]) -> str:
    """The three extra cells of one row (module docstring), joined as markdown table cells."""
    scores = [s for r in records for s in (r.get("scores") or [])]
    d4rl = _seed_mean(scores)
    raw = _seed_mean([v for r in records for v in _raw_returns(r)])
    return f" {fmt(None if d4rl is None else 100 * d4rl, 1)} | {fmt(raw, 1)} | {_policy_cell(records, fmt)} |"


def offline_head(head: list[str]) -> list[str]:
    """`head` (title line, alignment line) with the three columns appended."""
    return [head[0] + "".join(f" {c} |" for c in COLUMNS), head[1] + "---:|" * len(COLUMNS)]
