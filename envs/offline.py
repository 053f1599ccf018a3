"""Offline suites: datasets in the D4RL HDF5 layout or Minari's, read from local paths only.

Nothing is downloaded (the D4RL host is unreachable here, scenarios.md §4.1): a dataset is found at
`$PLASTICBENCH_DATASETS/<env>_<kind>.hdf5` (D4RL layout) or `$PLASTICBENCH_DATASETS/<env>_<kind>/`
(a Minari dataset folder, envs/minari_data.py), default folder `datasets/`, or named with
`dataset=PATH` (either kind). Each dataset present is a suite `<env>_<kind>`. A file is checked in full before any training starts
(keys, shapes, finite values, sizes against the environment); a bad one is refused naming the key
and the file. Transitions are built as D4RL's `qlearning_dataset` builds them: next observation from
the following row, timeout rows dropped, done = terminal (scenarios.md §4.1).
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from plasticbench.envs.dataset_errors import DatasetError, check as _check
from plasticbench.envs.minari_data import minari_folder, read_minari, stamp
from plasticbench.envs.mujoco import SINGLE_TASK_ENV_IDS, make_gymnasium_env
from plasticbench.envs.task import OfflineData, Scenario, Task

DATASET_DIR_VARIABLE = "PLASTICBENCH_DATASETS"
DEFAULT_DATASET_DIR = "datasets"
KINDS = ("random", "medium", "expert", "medium-replay", "medium-expert")
REQUIRED_KEYS = ("observations", "actions", "rewards", "terminals")
D4RL_MAX_EPISODE_STEPS = 1000  # without `timeouts`, qlearning_dataset cuts episodes at the env's limit

D4RL_REFERENCE: dict[str, tuple[float, float]] = {
    "halfcheetah": (-280.178953, 12135.0),
    "hopper": (-20.272305, 3234.3),
    "walker2d": (1.629008, 4592.3),
    "ant": (-325.6, 3879.7),
}
"""(REF_MIN_SCORE, REF_MAX_SCORE) of d4rl/infos.py; every dataset kind of an env shares them (scenarios.md §4.2)."""

OFFLINE_BUDGETS: dict[str, int] = {"smoke": 200, "short": 20_000, "paper": 1_000_000}
"""Gradient steps. paper: BCQ and IQL train 1e6 iterations (scenarios.md §4.3-4.4); smoke and
short are harness scales (seconds in CI; minutes for a 3-seed BCQ on a laptop CPU)."""


def dataset_dir() -> Path:
    return Path(os.environ.get(DATASET_DIR_VARIABLE) or DEFAULT_DATASET_DIR)


def suite_name(env: str, kind: str) -> str:
    return f"{env}_{kind}"


def dataset_path(env: str, kind: str) -> Path:
    """The D4RL file of the suite, else its Minari folder where only that exists (the file wins when both do)."""
    file = dataset_dir() / f"{suite_name(env, kind)}.hdf5"
    folder = dataset_dir() / suite_name(env, kind)
    return folder if not file.is_file() and minari_folder(folder) is not None else file


def available_suites() -> dict[str, tuple[str, str]]:
    """suite name -> (env, kind) for every dataset present in `dataset_dir()`: a D4RL file or a Minari folder."""
    pattern = re.compile(rf"^({'|'.join(D4RL_REFERENCE)})_({'|'.join(map(re.escape, KINDS))})(\.hdf5)?$")
    folder = dataset_dir()
    found = {}
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        match = pattern.match(path.name)
        if match and (path.is_file() if match.group(3) else minari_folder(path) is not None):
            found[suite_name(*match.groups()[:2])] = match.groups()[:2]
    return found


def _h5py() -> Any:
    try:
        import h5py
    except ImportError as error:
        raise ImportError("offline datasets need h5py: pip install -e '.[offline]'") from error
    return h5py


def content_hash(arrays: dict[str, np.ndarray]) -> str:
    """sha256 over the arrays, in key order: what the file holds, independent of HDF5 packing."""
    digest = hashlib.sha256()
    for key in sorted(arrays):
        digest.update(key.encode())
        digest.update(np.ascontiguousarray(arrays[key]).tobytes())
    return digest.hexdigest()


def _validate(raw: dict[str, np.ndarray], path: Path, obs_dim: int, act_dim: int) -> None:
    n = raw["rewards"].shape[0]
    expected = {"observations": (n, obs_dim), "actions": (n, act_dim), "rewards": (n,), "terminals": (n,), "timeouts": (n,)}
    for key, shape in expected.items():
        if key in raw:
            _check(raw[key].shape == shape, path, key, f"has shape {raw[key].shape}, expected {shape} "
                   f"(N = {n} rows; observation size {obs_dim} and action size {act_dim} of the environment)")
    for key in ("observations", "actions", "rewards"):
        _check(bool(np.isfinite(raw[key]).all()), path, key, "holds NaN or infinite values")
    _check(n >= 2, path, "rewards", f"has {n} rows; a transition needs at least 2")


@functools.lru_cache(maxsize=4)
def _read(path: str, mtime_ns: int, size: int) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """(arrays, metadata) of a D4RL file or a Minari folder; cached on its path, modification time and size."""
    h5py, where = _h5py(), Path(path)
    if where.is_dir():
        return read_minari(where)
    try:
        with h5py.File(where, "r") as f:
            missing = [k for k in REQUIRED_KEYS if k not in f]
            _check(not missing, where, missing[0] if missing else "", "is missing (a D4RL file needs "
                   f"{', '.join(REQUIRED_KEYS)}; `timeouts` is optional)")
            raw = {k: np.asarray(f[k][()]) for k in (*REQUIRED_KEYS, "timeouts") if k in f}
            metadata = json.loads(f["metadata"].attrs.get("json", "{}")) if "metadata" in f else {}
    except OSError as error:
        raise DatasetError(f"dataset {path!r} cannot be read as HDF5 (truncated or not HDF5): {error}") from error
    raw["rewards"] = raw["rewards"].reshape(-1) if raw["rewards"].ndim == 2 and raw["rewards"].shape[1] == 1 else raw["rewards"]
    recorded = metadata.get("content_sha256")
    if recorded is not None:
        _check(recorded == content_hash(raw), where, "metadata/content_sha256", "does not match the arrays (the file was altered)")
    return raw, metadata


def write_d4rl(path: str | Path, arrays: dict[str, np.ndarray], metadata: dict[str, Any]) -> str:
    """Write `arrays` (D4RL keys) and `metadata` (JSON in the `metadata` group) atomically; returns the content hash.

    Written to a temporary name and renamed, so a reader never meets half a file.
    """
    h5py, path = _h5py(), Path(path)
    digest = content_hash(arrays)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with h5py.File(partial, "w") as f:
        for key, value in arrays.items():
            f.create_dataset(key, data=value)
        f.create_group("metadata").attrs["json"] = json.dumps({**metadata, "content_sha256": digest}, sort_keys=True)
    os.replace(partial, path)
    return digest


def _cached(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """`_read` of a D4RL file or of a Minari dataset's `data/` folder (`minari_data.minari_folder`)."""
    folder = minari_folder(path)
    if folder is not None:
        return _read(str(folder.resolve()), *stamp(folder))
    if not path.is_file():
        raise DatasetError(f"dataset {str(path)!r} does not exist (neither a D4RL .hdf5 file nor a Minari dataset folder "
                           f"holding data/main_data.hdf5); build one with `plasticbench dataset collect` or set {DATASET_DIR_VARIABLE}")
    return _read(str(path.resolve()), path.stat().st_mtime_ns, path.stat().st_size)


