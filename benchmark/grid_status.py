"""`plasticbench status`: where a grid stands, read from the result store alone.

A run is *done* when its record exists, *failed* when the run left its failure file, *running*
when its checkpoint was written within `stalled_after` seconds, *stalled* when the checkpoint is
older (a job that died or was preempted and not requeued), and *missing* otherwise. The time left
is the recorded mean wall time of the scenario at that scale times the runs not done, the same
cost model `plasticbench suite` prints before it starts.
"""
from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Sequence

from plasticbench.benchmark.config import RunConfig
from plasticbench.benchmark.store import RunStore
from plasticbench.benchmark.suite import recorded_wall_times

STATES = ("done", "running", "stalled", "failed", "missing")
FAILURE_FILES = ("failure.json",)  # written by a run that raised (benchmark/runner.py)


def run_state(config: RunConfig, stalled_after: float, now: float | None = None) -> str:
    store = RunStore(config.results_dir, config.run_id)
    if store.has_record():
        return "done"
    if any((store.dir / name).is_file() for name in FAILURE_FILES):
        return "failed"
    checkpoints = [p for p in store.dir.glob("checkpoint*.pt") if p.is_file()] if store.dir.is_dir() else []
    if not checkpoints:
        return "missing"
    age = (now or time.time()) - max(p.stat().st_mtime for p in checkpoints)
    return "running" if age <= stalled_after else "stalled"


def status_table(configs: Sequence[RunConfig], stalled_after: float = 900.0) -> str:
    """Markdown-style table: one row per (scenario, method), the states counted, the time left."""
    counts: dict[tuple[str, str], Counter] = {}
    left: dict[tuple[str, str], float | None] = {}
    walls: dict[str, dict] = {}
    now = time.time()
    for config in configs:
        key, state = (config.suite, config.method), run_state(config, stalled_after, now)
        counts.setdefault(key, Counter())[state] += 1
        if config.results_dir not in walls:
            walls[config.results_dir] = recorded_wall_times(config.results_dir)
        known = walls[config.results_dir].get((config.scale.name, config.suite))
        cost = (sum(known) / len(known) if known else None) if state != "done" else 0.0
        left[key] = None if cost is None or left.get(key, 0.0) is None else left.get(key, 0.0) + cost
    header = ["scenario", "method", *STATES, "time left"]
    rows = [[suite, method, *(str(counts[(suite, method)][s]) for s in STATES), _duration(left[(suite, method)])]
            for suite, method in sorted(counts)]
    total = Counter()
    for c in counts.values():
        total.update(c)
    known_left = [v for v in left.values() if v is not None]
    unknown = len(known_left) < len(left)
    rows.append(["all", "", *(str(total[s]) for s in STATES), _duration(sum(known_left)) + (" + ?" if unknown else "")])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(v.ljust(w) for v, w in zip(r, widths)) + " |"
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"
