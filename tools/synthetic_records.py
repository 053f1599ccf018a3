"""Synthetic run records in the run loop's schema, for leaderboard tests and its timing.

`python -m tools.synthetic_records OUT_DIR N` writes N records (methods x learners x
scenarios x scales, distinct run_ids, per-seed curves, continual metrics, dormant ratios and
plasticity curves) through `RunStore.write_record`, as real runs do.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from plasticbench.benchmark.reporting.leaderboard import PLASTICITY_PANELS
from plasticbench.benchmark.store import RunStore

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


def write_synthetic(results_dir: str | Path, count: int) -> None:
    for index in range(count):
        record = synthetic_record(index)
        RunStore(results_dir, record["run_id"]).write_record(record)


if __name__ == "__main__":
    write_synthetic(sys.argv[1], int(sys.argv[2]))
