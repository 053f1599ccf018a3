"""The suite grid, planned from the registry and run through Hydra launchers (joblib, submitit local).

Tiny runs: 16-unit networks, one seed, the 300-step single-task HalfCheetah at scale=smoke.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from plasticbench.benchmark import registry
from plasticbench.benchmark.suite import estimate_cost, grid, launch, plan
from plasticbench.envs.catalog import get_scenario

TINY = ["learner.hidden=[16,16]", "learner.batch_size=16", "seeds=1"]


def test_grid_is_exactly_the_compatible_combinations():
    suites = ["halfcheetah", "halfcheetah_forgetting"]
    cells = grid("smoke", suites=suites)
    got = {tuple(c[:3]) for c in cells}
    expected = {(f"method={m}", f"learner={l}", f"suite={s}") for s in suites for m in registry.method_names()
                for l in registry.learner_names()
                if registry.is_compatible(registry.get_method(m), l, get_scenario(s).setting)}
    expected |= {("method=random", f"suite={s}", "scale=smoke") for s in suites}  # R_random, one per scenario
    assert got == expected and len(cells) == len(expected)
    assert ("method=ft_l2", "learner=sac", "suite=halfcheetah") not in got  # continual-only method
    assert ("method=ft_l2", "learner=sac", "suite=halfcheetah_forgetting") in got


def test_plan_skips_recorded_runs_and_estimates_from_wall_times(tmp_path):
    cells = grid("smoke", suites=["halfcheetah"], methods=["ft1"], extra=[*TINY, f"results_dir={tmp_path}"])
    first = plan(cells)
    assert len(first.todo) == 3 and estimate_cost(first) == (0.0, ["halfcheetah"])  # random + ft1 x 2 learners
    done = first.todo[1]
    record = {"run_id": done.run_id, "scale": "smoke", "suite": "halfcheetah", "wall_time_s": 12.0}
    (tmp_path / "runs" / done.run_id).mkdir(parents=True)
    (tmp_path / "runs" / done.run_id / "record.json").write_text(json.dumps(record))
    second = plan(cells)
    assert [c.run_id for c in second.done] == [done.run_id] and len(second.todo) == 2
    assert estimate_cost(second) == (12.0, [])


def test_reference_runs_form_the_first_phases(tmp_path):
    """Random, then SAC-N, then scratch records exist before the runs that score by them, whatever the engine's order."""
    from plasticbench.benchmark.suite import load_cell, phases

    the_plan = plan(grid("smoke", suites=["halfcheetah_forgetting"], methods=["ft1", "sac_n", "scratch", "ewc"],
                         extra=[*TINY, f"results_dir={tmp_path}"]))
    parts = phases(the_plan)
    assert [sorted({c.method for c in part.todo}) for part in parts] == [["random"], ["sac_n"], ["scratch"], ["ewc", "ft1"]]
    assert sorted((c for part in parts for c in part.todo), key=str) == sorted(the_plan.todo, key=str)
    for part in parts:  # each phase's cells are its own configs' overrides
        assert [c.run_id for c in part.todo] == [load_cell(list(cells)).run_id for cells in part.cells]
    hopper = phases(plan(grid("smoke", suites=["hopper"], methods=["ft1", "redo"], learners=["sac"], extra=[*TINY])))
    assert [[c.method for c in part.todo] for part in hopper] == [["random"], ["ft1"], ["redo"]]


def _complete(record: dict) -> bool:
    return record["curves"]["steps"] == [100, 200, 300] and len(record["scores"]) == 1 and record["scores"][0] is not None


def test_grid_with_joblib(tmp_path):
    import hydra_plugins.hydra_joblib_launcher  # noqa: F401  (the dev extra installs it; missing = a failure)
    the_plan = plan(grid("smoke", suites=["halfcheetah"], methods=["ft1"], extra=[*TINY, f"results_dir={tmp_path}"]))
    assert launch(the_plan, ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"], tmp_path / "multirun", progress=False) == 3
    for config in the_plan.todo[1:]:  # the first is the random policy's measurement
        assert _complete(json.loads((tmp_path / "runs" / config.run_id / "record.json").read_text()))
    assert plan(grid("smoke", suites=["halfcheetah"], methods=["ft1"], extra=[*TINY, f"results_dir={tmp_path}"])).todo == ()


def _job_pid(submitit_dir: Path) -> int | None:
    """The task process of the first local submitit job: a child of its controller (job id = pid)."""
    for job in sorted(submitit_dir.glob("[0-9]*")):
        children = Path(f"/proc/{job.name}/task/{job.name}/children")
        if children.exists() and children.read_text().split():
            return int(children.read_text().split()[0])
    return None


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds the job's process through /proc")
def test_grid_with_submitit_local_survives_preemption(tmp_path):
    import hydra_plugins.hydra_submitit_launcher  # noqa: F401
    results = tmp_path / "results"
    command = [sys.executable, "-m", "plasticbench.benchmark.cli", "suite", "scale=smoke", "suites=halfcheetah", "methods=ft1",
               "learners=sac", *TINY, "scale.checkpoint_every=50", f"results_dir={results}",
               "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=10"]
    env = {**os.environ, "MUJOCO_GL": "disable"}
    with subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as suite:
        deadline = time.monotonic() + 300
        while not list(results.glob("runs/*/checkpoint.pt")) and time.monotonic() < deadline:
            time.sleep(0.05)
        # the random policy's phase has finished; the training phase's job is the live one
        pid = next(filter(None, map(_job_pid, sorted(tmp_path.glob("multirun/plan-*/.submitit")))), None)
        trained = [p for p in results.glob("runs/*/record.json") if json.loads(p.read_text())["method"] != "random"]
        assert pid is not None and not trained, "the job must be mid-run"
        os.kill(pid, signal.SIGUSR2)  # what SLURM sends before preempting; submitit checkpoints and requeues
        output, _ = suite.communicate(timeout=300)
    assert suite.returncode == 0, output
    logs = " ".join(p.read_text() for p in tmp_path.glob("multirun/plan-*/.submitit/*/*_log.*"))
    assert "Requeued" in logs
    records = [json.loads(p.read_text()) for p in results.glob("runs/*/record.json")]
    trained = [r for r in records if r["method"] != "random"]
    assert len(records) == 2 and len(trained) == 1 and _complete(trained[0])
    assert not list(results.glob("runs/*/checkpoint.pt"))


@pytest.mark.parametrize("launcher,cores,expected", [
    ({"_target_": "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher", "n_jobs": -1}, 8, 1),
    ({"_target_": "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher", "n_jobs": 2}, 8, 4),
    ({"_target_": "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher", "n_jobs": -2}, 8, 1),
    ({"_target_": "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher", "n_jobs": 16}, 8, 1),
    ({"_target_": "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher", "cpus_per_task": 4}, 64, 4),
    ({"_target_": "hydra_plugins.hydra_ray_launcher.ray_launcher.RayLauncher", "ray": {"remote": {"num_cpus": 2}}}, 8, 2),
    ({"_target_": "hydra._internal.core_plugins.basic_launcher.BasicLauncher"}, 8, None),
])
def test_job_threads_split_the_cores_between_concurrent_jobs(launcher, cores, expected):
    from omegaconf import OmegaConf

    from plasticbench.benchmark.launch import job_threads

    assert job_threads(OmegaConf.create(launcher), cores) == expected
