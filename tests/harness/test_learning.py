"""Slow: SAC must clearly beat a random policy on HalfCheetah-v5 within a short budget."""
import numpy as np
import pytest
import torch

from plasticbench.benchmark.config import load_run_config
from plasticbench.benchmark.runner import run
from plasticbench.envs.catalog import get_scenario
from plasticbench.envs.evaluation import evaluate_policy


@pytest.mark.slow
def test_sac_improves_halfcheetah_over_a_random_policy(tmp_path):
    config = load_run_config(["method=ft1", "learner=sac", "suite=halfcheetah", "scale=short", "seeds=2",
                              f"results_dir={tmp_path}", "scale.eval_every=10000", "scale.eval_episodes=2",
                              "scale.learning_starts=2000", "scale.steps_per_task=40000"])
    record = run(config, progress=False)
    task = get_scenario("halfcheetah").tasks[0]
    gen = torch.Generator().manual_seed(0)
    random_returns = evaluate_policy(lambda obs: torch.rand(obs.shape[0], 6, generator=gen) * 2 - 1, task, [0, 1],
                                     episodes=2, max_episode_steps=None, seed_offset=10_000)
    trained = np.array(record["final_returns"])[:, 0]
    assert trained.min() > random_returns.max().item() + 500, (trained, random_returns)
