"""The benchmark grid: every registered method x compatible learner x scenario at one scale.

Compatibility comes from the registry's declarations, so a newly registered method joins the
grid with no edit here. Every scenario also gets its `random` cell: the uniform-random policy's
returns, R_random of every score (benchmark/random_policy.py), measured first (`phases`); suites
scored against published references excepted: offline ones, whose score is D4RL's own (R - REF_MIN) /
(REF_MAX - REF_MIN) with REF_MIN the published random policy's return, and Atari's, human-normalized
with DQN Zoo's random returns, so a measured one would be computed and never read; so are the
success-rate suites (Continual World, MT10), scored by success alone. Runs whose record exists are skipped (their run_id is the hash of the
resolved config), so an interrupted suite picks up where it stopped.

Execution goes through an existing engine, never a home-made scheduler: `launch` writes the
planned cells to a JSON file and starts the Hydra application `plasticbench.benchmark.launch` as a multirun
over them, with whatever `hydra/launcher=...` the user chose (docs/engines.md). Progress is read
from the result store (records appearing), so it is the same for every engine.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from tqdm.auto import tqdm

from plasticbench.benchmark import registry
from plasticbench.benchmark.config import RunConfig, load_run_config
from plasticbench.benchmark.failures import CellOutcome, outcome, run_cell_safely
from plasticbench.benchmark.random_policy import RandomRunConfig, is_random_cell, measure_random, random_config
from plasticbench.benchmark.record import SCRATCH_METHOD
from plasticbench.benchmark.reporting.scores import RANDOM_METHOD, REFERENCE_METHOD
from plasticbench.benchmark.runner import run
from plasticbench.benchmark.store import RunStore
from plasticbench.benchmark.success_evaluation import SUCCESS_FAMILIES
from plasticbench.envs.backends import backend_available
from plasticbench.envs.catalog import default_suites, expand_sets, get_scenario, scenario_names

POLL_S = 1.0  # how often `launch` looks for new records while the engine works


AnyConfig = RunConfig | RandomRunConfig


@dataclass(frozen=True)
class Plan:
    todo: tuple[AnyConfig, ...]
    done: tuple[AnyConfig, ...]
    cells: tuple[tuple[str, ...], ...] = ()  # the run overrides of each `todo` config, same order


def _pick(requested: Sequence[str] | None, allowed: list[str], what: str) -> list[str]:
    if not requested:
        return allowed
    unknown = [r for r in requested if r not in allowed]
    if unknown:
        raise registry.UnknownNameError(f"unknown {what} {unknown}; allowed: {', '.join(allowed)}")
    return list(requested)


def grid(scale: str, suites: Sequence[str] | None = None, methods: Sequence[str] | None = None,
         learners: Sequence[str] | None = None, extra: Sequence[str] = ()) -> list[list[str]]:
    """Override lists of every compatible (method, learner, scenario) at `scale`, and each scenario's
    random cell; without `suites`, every scenario of the default grid (`default_suites`) whose backend
    is installed (brax scenarios need jax and brax, Atari ale-py). A named set (`atari_100k`) stands
    for its suites."""
    cells = []
    for suite in _pick(expand_sets(suites), scenario_names(), "suite") if suites else default_suites():
        scenario = get_scenario(suite)
        if not suites and not backend_available(scenario.backend):
            continue  # e.g. brax suites without jax: named explicitly, they fail with the install command
        setting = scenario.setting
        # a published range (D4RL, human-normalized) already holds R_random; success-rate suites (Continual World,
        # MT10) score success, which no R_random divides, and a random record there carries no success curve,
        # which the leaderboard refuses as a CW record
        if not scenario.published_references and scenario.family not in SUCCESS_FAMILIES:
            cells.append([f"method={RANDOM_METHOD}", f"suite={suite}", f"scale={scale}", *extra])
        for method in _pick(methods, registry.method_names(), "method"):
            method_cls = registry.get_method(method)
            for learner in _pick(learners, registry.learner_names(), "learner"):
                if registry.is_compatible(method_cls, learner, setting, scenario.discrete_actions):
                    cells.append([f"method={method}", f"learner={learner}", f"suite={suite}", f"scale={scale}", *extra])
    return cells


def load_cell(overrides: Sequence[str]) -> AnyConfig:
    """One cell's config: the random measurement's for `method=random`, else a run's."""
    return random_config(overrides) if is_random_cell(overrides) else load_run_config(overrides)


