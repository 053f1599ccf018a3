"""`backend=brax|mujoco` picks the scenario; the grid holds every brax scenario; a missing jax is one line."""
from __future__ import annotations


import pytest

from plasticbench.benchmark.config import select_backend
from plasticbench.benchmark.suite import grid
from plasticbench.envs.locomotion_scenarios import SCENARIOS
from tests.missing_package import hide_package

CONTINUAL = ("ft1", "ft_l2", "ft_n", "sac_n", "ewc", "packnet", "pnn")


def test_backend_key_selects_the_brax_scenario():
    assert select_backend(["suite=ant_forgetting", "backend=brax"]) == ["suite=ant_forgetting_brax"]
    assert select_backend(["suite=ant_forgetting", "backend=mujoco"]) == ["suite=ant_forgetting"]
    with pytest.raises(ValueError, match="no brax backend"):
        select_backend(["suite=hopper", "backend=brax"])
    with pytest.raises(ValueError, match="allowed: mujoco, brax"):
        select_backend(["suite=hopper", "backend=jax"])


def test_every_continual_method_is_in_the_grid_of_every_brax_scenario():
    suites = [name + "_brax" for name in SCENARIOS]
    cells = {(c[0], c[2]) for c in grid("smoke", suites=suites, learners=["sac"])}
    assert {(f"method={m}", f"suite={s}") for m in CONTINUAL for s in suites} <= cells


def test_missing_jax_is_one_line_with_the_install_command(monkeypatch):
    from plasticbench.envs.brax_physics import MissingBackendError, require_brax

    hide_package(monkeypatch, "jax")
    with pytest.raises(MissingBackendError, match=r"pip install 'plasticbench\[brax\]'"):
        require_brax()
