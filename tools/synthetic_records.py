"""Synthetic run records in the run loop's schema, for leaderboard tests and its timing.

`python -m tools.synthetic_records OUT_DIR N` writes N records (methods x learners x
scenarios x scales, distinct run_ids, per-seed curves, continual metrics, dormant ratios and
plasticity curves) through `RunStore.write_record`, as real runs do. `success_record` makes a
Continual World record (family `continual_world`, success curves, success mode), scored as the run
loop scores it (benchmark/success_scoring.py).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from plasticbench.benchmark.reporting.leaderboard import PLASTICITY_PANELS
from plasticbench.benchmark.store import RunStore
from plasticbench.benchmark.success_scoring import success_scored

METHODS = ("random", "ft1", "sac_n", "ft_l2", "ft_n", "ewc", "packnet", "reset", "redo")  # random: R_random, learner "none"
SCENARIOS = {"halfcheetah_forgetting": ("continual", 8), "cw10": ("continual", 10),
             "halfcheetah": ("online", 1), "hopper": ("online", 1), "walker2d": ("online", 1)}
LEARNERS = ("sac", "td3")
SCALES = ("smoke", "short", "paper")


def synthetic_record(index: int, seeds: int = 3, evals: int = 10) -> dict:
    """Record number `index`: its cell cycles through the grid, its numbers come from RandomState(index)."""
    rng = np.random.RandomState(index)
    method = METHODS[index % len(METHODS)]
    suite = list(SCENARIOS)[(index // len(METHODS)) % len(SCENARIOS)]
    learner = LEARNERS[(index // (len(METHODS) * len(SCENARIOS))) % len(LEARNERS)]
    scale = SCALES[(index // (len(METHODS) * len(SCENARIOS) * len(LEARNERS))) % len(SCALES)]
    setting, n_tasks = SCENARIOS[suite]
    skill = 1.0 + 0.1 * METHODS.index(method) if method != "random" else -0.1
    final = (1000.0 * skill * (0.5 + rng.rand(seeds, n_tasks))).round(3)
    matrix = [[[round(float(v) * (k + 1) / n_tasks, 3) for v in final[:, j]] for j in range(n_tasks)] for k in range(n_tasks)]
    steps = [int(s) for s in np.linspace(1000, 1000 * evals, evals)]
    returns = [[[round(float(v) * (e + 1) / evals, 3) for v in final[:, i]] if i <= e * n_tasks // evals else None
                for i in range(n_tasks)] for e in range(evals)]
    scores = (final / 1000.0).mean(axis=1).round(6).tolist()
    return {
        "schema_version": 1, "run_id": f"syn{index:07d}", "method": method, "suite": suite,
        "learner": learner if method != "random" else "none",
        "family": "mujoco", "setting": setting, "backend": "mujoco", "scale": scale, "seeds": list(range(seeds)),
        "tasks": [f"task{i}" for i in range(n_tasks)], "curves": {"steps": steps, "returns": returns},
        "task_bounds": [[1000 * evals * i // n_tasks, 1000 * evals * (i + 1) // n_tasks] for i in range(n_tasks)],
        "final_returns": final.tolist(), "scores": scores, "task_matrix": matrix,
        "normalization": {"kind": "raw", "reference_returns": None, "source": None},
        "metrics": {"average_performance": scores, "forgetting": rng.rand(seeds).round(4).tolist(),
                    "forward_transfer": (rng.rand(seeds) - 0.5).round(4).tolist(),
                    "final_dormant_ratio": rng.rand(seeds).round(4).tolist()},
        "plasticity": {"steps": steps, "curves": {name: rng.rand(evals, seeds).round(4).tolist()
                                                  for name in PLASTICITY_PANELS}},
        "model_size": {"actor": 1.0 if method != "sac_n" else float(n_tasks), "actor_params": 1000,
                       "one_policy_params": 1000, "critic_params": 2000},
        "wall_time_s": round(float(10 + 5 * rng.rand()), 3),
    }


def _success_level(task: int, trained: int, progress: float, skill: float, retention: float) -> float:
    """A seed's expected success on `task` while task `trained` is at `progress` in (0, 1]: learned
    during its own training, kept at `retention` per later task, near 0 before it is trained."""
    if task == trained:
        return skill * progress
    return skill * retention ** (trained - task) if task < trained else 0.05


def success_record(run_id: str, method: str, suite: str = "cw3_t1", scale: str = "smoke", seeds: int = 3,
                   success_mode: str = "last", skill: float = 0.6, retention: float = 0.5, learner: str = "sac",
                   n_tasks: int = 3, evals_per_task: int = 6, task_steps: int = 1200) -> dict:
    """A CW record: success rates of 10 episodes per evaluation (multiples of 0.1) around
    `_success_level`, noise from RandomState(run_id); mid-task evaluations cover the tasks seen so
    far, task-end ones every task, as in the run loop."""
    rng = np.random.RandomState(sum(map(ord, run_id)))
    steps, rows = [], []
    for trained in range(n_tasks):
        for k in range(1, evals_per_task + 1):
            steps.append(trained * task_steps + k * task_steps // evals_per_task)
            level = [_success_level(i, trained, k / evals_per_task, skill, retention) for i in range(n_tasks)]
            rows.append([None if i > trained and k < evals_per_task else
                         (np.clip(np.round(level[i] + 0.15 * rng.randn(seeds), 1), 0.0, 1.0) + 0.0).tolist() for i in range(n_tasks)])
    final = np.array(rows[-1]).T  # [S, N]
    record = {
        "schema_version": 1, "run_id": run_id, "method": method, "learner": learner, "suite": suite, "scale": scale,
        "family": "continual_world", "setting": "continual", "backend": "metaworld", "success_mode": success_mode,
        "seeds": list(range(seeds)), "tasks": [f"task{i}-v3" for i in range(n_tasks)],
        "task_bounds": [[i * task_steps, (i + 1) * task_steps] for i in range(n_tasks)],
        "curves": {"steps": steps, "success": rows,
                   "returns": [[None if v is None else [round(500 * x, 3) for x in v] for v in row] for row in rows]},
        "final_success": final.T.tolist(), "final_returns": (500 * final).round(3).tolist(), "diverged": {},
        "metrics": {"final_dormant_ratio": rng.rand(seeds).round(4).tolist()},
        "model_size": {"actor": 1.0, "actor_params": 1000, "one_policy_params": 1000, "critic_params": 2000},
        "wall_time_s": 10.0,
    }
    return {**record, **success_scored(record, [])}


def write_synthetic(results_dir: str | Path, count: int) -> None:
    for index in range(count):
        record = synthetic_record(index)
        RunStore(results_dir, record["run_id"]).write_record(record)


if __name__ == "__main__":
    write_synthetic(sys.argv[1], int(sys.argv[2]))
