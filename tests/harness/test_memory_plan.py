"""The memory plan: its numbers are the tensors a run allocates, and an oversized run is refused
before anything is allocated, with the numbers and the ways out."""
import json
from pathlib import Path

import pytest
from plasticbench.baselines.replay import ReplayBuffer
from plasticbench.benchmark import memory_plan
from plasticbench.benchmark.cli import main
from plasticbench.benchmark.config import load_run_config
from plasticbench.benchmark.runner import Run
from tests.transitions import fill

TINY = ("learner.hidden=[16,16]", "learner.batch_size=16")


@pytest.mark.parametrize("overrides", [("learner=sac", "suite=hopper"), ("learner=td3", "suite=halfcheetah_forgetting",
                                                                          "method=packnet", "learner.replay_dtype=float16")])
def test_the_plan_equals_what_the_run_allocates(tiny_config, overrides):
    config = tiny_config(*overrides, "seeds=3")
    plan = memory_plan.plan_run(config)
    learner = Run(config, progress=False).learner
    assert plan.replay_bytes == learner.buffer.allocated_bytes() > 0
    assert plan.capacity == learner.buffer.capacity
    fill(learner, config.seeds, steps=20)
    for _ in range(3):
        learner.update()  # Adam's moments exist from here on
    tensors = {id(t): t for net in learner.networks.values() for t in [*net.parameters(), *net.buffers()]}
    tensors.update({id(v): v for opt in learner.optimizers.values() for st in opt.state.values() for v in st.values()})
    assert plan.learner_bytes == sum(t.numel() * t.element_size() for t in tensors.values())


def test_an_oversized_run_is_refused_before_allocating(tiny_config, monkeypatch):
    config = tiny_config("suite=humanoid", "scale=paper", "seeds=4")

    allocate = ReplayBuffer.__init__

    def only_tiny(self, num_seeds, capacity, *args):
        assert capacity == 1, "the run's replay was allocated"  # the plan's one-transition learner is fine
        allocate(self, num_seeds, capacity, *args)

    monkeypatch.setattr(ReplayBuffer, "__init__", only_tiny)
    monkeypatch.setattr(memory_plan, "free_bytes", lambda device: 3 * 10**9)
    with pytest.raises(memory_plan.MemoryPlanError) as error:
        Run(config, progress=False)
    message = str(error.value)
    replay = memory_plan.plan_run(config).replay_bytes
    assert f"replay {replay / 1e9:.2f} GB = 4 seeds x 1,000,000 transitions" in message and "3.00 GB is free" in message
    assert "fewer seeds per process (at most 1 fit" in message
    assert "smaller learner.buffer_size" in message and "learner.replay_dtype=bfloat16" in message


def test_run_dry_run_prints_the_plan_and_runs_nothing(tmp_path, capsys):
    argv = ["run", "suite=humanoid", "scale=paper", "seeds=10", f"results_dir={tmp_path}", "dry_run=true", *TINY]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "ft1/sac/humanoid seeds=10 device=cpu: replay" in out and "checkpoint" in out and "peak" in out
    assert not (tmp_path / "runs").exists()


def test_suite_dry_run_prints_one_plan_line_per_run(tmp_path, capsys):
    argv = ["suite", "scale=smoke", "suites=hopper,halfcheetah_forgetting", "methods=ft1,ewc", f"results_dir={tmp_path}",
            "dry_run=true", *TINY]
    assert main(argv) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "replay" in line]
    assert len([line for line in lines if "random/" in line]) == 2  # each suite's random-policy measurement
    assert len(lines) == 7  # + ft1 with sac and td3 on both suites, ewc (continual, sac only) on the 8-task one
    assert not (tmp_path / "runs").exists()


def test_exact_storage_keeps_the_run_ids_of_committed_records():
    """replay_dtype joins a run's identity only when it is not the exact float32 (same numbers)."""
    records = [json.loads(p.read_text()) for p in sorted((Path(__file__).resolve().parents[2] / "results" / "runs").glob("*/record.json"))]
    record = next(r for r in records if r["method"] != "random")
    cell = [f"method={record['method']}", f"learner={record['learner']}", f"suite={record['suite']}",
            f"scale={record['scale']}", f"seeds={len(record['seeds'])}"]
    assert load_run_config(cell).run_id == record["run_id"]
    assert load_run_config([*cell, "learner.replay_dtype=bfloat16"]).run_id != record["run_id"]
