"""Failures never take a run or a grid down (issue #11): diverged seeds, damaged checkpoints,
failing cells, missing hardware."""
import json

import pytest
import torch

from plasticbench.benchmark.cli import EXIT_DIVERGED, main
from plasticbench.benchmark.reporting.scores import FAILURE_SCORE
from plasticbench.benchmark.runner import Run
from plasticbench.benchmark.store import RunStore
from plasticbench.methods.base import Method
from tests import poison
from tests.conftest import TINY

HOPPER = ("suite=hopper", "learner=sac", "seeds=2", f"method={poison.NAME}", "scale.steps_per_task=200")


@pytest.fixture
def registered_poison():
    poison.register()
    yield
    poison.unregister()


def test_a_diverged_seed_is_recorded_frozen_and_scored_as_a_failure(tiny_config, registered_poison):
    poisoned = Run(tiny_config(*HOPPER, "method.at_update=20"), progress=False)
    clean = Run(tiny_config(*HOPPER), progress=False)
    record, reference = poisoned.execute(), clean.execute()
    assert record["diverged"] == {"1": poisoned.method.at_step} and reference["diverged"] == {}
    assert record["scores"][1] == FAILURE_SCORE and record["metrics"]["forgetting"][1] is None
    assert record["scores"][0] == reference["scores"][0]
    assert [row[0][0] for row in record["curves"]["returns"]] == [row[0][0] for row in reference["curves"]["returns"]]
    for role, tensors in poison.seed_slices(clean.learner, 0).items():
        assert all(torch.equal(a, b) for a, b in zip(poison.seed_slices(poisoned.learner, 0)[role], tensors)), role
    for role, before in poisoned.method.frozen.items():
        assert all(torch.equal(p[1], b) for p, b in zip(poisoned.learner.networks[role].parameters(), before)), role


def test_run_with_a_diverged_seed_names_it_and_exits_3(tmp_path, capsys, registered_poison):
    argv = ["run", *HOPPER, "method.at_update=5", f"results_dir={tmp_path}", *TINY]
    assert main(argv) == EXIT_DIVERGED
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert "diverged seeds: 1 at env step 70" in line  # learning_starts 64, update 5 at step 64 + 1 + 5


def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def test_an_unreadable_checkpoint_is_set_aside_and_the_run_resumes_from_the_previous_one(tiny_config, monkeypatch):
    from tests.resume import Killed

    config = tiny_config("suite=hopper", "learner=td3", "seeds=1", "scale.checkpoint_every=50")
    store, saves, original = RunStore(config.results_dir, config.run_id), [], RunStore.save_checkpoint

    def save_then_die(self, state, replay=None):
        original(self, state, replay=replay)
        saves.append(1)
        if len(saves) == 3:
            raise Killed

    monkeypatch.setattr(RunStore, "save_checkpoint", save_then_die)
    with pytest.raises(Killed):
        Run(config, progress=False).execute()
    monkeypatch.undo()
    assert store.checkpoints() == [store.checkpoint_path, store.previous_checkpoint_path]  # the last two are kept
    _truncate(store.checkpoint_path)
    restored = []
    monkeypatch.setattr(Run, "_restore", lambda self, c: (restored.append(c["state"]["step_in_task"]), original_restore(self, c)))
    with pytest.warns(RuntimeWarning, match=r"checkpoint\.pt .*moved it to checkpoint\.pt\.corrupt-"):
        record = Run(config, progress=False).execute()
    assert restored == [100]  # the second checkpoint (step 100), not the damaged third (step 150)
    assert record["curves"]["steps"] == [100, 200, 300] and store.has_record() and not store.has_checkpoint()
    assert len(list(store.dir.glob("checkpoint.pt.corrupt-*"))) == 1


original_restore = Run._restore


def test_with_every_checkpoint_unreadable_the_run_starts_over_and_completes(tiny_config):
    config = tiny_config("suite=hopper", "learner=td3", "seeds=1")
    store = RunStore(config.results_dir, config.run_id)
    store.dir.mkdir(parents=True)
    store.checkpoint_path.write_bytes(b"PK\x03\x04 not a zip archive")
    store.previous_checkpoint_path.write_bytes(b"")
    with pytest.warns(RuntimeWarning, match="cannot read"):
        record = Run(config, progress=False).execute()
    assert record["curves"]["steps"] == [100, 200, 300]
    assert sorted(p.name.split(".corrupt-")[0] for p in store.dir.glob("*.corrupt-*")) == ["checkpoint.prev.pt", "checkpoint.pt"]


