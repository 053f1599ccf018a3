"""Continual World (CW10, CW20, the eight CW3 triplets) and Meta-World MT10 on the installed `metaworld` (v3 tasks).

scenarios.md §2. Current Meta-World (3.x) ships only V3 environments (§2.3), so each CW "-v1" task is
run as its "-v3" namesake (V1_TO_V3: the same name with the suffix changed; every CW task exists in v3).
This is the spec's `cw_version="v3"`: not comparable with published CW/CSP/Rewire numbers, which ran
v1 on MuJoCo 2.0 (a pinned metaworld commit that cannot be installed beside mujoco 3.3.0).

Construction follows CW's `get_mt50` + `RandomizationWrapper` (§2.2) without building the MT50
benchmark object (50 seeded resets per class): the task's class, its MT kwargs (goal observable, as
MT50 sets), the random vector unfrozen, so object and goal are re-drawn at every reset, from the
env's own `np_random`, seeded by the first reset's seed (envs/vector.py `SeedEnv`): the same seed
gives the same goals, two resets give different ones. The horizon is CW's 200 steps
(`META_WORLD_TIME_HORIZON`) for CW tasks and the library's 500 for MT10 (§2.4 PROPOSAL). The
observation is the 39-dim v3 observation followed by the task one-hot of length T (§2.2, CW's
`OneHotAdder`); the CW learner variant (envs/continual_world_scenarios.py) keeps the one-hot out of
the trunk and picks a head per task instead (continual-baselines.md §2.5, `hide_task_id`).
"""
from __future__ import annotations

from typing import Any

import gymnasium
import mujoco
import numpy as np
import torch

INSTALL = "pip install 'plasticbench[metaworld]'"
CW_HORIZON = 200  # scenarios.md §2.2, CW envs.py META_WORLD_TIME_HORIZON
MT_HORIZON = 500  # scenarios.md §2.4 PROPOSAL: the library's own max_path_length

CW10_V1: tuple[str, ...] = (
    "hammer-v1", "push-wall-v1", "faucet-close-v1", "push-back-v1", "stick-pull-v1",
    "handle-press-side-v1", "push-v1", "shelf-place-v1", "window-close-v1", "peg-unplug-side-v1",
)
"""scenarios.md §2.1, CW continualworld/tasks.py; CW20 is this list twice."""

V1_TO_V3: dict[str, str] = {name: name.removesuffix("-v1") + "-v3" for name in CW10_V1}
"""v1 -> v3 names (§2.3): the same task, the suffix changed, the order kept."""

CW3_TRIPLETS: dict[str, tuple[str, str, str]] = {
    "t1": ("push-v1", "window-close-v1", "hammer-v1"),
    "t2": ("hammer-v1", "window-close-v1", "faucet-close-v1"),
    "t3": ("window-close-v1", "handle-press-side-v1", "peg-unplug-side-v1"),
    "t4": ("faucet-close-v1", "shelf-place-v1", "peg-unplug-side-v1"),
    "t5": ("faucet-close-v1", "shelf-place-v1", "push-back-v1"),
    "t6": ("stick-pull-v1", "peg-unplug-side-v1", "stick-pull-v1"),
    "t7": ("stick-pull-v1", "push-back-v1", "push-wall-v1"),
    "t8": ("push-wall-v1", "shelf-place-v1", "push-back-v1"),
}
"""Rewire's numbering t1..t8 ([RN] configs/scenario/continual_world/t*.yaml; scenarios.md §2.1 table,
which also gives salina's T-numbers: t3 is salina's T7, t4 T8, t7 T3, t8 T4)."""

MT10_V3: tuple[str, ...] = (
    "reach-v3", "push-v3", "pick-place-v3", "door-open-v3", "drawer-open-v3", "drawer-close-v3",
    "button-press-topdown-v3", "peg-insert-side-v3", "window-open-v3", "window-close-v3",
)
"""scenarios.md §2.4, metaworld env_dict.py MT10_V3 (checked against the installed package in the tests)."""


class MissingMetaworldError(ValueError):
    """metaworld is absent (a ValueError, so the CLI prints one line and exits 2)."""


