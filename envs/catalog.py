"""Scenario catalog: the names `get_scenario` accepts and the builder behind each.

Suites in other backends (brax, continual_world, offline, atari) add their builders here
when they land; a name maps to a zero-argument builder so nothing is built until asked.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from plasticbench.envs.mujoco import SINGLE_TASK_ENV_IDS, halfcheetah_forgetting, single_task_scenario
from plasticbench.envs.locomotion_scenarios import LOCOMOTION_BUILDERS
from plasticbench.envs.ne_cycle import ne_cycle
from plasticbench.envs.task import Scenario

_BUILDERS: dict[str, Callable[[], Scenario]] = {
    **{name: functools.partial(single_task_scenario, name) for name in SINGLE_TASK_ENV_IDS},
    "halfcheetah_forgetting": halfcheetah_forgetting,
    "ne_cycle": ne_cycle,  # NE §5.2 continual-adaptation cycle
    **LOCOMOTION_BUILDERS,  # scenarios.md §1.5 on brax (`<name>_brax`), Ant and Humanoid on MuJoCo
}


def scenario_names() -> list[str]:
    """Every scenario name `get_scenario` accepts, sorted."""
    return sorted(_BUILDERS)


def get_scenario(name: str) -> Scenario:
    """A freshly built Scenario; an unknown name is a ValueError listing the allowed names."""
    if name not in _BUILDERS:
        raise ValueError(f"unknown scenario {name!r}; allowed: {scenario_names()}")
    return _BUILDERS[name]()
