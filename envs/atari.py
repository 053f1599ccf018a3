"""The Atari suites (scenarios.md §5): one scenario per game, `atari_<game>`, and the continual `atari_continual`.

Budgets count agent steps (one step = 4 emulator frames, the frame skip); every constant below states
both. The 26 Atari-100k games form the named set `atari_100k` (`plasticbench suite suites=atari_100k`);
all 57 games of the reference table are single-game suites. Scores are human-normalized
(metrics-benchmark.md §6) from each task's published (random, human) pair, so no `random` record is
measured for these suites. Everything needs the `atari` extra (ale-py, opencv): the names are data and
always listed; running one without the extra fails before any work with the install command.
"""
from __future__ import annotations

import functools

from plasticbench.envs.atari_games import ALE_IDS, ATARI_100K_GAMES, RANDOM_HUMAN
from plasticbench.envs.atari_preprocessing import make_atari_env
from plasticbench.envs.task import Scenario, Task

FAMILY = "atari"
BACKEND = "ale"
PREFIX = "atari_"
CONTINUAL = "atari_continual"

SINGLE_GAME_BUDGETS: dict[str, int] = {"smoke": 200, "short": 100_000, "paper": 10_000_000}
"""Agent steps per game. paper: ReDo's DQN, 40 iterations x 250,000 steps = 10M agent steps = 40M frames
[DOP dqn.gin; scenarios.md §5.1]; short: Atari 100k, 100k agent steps = 400k frames [DOP
labs/atari_100k]; smoke: 200 agent steps = 800 frames, seconds in CI (proves the pipeline only)."""

CONTINUAL_GAMES: tuple[str, ...] = ("pong", "breakout", "freeway", "boxing", "ms_pacman")
"""PROPOSAL (no source fixes a sequence, scenarios.md §5.1 leaves it open): five Atari-100k games that DQN
learns within a few million frames, whose minimal action sets differ (6, 4, 3, 18, 9 actions), so the
shared 18-action head's masking matters on every switch."""

CONTINUAL_BUDGETS: dict[str, int] = {"smoke": 200, "short": 100_000, "paper": 2_500_000}
"""Agent steps per game of the continual scenario: smoke and short as a single game; paper 2.5M agent steps
= 10M frames per game (PROPOSAL: the 10M-frame per-game budget of Abbas et al. 2023's game cycles)."""

SCALE_SETTINGS: dict[str, dict[str, int | None]] = {
    "short": {"eval_every": 25_000, "learning_starts": 1_600},
    "paper": {"eval_every": 250_000, "learning_starts": 20_000},
}
"""Schedules these suites set at a scale: paper evaluates once per Dopamine iteration (250k agent steps) and
starts learning after `min_replay_history` 20k transitions [DOP dqn.gin]; short learns after 1,600
transitions as the Atari-100k agents do [DOP labs/atari_100k], evaluating 4 times. Smoke keeps the harness's."""

GAME_SETS: dict[str, tuple[str, ...]] = {"atari_100k": tuple(PREFIX + game for game in ATARI_100K_GAMES)}
"""Named sets of suites, expanded by `plasticbench suite suites=<set>`."""

GRID_GAMES: tuple[str, ...] = ("atari_pong",)
"""The Atari suites the default grid plans (one game); the others run when named, or through a set."""


REDO_ATARI = {"period_fraction": 1e-4, "tau": 0.025, "batch_size": 64}
"""redo.md §5, DQN on Atari at the default replay ratio: F = 1,000 gradient steps (1e-4 of the 10M-agent-step
budget, so the same proportion at every scale), tau = 0.025, B_stat = 64; recycling runs the whole task (its
`reset_end_step` 2.5M counts gradient steps: all of a 10M-agent-step run at one update per 4 agent steps)."""
METHOD_OVERRIDES = {"redo": REDO_ATARI}


def _task(game: str, index: int, budgets: dict[str, int], full_action_space: bool) -> Task:
    return Task(name=ALE_IDS[game], index=index, make=functools.partial(make_atari_env, game, full_action_space),
                budgets=dict(budgets), backend=BACKEND, human_reference=RANDOM_HUMAN[game])


def single_game_scenario(game: str) -> Scenario:
    """`atari_<game>`: the game's minimal action set, online, human-normalized."""
    if game not in ALE_IDS:
        raise ValueError(f"unknown Atari game {game!r}; allowed: {', '.join(sorted(ALE_IDS))}")
    return Scenario(name=PREFIX + game, family=FAMILY, setting="online", backend=BACKEND, discrete_actions=True,
                    tasks=(_task(game, 0, SINGLE_GAME_BUDGETS, full_action_space=False),),
                    scale_overrides=SCALE_SETTINGS, method_overrides=METHOD_OVERRIDES)


def continual_scenario() -> Scenario:
    """`atari_continual`: CONTINUAL_GAMES in order, each with ALE's full 18 actions of which only the
    game's minimal set is legal (the env's `legal_mask`), so one 18-action head serves every game."""
    tasks = tuple(_task(game, i, CONTINUAL_BUDGETS, full_action_space=True) for i, game in enumerate(CONTINUAL_GAMES))
    return Scenario(name=CONTINUAL, family=FAMILY, setting="continual", backend=BACKEND, discrete_actions=True,
                    tasks=tasks, scale_overrides=SCALE_SETTINGS, method_overrides=METHOD_OVERRIDES)


ATARI_BUILDERS = {**{PREFIX + game: functools.partial(single_game_scenario, game) for game in ALE_IDS},
                  CONTINUAL: continual_scenario}


def legal_action_masks(scenario: Scenario) -> list[list[bool]]:
    """[N][A]: each task's legal actions (the game's minimal set within the shared head; all of a
    single game's), read from one built env per task, for a discrete learner's `task_action_masks`."""
    masks = []
    for task in scenario.tasks:
        env = task.make(None)
        try:
            masks.append(env.legal_mask.tolist())
        finally:
            env.close()
    return masks
