"""Kill a run at its n-th checkpoint, resume it, and run it again uninterrupted: the resume checks."""
import pytest

from plasticbench.benchmark.runner import Run, run
from plasticbench.benchmark.store import RunStore


class Killed(Exception):
    pass


def killed_and_resumed(tiny_config, overrides, tmp_path, monkeypatch, die_at: int) -> tuple[dict, dict]:
    """(resumed, uninterrupted) records of the run `tiny_config(*overrides)`; the first one is
    killed right after writing its `die_at`-th checkpoint and then resumed from it."""
    config = tiny_config(*overrides, results_dir=tmp_path / "resumed")
    saves, original = [], RunStore.save_checkpoint

    def save_then_die(self, state):
        original(self, state)
        saves.append(1)
        if len(saves) == die_at:
            raise Killed

    monkeypatch.setattr(RunStore, "save_checkpoint", save_then_die)
    with pytest.raises(Killed):
        Run(config, progress=False).execute()
    monkeypatch.setattr(RunStore, "save_checkpoint", original)
    store = RunStore(config.results_dir, config.run_id)
    assert store.has_checkpoint() and not store.has_record()
    resumed = Run(config, progress=False).execute()
    assert store.has_record() and not store.has_checkpoint()
    return resumed, run(tiny_config(*overrides, results_dir=tmp_path / "straight"), progress=False)