def require_metaworld() -> None:
    """Fail early, in one line, with the install command when metaworld is missing."""
    try:
        import metaworld  # noqa: F401
    except ImportError:
        raise MissingMetaworldError(f"Continual World and MT10 need the optional extra 'metaworld', "
                                    f"which is not installed: {INSTALL}") from None


class TaskOneHot(gymnasium.Wrapper):
    """Appends the task one-hot to every observation and remembers the step's `success` flag.

    Also where the env is seeded: Meta-World's `reset(seed=...)` ignores its seed (it reads the
    env's own `seed()`), so the first seeded reset is forwarded to `seed()`, which reseeds the
    `np_random` that draws object and goal positions.
    """

    def __init__(self, env: gymnasium.Env, task_id: int, num_tasks: int, pool_key: str) -> None:
        super().__init__(env)
        if not 0 <= task_id < num_tasks:
            raise ValueError(f"task_id={task_id} must lie in [0, {num_tasks})")
        self.one_hot = np.zeros(num_tasks, dtype=np.float64)
        self.one_hot[task_id] = 1.0
        inner = env.observation_space
        self.observation_space = gymnasium.spaces.Box(np.concatenate([inner.low, np.zeros(num_tasks)]),
                                                      np.concatenate([inner.high, np.ones(num_tasks)]), dtype=np.float64)
        self.success = False  # info["success"] of the last step: what the success modes read
        self.pool_key, self.returned = pool_key, False  # where `close` hands the Meta-World env back

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        if seed is not None:
            self.env.unwrapped.seed(int(seed))
        obs, info = self.env.reset()
        self.success = False
        return np.concatenate([obs, self.one_hot]), info

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        obs, reward, terminated, truncated, info = self.env.step(np.asarray(action, dtype=np.float32))
        self.success = bool(info.get("success", False))
        return np.concatenate([obs, self.one_hot]), float(reward), terminated, truncated, info

    def extra_state(self) -> dict[str, Any]:
        """The Meta-World attributes a reset or a step rewrites (random vector, goal, object and hand
        positions, path length, the previous frame...) beside the MuJoCo state SeedEnv saves: every
        numeric array and number on the env, as tensors and Python numbers (`torch.load(weights_only=True)`
        reads them), so a run resumed mid-episode continues exactly."""
        unwrapped = self.env.unwrapped
        plain = {k: _plain(v) for k, v in vars(unwrapped).items()}
        model = {name: torch.from_numpy(getattr(unwrapped.model, name).copy()) for name in MODEL_FIELDS}
        return {"attributes": {k: v for k, v in plain.items() if v is not None}, "model": model, "success": self.success}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        unwrapped = self.env.unwrapped
        for key, value in state["attributes"].items():
            setattr(unwrapped, key, value.numpy().copy() if isinstance(value, torch.Tensor) else value)
        for name, value in state["model"].items():
            getattr(unwrapped.model, name)[:] = value.numpy()
        self.success = bool(state["success"])

    def close(self) -> None:
        """Hand the Meta-World env back to the pool instead of destroying it (`_checkout`), once."""
        if not self.returned:
            self.returned = True
            _POOL.setdefault(self.pool_key, []).append(self.env.unwrapped)


MODEL_FIELDS = ("body_pos", "site_pos")
"""The MuJoCo model fields Meta-World's resets move (object bases, goal sites: `self.model.body(...).pos = `,
`self.model.site(...).pos = ` in its envs); the rest of the model never changes."""


def _plain(value: Any) -> Any:
    """A checkpointable copy of a numeric attribute (None for anything else)."""
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value.copy()) if value.dtype.kind in "biuf" else None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    return None


_POOL: dict[str, list[Any]] = {}
"""Built Meta-World envs not in use, by v3 name. Building one compiles its MuJoCo model (~0.15 s), and
the run loop builds fresh envs for every evaluation of every task (CW20 at smoke scale: 1,200), so a
closed env is kept and handed out again, restored to exactly its freshly built state (`_checkout`)."""
_PRISTINE: dict[int, dict[str, Any]] = {}  # id(env) -> its attributes right after construction
_PRISTINE_MODEL: dict[int, dict[str, np.ndarray]] = {}  # id(env) -> its MODEL_FIELDS right after construction
_PRISTINE_DATA: dict[int, dict[str, np.ndarray]] = {}
"""id(env) -> every MjData array right after construction, written back in place at each checkout.

Why in place, and why `_PRISTINE` leaves out the attributes that share memory with MjData: Meta-World
keeps some as live views into its data (`init_left_pad = self.get_body_com("leftpad")`, read by the
push-back and pick-place rewards, among others). A restored copy froze them at their construction
values while a fresh env's views follow the simulation, so a pooled env scored episodes differently
from a fresh one, and a cell's numbers depended on whether an earlier cell in the same process had
built the task. Keeping the views and restoring the data they point into makes a pooled env a fresh one."""


