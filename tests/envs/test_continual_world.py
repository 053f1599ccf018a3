"""Continual World and MT10 environments (envs/continual_world.py, scenarios.md §2): every task builds,
resets, steps and reports success; CW's 200-step horizon; object and goal re-drawn at every reset from
the seed's own stream; the task one-hot; exact resume mid-episode; pooled envs equal fresh ones."""

import numpy as np
import pytest
import torch

pytest.importorskip("metaworld")  # in the dev extra; CI installs it, so this never skips there

from plasticbench.envs import continual_world
from plasticbench.envs.continual_world import (CW3_TRIPLETS, CW10_V1, CW_HORIZON, MT10_V3, MissingMetaworldError,
                                               make_task_env, require_metaworld)
from plasticbench.envs.continual_world_scenarios import SCENARIOS, mt10_tasks
from plasticbench.envs.catalog import get_scenario
from plasticbench.envs.vector import SeedEnv, SeedVectorEnv
from tests.missing_package import hide_package

SEED = 7


def rand_vec(env) -> np.ndarray:
    """The object/goal random vector the last reset drew (metaworld's `_last_rand_vec`)."""
    return np.array(env.unwrapped._last_rand_vec, copy=True)


@pytest.fixture(scope="module")
def cw10():
    return get_scenario("cw10")


@pytest.mark.parametrize("which", ["cw10", "mt10"])
def test_every_task_builds_resets_steps_and_reports_success(cw10, which):
    tasks = cw10.tasks if which == "cw10" else mt10_tasks()
    assert [t.name for t in tasks] == ([n.replace("-v1", "-v3") for n in CW10_V1] if which == "cw10" else list(MT10_V3))
    for task in tasks:
        env = SeedEnv(task, SEED, None)
        obs = env.reset()
        assert obs.shape == (39 + len(tasks),)
        _, reward, terminated, truncated, info = env.env.step(np.zeros(4))
        assert np.isfinite(reward) and not terminated and not truncated
        assert "success" in info and env.env.success in (True, False)
        env.close()


def test_mt10_is_the_librarys_task_list():
    from metaworld.env_dict import MT10_V3 as library_mt10

    assert tuple(library_mt10) == MT10_V3


def test_suites_and_triplet_numbering():
    assert SCENARIOS["cw20"] == CW10_V1 * 2
    assert SCENARIOS["cw3_t1"] == ("push-v1", "window-close-v1", "hammer-v1")
    assert SCENARIOS["cw3_t6"] == ("stick-pull-v1", "peg-unplug-side-v1", "stick-pull-v1")
    assert {f"cw3_t{i}" for i in range(1, 9)} == {f"cw3_{k}" for k in CW3_TRIPLETS}
    scenario = get_scenario("cw20")
    assert [t.index for t in scenario.tasks] == list(range(20)) and scenario.setting == "continual"
    assert scenario.budget("paper") == 1_000_000 and scenario.budget("smoke") <= 200  # CW's 1M; smoke in seconds


def test_horizon_is_200_steps(cw10):
    env = SeedEnv(cw10.tasks[0], SEED, None)
    env.reset()
    ends = [env.step(np.zeros(4))[3] for _ in range(CW_HORIZON)]
    assert ends == [False] * (CW_HORIZON - 1) + [True]
    env.close()


def test_goals_redrawn_every_reset_and_same_seed_same_goals(cw10):
    task = cw10.tasks[6]  # push: object and goal both random
    def goals(seed):
        env = SeedEnv(task, seed, None)
        draws = []
        for _ in range(3):
            env.reset()
            draws.append(rand_vec(env.env))
        env.close()
        return np.stack(draws)
    first, again, other = goals(SEED), goals(SEED), goals(SEED + 1)
    assert not np.allclose(first[0], first[1]) and not np.allclose(first[1], first[2])
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_one_hot_marks_the_task(cw10):
    for task in (cw10.tasks[0], cw10.tasks[9]):
        env = SeedEnv(task, SEED, None)
        one_hot = env.reset()[39:]
        assert one_hot.tolist() == [1.0 if i == task.index else 0.0 for i in range(10)]
        assert env.step(np.zeros(4))[0][39:].tolist() == one_hot.tolist()
        env.close()


