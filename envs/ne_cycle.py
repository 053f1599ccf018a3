"""The NE continual-adaptation cycle (NE §5.2, after Abbas et al. 2023; scenarios.md §3.1).

HalfCheetah -> Humanoid -> Ant -> Hopper, the cycle run 3 times: 12 tasks, each position its own task id.

The sources do not say how one network handles the changing observation and action sizes
(scenarios.md §3.1 MISSING, ne.md §8). This module takes the spec's PROPOSAL:
- observations are zero-padded at the end to the largest size in the cycle (Humanoid-v5, 348);
- the agent always emits an action of the largest size in the cycle (Humanoid, 17) in [-1, 1];
  the env uses its first |A_env| components and ignores the rest. Each task says how many it uses
  (`Task.act_dim`): the learners zero the others and SAC's entropy counts only the used ones.
Both are gymnasium wrappers applied inside each task's `make`, so `SeedVectorEnv` and
`evaluate_policy` see one fixed space for every task. The padded env's action space is Box(-1, 1, (17,)),
so `SeedEnv` passes the clipped action through unchanged (a * 1); the wrapper then maps the first
|A_env| components to the env's own bounds with the same rule `SeedEnv.scale_action` uses
(a * high for symmetric bounds, the affine map otherwise), so a padded task acts exactly like the plain one.

Budget per stage: the source's episode count N was stripped (scenarios.md §3.1 MISSING); the PROPOSAL
is 1M env steps per stage at `paper`; smoke/short are harness scales.
"""

from __future__ import annotations

import functools

import gymnasium
import numpy as np

from plasticbench.envs.mujoco import BACKEND, FAMILY, make_gymnasium_env
from plasticbench.envs.task import Scenario, Task
from plasticbench.envs.vector import scale_to_bounds

CYCLE_ENV_IDS: tuple[str, ...] = ("HalfCheetah-v5", "Humanoid-v5", "Ant-v5", "Hopper-v5")
"""NE §5.2 order (scenarios.md §3.1); -v5 as every MuJoCo suite here (envs/mujoco.py)."""

CYCLES = 3
"""NE §5.2: the cycle is repeated three times (12 stages)."""

OBS_DIM_MAX = 348
"""Humanoid-v5's observation size, the largest of the cycle (HalfCheetah 17, Ant-v5 105, Hopper 11)."""

ACT_DIM_MAX = 17
"""Humanoid's action size, the largest of the cycle (HalfCheetah 6, Ant 8, Hopper 3)."""

USED_ACT_DIMS: dict[str, int] = {"HalfCheetah-v5": 6, "Humanoid-v5": 17, "Ant-v5": 8, "Hopper-v5": 3}
"""Each env's own action size, the `Task.act_dim` the learner uses (issue #10: SAC's target entropy
-|A| and log pi count only these components, the padded ones are zeroed; without that the unused
outputs supply free entropy and exploration in the used ones collapses). Checked against the envs in
tests/envs/test_ne_cycle.py; a constant so that building the scenario builds no environment."""

NE_STAGE_BUDGETS: dict[str, int] = {"smoke": 100, "short": 20_000, "paper": 1_000_000}
"""Env steps per stage. paper: scenarios.md §3.1 PROPOSAL `ne_stage_budget` = 1M env steps."""


class ZeroPadObservation(gymnasium.ObservationWrapper):
    """Append zeros to the observation up to `obs_dim` entries."""

    def __init__(self, env: gymnasium.Env, obs_dim: int) -> None:
        super().__init__(env)
        inner = env.observation_space
        if len(inner.shape) != 1 or inner.shape[0] > obs_dim:
            raise ValueError(f"cannot pad observation shape {inner.shape} to ({obs_dim},)")
        low = np.concatenate([inner.low, np.zeros(obs_dim - inner.shape[0], dtype=inner.dtype)])
        high = np.concatenate([inner.high, np.zeros(obs_dim - inner.shape[0], dtype=inner.dtype)])
        self.observation_space = gymnasium.spaces.Box(low, high, dtype=inner.dtype)
        self._padding = obs_dim - inner.shape[0]

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return np.concatenate([observation, np.zeros(self._padding, dtype=observation.dtype)])


class FirstActionComponents(gymnasium.ActionWrapper):
    """Accept a [-1, 1]^act_dim action; scale its first |A_env| components to the env's bounds, drop the rest."""

    def __init__(self, env: gymnasium.Env, act_dim: int) -> None:
        super().__init__(env)
        inner = env.action_space
        if len(inner.shape) != 1 or inner.shape[0] > act_dim:
            raise ValueError(f"cannot embed action shape {inner.shape} in ({act_dim},)")
        self.action_space = gymnasium.spaces.Box(-1.0, 1.0, (act_dim,), dtype=inner.dtype)
        self._used = inner.shape[0]
        self._low, self._high = inner.low.astype(np.float64), inner.high.astype(np.float64)

    def action(self, action: np.ndarray) -> np.ndarray:
        return scale_to_bounds(np.asarray(action)[: self._used], self._low, self._high)


def make_padded_env(env_id: str, max_episode_steps: int | None = None) -> gymnasium.Env:
    """`env_id` with observations padded to OBS_DIM_MAX and actions of ACT_DIM_MAX. Module-level so tasks pickle."""
    env = make_gymnasium_env(env_id, max_episode_steps)
    return FirstActionComponents(ZeroPadObservation(env, OBS_DIM_MAX), ACT_DIM_MAX)


def ne_cycle() -> Scenario:
    """HalfCheetah -> Humanoid -> Ant -> Hopper, three times, in the padded shared spaces.

    reference_scores stay empty: NE reports raw returns as per-env learning curves (scenarios.md §3.1).
    """
    names = CYCLE_ENV_IDS * CYCLES
    tasks = tuple(
        Task(name=env_id, index=i, make=functools.partial(make_padded_env, env_id), budgets=dict(NE_STAGE_BUDGETS),
             act_dim=USED_ACT_DIMS[env_id])
        for i, env_id in enumerate(names)
    )
    return Scenario(name="ne_cycle", family=FAMILY, setting="continual", backend=BACKEND, tasks=tasks)
