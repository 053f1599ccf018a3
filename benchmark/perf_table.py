"""The tables `plasticbench perf` prints: medians over interleaved repetitions, with their spread.

Why medians of per-repetition ratios: on a shared machine one row can be slowed by whatever else
runs at that moment. Rows are measured interleaved (ours, SB3, ours, SB3, ...), so a ratio taken
within one repetition compares two measurements minutes apart at most, and the median over
repetitions drops the one a neighbour spoiled; `[min-max]` shows how far the repetitions spread.
Two clocks: wall time (what a user waits) and CPU time of the measuring process (what the work
costs; a busy neighbour inflates it far less, since a descheduled process accrues no CPU time).
"""
from __future__ import annotations

import statistics
from typing import Any, Callable, Sequence

Row = dict[str, Any]


def spread(values: Sequence[float], fmt: str) -> str:
    """'median [min-max]' (the bare value for one repetition)."""
    med = format(statistics.median(values), fmt)
    return med if len(values) == 1 else f"{med} [{format(min(values), fmt)}-{format(max(values), fmt)}]"


def seed_steps_per_s(row: Row, clock: str) -> float:
    """Seed-steps per second of `clock` ("wall" or "cpu") in the timed training phase."""
    return row["steps"] * row["seeds"] / row[f"train_{clock}_s"]


def update_ms(row: Row, clock: str) -> float:
    return 1e3 * row[f"update_{clock}_s"] / row["steps"]


def by_label(rows: Sequence[Row]) -> dict[str, list[Row]]:
    """label -> its rows in repetition order; labels in first-measured order."""
    groups: dict[str, list[Row]] = {}
    for row in rows:
        groups.setdefault(row["label"], []).append(row)
    return groups


def per_rep_ratios(rows: Sequence[Row], base: Sequence[Row], value: Callable[[Row], float]) -> list[float]:
    """value(row) / value(base row) within each repetition (both measured in the same round)."""
    reference = {b["rep"]: value(b) for b in base}
    return [value(r) / reference[r["rep"]] for r in rows if r["rep"] in reference]


def _aligned(header: Sequence[str], lines: list[Sequence[str]], left: set[int]) -> str:
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) if i in left else cell.rjust(w)
                               for i, (cell, w) in enumerate(zip(line, widths))).rstrip() for line in [header, *lines])


def format_table(rows: Sequence[Row]) -> str:
    """One line per configuration; `vs sb3` = our seed-steps/s over SB3's in the same repetition
    (SB3 trains one seed per process, so seed-steps/s is the fair unit)."""
    groups = by_label(rows)
    sb3 = next((g for g in groups.values() if g[0]["impl"] == "sb3"), None)
    header = ("impl", "learner", "S", "seed-steps/s wall", "seed-steps/s cpu", "update ms cpu", "peak MiB",
              "vs sb3 wall", "vs sb3 cpu")
    lines = []
    for group in groups.values():
        first = group[0]
        ratios = {clock: spread(per_rep_ratios(group, sb3, lambda r: seed_steps_per_s(r, clock)), ".2f") + "x"
                  if sb3 else "-" for clock in ("wall", "cpu")}
        lines.append((first["impl"], first["learner"], str(first["seeds"]),
                      spread([seed_steps_per_s(r, "wall") for r in group], ".1f"),
                      spread([seed_steps_per_s(r, "cpu") for r in group], ".1f"),
                      spread([update_ms(r, "cpu") for r in group], ".2f"),
                      f"{max(r['peak_memory_mib'] for r in group):.0f} {first['memory_kind']}",
                      ratios["wall"], ratios["cpu"]))
    return _aligned(header, lines, {0, 1})


def format_method_table(rows: Sequence[Row], baseline: str) -> str:
    """One line per (method, S); `cost vs baseline` = seconds per env step with the method over the
    baseline's at the same S, in the same repetition."""
    groups = by_label(rows)
    base = {g[0]["seeds"]: g for g in groups.values() if g[0]["method"] == baseline}
    header = ("method", "learner", "S", "update ms cpu", "peak MiB", f"cost vs {baseline} cpu",
              f"cost vs {baseline} wall", "overrides")
    lines = []
    for group in groups.values():
        first, ref = group[0], base.get(group[0]["seeds"])
        costs = {clock: spread(per_rep_ratios(ref, group, lambda r: seed_steps_per_s(r, clock)), ".2f") + "x"
                 if ref else "-" for clock in ("cpu", "wall")}
        overrides = ",".join(f"{k}={v}" for k, v in first.get("method_params", {}).items()) or "defaults"
        lines.append((first["method"], first["learner"], str(first["seeds"]), spread([update_ms(r, "cpu") for r in group], ".2f"),
                      f"{max(r['peak_memory_mib'] for r in group):.0f} {first['memory_kind']}",
                      costs["cpu"], costs["wall"], overrides))
    return _aligned(header, lines, {0, 1, 7})
