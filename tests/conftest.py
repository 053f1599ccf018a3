"""Shared fixtures: tiny, fast run configurations for end-to-end tests; a fixed global RNG per test."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import pytest

os.environ.setdefault("MUJOCO_GL", "disable")

TINY = ["learner.hidden=[16,16]", "learner.batch_size=16"]


@pytest.fixture(autouse=True)
def _fixed_global_rng() -> None:
    """Tests that draw inputs from torch's global RNG see the same draws whatever ran before them,
    so a failure reproduces with the same test alone (one once depended on test order)."""
    import torch

    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _one_thread():
    """Every test computes with one intra-op thread, as CI's OMP_NUM_THREADS=1 does: the seed tests
    compare S seeds with single-seed runs bit for bit, which README guarantees at a fixed thread
    count; tests that check two threads set it themselves (issue #17)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def tiny_config(tmp_path: Path) -> Callable:
    """load_run_config with small networks and a temporary results directory."""
    from plasticbench.benchmark.config import load_run_config

    def make(*overrides: str, results_dir: Path | None = None):
        return load_run_config([*TINY, f"results_dir={results_dir or tmp_path}", *overrides])

    return make