def execute(config: AnyConfig, progress: bool = True) -> dict:
    """Measure or run one cell's config and return its record."""
    return measure_random(config) if isinstance(config, RandomRunConfig) else run(config, progress=progress)


def plan(cells: list[list[str]]) -> Plan:
    configs = [load_cell(cell) for cell in cells]
    is_done = [RunStore(c.results_dir, c.run_id).has_record() for c in configs]
    return Plan(todo=tuple(c for c, d in zip(configs, is_done) if not d),
                done=tuple(c for c, d in zip(configs, is_done) if d),
                cells=tuple(tuple(cell) for cell, d in zip(cells, is_done) if not d))


def recorded_wall_times(results_dir: str | Path) -> dict[tuple[str, str], list[float]]:
    """(scale, suite) -> wall_time_s of every record under `results_dir` (the cost model's data)."""
    times: dict[tuple[str, str], list[float]] = {}
    for path in sorted((Path(results_dir) / "runs").glob("*/record.json")):
        try:
            record = json.loads(path.read_text())
            key, wall = (record["scale"], record["suite"]), float(record["wall_time_s"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if record.get("method") == RANDOM_METHOD:
            continue  # an evaluation, not a training run
        times.setdefault(key, []).append(wall)
    return times


def estimate_cost(the_plan: Plan) -> tuple[float, list[str]]:
    """(seconds of run time for the known part, suites with no recorded run at that scale).

    A run is estimated by the mean `wall_time_s` of the existing records of the same scale and
    suite (records of other methods included: the budget is the scenario's, not the method's).
    """
    seconds, unknown, cache = 0.0, set(), {}
    for config in the_plan.todo:
        if isinstance(config, RandomRunConfig):
            continue  # evaluation only: seconds next to any training run
        if config.results_dir not in cache:
            cache[config.results_dir] = recorded_wall_times(config.results_dir)
        walls = cache[config.results_dir].get((config.scale.name, config.suite))
        if walls:
            seconds += sum(walls) / len(walls)
        else:
            unknown.add(config.suite)
    return seconds, sorted(unknown)


def describe(the_plan: Plan, scale: str) -> str:
    """The plan as printed before anything starts: counts and estimated cost."""
    seconds, unknown = estimate_cost(the_plan)
    n = len(the_plan.todo)
    if n == 0:
        cost = "nothing to run"
    elif len(unknown) == len({c.suite for c in the_plan.todo}):
        cost = "estimated cost unknown (no recorded run of these suites at this scale)"
    else:
        cost = f"estimated cost {seconds / 3600:.2f} h of run time ({seconds:.0f} s) from recorded wall times"
        if unknown:
            cost += f"; unknown for {', '.join(unknown)}"
    by_suite: dict[str, int] = {}
    for c in the_plan.todo:
        by_suite[c.suite] = by_suite.get(c.suite, 0) + 1
    failed = sum(RunStore(c.results_dir, c.run_id).failure_path.is_file() for c in the_plan.todo)
    retried = f" ({failed} failed before, retried)" if failed else ""
    lines = [f"suite at scale={scale}: {n} runs to do{retried}, {len(the_plan.done)} already recorded; {cost}"]
    lines += [f"  {suite}: {count} runs" for suite, count in sorted(by_suite.items())]
    return "\n".join(lines)


def default_launcher() -> str:
    """joblib (one job per core) when its plugin is installed, else Hydra's sequential basic one."""
    return "joblib" if importlib.util.find_spec("hydra_plugins.hydra_joblib_launcher") else "basic"


def write_plan_file(the_plan: Plan, folder: Path) -> Path:
    text = json.dumps({"cells": [list(c) for c in the_plan.cells]}, indent=1)
    path = folder / f"plan-{hashlib.sha256(text.encode()).hexdigest()[:12]}.json"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def launch_command(plan_file: Path, n_cells: int, launcher_overrides: Sequence[str], sweep_dir: Path) -> list[str]:
    """The Hydra multirun that runs every planned cell through the chosen launcher."""
    overrides = list(launcher_overrides)
    if not any(o.split("=", 1)[0].lstrip("+~") == "hydra/launcher" for o in overrides):
        overrides.insert(0, f"hydra/launcher={default_launcher()}")
    return [sys.executable, "-m", "plasticbench.benchmark.launch", "--multirun", f"plan={plan_file.resolve()}",
            f"cell=range(0,{n_cells})", f"hydra.sweep.dir={sweep_dir.resolve()}", *overrides]


def phase_of(config: AnyConfig) -> int:
    """0: random; 1: the measured references (SAC-N, ft1 on single-task); 2: scratch; 3: the rest."""
    if isinstance(config, RandomRunConfig):
        return 0
    if config.method == REFERENCE_METHOD.get(config.scenario.setting):
        return 1
    return 2 if config.method == SCRATCH_METHOD else 3


def phases(the_plan: Plan) -> list[Plan]:
    """The plan as engine runs, in dependency order (`phase_of`); empty phases are left out.

    A record takes its scores from the random record of its scenario and scale and from the
    reference method's records, and its forward transfer from the scratch record
    (benchmark/record.py); running those first makes every record the same whatever order an
    engine picks, and however many jobs run at once."""
    split: list[list] = [[], [], [], []]
    for config, cells in zip(the_plan.todo, the_plan.cells):
        split[phase_of(config)].append((config, cells))
    return [Plan(tuple(c for c, _ in part), (), tuple(cells for _, cells in part)) for part in split if part]


def _engine(the_plan: Plan, launcher_overrides: Sequence[str], workdir: Path, on_poll: Callable[[], None]) -> None:
    plan_file = write_plan_file(the_plan, workdir)
    sweep_dir = workdir / plan_file.stem
    with subprocess.Popen(launch_command(plan_file, len(the_plan.cells), launcher_overrides, sweep_dir)) as process:
        while process.poll() is None:
            on_poll()
            time.sleep(POLL_S)
    if process.returncode != 0:
        raise RuntimeError(f"the launcher exited with status {process.returncode}; job logs under {sweep_dir}")


def launch(the_plan: Plan, launcher_overrides: Sequence[str] = (), workdir: Path = Path("multirun"),
           progress: bool = True) -> int:
    """Run the plan's cells through a Hydra launcher, in `phases`; returns how many records now exist.

    Raises RuntimeError naming the log folder when the engine exits with an error.
    """
    if not the_plan.todo:
        return 0
    stores = [RunStore(c.results_dir, c.run_id) for c in the_plan.todo]
    with tqdm(total=len(stores), desc="suite", unit="run", disable=not progress) as bar:
        def on_poll() -> None:
            bar.update(sum(s.has_record() for s in stores) - bar.n)

        for phase in phases(the_plan):
            _engine(phase, launcher_overrides, Path(workdir), on_poll)
        on_poll()
    return sum(s.has_record() for s in stores)


def run_plan(the_plan: Plan, progress: bool = True) -> list[dict]:
    """Run the plan in this process, one run after another (tests and debugging; no engine); a
    cell that raises is recorded as failed and the others go on (benchmark/failures.py)."""
    records = []
    phased = [(config, cell) for phase in phases(the_plan) for config, cell in zip(phase.todo, phase.cells)]
    for config, cell in tqdm(phased, desc="suite", unit="run", disable=not progress):
        record = run_cell_safely(config, cell, progress=progress)
        if record is not None:
            records.append(record)
    return records


def outcomes(the_plan: Plan) -> list[CellOutcome]:
    """Where each planned cell stands (recorded, failed, missing), read from the result store."""
    return [outcome(config, cell) for config, cell in zip(the_plan.todo, the_plan.cells)]
