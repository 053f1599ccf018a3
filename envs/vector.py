"""S environments, one per seed, stepped in lockstep, with an exact checkpoint of their state.

Seed independence (ARCHITECTURE.md "The seed axis"): environment s is built and seeded from
(seeds[s], seed_offset) alone, so a seed's trajectory is the same whether it runs alone or
among others. The envs are stepped one after another in Python: MuJoCo steps are cheap next
to the learner's batched update, and one process per seed axis keeps them bit-reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium
import mujoco
import numpy as np
import torch

from plasticbench.envs.task import Task

_STATE = mujoco.mjtState.mjSTATE_INTEGRATION
"""Everything mj_step reads (time, qpos, qvel, act, warm start, controls, applied forces):
MuJoCo's own definition of the state needed for bit-exact continuation."""

_BODY_POSES = ("xpos", "xquat", "xmat", "xipos", "ximat")
"""Derived body poses that gymnasium's rewards read *before* the next mj_step (Ant's
get_body_com, Humanoid's mass_center); mj_step recomputes every other derived quantity."""


def env_seed(seed: int, seed_offset: int) -> int:
    """The integer an env is reset with: a hash of (seed, offset) only, never of S or position.

    Distinct offsets (training vs evaluation, or one stream per task) give unrelated streams.
    """
    if seed < 0 or seed_offset < 0:
        raise ValueError(f"seed and seed_offset must be >= 0, got seed={seed}, seed_offset={seed_offset}")
    return int(np.random.SeedSequence([seed, seed_offset]).generate_state(1, np.uint32)[0])


def _find_time_limit(env: gymnasium.Env) -> gymnasium.wrappers.TimeLimit | None:
    while isinstance(env, gymnasium.Wrapper):
        if isinstance(env, gymnasium.wrappers.TimeLimit):
            return env
        env = env.env
    return None


