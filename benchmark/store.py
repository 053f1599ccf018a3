"""The result store: one directory per run, records written atomically, checkpoints for resume.

Layout: `results_dir/runs/<run_id>/record.json` (the run's data, read by the leaderboard),
`checkpoint.pt` and the one before it, `checkpoint.prev.pt`, the replay's chunk files `replay/*.pt`
that either of them names (all deleted once the record exists), and `failure.json` while the run's
last attempt raised (benchmark/failures.py). Every write goes to a temporary file in the same
directory and is renamed into place, so a killed process or many concurrent writers never leave a
half-written file (ARCHITECTURE.md, "Results and resume").

Two checkpoints, because a checkpoint can be damaged after it was written (a full disk, a node
lost mid-copy): one that cannot be read is moved aside (`checkpoint.pt.corrupt-<UTC time>`, kept
for inspection, never read again) and the run resumes from the previous one, or from scratch; so
the replay chunks both manifests name are kept.
"""
from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Callable


def _pid_runs(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _temp_prefix(path: Path) -> str:
    """Temp files name their writer (host, pid), so one killed mid-write can be told from a live one."""
    return f".{path.name}.{socket.gethostname()}-{os.getpid()}."


def remove_stale_temps(folder: Path) -> None:
    """Delete the temp files in `folder` left by writers of this host that no longer run (killed
    mid-write; SIGKILL skips every cleanup). Another host's temps are left alone: its pids mean
    nothing here, and temp files are hidden and never read."""
    mark = f".{socket.gethostname()}-"
    for tmp in folder.glob(f".*{glob.escape(mark)}*.tmp"):
        pid = tmp.name[tmp.name.rindex(mark) + len(mark):].split(".", 1)[0]
        if pid.isdigit() and not _pid_runs(int(pid)):
            tmp.unlink(missing_ok=True)


def atomic_write(path: Path, write: Callable[[Any], None], binary: bool = False, previous: Path | None = None) -> None:
    """Write through `write(file)` into a temp file beside `path`, then rename over it; with
    `previous`, the file being replaced is first renamed there (a crash between the two renames
    leaves `previous` complete and `path` absent, never a partial file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_temp_prefix(path), suffix=".tmp")
    try:
        text = {} if binary else {"encoding": "utf-8", "newline": "\n"}
        with os.fdopen(fd, "wb" if binary else "w", **text) as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; records and the leaderboard are shared, tracked files
        if previous is not None and path.exists():
            os.replace(path, previous)
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
        self.previous_checkpoint_path = self.dir / "checkpoint.prev.pt"
        self.failure_path = self.dir / "failure.json"
        self.replay_dir = self.dir / "replay"
        self._replay_chunks: list[dict] = []  # the manifest of the last checkpoint written or read
        self._previous_chunks: list[dict] = []  # the manifest of the checkpoint before it (checkpoint.prev.pt)

    def has_record(self) -> bool:
        return self.record_path.is_file()

    def load_record(self) -> dict:
        return json.loads(self.record_path.read_text())

    def write_record(self, record: dict) -> None:
        atomic_write(self.record_path, lambda f: json.dump(record, f, indent=1, sort_keys=True))
        for path in (self.checkpoint_path, self.previous_checkpoint_path, self.failure_path):
            path.unlink(missing_ok=True)
        shutil.rmtree(self.replay_dir, ignore_errors=True)

    def has_checkpoint(self) -> bool:
        return bool(self.checkpoints())

    def checkpoints(self) -> list[Path]:
        """Existing checkpoints, newest first."""
        return [p for p in (self.checkpoint_path, self.previous_checkpoint_path) if p.is_file()]

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
            self._previous_chunks, self._replay_chunks = self._replay_chunks, state["replay"]["chunks"]
            log.prune([*self._previous_chunks, *self._replay_chunks])

    def write_checkpoint_file(self, write: Callable[[Any], None]) -> None:
        """The step that makes a checkpoint current, the one it replaces becoming the previous one
        (tests kill a run just before it)."""
        atomic_write(self.checkpoint_path, write, binary=True, previous=self.previous_checkpoint_path)

    def load_checkpoint(self, path: Path | None = None, replay: Any = None) -> dict:
        """The newest checkpoint, or the one at `path`; with a buffer given, refill it from the chunks
        the checkpoint names. Raises whatever torch raises on a damaged file or chunk."""
        import torch

        state = torch.load(path or self.checkpoint_path, map_location="cpu", weights_only=False)
        if replay is not None and "replay" in state:
            from plasticbench.benchmark.replay_chunks import ReplayLog, load_replay

            self._replay_chunks = load_replay(ReplayLog(self.replay_dir), replay, state["replay"])
        return state

    def set_aside(self, path: Path, reason: str) -> Path:
        """Move an unreadable file to `<name>.corrupt-<UTC time>` with a warning naming both."""
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        target, n = path.with_name(f"{path.name}.corrupt-{stamp}"), 1
        while target.exists():
            target, n = path.with_name(f"{path.name}.corrupt-{stamp}-{n}"), n + 1
        os.replace(path, target)
        warnings.warn(f"cannot read {path} ({reason}); moved it to {target.name}", RuntimeWarning, stacklevel=2)
        return target

    def write_failure(self, failure: dict) -> None:
        atomic_write(self.failure_path, lambda f: json.dump(failure, f, indent=1, sort_keys=True))

    def load_failure(self) -> dict | None:
        """The last attempt's failure, or None (none, or unreadable)."""
        try:
            return json.loads(self.failure_path.read_text())
        except (OSError, ValueError):
            return None


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
