"""A grid survives its failing cells (issue #11): a cell that raises is recorded, the others go on.

A failed cell leaves `failure.json` in its run directory (the one-line error, the traceback, the
overrides and the command that reruns it alone) and no record, so the suite's next invocation
plans it again with the missing ones while recorded cells are skipped; a record, once written,
removes the failure file (benchmark/store.py). Only `Exception` is caught: an interrupt or a
preemption signal must still stop the job, whose checkpoint then resumes it.
"""
from __future__ import annotations

import shlex
import socket
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

from plasticbench.benchmark.store import RunStore

if TYPE_CHECKING:
    from plasticbench.benchmark.config import RunConfig

TRACEBACK_CHARS = 20_000  # the end of the traceback (where it failed) keeps the file small


def one_line(error: BaseException) -> str:
    """`Type: first line of the message`, for summaries and warnings."""
    message = str(error).strip().splitlines()
    return f"{type(error).__name__}: {message[0]}" if message else type(error).__name__


def rerun_command(overrides: Sequence[str]) -> str:
    """The shell command that runs one cell by itself (it resumes from the cell's checkpoint)."""
    return shlex.join(["plasticbench", "run", *overrides])


def record_failure(store: RunStore, overrides: Sequence[str], error: BaseException) -> None:
    trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    store.write_failure({"error": one_line(error), "traceback": trace[-TRACEBACK_CHARS:],
                         "overrides": list(overrides), "rerun": rerun_command(overrides),
                         "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "host": socket.gethostname()})


def run_cell_safely(config: "RunConfig", overrides: Sequence[str], progress: bool = False) -> dict | None:
    """Run one grid cell; on an exception write its failure file, say so on stderr, return None."""
    from plasticbench.benchmark.suite import execute  # the suite imports this module; keep it light

    store = RunStore(config.results_dir, config.run_id)
    try:
        return execute(config, progress=progress)
    except Exception as error:
        record_failure(store, overrides, error)
        print(f"cell failed: {one_line(error)}; traceback in {store.failure_path}", file=sys.stderr, flush=True)
        return None


@dataclass(frozen=True)
class CellOutcome:
    """Where one planned cell stands after a suite invocation."""

    overrides: tuple[str, ...]
    store: RunStore
    status: str  # "recorded", "failed" (failure file, no record) or "missing" (neither)
    error: str | None = None
    diverged: dict[str, int] = field(default_factory=dict)


def outcome(config: "RunConfig", overrides: Sequence[str]) -> CellOutcome:
    store = RunStore(config.results_dir, config.run_id)
    if store.has_record():
        return CellOutcome(tuple(overrides), store, "recorded", diverged=store.load_record().get("diverged") or {})
    failure = store.load_failure()
    if failure is not None:
        return CellOutcome(tuple(overrides), store, "failed", error=failure.get("error"))
    return CellOutcome(tuple(overrides), store, "missing")


def closing_summary(outcomes: Sequence[CellOutcome]) -> str:
    """The suite's last lines: counts, then each failed or missing cell with the command that reruns it."""
    count = {status: sum(o.status == status for o in outcomes) for status in ("recorded", "failed", "missing")}
    diverged = [o for o in outcomes if o.diverged]
    lines = [f"suite done: {count['recorded']} of {len(outcomes)} planned runs recorded"
             + (f", {count['failed']} failed" if count["failed"] else "")
             + (f", {count['missing']} missing" if count["missing"] else "")
             + (f", {len(diverged)} with diverged seeds" if diverged else "")]
    for o in outcomes:
        if o.status == "failed":
            lines.append(f"  FAILED {' '.join(o.overrides)}: {o.error}\n    traceback: {o.store.failure_path}\n"
                         f"    rerun: {rerun_command(o.overrides)}")
        elif o.status == "missing":
            lines.append(f"  MISSING {' '.join(o.overrides)}\n    rerun: {rerun_command(o.overrides)}")
    for o in diverged:
        seeds = ", ".join(f"{seed} at env step {step}" for seed, step in o.diverged.items())
        lines.append(f"  DIVERGED {' '.join(o.overrides)}: seeds {seeds} (scored as failures)")
    if count["failed"] or count["missing"]:
        lines.append("rerunning the same suite command retries only the failed and missing cells")
    return "\n".join(lines)