def read_dataset(path: str | Path, obs_dim: int, act_dim: int,
                 env: str | None = None) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The D4RL arrays and metadata of a D4RL file or Minari folder at `path`, refused with a DatasetError
    naming the key if unusable; with `env`, a Minari dataset recorded on another environment is refused too."""
    path = Path(path)
    raw, metadata = _cached(path)
    recorded = metadata.get("env_id")
    if env is not None and recorded is not None:
        _check(recorded.split("-v")[0].lower() == SINGLE_TASK_ENV_IDS[env].split("-v")[0].lower(), path, "env_spec.id",
               f"is {recorded!r}, not an environment of the {env!r} suite ({SINGLE_TASK_ENV_IDS[env]})")
    _validate(raw, path, obs_dim, act_dim)
    return raw, metadata



def qlearning_dataset(raw: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """D4RL's `qlearning_dataset(terminate_on_end=False)`, vectorized, plus IQL's episode ends.

    Row i (i < N-1) gives (obs[i], actions[i], rewards[i], obs[i+1], terminals[i]) unless row i is the
    last step of an episode cut by time (`timeouts[i]`; without that key, every 1000th step of an
    episode), whose obs[i+1] belongs to the next episode. `episode_end` marks where a trajectory
    stops inside the kept rows (terminal, or the next kept row does not continue it), as IQL's
    `split_into_trajectories` reads it.
    """
    n = raw["rewards"].shape[0]
    terminals = raw["terminals"].astype(bool)
    if "timeouts" in raw:
        final = raw["timeouts"].astype(bool)
    else:
        final, step = np.zeros(n, dtype=bool), 0
        for i in range(n):
            final[i] = step == D4RL_MAX_EPISODE_STEPS - 1
            step = 0 if terminals[i] or final[i] else step + 1
    keep = np.flatnonzero(~final[: n - 1])
    obs, next_obs = raw["observations"][keep], raw["observations"][keep + 1]
    done = terminals[keep]
    continues = np.zeros(len(keep), dtype=bool)
    continues[:-1] = (keep[1:] == keep[:-1] + 1) & ~done[:-1]
    return {"obs": obs.astype(np.float32), "action": raw["actions"][keep].astype(np.float32),
            "reward": raw["rewards"][keep].astype(np.float32)[:, None], "next_obs": next_obs.astype(np.float32),
            "done": done.astype(np.float32)[:, None], "episode_end": ~continues}


def load_transitions(data: OfflineData, obs_dim: int, act_dim: int) -> dict[str, np.ndarray]:
    """Checked transitions of an offline scenario's dataset."""
    raw, _ = read_dataset(data.path, obs_dim, act_dim)
    return qlearning_dataset(raw)