def test_pooled_env_plays_like_a_fresh_one(cw10, monkeypatch):
    """A closed env goes back to the pool; the next one handed out must replay exactly, rewards included.

    Push-back (task 3) rewards read Meta-World's live views into the MuJoCo data (`init_left_pad`); a
    pool that restored them as frozen copies gave the same observations and other rewards (0.52 against
    1.33 over an episode), so a cell's numbers depended on what ran before it in the process."""
    monkeypatch.setattr(continual_world, "_POOL", {})  # the first env is built here, whatever ran before
    task, actions = cw10.tasks[3], np.random.default_rng(0).uniform(-1, 1, (30, 4))
    def trajectory():
        env = SeedEnv(task, SEED, None)
        obs, rewards = [env.reset()], []
        for a in actions:
            step = env.step(a)
            obs.append(step[0])
            rewards.append(step[1])
        env.close()
        return np.stack(obs), np.array(rewards)
    fresh, pooled = trajectory(), trajectory()
    np.testing.assert_array_equal(fresh[0], pooled[0])
    np.testing.assert_array_equal(fresh[1], pooled[1])


def test_resume_mid_episode_continues_exactly(cw10):
    task, actions = cw10.tasks[6], torch.from_numpy(np.random.default_rng(1).uniform(-1, 1, (40, 2, 4))).float()
    env = SeedVectorEnv(task, [SEED, SEED + 1], None)
    env.reset()
    for a in actions[:20]:
        env.step(a)
    state = env.state_dict()
    torch.save(state, buffer := __import__("io").BytesIO())
    buffer.seek(0)
    expected = [env.step(a).obs for a in actions[20:]]
    resumed = SeedVectorEnv(task, [SEED, SEED + 1], None)
    resumed.load_state_dict(torch.load(buffer, weights_only=True))
    for a, want in zip(actions[20:], expected):
        torch.testing.assert_close(resumed.step(a).obs, want, rtol=0, atol=0)
    env.close()
    resumed.close()


def test_missing_metaworld_is_one_line_with_the_install_command(monkeypatch):
    hide_package(monkeypatch, "metaworld")
    with pytest.raises(MissingMetaworldError, match=r"extra 'metaworld'.*pip install 'plasticbench\[metaworld\]'"):
        require_metaworld()
    with pytest.raises(MissingMetaworldError):
        make_task_env("push-v3", 0, 1, CW_HORIZON)


def test_worker_process_envs_step_and_checkpoint_exactly_like_in_process_ones(cw10):
    from plasticbench.envs.process_vector import ProcessSeedVectorEnv

    task, seeds, cap = cw10.tasks[2], [SEED, SEED + 1, SEED + 2], 20  # 20-step episodes: resets on the way
    actions = torch.from_numpy(np.random.default_rng(2).uniform(-1, 1, (50, 3, 4))).float()
    here, there = SeedVectorEnv(task, seeds, cap), ProcessSeedVectorEnv(task, seeds, cap)
    torch.testing.assert_close(here.reset(), there.reset(), rtol=0, atol=0)
    for a in actions[:35]:
        mine, theirs = here.step(a), there.step(a)
        for field in ("next_obs", "reward", "terminated", "truncated", "obs"):
            torch.testing.assert_close(getattr(mine, field), getattr(theirs, field), rtol=0, atol=0)
        assert mine.finished_returns == theirs.finished_returns
    resumed = SeedVectorEnv(task, seeds, cap)
    resumed.load_state_dict(there.state_dict())
    for a in actions[35:]:
        torch.testing.assert_close(resumed.step(a).obs, here.step(a).obs, rtol=0, atol=0)
    for env in (here, there, resumed):
        env.close()
