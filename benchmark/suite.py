"""The benchmark grid: every registered method x compatible learner x scenario at one scale.

Compatibility comes from the registry's declarations, so a newly registered method joins the
grid with no edit here. Runs whose record exists are skipped (their run_id is the hash of the
resolved config), so an interrupted suite picks up where it stopped.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from tqdm.auto import tqdm

from benchmark import registry
from benchmark.config import RunConfig, load_run_config
from benchmark.runner import run
from benchmark.store import RunStore
from envs.catalog import get_scenario, scenario_names


@dataclass(frozen=True)
class Plan:
    todo: tuple[RunConfig, ...]
    done: tuple[RunConfig, ...]


def _pick(requested: Sequence[str] | None, allowed: list[str], what: str) -> list[str]:
    if not requested:
        return allowed
    unknown = [r for r in requested if r not in allowed]
    if unknown:
        raise registry.UnknownNameError(f"unknown {what} {unknown}; allowed: {', '.join(allowed)}")
    return list(requested)


def grid(scale: str, suites: Sequence[str] | None = None, methods: Sequence[str] | None = None,
         learners: Sequence[str] | None = None, extra: Sequence[str] = ()) -> list[list[str]]:
    """Override lists of every compatible (method, learner, scenario) at `scale`."""
    cells = []
    for suite in _pick(suites, scenario_names(), "suite"):
        setting = get_scenario(suite).setting
        for method in _pick(methods, registry.method_names(), "method"):
            method_cls = registry.get_method(method)
            for learner in _pick(learners, registry.learner_names(), "learner"):
                if registry.is_compatible(method_cls, learner, setting):
                    cells.append([f"method={method}", f"learner={learner}", f"suite={suite}", f"scale={scale}", *extra])
    return cells


def plan(cells: list[list[str]]) -> Plan:
    configs = [load_run_config(cell) for cell in cells]
    done = [c for c in configs if RunStore(c.results_dir, c.run_id).has_record()]
    return Plan(todo=tuple(c for c in configs if c not in done), done=tuple(done))


def run_plan(the_plan: Plan, progress: bool = True) -> list[dict]:
    records = []
    for config in tqdm(the_plan.todo, desc="suite", unit="run", disable=not progress):
        records.append(run(config, progress=progress))
    return records