def _checkout(v3_name: str) -> Any:
    """A Meta-World env of `v3_name` in its freshly constructed state: a pooled one with MuJoCo's data
    restored in place to what construction left (`_PRISTINE_DATA`) and every other Python attribute
    restored, or a new one."""
    from metaworld.env_dict import ALL_V3_ENVIRONMENTS

    free = _POOL.get(v3_name)
    if free:
        env = free.pop()
        mujoco.mj_resetData(env.model, env.data)
        for name, value in _PRISTINE_DATA[id(env)].items():
            target = getattr(env.data, name)
            if target.shape == value.shape:  # the constraint and contact arrays resize at every forward
                target[...] = value
        for name, value in _PRISTINE_MODEL[id(env)].items():
            getattr(env.model, name)[:] = value
        env.__dict__.update({k: v.copy() if isinstance(v, np.ndarray) else v for k, v in _PRISTINE[id(env)].items()})
        return env
    env = ALL_V3_ENVIRONMENTS[v3_name]()
    data = _data_arrays(env.data)
    _PRISTINE[id(env)] = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in vars(env).items()
                          if not (isinstance(v, np.ndarray) and any(np.shares_memory(v, a) for a in data.values()))}
    _PRISTINE_MODEL[id(env)] = {name: getattr(env.model, name).copy() for name in MODEL_FIELDS}
    _PRISTINE_DATA[id(env)] = {name: a.copy() for name, a in data.items()}
    return env


def _data_arrays(data: Any) -> dict[str, np.ndarray]:
    """Every array field of an MjData (positions, velocities, derived quantities, warm starts, ...)."""
    fields = {}
    for name in dir(data):
        if not name.startswith("_"):
            value = getattr(data, name, None)
            if isinstance(value, np.ndarray):
                fields[name] = value
    return fields


def _metaworld_env(v3_name: str, horizon: int) -> gymnasium.Env:
    """The v3 class with its MT kwargs and an unfrozen, seeded random vector (module docstring)."""
    require_metaworld()
    from metaworld.env_dict import ALL_V3_ENVIRONMENTS, ML1_ARGS_KWARGS

    if v3_name not in ALL_V3_ENVIRONMENTS:
        raise ValueError(f"unknown Meta-World task {v3_name!r}; allowed: {sorted(ALL_V3_ENVIRONMENTS)}")
    env = _checkout(v3_name)
    kwargs = {k: v for k, v in ML1_ARGS_KWARGS[v3_name]["kwargs"].items() if k != "task_id"}
    env._set_task_called = True  # what metaworld's own _make_tasks does before drawing goals
    env._partially_observable = False  # MT benchmarks observe the goal (metaworld _MT_OVERRIDE)
    env._set_task_inner(**kwargs)
    env._freeze_rand_vec = False  # CW RandomizationWrapper: re-randomise at every reset
    env.seeded_rand_vec = True  # ...from the env's seeded np_random, not numpy's global RNG
    env.max_path_length = horizon  # metaworld refuses to step past it; TimeLimit truncates at it
    return gymnasium.wrappers.TimeLimit(env, horizon)


def make_task_env(v3_name: str, task_id: int, num_tasks: int, horizon: int,
                  max_episode_steps: int | None = None) -> gymnasium.Env:
    """A fresh, unseeded env of one task (Task.make); `max_episode_steps` below the horizon caps it
    (the smoke scale), None keeps the horizon. Module-level so a Task pickles."""
    steps = horizon if max_episode_steps is None else int(max_episode_steps)
    if steps < 1:
        raise ValueError(f"max_episode_steps={max_episode_steps} must be >= 1")
    return TaskOneHot(_metaworld_env(v3_name, steps), task_id, num_tasks, pool_key=v3_name)
