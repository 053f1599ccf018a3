"""The run loop's one logging object: per-seed scalars, flushed at evaluations and checkpoints.

Resume rule: after every flush the step it reached is written atomically to
`logs/logged_upto.json`. A resumed run replays the steps since its last checkpoint and produces
the same scalars again (training is deterministic); everything at or before the marker is dropped,
so each step reaches a dashboard exactly once whether the kill came before or after a flush.
"""
from __future__ import annotations

import importlib.util
import json
import netrc
import os
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from plasticbench.benchmark.live.sinks import CsvSink, Sink, TensorBoardSink, WandbSink
from plasticbench.benchmark.store import atomic_write

LOGGERS = ("none", "tensorboard", "wandb", "csv")
_NEEDS = {"tensorboard": ("tensorboard", "pip install 'plasticbench[tensorboard]'"),
          "wandb": ("wandb", "pip install 'plasticbench[wandb]'")}


def parse_loggers(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """`logger=` as given (a name, a comma list or a list) -> the active backends, checked.

    Unknown names and missing packages fail here, before any work, with the install command.
    """
    if value is None:
        return ()
    names = [value] if isinstance(value, str) else list(value)
    names = [n.strip() for name in names for n in str(name).strip("[]").split(",") if n.strip()]
    unknown = [n for n in names if n not in LOGGERS]
    if unknown:
        raise ValueError(f"logger={','.join(names)}: unknown {unknown}; allowed: {', '.join(LOGGERS)} (combinable: logger=[tensorboard,csv])")
    active = tuple(sorted(set(names) - {"none"}))
    for name in active:
        module, install = _NEEDS.get(name, (None, ""))
        if module and importlib.util.find_spec(module) is None:
            raise ValueError(f"logger={name} needs the {module!r} package: {install}")
    if "wandb" in active and not _wandb_can_start():
        raise ValueError("logger=wandb: no W&B API key (WANDB_API_KEY or `wandb login`); "
                         "or set WANDB_MODE=offline to write the runs locally and `wandb sync` them later")
    return active


def _wandb_can_start() -> bool:
    """Online W&B needs a key; offline and disabled modes need nothing (checked before any work)."""
    if os.environ.get("WANDB_MODE", "").lower() in ("offline", "disabled", "dryrun") or os.environ.get("WANDB_API_KEY"):
        return True
    try:
        return netrc.netrc().authenticators("api.wandb.ai") is not None
    except (OSError, netrc.NetrcParseError):
        return False


class RunLogger:
    """Scalars [S] per tag, one writer per seed and backend, under `<run dir>/logs/<backend>/seed_<k>`."""

    def __init__(self, backends: Iterable[str], run_dir: Path, run_id: str, seeds: Sequence[int],
                 hparams: Mapping[str, Any]) -> None:
        self.folder = Path(run_dir) / "logs"
        self.marker = self.folder / "logged_upto.json"
        self.logged_upto = json.loads(self.marker.read_text())["step"] if self.marker.is_file() else -1
        self.seeds, self.step = list(seeds), -1
        flat = _flatten(hparams)
        self.sinks: list[list[Sink]] = [[self._open(b, seed, run_id, flat) for b in backends] for seed in self.seeds]

    def _open(self, backend: str, seed: int, run_id: str, hparams: dict[str, Any]) -> Sink:
        folder = self.folder / backend / f"seed_{seed}"
        if backend == "tensorboard":
            return TensorBoardSink(folder, hparams)
        if backend == "wandb":
            return WandbSink(folder, run_id, seed, hparams)
        return CsvSink(folder)

    def scalars(self, step: int, values: Mapping[str, Sequence[float]]) -> None:
        """tag -> one value per seed (NaN and None are skipped for that seed)."""
        if step <= self.logged_upto:
            return
        self.step = max(self.step, step)
        for tag, per_seed in values.items():
            for sinks, value in zip(self.sinks, per_seed):
                if value is not None and value == value:
                    for sink in sinks:
                        sink.add(tag, float(value), step)

    def flush(self) -> None:
        """Everything logged so far reaches disk; then the marker moves (never before)."""
        if self.step <= self.logged_upto:
            return
        for sinks in self.sinks:
            for sink in sinks:
                sink.flush()
        self.logged_upto = self.step
        atomic_write(self.marker, lambda f: json.dump({"step": self.step}, f))

    def close(self) -> None:
        self.flush()
        for sinks in self.sinks:
            for sink in sinks:
                sink.close()


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested config -> {"learner.hidden": "(256, 256)", ...}: what every backend's hparams view takes."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value if isinstance(value, (int, float, str, bool)) else str(value)
    return flat
