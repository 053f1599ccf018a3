"""One writer per (run, seed) for each logging backend; all share add/flush/close.

One dashboard run per seed, grouped by run_id, is how the field reads multi-seed curves: W&B's
`group`, and TensorBoard's folder tree (`runs/<run_id>/logs/tensorboard/seed_<k>`) so that
`tensorboard --logdir results/runs` overlays the seeds of a run.
"""
from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any, Protocol


class Sink(Protocol):
    def add(self, tag: str, value: float, step: int) -> None: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...


class TensorBoardSink:
    def __init__(self, folder: Path, hparams: dict[str, Any]) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(folder))
        self.writer.add_text("config", "\n".join(f"    {k}: {v}" for k, v in sorted(hparams.items())))

    def add(self, tag: str, value: float, step: int) -> None:
        self.writer.add_scalar(tag, value, step)

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


class CsvSink:
    """step,tag,value rows appended to one file per seed: readable with nothing but pandas or awk."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "scalars.csv"
        fresh = not path.exists()
        self.handle = path.open("a", newline="", encoding="utf-8")
        self.rows = csv.writer(self.handle)
        if fresh:
            self.rows.writerow(["step", "tag", "value"])

    def add(self, tag: str, value: float, step: int) -> None:
        self.rows.writerow([step, tag, repr(float(value))])

    def flush(self) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def close(self) -> None:
        self.handle.close()


class WandbSink:
    """A W&B run per seed; WANDB_MODE (e.g. offline) and the other WANDB_* variables are honoured.

    Steps are buffered and logged one `log` call per step so W&B's history has one row per
    environment step, as a dashboard expects.
    """

    def __init__(self, folder: Path, run_id: str, seed: int, hparams: dict[str, Any]) -> None:
        import wandb

        folder.mkdir(parents=True, exist_ok=True)
        self.run = wandb.init(project=os.environ.get("WANDB_PROJECT", "plasticbench"), group=run_id,
                              name=f"{run_id}-seed{seed}", job_type="train", dir=str(folder),
                              config={**hparams, "seed": seed}, reinit="create_new",
                              settings=wandb.Settings(quiet=True))
        self.pending: dict[int, dict[str, float]] = {}

    def add(self, tag: str, value: float, step: int) -> None:
        self.pending.setdefault(step, {})[tag] = float(value)

    def flush(self) -> None:
        for step in sorted(self.pending):
            self.run.log(self.pending[step], step=step)
        self.pending.clear()

    def close(self) -> None:
        self.flush()
        self.run.finish()
