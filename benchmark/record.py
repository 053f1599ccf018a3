"""Assemble a run's record: raw curves, per-seed scores, continual metrics, model size, provenance.

Raw returns are always stored (metrics-benchmark.md §8) so every aggregate can be recomputed.
Scores are normalized when a reference exists (metrics-continual.md): the task's published
reference at this scale, else the SAC-N record of the same learner, scenario and scale in the
same results directory (scenarios.md §1.6 PROPOSAL: SAC-N's mean final return per task) when it
is positive on every task, else left raw. The record says which in `normalization`; forward transfer needs the SAC-N curves and
is null without them. Offline suites score D4RL's normalized return (`d4rl`, a fraction) and carry a
`dataset` block (source, path, content hash, the dataset's own policy return).
"""
from __future__ import annotations

import math
import platform
import subprocess
import warnings
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from plasticbench.benchmark.config import RunConfig
from plasticbench.benchmark.metrics.continual import continual_summary, model_size
from plasticbench.benchmark.metrics.plasticity import FINAL_DORMANT_TAU
from plasticbench.benchmark.reporting.record_loading import SCHEMA_VERSION
from plasticbench.benchmark.reporting.scores import d4rl_fraction, usable_reference
from plasticbench.benchmark.store import find_records
from plasticbench.envs.offline import dataset_record

if TYPE_CHECKING:
    from plasticbench.benchmark.runner import RunState

REFERENCE_METHOD = "sac_n"
PACKAGES = ("plasticbench", "torch", "numpy", "gymnasium", "mujoco", "hydra-core", "rliable")


def _clean(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def returns_matrix(eval_returns: list[list[list[float] | None]], num_seeds: int) -> np.ndarray:
    """[E][N] -> [S] or None  ==>  array [S, E, N] with NaN where a task was not evaluated."""
    E, N = len(eval_returns), len(eval_returns[0])
    out = np.full((num_seeds, E, N), np.nan)
    for e, row in enumerate(eval_returns):
        for i, values in enumerate(row):
            if values is not None:
                out[:, e, i] = values
    return out


def task_bounds(config: RunConfig) -> list[tuple[int, int]]:
    bounds, start = [], 0
    for task in config.scenario.tasks:
        end = start + config.budget(task)
        bounds.append((start, end))
        start = end
    return bounds


def find_reference(config: RunConfig) -> tuple[np.ndarray | None, dict]:
    """Reference returns [N] and a description of where they came from."""
    tasks, scale = config.scenario.tasks, config.scale.name
    if all(scale in t.reference_scores for t in tasks):
        return np.array([t.reference_scores[scale] for t in tasks]), {"kind": "reference", "source": "published"}
    if config.scenario.setting == "continual" and config.method != REFERENCE_METHOD:
        for ref in find_records(config.results_dir, method=REFERENCE_METHOD, learner=config.learner,
                                suite=config.suite, scale=scale):
            returns = np.mean(np.array(ref["final_returns"]), axis=0)
            if usable_reference(returns):
                return returns, {"kind": "reference", "source": f"sac_n:{ref['run_id']}"}
    return None, {"kind": "raw", "source": None}


def _reference_curves(config: RunConfig, source: str | None, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    if not source or not source.startswith("sac_n:"):
        return None
    for ref in find_records(config.results_dir, run_id=source.split(":", 1)[1]):
        curves = returns_matrix(ref["curves"]["returns"], len(ref["seeds"])) / reference
        with warnings.catch_warnings():  # unseen tasks are NaN for every seed: their mean stays NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmean(curves, axis=0), np.array(ref["curves"]["steps"])
    return None


def provenance() -> dict:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    versions["python"] = platform.python_version()
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                                cwd=Path(__file__).resolve().parent).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {"versions": versions, "git_commit": commit}


def plasticity_curves(eval_steps: list[int], snapshots: list[dict[str, list[float]]]) -> dict[str, Any]:
    """Snapshots [E] of metric -> [S]  ==>  {"steps": [E], "curves": {metric: [E][S]}} (NaN stored as null).

    Snapshots align with the last len(snapshots) evaluations (a run resumed from a checkpoint written
    before plasticity logging existed has fewer snapshots than evaluations).
    """
    steps = eval_steps[len(eval_steps) - len(snapshots):]
    metrics = list(snapshots[0]) if snapshots else []
    return {"steps": steps, "curves": {m: [[_clean(v) for v in snap[m]] for snap in snapshots] for m in metrics}}


def final_dormant_ratio(snapshots: list[dict[str, list[float]]], num_seeds: int) -> list[float | None]:
    """Per seed, the tau = 0.1 dormant ratio pooled over actor and Q1 hidden neurons at the last evaluation."""
    if not snapshots:
        return [None] * num_seeds
    return [_clean(v) for v in snapshots[-1][f"dormant_ratio_tau{FINAL_DORMANT_TAU:g}"]]


def build_record(config: RunConfig, state: "RunState", one_policy_params: int, critic_params: int) -> dict[str, Any]:
    S = len(config.seeds)
    raw = returns_matrix(state.eval_returns, S)  # [S, E, N]
    reference, normalization = find_reference(config)
    perf = raw / reference if reference is not None else raw
    data, offline = config.scenario.offline_data, {}
    if data is not None:  # offline: D4RL's normalized score (scenarios.md §4.2), the dataset beside it
        perf, normalization = d4rl_fraction(raw, data.ref_min, data.ref_max), {"kind": "d4rl", "source": "d4rl_infos",
                                                                           "ref_min": data.ref_min, "ref_max": data.ref_max}
        offline = {"dataset": dataset_record(data, config.scenario.obs_dim, config.scenario.act_dim)}
    ref_curves = _reference_curves(config, normalization["source"], reference) if reference is not None else None
    bounds, steps = task_bounds(config), np.array(state.eval_steps)
    summaries = [continual_summary(perf[s], steps, bounds, *(ref_curves or (None, None))) for s in range(S)]
    final = raw[:, -1, :]
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": config.run_id,
        "config": config.identity(),
        "method": config.method, "learner": config.learner, "suite": config.suite,
        "family": config.scenario.family, "setting": config.scenario.setting, "backend": config.scenario.backend,
        "scale": config.scale.name, "seeds": list(config.seeds),
        "tasks": [t.name for t in config.scenario.tasks],
        "task_bounds": bounds,
        "curves": {"steps": state.eval_steps, "returns": state.eval_returns},
        "task_end_returns": [state.task_end_returns[i] for i in range(len(config.scenario.tasks))],
        "final_returns": final.tolist(),
        "scores": [_clean(s["average_performance"]) for s in summaries],
        "normalization": {**normalization, "reference_returns": None if reference is None else reference.tolist()},
        "metrics": {**{key: [_clean(s[key]) for s in summaries] for key in ("average_performance", "forgetting", "forward_transfer")},
                    "final_dormant_ratio": final_dormant_ratio(state.plasticity, S)},
        "plasticity": plasticity_curves(state.eval_steps, state.plasticity),
        "model_size": {"actor": model_size(state.max_model_size, one_policy_params),
                       "actor_params": state.max_model_size, "one_policy_params": one_policy_params,
                       "critic_params": critic_params},
        **offline,
        "wall_time_s": round(state.wall_time_s, 3),
        **provenance(),
    }
