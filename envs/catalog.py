"""Scenario catalog: the names `get_scenario` accepts and the builder behind each.

Suites in other backends (brax, continual_world) add their builders here when they
land; offline suites are the dataset files present; a name maps to a zero-argument builder so nothing is built until asked.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from plasticbench.envs.atari import ATARI_BUILDERS, GAME_SETS, GRID_GAMES
from plasticbench.envs.continual_world_scenarios import CW_BUILDERS, MULTITASK_BUILDERS
from plasticbench.envs.halfcheetah_scenarios import TASKS as HALFCHEETAH_SCENARIOS
from plasticbench.envs.halfcheetah_scenarios import halfcheetah_scenario
from plasticbench.envs.mujoco import SINGLE_TASK_ENV_IDS, single_task_scenario
from plasticbench.envs.locomotion_scenarios import LOCOMOTION_BUILDERS
from plasticbench.envs.multitask import halfcheetah_mt
from plasticbench.envs.ne_cycle import ne_cycle
from plasticbench.envs.offline import available_suites, offline_scenario
from plasticbench.envs.task import Scenario

_BUILDERS: dict[str, Callable[[], Scenario]] = {
    **{name: functools.partial(single_task_scenario, name) for name in SINGLE_TASK_ENV_IDS},
    **{f"halfcheetah_{kind}": functools.partial(halfcheetah_scenario, kind) for kind in HALFCHEETAH_SCENARIOS},
    "ne_cycle": ne_cycle,  # NE §5.2 continual-adaptation cycle
    "halfcheetah_mt": halfcheetah_mt,  # the HalfCheetah variants trained at once (envs/multitask.py)
    **LOCOMOTION_BUILDERS,  # scenarios.md §1.5 on brax (`<name>_brax`), Ant and Humanoid on MuJoCo
    **CW_BUILDERS,  # scenarios.md §2: cw10, cw20, cw3_t1..cw3_t8 on metaworld (envs/continual_world_scenarios.py)
    **MULTITASK_BUILDERS,  # scenarios.md §2.4: mt10, every Meta-World MT10 task at once (a multitask suite)
    **ATARI_BUILDERS,  # scenarios.md §5: `atari_<game>` for the 57 games, `atari_continual` (envs/atari.py)
}


def _builders() -> dict[str, Callable[[], Scenario]]:
    """The fixed suites plus one offline suite per dataset file present (envs/offline.py)."""
    offline = {name: functools.partial(offline_scenario, *spec) for name, spec in available_suites().items()}
    return {**_BUILDERS, **offline}


def scenario_names() -> list[str]:
    """Every scenario name `get_scenario` accepts, sorted."""
    return sorted(_builders())


def get_scenario(name: str) -> Scenario:
    """A freshly built Scenario; an unknown name is a ValueError listing the allowed names."""
    builders = _builders()
    if name not in builders:
        raise ValueError(f"unknown scenario {name!r}; allowed: {sorted(builders)}")
    return builders[name]()


def default_suites() -> list[str]:
    """The suites a grid plans when none is named: every scenario except the Atari games beyond
    GRID_GAMES (57 pixel suites would swamp every other family; name them, or their set)."""
    return [name for name in scenario_names() if name not in ATARI_BUILDERS or name in GRID_GAMES]


def expand_sets(names: Sequence[str]) -> list[str]:
    """Suite names with each named set (`atari_100k`, envs/atari.py GAME_SETS) replaced by its suites, in order."""
    return [suite for name in names for suite in GAME_SETS.get(name, (name,))]
