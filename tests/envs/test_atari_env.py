"""The Atari environments (envs/atari*.py): preprocessing, frame stacks, training-only episodic life and
clipping, legal actions in the continual scenario, per-seed seeding and exact state."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from plasticbench.envs.atari import CONTINUAL_GAMES, legal_action_masks
from plasticbench.envs.atari_games import ALE_IDS, ATARI_100K_GAMES, FULL_ACTION_SET, RANDOM_HUMAN
from plasticbench.envs.atari_preprocessing import OBS_SHAPE
from plasticbench.envs.atari_vector import AtariGame, AtariVectorEnv, play_atari_episodes
from plasticbench.envs.catalog import get_scenario

pytest.importorskip("ale_py", reason="the atari extra is in `dev`; CI installs it")


def random_actions(n: int, steps: int, seed: int = 0) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return [torch.randint(0, n, (1,), generator=generator) for _ in range(steps)]


@pytest.fixture(scope="module")
def pong():
    return get_scenario("atari_pong").tasks[0]


@pytest.fixture(scope="module")
def ms_pacman():
    return get_scenario("atari_ms_pacman").tasks[0]


def test_name_table_covers_the_reference_table_and_the_100k_set():
    assert len(ALE_IDS) == len(RANDOM_HUMAN) == 57 and set(ATARI_100K_GAMES) <= set(ALE_IDS) and len(ATARI_100K_GAMES) == 26
    assert ALE_IDS["ms_pacman"] == "ALE/MsPacman-v5" and ALE_IDS["up_n_down"] == "ALE/UpNDown-v5"
    assert all(human > random for random, human in RANDOM_HUMAN.values())


def test_observations_are_uint8_frame_stacks_of_the_screen(pong):
    env = AtariVectorEnv(pong, [0, 1], None)
    obs = env.reset()
    assert obs.shape == (2, *OBS_SHAPE) == (2, 4, 84, 84) and obs.dtype == torch.uint8
    for action in random_actions(6, 20):
        result = env.step(action.repeat(2))
    for x in (result.next_obs, result.obs):
        assert x.shape == (2, 4, 84, 84) and x.dtype == torch.uint8
    assert result.reward.dtype == torch.float32 and result.terminated.dtype == result.truncated.dtype == torch.bool
    assert int(obs.min()) >= 0 and int(obs.max()) <= 255 and obs.float().std() > 10  # a real screen, not a blank
    assert env.legal_mask.shape == (2, 6) and env.legal_mask.all()
    env.close()


def test_the_stack_shifts_by_one_frame_and_restarts_at_a_reset(pong):
    """Newest frame last; a finished episode's last stack goes to the replay (next_obs), and the next
    observation is a new game's stack of its first frame only, nothing of the old game."""
    env = AtariVectorEnv(pong, [0], max_episode_steps=30)
    before = env.reset()
    assert all(torch.equal(before[0, k], before[0, 0]) for k in range(4))
    for i, action in enumerate(random_actions(6, 30)):
        result = env.step(action)
        assert torch.equal(result.next_obs[0, :3], before[0, 1:])  # the older frames, shifted
        if i < 29:
            assert not result.truncated.any() and torch.equal(result.obs, result.next_obs)
        before = result.obs
    assert result.truncated.all() and len(result.finished_returns) == 1  # the scale's cap in agent steps
    fresh = result.obs[0]
    assert all(torch.equal(fresh[k], fresh[0]) for k in range(4)) and not torch.equal(fresh, result.next_obs[0])
    env.close()


