"""The suite's Hydra application: one job runs one planned grid cell (ARCHITECTURE.md, job 2).

Scheduling is Hydra's: `plasticbench suite` starts this app as a multirun over `cell=range(0,N)`
and `hydra/launcher=...` picks the engine (joblib locally, submitit for SLURM or its local
executor, Ray). A cell is the list of run overrides the planner wrote to the plan file; the job
resolves it with `load_cell` (so the run_id is exactly the planner's) and runs it (`execute`: a
training run, or the random policy's measurement).

Preemption: hydra-submitit-launcher's callable is checkpointable (its `checkpoint()` returns a
resubmission of itself), and a run resumes from its own `checkpoint.pt`, so a requeued job simply
runs the cell again and continues where the killed one stopped; a cell whose record exists is a
no-op. No state lives in the launcher.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import hydra
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig


def read_plan(path: str | Path) -> list[list[str]]:
    cells = json.loads(Path(path).read_text())["cells"]
    if not isinstance(cells, list) or not all(isinstance(c, list) for c in cells):
        raise ValueError(f"plan {path}: 'cells' must be a list of override lists")
    return cells


def run_cell(overrides: list[str], launcher_share: int | None = None) -> str:
    """Resolve and run one cell; returns its run_id. A cell that raises leaves its failure file
    and returns normally, so the engine goes on with the other cells (benchmark/failures.py).

    `load_run_config` composes with Hydra's compose API, which needs the global Hydra slot that
    this very application occupies: keep the application's and put it back afterwards.
    `launcher_share` is the torch thread count `job_threads` gives this job (None: 1), unless the
    cell says `threads=N` (benchmark/threads.py).
    """
    from plasticbench.benchmark.failures import run_cell_safely
    from plasticbench.benchmark.suite import load_cell
    from plasticbench.benchmark.threads import use_threads

    holder = GlobalHydra.instance()
    saved = holder.hydra
    try:
        config = load_cell(overrides)
    finally:
        holder.clear()
        if saved is not None:
            holder.initialize(saved)
    use_threads(config, launcher_share)
    run_cell_safely(config, overrides)
    return config.run_id


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def job_threads(launcher: Any, cores: int) -> int | None:
    """Torch threads for one job, from the launcher's own settings, or None to keep torch's default.

    joblib runs n_jobs jobs side by side on this machine, and torch would give each of them every
    core: on 2 cores two 2-thread jobs ran ~3x slower than two 1-thread jobs. submitit and Ray
    say how many CPUs a job has (cpus_per_task, remote.num_cpus)."""
    target = str(launcher.get("_target_", ""))
    if "joblib" in target:
        n_jobs = int(launcher.get("n_jobs") or -1)
        n_jobs = cores + 1 + n_jobs if n_jobs < 0 else n_jobs  # joblib's convention: -1 = all cores
        return max(1, cores // max(1, n_jobs))
    if "submitit" in target and launcher.get("cpus_per_task"):
        return int(launcher.cpus_per_task)
    if "ray" in target:
        cpus = launcher.get("ray", {}).get("remote", {}).get("num_cpus")
        return int(cpus) if cpus else None
    return None


@hydra.main(config_path="conf", config_name="launch", version_base="1.3")
def main(cfg: DictConfig) -> str:
    threads = job_threads(HydraConfig.get().launcher, _cores()) if HydraConfig.initialized() else None
    cells = read_plan(cfg.plan)
    index = int(cfg.cell)
    if not 0 <= index < len(cells):
        raise ValueError(f"cell={index} is outside the plan's {len(cells)} cells (0..{len(cells) - 1})")
    return run_cell(cells[index], threads)


if __name__ == "__main__":
    main()
