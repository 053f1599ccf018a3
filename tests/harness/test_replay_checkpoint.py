"""Incremental replay checkpoints: a run killed at any step of a checkpoint resumes to the same
record, and each checkpoint writes only the transitions added since the one before."""
import pytest
import torch

from plasticbench.benchmark.runner import Run
from plasticbench.benchmark.store import RunStore
from tests.resume import KILL_POINTS, Killed, kill_at, killed_and_resumed

# Hopper ends episodes by termination and by the 50-step smoke cap; a 120-transition buffer wraps
# and evicts whole chunks; a checkpoint every 40 steps gives several chunks per task.
OVERRIDES = ("suite=hopper", "seeds=2", "learner.buffer_size=120", "scale.checkpoint_every=40")


@pytest.mark.parametrize("where", KILL_POINTS)
def test_a_run_killed_between_replay_chunks_resumes_to_the_same_record(tiny_config, tmp_path, monkeypatch, where):
    resumed, uninterrupted = killed_and_resumed(tiny_config, OVERRIDES, tmp_path, monkeypatch, die_at=5, where=where)
    assert resumed["curves"] == uninterrupted["curves"]
    assert resumed["final_returns"] == uninterrupted["final_returns"]
    assert resumed["plasticity"] == uninterrupted["plasticity"]  # probes sample the restored buffer


def test_each_checkpoint_appends_only_what_was_added_since_the_last(tiny_config, tmp_path, monkeypatch):
    config = tiny_config(*OVERRIDES)
    with monkeypatch.context() as patch:
        kill_at(patch, "before_prune", die_at=5)  # step 200: [40, 80) just evicted
        with pytest.raises(Killed):
            Run(config, progress=False).execute()
    store = RunStore(config.results_dir, config.run_id)
    checkpoint = torch.load(store.checkpoint_path, weights_only=False)
    assert "buffer" not in checkpoint["learner"]  # no copy of the replay in the main checkpoint
    named = checkpoint["replay"]["chunks"]
    assert [(e["start"], e["end"]) for e in named] == [(80, 120), (120, 160), (160, 200)]  # [80, 200) held
    on_disk = sorted(p.name for p in store.replay_dir.iterdir())
    # [0, 40) is still named by checkpoint.prev.pt's manifest at the last prune (two checkpoints are kept,
    # #11), [40, 80) was evicted at step 200: neither is removed yet ...
    assert on_disk[0].endswith("-000000000000-000000000040.pt") and on_disk[1].endswith("-000000000040-000000000080.pt")
    assert len(on_disk) == 5
    resumed = Run(config, progress=False)
    resumed.store.load_checkpoint(replay=resumed.learner.buffer)
    assert resumed.learner.buffer.size == 120 and resumed.learner.buffer.added == 200
    resumed.store.save_checkpoint({"run_id": config.run_id}, replay=resumed.learner.buffer)
    assert sorted(p.name for p in store.replay_dir.iterdir()) == [e["file"] for e in named]  # ... the next one does
