"""Tasks and scenarios: the records every learner, method and run loop reads.

A Scenario is an ordered tuple of Tasks plus the hyperparameter overrides its source paper
used. Each position in the task list is its own Task (own index), even when the same
environment repeats: HalfCheetah "forgetting" has 8 task ids and ids 0 and 4 are both
`hugefoot` (scenarios.md §1.1, "Each position in the task list is a separate task id").
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import gymnasium

EXPERT_EPISODE_STEPS = 1000
"""Episode length the published expert returns refer to (D4RL's MuJoCo references: 1000-step episodes)."""

SCALES: tuple[str, ...] = ("smoke", "short", "paper")
"""Budget scales (ARCHITECTURE.md "Scales"); every Task's `budgets` has exactly these keys."""

@dataclass(frozen=True)
class Task:
    """One task of a scenario: how to build its environment and how long to train on it.

    `make(max_episode_steps)` builds a fresh, unseeded environment; None keeps the
    registered default episode length (1000 steps for every MuJoCo task here). `expert_return`
    is R_reference of the score (benchmark/reporting/scores.py) where a published constant exists,
    for an episode of EXPERT_EPISODE_STEPS steps.
    """

    name: str
    index: int
    make: Callable[[int | None], gymnasium.Env]
    budgets: Mapping[str, int]
    expert_return: float | None = None  # published expert return of one full episode (envs/mujoco.py cites each)
    act_dim: int | None = None
    """Action components the task's env uses when the scenario pads actions to a shared size (ne_cycle);
    None: all of them. Learners set the target entropy from it and zero the padded components."""
    backend: str = "mujoco"  # which vector env steps it (envs/backends.py)
    human_reference: tuple[float, float] | None = None
    """(random, human) returns of an Atari game: its score is human-normalized (envs/atari_games.py)."""

    def budget(self, scale: str) -> int:
        """Env steps for this task at `scale`; unknown scales are an error naming the allowed ones."""
        if scale not in self.budgets:
            raise ValueError(f"unknown scale {scale!r} for task {self.name!r}; allowed: {sorted(self.budgets)}")
        return self.budgets[scale]


@dataclass(frozen=True)
class OfflineData:
    """The dataset an offline scenario trains on, and the D4RL score range of its environment.

    `ref_min`/`ref_max` are D4RL's REF_MIN_SCORE/REF_MAX_SCORE (scenarios.md §4.2); `source` is
    "local" for files built by `plasticbench dataset collect`, "published" otherwise.
    """

    path: str
    ref_min: float
    ref_max: float
    source: str = "local"
    sha256: str = ""  # content hash, filled once the file has been checked (part of the run's identity)


SETTINGS: tuple[str, ...] = ("online", "continual", "offline", "multitask")
"""multitask: every task trains at once, in one network, each task's observation carrying its one-hot
id (envs/multitask.py, benchmark/multitask_loop.py); evaluated per task."""


@dataclass(frozen=True)
class Scenario:
    """An ordered list of tasks sharing one observation and action space.

    `learner_overrides` maps a learner name to the hyperparameters the source paper changed
    for this scenario; `method_overrides` does the same for methods, and `scale_overrides` maps a
    scale name to the schedule settings (benchmark/config.py ScaleConfig) the paper's code used at
    that scale, e.g. its warm-up. All stay data so the
    learner never special-cases a scenario by name. Mappings are plain dicts so a
    Scenario pickles (launchers ship it to workers); treat them as read-only.
    """

    name: str
    family: str
    setting: str
    backend: str
    tasks: tuple[Task, ...]
    learner_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    method_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    offline_data: OfflineData | None = None  # set exactly for the offline setting
    scale_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # scale -> its schedule settings
    discrete_actions: bool = False  # integer actions (Atari): only a discrete learner (`Learner.discrete`) runs it

    def __post_init__(self) -> None:
        if self.setting not in SETTINGS:
            raise ValueError(f"setting must be one of {', '.join(map(repr, SETTINGS))}, got {self.setting!r}")
        if (self.setting == "offline") != (self.offline_data is not None):
            raise ValueError(f"scenario {self.name!r}: an offline scenario needs offline_data, and only it")
        if not self.tasks:
            raise ValueError(f"scenario {self.name!r} has no tasks")
        indices = [task.index for task in self.tasks]
        if indices != list(range(len(self.tasks))):
            raise ValueError(f"task indices of {self.name!r} must be 0..{len(self.tasks) - 1}, got {indices}")

    @property
    def multitask(self) -> bool:
        """All tasks train at once (the run loop steps every task's environments in turn) rather than in order."""
        return self.setting == "multitask"

    @functools.cached_property
    def _spaces(self) -> tuple[tuple[int, ...], int]:
        """(observation shape, act_dim) read from one built env of the first task; cached since building
        costs ms. A discrete action space's act_dim is its number of actions."""
        env = self.tasks[0].make(None)
        try:
            space = env.action_space
            act_dim = int(space.n) if isinstance(space, gymnasium.spaces.Discrete) else int(space.shape[0])
            return tuple(int(d) for d in env.observation_space.shape), act_dim
        finally:
            env.close()

    @property
    def obs_shape(self) -> tuple[int, ...]:
        """Observation shape shared by every task: (obs_dim,) for vectors, (4, 84, 84) for Atari frames."""
        return self._spaces[0]

    @property
    def published_references(self) -> bool:
        """Whether the score's range is published for every task (D4RL's REF_MIN/MAX, Atari's random and
        human returns), so the harness measures no random policy for it."""
        return self.offline_data is not None or all(t.human_reference is not None for t in self.tasks)

    @property
    def obs_dim(self) -> int:
        """Observation size shared by every task of the scenario (elements of an image observation)."""
        return math.prod(self._spaces[0])

    @property
    def act_dim(self) -> int:
        """Action size shared by every task of the scenario (number of actions when discrete)."""
        return self._spaces[1]

    def budget(self, scale: str) -> int:
        """Env steps per task at `scale` (all tasks of a scenario share one budget)."""
        return self.tasks[0].budget(scale)