def test_device_cuda_without_cuda_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # runs on a CUDA machine too
    assert main(["run", "suite=hopper", "device=cuda", f"results_dir={tmp_path}"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "device='cuda'" in err and "allowed: cpu" in err
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("value,expected", [
    ("seeds=abc", "seeds='abc'"), ("seeds=2.5", "seeds=2.5"), ("seeds=[1,x]", "seeds=[1, 'x']"),
    ("seeds=[1,1]", "seeds=[1, 1]"), ("scale=huge", "unknown scale 'huge'; allowed: paper, short, smoke"),
    ("scale.eval_every=0", "scale.eval_every=0; allowed: an integer >= 1"), ("scale.eval_every=x", "scale.eval_every='x'"),
    ("learner.actor_lr=abc", "learner.actor_lr: Value 'abc'"), ("learner.batch_size=-3", "learner.batch_size=-3"),
    ("learner.gamma=nan", "learner.gamma=nan; allowed: a finite number"), ("learner.critic_lr=0", "a positive number"),
    ("learner.hidden=[]", "learner.hidden=[]"), ("method.typo=1", "unknown key method.typo"),
])
def test_every_malformed_value_is_one_line_naming_it_and_exit_2(tmp_path, capsys, value, expected):
    assert main(["run", "suite=hopper", value, f"results_dir={tmp_path}"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and expected in err and ("allowed" in err or "Value" in err), err


class Raising(Method):
    """Raises at its first task start while `armed`: a grid cell that fails, then succeeds on retry."""

    armed = True

    def on_task_start(self, ctx, task):
        if Raising.armed:
            raise RuntimeError("boom: a cell that raises")


@pytest.fixture
def registered_raising():
    from plasticbench.benchmark import registry

    registry.method_names()
    registry.register_method("raising_test", settings={"online"}, learners={"td3"})(Raising)
    Raising.armed = True
    yield
    registry._METHODS.pop("raising_test", None)


def test_a_suite_survives_a_failing_cell_and_a_rerun_retries_only_that_cell(tmp_path, capsys, monkeypatch, registered_raising):
    from plasticbench.benchmark import suite

    monkeypatch.setattr(suite, "launch", lambda the_plan, launcher: suite.run_plan(the_plan, progress=False))
    argv = ["suite", "scale=smoke", "suites=hopper", "methods=raising_test,ft1", "learners=td3", "seeds=1",
            "scale.steps_per_task=120", f"results_dir={tmp_path}", *TINY]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "suite done: 2 of 3 planned runs recorded, 1 failed" in out  # the random measurement, ft1; not raising_test
    assert "FAILED method=raising_test" in out and "RuntimeError: boom: a cell that raises" in out
    assert "rerun: plasticbench run method=raising_test learner=td3 suite=hopper scale=smoke" in out
    failures = list(tmp_path.glob("runs/*/failure.json"))
    assert len(failures) == 1 and not list(failures[0].parent.glob("record.json"))
    failure = json.loads(failures[0].read_text())
    assert "on_task_start" in failure["traceback"] and failure["error"] == "RuntimeError: boom: a cell that raises"
    (recorded,) = [p for p in tmp_path.glob("runs/*/record.json") if json.loads(p.read_text())["method"] == "ft1"]
    first_write = recorded.stat().st_mtime_ns

    cells = suite.grid("smoke", ["hopper"], ["raising_test", "ft1"], ["td3"], argv[5:])
    retry = suite.plan(cells)
    assert [c.method for c in retry.todo] == ["raising_test"] and {c.method for c in retry.done} == {"ft1", "random"}
    Raising.armed = False
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "1 runs to do (1 failed before, retried), 2 already recorded" in out and "suite done: 1 of 1" in out
    assert recorded.stat().st_mtime_ns == first_write and not list(tmp_path.glob("runs/*/failure.json"))
    assert len(list(tmp_path.glob("runs/*/record.json"))) == 3


def test_a_hydra_job_whose_cell_raises_returns_normally(tmp_path, registered_raising):
    from plasticbench.benchmark.launch import run_cell

    cell = ["method=raising_test", "learner=td3", "suite=hopper", "scale=smoke", "seeds=1", f"results_dir={tmp_path}", *TINY]
    run_id = run_cell(cell)
    store = RunStore(tmp_path, run_id)
    assert store.load_failure()["overrides"] == cell and not store.has_record()
