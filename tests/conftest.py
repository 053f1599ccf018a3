"""Shared fixtures: tiny, fast run configurations for end-to-end tests."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import pytest

os.environ.setdefault("MUJOCO_GL", "disable")

TINY = ["learner.hidden=[16,16]", "learner.batch_size=16"]


@pytest.fixture
def tiny_config(tmp_path: Path) -> Callable:
    """load_run_config with small networks and a temporary results directory."""
    from benchmark.config import load_run_config

    def make(*overrides: str, results_dir: Path | None = None):
        return load_run_config([*TINY, f"results_dir={results_dir or tmp_path}", *overrides])

    return make
