"""Minari datasets (Farama's successor to D4RL), read from a local folder with h5py alone.

A Minari dataset is a folder `<id>/data/` holding `metadata.json` and `main_data.hdf5`, one group
`episode_<i>` per episode with `observations` (T+1 rows: the final observation is kept), `actions`,
`rewards`, `terminations` and `truncations` (T rows). Nothing is downloaded and `minari` itself is
not imported: its loader wants the dataset inside its own store, and its reader adds nothing h5py
does not give (the `offline` extra still installs `minari[create]`, which the tests use to write
real Minari files).

The episodes become D4RL rows so that one transition builder serves both formats
(`offline.qlearning_dataset`, scenarios.md §4.1: done = termination, next observation from the
following row, a time-cut row dropped). Each episode contributes its T steps and then one more row
holding its final observation, marked as a timeout: that row gives the last step its true next
observation and, being a timeout, starts no transition itself. So, unlike a D4RL file, no step is lost
at a time limit; a truncated episode's last step is kept with done = 0, which is what D4RL would do
had it stored the final observation.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from plasticbench.envs.dataset_errors import DatasetError, check

DATA_FILE, METADATA_FILE = "main_data.hdf5", "metadata.json"
EPISODE_KEYS = ("observations", "actions", "rewards", "terminations", "truncations")


def minari_folder(path: Path) -> Path | None:
    """The `data/` folder of a Minari dataset named by `path` (the dataset folder, its `data/` folder
    or its `main_data.hdf5`), or None when `path` is not laid out as one."""
    for candidate in (path / "data", path, path.parent if path.name == DATA_FILE else None):
        if candidate is not None and (candidate / DATA_FILE).is_file():
            return candidate
    return None


def stamp(folder: Path) -> tuple[int, int]:
    """(modification time, size) of the two files, so a cache notices a rewritten dataset."""
    files = [folder / DATA_FILE, folder / METADATA_FILE]
    stats = [f.stat() for f in files if f.is_file()]
    return max(s.st_mtime_ns for s in stats), sum(s.st_size for s in stats)


def _metadata(folder: Path) -> dict[str, Any]:
    where = folder / METADATA_FILE
    check(where.is_file(), folder, METADATA_FILE, "is missing (a Minari dataset folder holds data/metadata.json)")
    try:
        metadata = json.loads(where.read_text())
    except (OSError, ValueError) as error:
        raise DatasetError(f"dataset {str(where)!r}: key {METADATA_FILE!r} is not valid JSON: {error}") from error
    check(metadata.get("data_format", "hdf5") == "hdf5", where, "data_format",
          f"is {metadata.get('data_format')!r}; only 'hdf5' Minari datasets are read")
    return metadata


def env_id(metadata: dict[str, Any]) -> str | None:
    """The gymnasium id the dataset was recorded on (`env_spec.id`), if the metadata says."""
    try:
        return json.loads(metadata["env_spec"]).get("id")
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _episode(group: Any, name: str, where: Path) -> dict[str, np.ndarray]:
    for key in EPISODE_KEYS:
        check(key in group and not hasattr(group[key], "keys"), where, f"{name}/{key}",
              "is missing or not an array (only flat Box observations and actions are read)")
    arrays = {key: np.asarray(group[key][()]) for key in EPISODE_KEYS}
    steps = arrays["rewards"].shape[0]
    check(steps >= 1 and arrays["observations"].shape[0] == steps + 1, where, f"{name}/observations",
          f"has {arrays['observations'].shape[0]} rows for {steps} steps (Minari stores T + 1)")
    for key in ("actions", "terminations", "truncations"):
        check(arrays[key].shape[0] == steps, where, f"{name}/{key}", f"has {arrays[key].shape[0]} rows, expected {steps}")
    for key in ("observations", "actions", "rewards"):
        check(bool(np.isfinite(arrays[key]).all()), where, f"{name}/{key}", "holds NaN or infinite values")
    return arrays


def _same_sizes(episodes: list[dict[str, np.ndarray]], names: list[str], where: Path) -> None:
    """Every episode's observations and actions have the first episode's size (else they cannot be stacked)."""
    for key in ("observations", "actions"):
        first = episodes[0][key].shape[1:]
        for name, episode in zip(names, episodes):
            check(episode[key].shape[1:] == first, where, f"{name}/{key}",
                  f"has rows of shape {episode[key].shape[1:]}, {names[0]} has {first}")


def _rows(episodes: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """D4RL rows of the episodes: T steps then the final observation as a timeout row (module docstring)."""
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("observations", "actions", "rewards", "terminals", "timeouts")}
    for e in episodes:
        steps = e["rewards"].shape[0]
        parts["observations"].append(e["observations"].reshape(steps + 1, -1))
        actions = e["actions"].reshape(steps, -1)
        parts["actions"].append(np.concatenate([actions, np.zeros_like(actions[:1])]))
        parts["rewards"].append(np.append(e["rewards"].reshape(-1), 0.0))
        parts["terminals"].append(np.append(e["terminations"].astype(bool), False))
        parts["timeouts"].append(np.append(np.zeros(steps, dtype=bool), True))
    return {k: np.concatenate(v) for k, v in parts.items()}


def read_minari(folder: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """(D4RL rows, metadata) of the Minari dataset in `folder` (its `data/`); a malformed one is refused
    naming the key (`episode_<i>/<array>`, `total_episodes`, ...) and the file. The metadata gains
    `format = minari`, `env_id` and `episodes`."""
    import h5py  # an installed dependency once the caller got here (offline._h5py checked it)

    metadata, where = _metadata(folder), folder / DATA_FILE
    try:
        with h5py.File(where, "r") as f:
            names = sorted((k for k in f if k.startswith("episode_")), key=lambda k: int(k.split("_")[1]))
            check(bool(names), where, "episode_0", "is missing: the dataset holds no episode")
            episodes = [_episode(f[name], name, where) for name in names]
            _same_sizes(episodes, names, where)
    except OSError as error:
        raise DatasetError(f"dataset {str(where)!r} cannot be read as HDF5 (truncated or not HDF5): {error}") from error
    declared = metadata.get("total_episodes")
    check(declared in (None, len(names)), folder / METADATA_FILE, "total_episodes",
          f"says {declared} but the file holds {len(names)} episodes (an incomplete copy?)")
    info = {"format": "minari", "dataset_id": metadata.get("dataset_id"), "env_id": env_id(metadata),
            "episodes": len(names), "minari_version": metadata.get("minari_version")}
    return _rows(episodes), info
