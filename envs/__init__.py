"""Suites and scenarios: ordered tasks, their environments, vectorized stepping and evaluation."""

from plasticbench.envs.catalog import get_scenario, scenario_names
from plasticbench.envs.task import SCALES, Scenario, Task

__all__ = ["SCALES", "Scenario", "Task", "get_scenario", "scenario_names"]