def dataset_record(data: OfflineData, obs_dim: int, act_dim: int) -> dict[str, Any]:
    """What a record says about its dataset: source, path, content hash and the collection metadata."""
    raw, metadata = read_dataset(data.path, obs_dim, act_dim)
    return {"source": data.source, "format": metadata.get("format", "d4rl"), "path": str(data.path),
            "sha256": metadata.get("content_sha256") or content_hash(raw), "rows": int(raw["rewards"].shape[0]), "policy_return": metadata.get("policy_return"), "metadata": metadata}


def all_suite_names() -> list[str]:
    """Every offline suite name a `dataset=PATH` may be given for, whether or not its file is present."""
    return [suite_name(env, kind) for env in D4RL_REFERENCE for kind in KINDS]


def parse_suite_name(name: str) -> tuple[str, str]:
    """`hopper_medium-replay` -> ("hopper", "medium-replay")."""
    env, _, kind = name.partition("_")
    if env not in D4RL_REFERENCE or kind not in KINDS:
        raise ValueError(f"{name!r} is not an offline suite; allowed: {', '.join(all_suite_names())}")
    return env, kind


def checked_scenario(name: str, path: str | Path | None) -> Scenario:
    """The offline scenario `name` on `path` (default: the dataset folder's file), with its file checked
    in full and its content hash recorded: a bad file fails here, before any work."""
    scenario = offline_scenario(*parse_suite_name(name), path)
    raw, metadata = read_dataset(scenario.offline_data.path, scenario.obs_dim, scenario.act_dim, parse_suite_name(name)[0])
    data = dataclasses.replace(scenario.offline_data, sha256=metadata.get("content_sha256") or content_hash(raw))
    return dataclasses.replace(scenario, offline_data=data)


def offline_scenario(env: str, kind: str, path: str | Path | None = None) -> Scenario:
    """The suite `<env>_<kind>`: one task evaluated on the gymnasium env, trained on the dataset only.

    `source` is "local" when the file's metadata says the harness built it (`plasticbench dataset collect`).
    """
    if env not in D4RL_REFERENCE:
        raise ValueError(f"unknown offline env {env!r}; allowed: {sorted(D4RL_REFERENCE)}")
    if kind not in KINDS:
        raise ValueError(f"unknown dataset kind {kind!r}; allowed: {', '.join(KINDS)}")
    path = Path(path) if path is not None else dataset_path(env, kind)
    source = "published"
    try:
        source = _cached(path)[1].get("source", "published")
    except DatasetError:
        source = "published"  # refused with the full message when the run resolves
    env_id = SINGLE_TASK_ENV_IDS[env]
    task = Task(name=env_id, index=0, make=functools.partial(make_gymnasium_env, env_id), budgets=dict(OFFLINE_BUDGETS))
    return Scenario(name=suite_name(env, kind), family="d4rl", setting="offline", backend="mujoco", tasks=(task,),
                    offline_data=OfflineData(str(path), *D4RL_REFERENCE[env], source=source))
