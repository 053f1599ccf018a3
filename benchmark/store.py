"""The result store: one directory per run, records written atomically, checkpoints for resume.

Layout: `results_dir/runs/<run_id>/record.json` (the run's data, read by the leaderboard),
`checkpoint.pt` and the replay's chunk files `replay/*.pt` (both deleted once the record exists). Every write goes to a temporary file in the
same directory and is renamed into place, so a killed process or many concurrent writers never
leave a half-written file (ARCHITECTURE.md, "Results and resume").
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable


def atomic_write(path: Path, write: Callable[[Any], None], binary: bool = False) -> None:
    """Write through `write(file)` into a temp file beside `path`, then rename over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        text = {} if binary else {"encoding": "utf-8", "newline": "\n"}
        with os.fdopen(fd, "wb" if binary else "w", **text) as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; records and the leaderboard are shared, tracked files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class RunStore:
    """Files of one run. The replay buffer, when given, is checkpointed incrementally under
    `replay/` (benchmark/replay_chunks.py); `checkpoint.pt` holds the rest and the chunk manifest."""

    def __init__(self, results_dir: str | Path, run_id: str) -> None:
        self.dir = Path(results_dir) / "runs" / run_id
        self.record_path = self.dir / "record.json"
        self.checkpoint_path = self.dir / "checkpoint.pt"
        self.replay_dir = self.dir / "replay"
        self._replay_chunks: list[dict] = []  # the manifest of the last checkpoint written or read

    def has_record(self) -> bool:
        return self.record_path.is_file()

    def load_record(self) -> dict:
        return json.loads(self.record_path.read_text())

    def write_record(self, record: dict) -> None:
        atomic_write(self.record_path, lambda f: json.dump(record, f, indent=1, sort_keys=True))
        self.checkpoint_path.unlink(missing_ok=True)
        shutil.rmtree(self.replay_dir, ignore_errors=True)

    def has_checkpoint(self) -> bool:
        return self.checkpoint_path.is_file()

    def save_checkpoint(self, state: dict, replay: Any = None) -> None:
        """Write `state` (and the replay's new chunk, if a buffer is given) as the checkpoint."""
        import torch  # here, not at the top: the leaderboard writes through this module without torch

        if replay is not None:
            from plasticbench.benchmark.replay_chunks import ReplayLog, save_replay

            log = ReplayLog(self.replay_dir)
            state = {**state, "replay": save_replay(log, replay, self._replay_chunks)}
        self.write_checkpoint_file(lambda f: torch.save(state, f))
        if replay is not None:
            replay.mark_saved()
            self._replay_chunks = state["replay"]["chunks"]
            log.prune(self._replay_chunks)

    def write_checkpoint_file(self, write: Callable[[Any], None]) -> None:
        """The step that makes a checkpoint current (tests kill a run just before it)."""
        atomic_write(self.checkpoint_path, write, binary=True)

    def load_checkpoint(self, replay: Any = None) -> dict:
        """The checkpoint; with a buffer given, refill it from the chunks the checkpoint names."""
        import torch

        state = torch.load(self.checkpoint_path, map_location="cpu", weights_only=False)
        if replay is not None and "replay" in state:
            from plasticbench.benchmark.replay_chunks import ReplayLog, load_replay

            self._replay_chunks = load_replay(ReplayLog(self.replay_dir), replay, state["replay"])
        return state


def find_records(results_dir: str | Path, **fields: Any) -> list[dict]:
    """Records under `results_dir` whose top-level fields equal `fields` (e.g. the SAC-N reference)."""
    found = []
    for path in sorted((Path(results_dir) / "runs").glob("*/record.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if all(record.get(k) == v for k, v in fields.items()):
            found.append(record)
    return found
