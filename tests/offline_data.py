"""Small D4RL-layout files the offline tests build themselves (no download, a few hundred rows)."""
from pathlib import Path

import numpy as np

from plasticbench.envs.offline import write_d4rl

HOPPER_OBS, HOPPER_ACT = 11, 3


def small_arrays(rows: int = 300, episode: int = 50, seed: int = 0) -> dict[str, np.ndarray]:
    """Episodes of `episode` rows cut by time (timeouts), one of them ending early on a terminal."""
    rng = np.random.default_rng(seed)
    timeouts = np.zeros(rows, dtype=bool)
    timeouts[episode - 1::episode] = True
    terminals = np.zeros(rows, dtype=bool)
    terminals[episode + 20] = True  # the second "episode" falls at row 70: a terminal inside the block
    return {"observations": rng.normal(size=(rows, HOPPER_OBS)).astype(np.float32),
            "actions": rng.uniform(-1, 1, size=(rows, HOPPER_ACT)).astype(np.float32),
            "rewards": rng.uniform(0, 3, size=rows).astype(np.float32), "terminals": terminals, "timeouts": timeouts}


def write_small_dataset(folder: Path, kind: str = "random", rows: int = 300, **overrides) -> Path:
    """`folder/hopper_<kind>.hdf5` with `small_arrays`, keys replaced or removed (None) by `overrides`."""
    arrays = {**small_arrays(rows), **overrides}
    arrays = {k: v for k, v in arrays.items() if v is not None}
    path = Path(folder) / f"hopper_{kind}.hdf5"
    write_d4rl(path, arrays, {"source": "local", "env": "hopper", "kind": kind, "policy_return": 12.5})
    return path