def test_episodic_life_and_clipping_are_for_training_only(ms_pacman):
    """Same seed, same actions: training and evaluation play the same game (same raw return, same end);
    training alone clips rewards (Ms. Pac-Man's dots are worth 10) and ends the learner's episode at each
    lost life, restarting the stack while the game goes on."""
    games = {mode: AtariGame(ms_pacman, 0, None, 0, training=mode) for mode in (True, False)}
    seen = {mode: {"rewards": set(), "terminal_steps": [], "restarted": True} for mode in games}
    generator = np.random.default_rng(0)
    for game in games.values():
        game.reset()
    for step in range(3000):
        action = int(generator.integers(9))
        over = {}
        for mode, game in games.items():
            _, reward, terminated, truncated = game.step(action)
            over[mode] = game.game_over
            seen[mode]["rewards"].add(reward)
            if terminated:
                seen[mode]["terminal_steps"].append(step)
            if terminated and not over[mode]:
                game.restart_life()
                seen[mode]["restarted"] &= all(np.array_equal(game.obs[k], game.obs[0]) for k in range(4))
        assert over[True] == over[False]
        if over[True]:
            break
    assert over[True], "a random Ms. Pac-Man game ends within 3,000 agent steps"
    assert games[True].episode_return == games[False].episode_return > 10
    assert seen[True]["rewards"] <= {0.0, 1.0} and 10.0 in seen[False]["rewards"]
    assert len(seen[True]["terminal_steps"]) == 3 and seen[False]["terminal_steps"] == [step]  # 3 lives; one game
    assert seen[True]["restarted"]


def test_continual_scenario_shares_18_actions_and_masks_each_games_illegal_ones():
    scenario = get_scenario("atari_continual")
    assert scenario.act_dim == FULL_ACTION_SET and scenario.discrete_actions and scenario.setting == "continual"
    masks = np.array(legal_action_masks(scenario))
    assert masks.shape == (len(CONTINUAL_GAMES), 18) and masks.sum(axis=1).tolist() == [6, 4, 3, 18, 9]
    assert masks[:, 0].all() and not masks.all(axis=0).all()  # NOOP everywhere; some action illegal somewhere
    breakout = scenario.tasks[1]
    env = AtariVectorEnv(breakout, [0], None)
    env.reset()
    illegal = int(np.flatnonzero(~masks[1])[0])
    with pytest.raises(ValueError, match=f"action {illegal} is not legal in 'breakout'; legal: \\[0, 1, 3, 4\\]"):
        env.step(torch.tensor([illegal]))
    env.close()


def test_each_seed_plays_the_same_game_alone_or_beside_others(pong):
    actions = random_actions(6, 40, seed=1)
    pair, alone = AtariVectorEnv(pong, [3, 7], None), AtariVectorEnv(pong, [7], None)
    assert torch.equal(pair.reset()[1], alone.reset()[0])
    differs = False
    for action in actions:
        together, single = pair.step(action.repeat(2)), alone.step(action)
        assert torch.equal(together.next_obs[1], single.next_obs[0]) and torch.equal(together.reward[1:], single.reward)
        differs |= not torch.equal(together.next_obs[0], together.next_obs[1])
    assert differs  # seeds 3 and 7 draw their own no-ops and sticky actions
    pair.close(), alone.close()


def test_a_restored_state_continues_bit_identically(ms_pacman):
    actions = random_actions(9, 80, seed=2)
    env = AtariVectorEnv(ms_pacman, [0, 5], None)
    env.reset()
    for action in actions[:40]:
        env.step(action.repeat(2))
    state = env.state_dict()
    straight = [env.step(a.repeat(2)) for a in actions[40:]]
    resumed = AtariVectorEnv(ms_pacman, [0, 5], None)
    resumed.load_state_dict(state)
    for action, expected in zip(actions[40:], straight):
        got = resumed.step(action.repeat(2))
        assert torch.equal(got.next_obs, expected.next_obs) and torch.equal(got.reward, expected.reward)
        assert torch.equal(got.terminated, expected.terminated)
    env.close(), resumed.close()


def test_evaluation_reports_raw_returns_per_seed_independently(pong):
    """Cut at 120 agent steps; each seed's result is the same alone as beside another."""
    def policy(obs: torch.Tensor) -> torch.Tensor:
        return (obs.float().mean(dim=(1, 2, 3)) * 7).long() % 6

    pair, steps = play_atari_episodes(policy, pong, [0, 4], 1, 120, seed_offset=10_000)
    alone, _ = play_atari_episodes(policy, pong, [4], 1, 120, seed_offset=10_000)
    assert steps == [120, 120] and pair[1] == alone[0] and pair.dtype == torch.float32
