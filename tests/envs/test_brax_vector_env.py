"""The brax vector env: seeds independent, exact resume, the run loop end to end (slow: jit compiles).

One compiled shape ([2 seeds, 1 env]) serves the seed checks: seed 0's stream must be the same next
to seed 1 or seed 5, in either position, so nothing of a co-seed or of the position enters it.
"""
from __future__ import annotations

import pytest
import torch

pytest.importorskip("brax")

from plasticbench.envs.brax import BraxVectorEnv  # noqa: E402
from plasticbench.envs.catalog import get_scenario  # noqa: E402

pytestmark = pytest.mark.slow
STEPS, EPISODE = 12, 5  # episodes of 5 steps: the rollout crosses two auto-resets


@pytest.fixture(scope="module")
def task():
    return get_scenario("halfcheetah_forgetting_brax").tasks[1]  # moon


def rollout(task, seeds, steps=STEPS, env=None):
    env = env or BraxVectorEnv(task, seeds, EPISODE, seed_offset=3)
    obs = [env.reset()] if env._carry is None else [env.obs]
    rewards = []
    for t in range(steps):
        actions = torch.sin(torch.arange(len(seeds) * 6, dtype=torch.float32).reshape(len(seeds), 6) + t)
        result = env.step(actions)
        obs.append(result.obs)
        rewards.append(result.reward)
    return torch.stack(obs), torch.stack(rewards), env


def test_a_seed_stream_ignores_its_co_seed_and_position(task):
    obs_a, rew_a, _ = rollout(task, [0, 1])
    obs_b, rew_b, _ = rollout(task, [5, 0])
    # the actions depend on the row, so give seed 0 the same actions in both positions
    assert not torch.equal(obs_a[:, 0], obs_a[:, 1])
    obs_c, rew_c, _ = rollout(task, [0, 5])
    assert torch.equal(obs_a[:, 0], obs_c[:, 0]) and torch.equal(rew_a[:, 0], rew_c[:, 0])
    assert torch.equal(obs_b[0, 1], obs_c[0, 0])  # first observation: the seed's own key, in either position


def test_resume_equals_uninterrupted(task):
    obs_full, rew_full, _ = rollout(task, [0, 1])
    _, _, env = rollout(task, [0, 1], steps=7)
    state = env.state_dict()
    resumed = BraxVectorEnv(task, [0, 1], EPISODE, seed_offset=3)
    resumed.load_state_dict(state)
    assert torch.equal(resumed.obs, obs_full[7])
    for t in range(7, STEPS):
        actions = torch.sin(torch.arange(12, dtype=torch.float32).reshape(2, 6) + t)
        assert torch.equal(resumed.step(actions).reward, rew_full[t])


def test_smoke_run_end_to_end(tmp_path):
    """plasticbench run method=ft1 learner=sac suite=halfcheetah_forgetting backend=brax scale=smoke."""
    from plasticbench.benchmark.cli import main

    assert main(["run", "method=ft1", "learner=sac", "suite=halfcheetah_forgetting", "backend=brax", "scale=smoke",
                 "seeds=2", "scale.steps_per_task=70", f"results_dir={tmp_path}"]) == 0
    import json

    (record,) = [json.loads(p.read_text()) for p in tmp_path.glob("runs/*/record.json")]
    assert record["backend"] == "brax" and record["suite"] == "halfcheetah_forgetting_brax"
    assert len(record["final_returns"][0]) == 8
