"""Assemble a run's record: raw curves, the task x task matrix, per-seed scores, continual metrics, model size, provenance.

Raw returns are always stored (metrics-benchmark.md §8) so every aggregate can be recomputed.
Scores follow benchmark/reporting/scores.py, the leaderboard's own rule, applied to the records
already in the results directory: (R - R_random) / (R_reference - R_random), with R_random from
the `random` record of the suite and scale, R_reference the published expert return the record
carries, or SAC-N's (continual) / ft1's (single-task without a published constant) records; a
reference that does not beat random by a clear margin leaves the run raw ("reference not
learned"). The suite measures those references first (benchmark/suite.py `phases`).

Forward transfer (metrics-continual.md, Continual World) compares each task's area under its
normalized curve with that of a from-scratch single-task run of the same learner and scale: the
`scratch` record (methods/scratch.py: fresh networks, buffer, optimizers and temperature at every
task), never SAC-N inside the continual run, whose critic carries over (continual-baselines.md §6).
It is null without a scratch record or a learned reference.
Continual World records (family `continual_world`) score by success rate with CW's own metrics
(success_scoring.py), from the success curves the record carries.
Atari suites keep their own score too: human-normalized (`human`, `human_score`) from the published
random and human returns of each game; no `random` record, no forward transfer (no scratch reference).
Offline suites keep their own score (scores.py: a family outside RETURN_FAMILIES keeps the record's
value): D4RL's normalized return (`d4rl`, a fraction, `d4rl_score`), with a `dataset` block (source,
path, content hash, the dataset's own policy return). They need no `random` record: D4RL's REF_MIN is
already the random policy's return, published beside REF_MAX.
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
from plasticbench.benchmark.metrics.continual_world import FAMILY as SUCCESS_FAMILY, SCRATCH_METHOD
from plasticbench.benchmark.success_scoring import success_scored
from plasticbench.benchmark.metrics.plasticity import FINAL_DORMANT_TAU
from plasticbench.benchmark.reporting.record_loading import SCHEMA_VERSION
from plasticbench.benchmark.reporting.scores import (FAILURE_SCORE, RANDOM_METHOD, REFERENCE_METHOD, Normalized, TaskReference,
                                                     d4rl_fraction, human_normalized, normalize, normalize_returns, references,
                                                     task_reference)
from plasticbench.benchmark.store import find_records
from plasticbench.benchmark.success_record import success_fields
from plasticbench.envs.offline import dataset_record

if TYPE_CHECKING:
    from plasticbench.benchmark.runner import RunState

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
    """(first, last) step of each task: in order, or all from 0 to the budget in a multitask run."""
    if config.scenario.multitask:
        return [(0, config.budget(task)) for task in config.scenario.tasks]
    bounds, start = [], 0
    for task in config.scenario.tasks:
        end = start + config.budget(task)
        bounds.append((start, end))
        start = end
    return bounds


def published_returns(scenario, scale) -> list[float] | None:
    """[N] published expert returns under this scale's episode cap, or None unless every task has one.

    The constants are for EXPERT_EPISODE_STEPS-step episodes; under a shorter cap (smoke) they are
    prorated by steps, since a locomotion expert's reward per step is about constant once moving.
    An approximation that only the smoke scale uses; short and paper evaluate full episodes.
    """
    from plasticbench.envs.task import EXPERT_EPISODE_STEPS

    if not all(t.expert_return is not None for t in scenario.tasks):
        return None
    cap = scale.episode_length
    factor = min(cap, EXPERT_EPISODE_STEPS) / EXPERT_EPISODE_STEPS if cap else 1.0
    return [float(t.expert_return) * factor for t in scenario.tasks]


def score_record(config: RunConfig, final: np.ndarray, diverged: dict[str, int]) -> tuple[Normalized, TaskReference | None, dict]:
    """Per-seed scores (FAILURE_SCORE for a diverged seed), the per-task reference, and the record's
    `normalization` field."""
    scenario = config.scenario
    own = {"method": config.method, "learner": config.learner, "suite": config.suite, "scale": config.scale.name,
           "setting": scenario.setting, "family": scenario.family, "final_returns": final.tolist(),
           "seeds": list(config.seeds), "diverged": diverged,
           "normalization": {"kind": "raw", "published_returns": published_returns(scenario, config.scale)}}
    others = find_records(config.results_dir, suite=config.suite, scale=config.scale.name)
    refs = references([*others, own])
    ref = task_reference(own, refs)
    used = {RANDOM_METHOD, REFERENCE_METHOD.get(scenario.setting)}
    described = {"kind": "raw", "source": None, "published_returns": own["normalization"]["published_returns"],
             "random_returns": None if ref is None else ref.random.tolist(),
             "reference_returns": None if ref is None else ref.reference.tolist(),
             "reference_runs": sorted(r["run_id"] for r in others if r.get("method") in used
                                      and r.get("learner") in (config.learner, "none"))}
    norm = normalize(own, refs)
    described["kind"], described["source"] = norm.kind, None if ref is None else ref.kind
    return norm, ref, described


def d4rl_score(raw: np.ndarray, ref_min: float, ref_max: float, failed: list[bool],
               episode_cap: int | None) -> tuple[np.ndarray, Normalized, dict]:
    """Offline suites' own score (scenarios.md §4.2): the normalized curves [S, E, N], per-seed scores
    (mean final over tasks; a diverged seed scores FAILURE_SCORE as everywhere) and `normalization`.

    `episode_cap` (smoke's 50 steps) is recorded, as for Atari: REF_MIN and REF_MAX are returns of
    1000-step episodes, so a capped evaluation's score is no published-protocol D4RL score. It is not
    prorated as the online suites' expert return is: REF_MIN is the random policy's return, whose
    Hopper and Walker2d episodes end on their own within the cap, and the offline suites measure no
    random record of their own to replace it."""
    perf = d4rl_fraction(raw, ref_min, ref_max)
    scores = np.where(failed, FAILURE_SCORE, perf[:, -1, :].mean(axis=1))
    return perf, Normalized(scores, "d4rl", True), {"kind": "d4rl", "source": "d4rl_infos", "ref_min": ref_min,
                                                     "ref_max": ref_max, "episode_cap": episode_cap}


def human_score(raw: np.ndarray, scenario, failed: list[bool], episode_cap: int | None) -> tuple[np.ndarray, Normalized, dict]:
    """Atari's own score: human-normalized curves [S, E, N] from each task's published (random, human)
    pair, per-seed scores (mean final over games; FAILURE_SCORE for a diverged seed) and `normalization`.
    `episode_cap` (agent steps, smoke's) is recorded: a capped game's HNS is no published-protocol HNS."""
    random, human = (np.array([t.human_reference[i] for t in scenario.tasks], float) for i in (0, 1))
    perf = human_normalized(raw, random, human)
    scores = np.where(failed, FAILURE_SCORE, perf[:, -1, :].mean(axis=1))
    return perf, Normalized(scores, "human", True), {"kind": "human", "source": "dqn_zoo_atari_data",
                                                      "random_returns": random.tolist(), "human_returns": human.tolist(),
                                                      "episode_cap": episode_cap}


def _scratch_curves(config: RunConfig, ref: TaskReference) -> tuple[np.ndarray, np.ndarray, list] | None:
    """(normalized seed-mean curves [E, N], steps [E], task bounds) of the scratch record, if any."""
    for scratch in find_records(config.results_dir, method=SCRATCH_METHOD, learner=config.learner,
                                suite=config.suite, scale=config.scale.name):
        curves = normalize_returns(returns_matrix(scratch["curves"]["returns"], len(scratch["seeds"])), ref)
        with warnings.catch_warnings():  # unseen tasks are NaN for every seed: their mean stays NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmean(curves, axis=0), np.array(scratch["curves"]["steps"]), [tuple(b) for b in scratch["task_bounds"]]
    return None


def provenance() -> dict:
    import torch

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
    # a seed's numbers are exact given the thread count too (README, "Seeds"), so the record says which
    return {"versions": versions, "git_commit": commit, "torch_threads": torch.get_num_threads()}


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


def task_matrix(state: "RunState", num_tasks: int) -> list[list[list[float]]]:
    """[N][N][S]: row k = return on every task j of the scenario after task k's end (seen or not)."""
    return [[state.task_matrix[k][j] for j in range(num_tasks)] for k in range(num_tasks)]


def rollout_tally(steps: dict, num_tasks: int, num_seeds: int) -> dict[str, list[list[int]]]:
    """Env steps the method's hooks played through `ctx.rollout`: {"charged", "uncharged"} -> [N][S]
    (charged ones are part of the task's budget, uncharged ones come on top of it)."""
    empty = {"charged": [0] * num_seeds, "uncharged": [0] * num_seeds}
    rows = [steps.get(t, steps.get(str(t), empty)) for t in range(num_tasks)]
    return {kind: [list(row[kind]) for row in rows] for kind in ("charged", "uncharged")}


def _clean_events(events: dict[str, Any] | None) -> dict[str, Any] | None:
    """NaN in the event snapshots stored as null, as everywhere in the record."""
    if events is None:
        return None
    def snap(values: dict[str, list[float]] | None) -> dict[str, list[float | None]] | None:
        return None if values is None else {k: [_clean(v) for v in vs] for k, vs in values.items()}
    log = [{**entry, "before": snap(entry["before"]), "after": snap(entry["after"])} for entry in events["log"]]
    return {**events, "log": log}


def build_record(config: RunConfig, state: "RunState", one_policy_params: int, critic_params: int,
                 events: dict[str, Any] | None = None) -> dict[str, Any]:
    """The run's record (results/README.md); `events` is the learner's event log (None: the method
    declares no structural events). A Continual World record then gets CW's own score and metrics
    from its success curves (success_scoring.py), the reference being the suite's `scratch` records."""
    record = _assemble(config, state, one_policy_params, critic_params, events)
    if record["family"] == SUCCESS_FAMILY:
        record.update(success_scored(record, find_records(config.results_dir, method=SCRATCH_METHOD, suite=config.suite,
                                                          scale=config.scale.name)))
    return record


def _assemble(config: RunConfig, state: "RunState", one_policy_params: int, critic_params: int,
              events: dict[str, Any] | None) -> dict[str, Any]:
    S, N = len(config.seeds), len(config.scenario.tasks)
    raw = returns_matrix(state.eval_returns, S)  # [S, E, N]
    final = raw[:, -1, :]
    diverged = {str(seed): step for seed, step in sorted(state.diverged.items())}
    failed = [str(seed) in diverged for seed in config.seeds]
    data, offline, success = config.scenario.offline_data, {}, {}
    if config.success_mode is not None:  # Continual World: success rates are the score (benchmark/success_record.py)
        perf, scratch = returns_matrix(state.eval_success, S), None
        norm, success = success_fields(state, perf, config.success_mode, failed)
        normalization = success.pop("normalization")
    elif data is not None:
        perf, norm, normalization = d4rl_score(raw, data.ref_min, data.ref_max, failed, config.scale.episode_length)
        offline, scratch = {"dataset": dataset_record(data, config.scenario.obs_dim, config.scenario.act_dim)}, None
    elif config.scenario.published_references:
        perf, norm, normalization = human_score(raw, config.scenario, failed, config.scale.episode_length)
        scratch = None
    else:
        norm, ref, normalization = score_record(config, final, diverged)
        learned = ref is not None and ref.learned
        perf = normalize_returns(raw, ref) if learned else raw
        scratch = _scratch_curves(config, ref) if learned and config.method != SCRATCH_METHOD else None
    curves_success = {"success": success.pop("success_curve")} if success else {}
    bounds, steps = task_bounds(config), np.array(state.eval_steps)
    summaries = [continual_summary(perf[s], steps, bounds, *(scratch or (None, None, None))) for s in range(S)]
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": config.run_id,
        "config": config.identity(),
        "method": config.method, "learner": config.learner, "suite": config.suite,
        "family": config.scenario.family, "setting": config.scenario.setting, "backend": config.scenario.backend,
        "scale": config.scale.name, "seeds": list(config.seeds),
        "tasks": [t.name for t in config.scenario.tasks],
        "task_bounds": bounds,
        "curves": {"steps": state.eval_steps, "returns": state.eval_returns, **curves_success},
        "task_end_returns": [state.task_end_returns[i] for i in range(N)],
        "task_matrix": task_matrix(state, N),
        "final_returns": final.tolist(),
        **success,  # success_mode, final_success [N][S] (success-rate suites only)
        "scores": [_clean(s) for s in norm.scores],
        "diverged": diverged,
        "normalization": normalization,
        "metrics": {**{key: [None if bad else _clean(s[key]) for s, bad in zip(summaries, failed)]
                       for key in ("average_performance", "forgetting", "forward_transfer")},
                    "final_dormant_ratio": [None if bad else v for v, bad in zip(final_dormant_ratio(state.plasticity, S), failed)]},
        "plasticity": plasticity_curves(state.eval_steps, state.plasticity),
        "events": _clean_events(events),
        "model_size": {"actor": model_size(state.max_model_size, one_policy_params),
                       "actor_params": state.max_model_size, "one_policy_params": one_policy_params,
                       "critic_params": critic_params},
        **offline,
        "rollout_steps": rollout_tally(state.rollout_steps, len(config.scenario.tasks), S),
        "wall_time_s": round(state.wall_time_s, 3),
        **provenance(),
    }
