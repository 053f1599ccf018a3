"""A run's torch thread count: threads=N wins, else the launcher's share of the cores, else 1 (issue #20)."""
import pytest
import torch

from plasticbench.benchmark.config import load_run_config
from plasticbench.benchmark.threads import DEFAULT_THREADS, choose_threads, use_threads


def test_requested_threads_win_over_the_launchers_share_and_the_default():
    assert choose_threads(3, launcher_share=2) == 3
    assert choose_threads(None, launcher_share=2) == 2
    assert choose_threads(None) == DEFAULT_THREADS == 1


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_bad_thread_count_names_the_value_and_the_allowed_ones(value):
    with pytest.raises(ValueError, match=r"threads=.*; allowed: a positive integer"):
        load_run_config(["method=ft1", "learner=sac", "suite=halfcheetah", "scale=smoke", f"threads={value}"])


def test_a_lone_run_sets_torchs_thread_count_from_its_config():
    saved = torch.get_num_threads()
    try:
        config = load_run_config(["method=ft1", "learner=sac", "suite=halfcheetah", "scale=smoke", "threads=2"])
        assert config.threads == 2 and use_threads(config) == 2 and torch.get_num_threads() == 2
        default = load_run_config(["method=ft1", "learner=sac", "suite=halfcheetah", "scale=smoke"])
        assert default.threads is None and use_threads(default) == 1 and torch.get_num_threads() == 1
        assert default.run_id == config.run_id  # the thread count is not part of the run's identity
    finally:
        torch.set_num_threads(saved)