def scale_to_bounds(action: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Clip to [-1, 1] and map onto [low, high]: a * high for symmetric bounds (so -a maps to exactly
    minus the scaled a), the affine map otherwise."""
    a = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0)
    if np.array_equal(low, -high):
        return a * high
    return low + (a + 1.0) * 0.5 * (high - low)


class SeedEnv:
    """One environment of one seed: seeded first reset, action scaling, running return, exact state.

    Actions arrive in [-1, 1]. They are clipped there and scaled to the env's bounds: a * high
    for symmetric bounds (exact, so -a maps to exactly minus the scaled a; Humanoid's bounds
    are +-0.4), the affine map otherwise.
    """

    def __init__(self, task: Task, seed: int, max_episode_steps: int | None, seed_offset: int = 0):
        self.env = task.make(max_episode_steps)
        self.seed = seed
        self.reset_seed = env_seed(seed, seed_offset)
        self._seeded = False
        low, high = self.env.action_space.low.astype(np.float64), self.env.action_space.high.astype(np.float64)
        self._low, self._high = low, high
        self.obs: np.ndarray | None = None  # [obs] float64, the observation to act on
        self.episode_return = 0.0

    def reset(self) -> np.ndarray:
        """Start an episode; only the first reset passes the seed, later ones continue its RNG."""
        obs, _ = self.env.reset(seed=None if self._seeded else self.reset_seed)
        self._seeded = True
        self.obs = np.asarray(obs, dtype=np.float64)
        self.episode_return = 0.0
        return self.obs

    def scale_action(self, action: np.ndarray) -> np.ndarray:
        return scale_to_bounds(action, self._low, self._high)

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool]:
        """(next_obs, reward, terminated, truncated); the caller decides whether to reset."""
        next_obs, reward, terminated, truncated, _ = self.env.step(self.scale_action(action))
        self.obs = np.asarray(next_obs, dtype=np.float64)
        self.episode_return += float(reward)
        return self.obs, float(reward), bool(terminated), bool(truncated)

    def episode_over(self, terminated: bool, truncated: bool) -> bool:
        """Whether the episode ended, so the vector env reports and resets it (an Atari game decides
        otherwise at a lost life in training, envs/atari_vector.py)."""
        return terminated or truncated

    def state_dict(self) -> dict[str, Any]:
        """Plain tensors, ints, floats and dicts only, so `torch.load(weights_only=True)` reads it."""
        unwrapped = self.env.unwrapped
        model, data = unwrapped.model, unwrapped.data
        physics = np.empty(mujoco.mj_stateSize(model, _STATE), dtype=np.float64)
        mujoco.mj_getState(model, data, physics, _STATE)
        time_limit = _find_time_limit(self.env)
        return {
            "seed": self.seed,
            "seeded": self._seeded,
            "physics": torch.from_numpy(physics),
            "body_poses": {name: torch.from_numpy(getattr(data, name).copy()) for name in _BODY_POSES},
            "elapsed_steps": None if time_limit is None else time_limit._elapsed_steps,
            "np_random": unwrapped.np_random.bit_generator.state,
            "obs": None if self.obs is None else torch.from_numpy(self.obs.copy()),
            "episode_return": self.episode_return,
            "extra": self.env.extra_state() if hasattr(self.env, "extra_state") else None,  # Meta-World's Python state
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state["seed"] != self.seed:
            raise ValueError(f"state of seed {state['seed']} loaded into the env of seed {self.seed}")
        if state["obs"] is None:
            return  # saved before the first reset: nothing has happened yet
        self.env.reset(seed=self.reset_seed)  # gymnasium refuses step() before a reset
        unwrapped = self.env.unwrapped
        model, data = unwrapped.model, unwrapped.data
        mujoco.mj_setState(model, data, state["physics"].numpy(), _STATE)
        for name in _BODY_POSES:
            getattr(data, name)[:] = state["body_poses"][name].numpy()
        time_limit = _find_time_limit(self.env)
        if time_limit is not None:
            time_limit._elapsed_steps = state["elapsed_steps"]
        unwrapped.np_random.bit_generator.state = state["np_random"]
        self._seeded = state["seeded"]
        self.obs = state["obs"].numpy().copy()
        self.episode_return = float(state["episode_return"])
        if state.get("extra") is not None:
            self.env.load_extra_state(state["extra"])

    def close(self) -> None:
        self.env.close()


@dataclass
class StepResult:
    """One lockstep step of S envs. `next_obs` is what followed the action (for the replay
    buffer, even when the episode ended); `obs` is what to act on next (a reset obs there)."""

    next_obs: torch.Tensor  # [S, obs] float32
    reward: torch.Tensor  # [S] float32
    terminated: torch.Tensor  # [S] bool, a true termination
    truncated: torch.Tensor  # [S] bool, the time limit
    obs: torch.Tensor  # [S, obs] float32
    finished_returns: list[tuple[int, float]]  # (seed position, episode return)


class SeedVectorEnv:
    """S environments, one per seed, stepped in lockstep with auto-reset.

    Env s is seeded from seeds[s] (and seed_offset) only, never from S or its position, so
    seed s gives identical trajectories whether it runs alone or among others.
    """

    def __init__(self, task: Task, seeds: Sequence[int], max_episode_steps: int | None,
                 device: torch.device | str = "cpu", seed_offset: int = 0):
        if len(seeds) == 0:
            raise ValueError("SeedVectorEnv needs at least one seed")
        self.task = task
        self.seeds = [int(s) for s in seeds]
        self.seed_offset = seed_offset
        self.device = torch.device(device)
        self._envs = [SeedEnv(task, s, max_episode_steps, seed_offset) for s in self.seeds]
        first = self._envs[0].env
        self.num_seeds = len(self._envs)
        self.obs_dim = int(first.observation_space.shape[0])
        self.act_dim = int(first.action_space.shape[0])

    def _tensor(self, rows: Sequence[np.ndarray]) -> torch.Tensor:
        return torch.from_numpy(np.stack(rows).astype(np.float32)).to(self.device)

    def reset(self) -> torch.Tensor:
        """[S, obs] float32 first observations (the first reset of each env uses its seed)."""
        return self._tensor(self._rows("reset", [None] * self.num_seeds))

    @property
    def obs(self) -> torch.Tensor:
        """[S, obs] float32 observations to act on now (what a resumed run acts on after load)."""
        rows = self._rows("obs", [None] * self.num_seeds)
        if any(row is None for row in rows):
            raise RuntimeError("call reset() before reading obs")
        return self._tensor(rows)

    def _rows(self, command: str, args: Sequence[Any]) -> list[Any]:
        """`command` run on every seed's env with its own argument, one after another here
        (envs/process_vector.py runs them in worker processes instead)."""
        return [run_command(env, command, arg) for env, arg in zip(self._envs, args)]

    def _host_actions(self, actions: torch.Tensor) -> np.ndarray:
        """[S, act] float64 on the host, after checking the shape (subclasses with other actions override)."""
        if tuple(actions.shape) != (self.num_seeds, self.act_dim):
            raise ValueError(f"actions must have shape {(self.num_seeds, self.act_dim)}, got {tuple(actions.shape)}")
        return actions.detach().to("cpu", torch.float64).numpy()

    def step(self, actions: torch.Tensor) -> StepResult:
        """Step every env with its row of `actions` ([S, act] in [-1, 1]); auto-reset ended episodes."""
        rows = self._rows("step", list(self._host_actions(actions)))
        next_obs, rewards, terms, truncs, obs, returns = zip(*rows)
        return StepResult(
            next_obs=self._tensor(next_obs),
            reward=torch.tensor(rewards, dtype=torch.float32, device=self.device),
            terminated=torch.tensor(terms, dtype=torch.bool, device=self.device),
            truncated=torch.tensor(truncs, dtype=torch.bool, device=self.device),
            obs=self._tensor(obs),
            finished_returns=[(s, ret) for s, ret in enumerate(returns) if ret is not None],
        )

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue bit-identically in a new SeedVectorEnv of the same task and seeds."""
        return {"seeds": list(self.seeds), "seed_offset": self.seed_offset,
                "envs": self._rows("state_dict", [None] * self.num_seeds)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if list(state["seeds"]) != self.seeds or state["seed_offset"] != self.seed_offset:
            raise ValueError(f"state for seeds {state['seeds']} (offset {state['seed_offset']}) "
                             f"loaded into seeds {self.seeds} (offset {self.seed_offset})")
        self._rows("load_state_dict", state["envs"])

    def close(self) -> None:
        self._rows("close", [None] * self.num_seeds)


def run_command(env: SeedEnv, command: str, arg: Any) -> Any:
    """One seed's share of a SeedVectorEnv call. "step" returns (next_obs, reward, terminated, truncated,
    obs to act on next, the finished episode's return or None) and resets an ended episode."""
    if command == "step":
        if env.obs is None:
            raise RuntimeError("call reset() before step()")
        next_obs, reward, terminated, truncated = env.step(arg)
        finished = env.episode_return if env.episode_over(terminated, truncated) else None
        if finished is not None:
            env.reset()
        return next_obs, reward, terminated, truncated, env.obs, finished
    if command == "obs":
        return env.obs
    if command in ("reset", "state_dict", "close"):
        return getattr(env, command)()
    if command == "load_state_dict":
        return env.load_state_dict(arg)
    raise ValueError(f"unknown env command {command!r}; allowed: step, obs, reset, state_dict, load_state_dict, close")
