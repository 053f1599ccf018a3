"""`make demo`: a newcomer's first command trains a small grid and ranks it, on their own machine.

Four methods x two learners on one single-task and one continual scenario at `scale=smoke`, three
seeds each (16 runs, a few minutes on 2 cores), through the same suite launcher and leaderboard
as the real benchmark, into a scratch directory: the committed records under `results/` and
`leaderboard.md` are never read or written (`make leaderboard` regenerates those). The scratch
directory is emptied first, so every demo trains: a rerun that skipped recorded runs would show
nothing working. It is emptied only if an earlier demo made it (a marker file), never otherwise.

    python -m plasticbench.benchmark.demo [dir=PATH] [dry_run=true]
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

from plasticbench.benchmark.cli import UsageError, split_options
from plasticbench.benchmark.reporting.leaderboard import Row, scenario_rankings, write_leaderboard
from plasticbench.benchmark.reporting.record_loading import load_records
from plasticbench.benchmark.suite import Plan, describe, grid, launch, plan
from plasticbench.envs.catalog import get_scenario

METHODS = ("ft1", "reset", "redo", "layernorm")  # the reference and three plasticity methods, all settings
LEARNERS = ("sac", "td3")
SCENARIOS = ("halfcheetah", "halfcheetah_forgetting")  # one single-task, one continual (8 tasks)
SCALE, SEEDS = "smoke", 3
MARKER = ".plasticbench-demo"


def default_dir() -> Path:
    return Path(tempfile.gettempdir()) / "plasticbench-demo"


def demo_plan(directory: Path) -> Plan:
    """Every compatible cell of the demo grid, recording into `directory`/runs."""
    extra = [f"results_dir={directory}", f"seeds={SEEDS}"]
    return plan(grid(SCALE, SCENARIOS, METHODS, LEARNERS, extra))


def fresh_directory(directory: Path) -> None:
    """Empty `directory` if an earlier demo made it; refuse a folder the demo did not make."""
    if directory.exists() and any(directory.iterdir()):
        if not (directory / MARKER).is_file():
            raise UsageError(f"dir {str(directory)!r} is not empty and was not made by the demo; "
                             "pass an empty or new folder: dir=PATH")
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MARKER).write_text("made by `python -m plasticbench.benchmark.demo`; emptied by its next run\n")


def summary(rankings: dict[tuple[str, str], list[Row]]) -> list[str]:
    """One line per scenario (its best method, IQM with 95% CI), then what the ranking covered."""
    lines = []
    for (_, suite), rows in rankings.items():
        best, setting = rows[0], get_scenario(suite).setting
        lines.append(f"best on {suite} ({setting}): {best.method} + {best.learner}, IQM {best.iqm:.3f} "
                     f"[95% CI {best.low:.3f}, {best.high:.3f}] ({best.normalization} score, {best.seeds} seeds)")
    cells = sum(len(rows) for rows in rankings.values())
    lines.append(f"{cells} method x learner cells ranked at scale={SCALE}; smoke budgets prove the harness "
                 "works, they do not rank methods")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    try:
        options = split_options(list(sys.argv[1:] if argv is None else argv), {"dir", "dry_run"})
        directory = Path(options.get("dir", default_dir())).resolve()
        if options.get("dry_run", "false").lower() == "true":
            print(describe(demo_plan(directory), SCALE))
            return 0
        fresh_directory(directory)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    the_plan = demo_plan(directory)
    print(describe(the_plan, SCALE), flush=True)
    start = time.perf_counter()
    launch(the_plan, workdir=directory / "multirun")
    leaderboard = write_leaderboard(directory, directory / "leaderboard.md", directory / "figures")
    print(f"\n{len(the_plan.todo)} runs trained in {time.perf_counter() - start:.0f} s")
    print(f"leaderboard: {leaderboard}\nfigures:     {directory / 'figures'}")
    print("\n".join(summary(scenario_rankings(load_records(directory)))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
