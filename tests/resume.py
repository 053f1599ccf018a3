"""Kill a run at its n-th checkpoint, resume it, and run it again uninterrupted: the resume checks.

A checkpoint is saved in three steps (benchmark/replay_chunks.py): the replay's new chunk, then
`checkpoint.pt` naming it, then removal of chunks no longer named. `where` picks the instant of
the kill: "saved" after all three, "before_checkpoint" between the chunk and `checkpoint.pt`
(resume must use the previous checkpoint and ignore the new chunk), "before_prune" between
`checkpoint.pt` and the removal of stale chunks.
"""
import pytest

from plasticbench.benchmark.runner import Run, run
from plasticbench.benchmark.store import RunStore

KILL_POINTS = ("saved", "before_checkpoint", "before_prune")


class Killed(Exception):
    pass


def kill_at(monkeypatch, where: str, die_at: int) -> None:
    """Make the `die_at`-th checkpoint raise Killed at `where`."""
    calls = []
    name = "save_checkpoint" if where == "saved" else "write_checkpoint_file"
    original = getattr(RunStore, name)

    def wrapped(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == die_at and where == "before_checkpoint":
            raise Killed
        original(self, *args, **kwargs)
        if len(calls) == die_at:
            raise Killed

    monkeypatch.setattr(RunStore, name, wrapped)


def killed_and_resumed(tiny_config, overrides, tmp_path, monkeypatch, die_at: int, where: str = "saved") -> tuple[dict, dict]:
    """(resumed, uninterrupted) records of the run `tiny_config(*overrides)`; the first one is
    killed at its `die_at`-th checkpoint (at `where`, one of KILL_POINTS) and then resumed."""
    config = tiny_config(*overrides, results_dir=tmp_path / "resumed")
    with monkeypatch.context() as patch:
        kill_at(patch, where, die_at)
        with pytest.raises(Killed):
            Run(config, progress=False).execute()
    store = RunStore(config.results_dir, config.run_id)
    assert store.has_checkpoint() and not store.has_record()
    resumed = Run(config, progress=False).execute()
    assert store.has_record() and not store.has_checkpoint() and not store.replay_dir.exists()
    return resumed, run(tiny_config(*overrides, results_dir=tmp_path / "straight"), progress=False)
