"""Incremental replay checkpoints: append-only chunk files plus a manifest in the checkpoint.

A run's replay is checkpointed as the transitions added since its last checkpoint
(`ReplayBuffer.unsaved_chunk`), one file per checkpoint under `runs/<run_id>/replay/`, never
as a copy of the whole buffer. The run's `checkpoint.pt` names the chunks it needs (the
manifest) next to the ring's pointer state. Order of a save, each step atomic (temp + rename):

1. write the new chunk file (a kill here leaves an unnamed file: ignored, later removed);
2. write `checkpoint.pt` with the new manifest (a kill before it: the old checkpoint and its
   chunks, all still on disk, are what resume reads);
3. delete the chunk files the new manifest no longer names (evicted or of an emptied buffer).

So the checkpoint read back after a kill at any instant is a consistent one.

Chunk format (torch.save of plain tensors and ints; read with weights_only=True):
`epoch` (buffer clears so far), `start`/`end` (transition indices since that clear),
`obs` [S, n, obs] (the buffer's obs dtype), `action` [S, n, act], `reward` and `done`
[S, n, 1], and the side-table rows decided in the same span, `cut_seed` [m], `cut_index`
[m], `cut_next_obs` [m, obs]. Manifest entry: {"file", "epoch", "start", "end"}.
"""
from __future__ import annotations

from pathlib import Path

import torch

from plasticbench.baselines.replay import ReplayBuffer
from plasticbench.benchmark.store import atomic_write


def chunk_name(chunk: dict) -> str:
    return f"e{chunk['epoch']:05d}-{chunk['start']:012d}-{chunk['end']:012d}.pt"


def live_entries(entries: list[dict], pointer: dict) -> list[dict]:
    """The manifest entries a buffer at `pointer` still reads: same fill, newest `capacity` transitions."""
    first_live = pointer["added"] - min(pointer["added"], pointer["capacity"])
    return [e for e in entries if e["epoch"] == pointer["epoch"] and e["end"] > first_live]


class ReplayLog:
    """The chunk files of one run's replay."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def append(self, chunk: dict) -> dict:
        name = chunk_name(chunk)
        atomic_write(self.folder / name, lambda f: torch.save(chunk, f), binary=True)
        return {"file": name, "epoch": chunk["epoch"], "start": chunk["start"], "end": chunk["end"]}

    def read(self, entries: list[dict]) -> list[dict]:
        return [torch.load(self.folder / e["file"], map_location="cpu", weights_only=True) for e in entries]

    def prune(self, keep: list[dict]) -> None:
        """Delete every file here the manifest `keep` does not name (stale chunks, killed temp files)."""
        names = {e["file"] for e in keep}
        for path in self.folder.glob("*") if self.folder.is_dir() else ():
            if path.name not in names:
                path.unlink(missing_ok=True)


def save_replay(log: ReplayLog, buffer: ReplayBuffer, entries: list[dict]) -> dict:
    """Steps 1 of a save: append the unsaved chunk; returns the checkpoint's replay part."""
    pointer = buffer.pointer_state()
    chunk = buffer.unsaved_chunk()
    if chunk is not None:
        entries = [*entries, log.append(chunk)]
    return {"pointer": pointer, "chunks": live_entries(entries, pointer)}


def load_replay(log: ReplayLog, buffer: ReplayBuffer, replay: dict) -> list[dict]:
    """Refill `buffer` from a checkpoint's replay part; returns its manifest."""
    entries = live_entries(replay["chunks"], replay["pointer"])
    buffer.restore(replay["pointer"], log.read(entries))
    return entries
