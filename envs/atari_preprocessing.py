"""One Atari game with the standard preprocessing (scenarios.md §5): what a Task's `make` builds.

Per agent step (Machado et al. 2018's protocol, as Dopamine and the Plasticine C51 wrappers use it):
sticky actions with p = 0.25 (ALE v5's `repeat_action_probability`), a frame skip of 4 repeating the
action with the last two frames max-pooled, 84x84 grayscale (INTER_AREA), 1-30 no-op starts, and a
108,000-frame cap per episode (ALE's `max_num_frames_per_episode`: the cap the human and random
references were measured under, §5.2). gymnasium's `AtariPreprocessing` does the skip, pooling,
resizing and no-ops (it needs opencv). On top, this wrapper stacks the last 4 frames, newest last,
into a uint8 [4, 84, 84] observation, presses FIRE after a reset in the games that need it (their
minimal action set has FIRE and at least three actions, the usual test), and knows which actions
are legal: with the full 18-action set (the continual scenario's shared head) only the game's
minimal set is legal. Episodic life and reward clipping are training-only and live one level up
(envs/atari_vector.py), so evaluation reports raw, whole-game returns.
"""
from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np

from plasticbench.envs.atari_games import ALE_IDS

FRAME_STACK = 4
FRAME_SIZE = 84
OBS_SHAPE = (FRAME_STACK, FRAME_SIZE, FRAME_SIZE)
"""What every Atari observation is: uint8 frames [stack, height, width], newest last (the DQN's input)."""
FRAME_SKIP = 4
NOOP_MAX = 30
STICKY_ACTION_PROB = 0.25
MAX_EPISODE_FRAMES = 108_000
INSTALL = "pip install 'plasticbench[atari]'"
_FIRE = 1  # ALE's action id of FIRE, index 1 in the minimal and the full action set alike


def require_ale() -> None:
    """Before any work: ale-py and opencv must import, else a one-line error with the install command."""
    try:
        import ale_py  # noqa: F401
        import cv2  # noqa: F401
    except ImportError as error:
        raise ValueError(f"the Atari suites need ale-py and opencv ({error.name} is missing): {INSTALL}") from None


class AtariFrames(gymnasium.Wrapper):
    """Preprocessed frames stacked [4, 84, 84] uint8, FIRE after reset where needed, the legal actions.

    `restart_stack()` starts a new stack from the current screen without resetting the game, as a
    lost life does in training (the learner's episode ends, the game goes on).
    """

    def __init__(self, game: str, full_action_space: bool = False) -> None:
        require_ale()
        import ale_py

        gymnasium.register_envs(ale_py)
        if game not in ALE_IDS:
            raise ValueError(f"unknown Atari game {game!r}; allowed: {', '.join(sorted(ALE_IDS))}")
        raw = gymnasium.make(ALE_IDS[game], frameskip=1, repeat_action_probability=STICKY_ACTION_PROB,
                             full_action_space=full_action_space, max_num_frames_per_episode=MAX_EPISODE_FRAMES)
        super().__init__(gymnasium.wrappers.AtariPreprocessing(
            raw, noop_max=NOOP_MAX, frame_skip=FRAME_SKIP, screen_size=FRAME_SIZE, terminal_on_life_loss=False,
            grayscale_obs=True, scale_obs=False))
        self.game, self.ale = game, raw.unwrapped.ale
        self.observation_space = gymnasium.spaces.Box(0, 255, OBS_SHAPE, np.uint8)
        minimal = [a.value for a in self.ale.getMinimalActionSet()]
        action_ids = [a.value for a in raw.unwrapped._action_set]  # what each action index plays, in order
        self.legal_mask = np.array([a in minimal for a in action_ids], dtype=bool)  # [A]
        self.needs_fire = _FIRE in minimal and len(minimal) >= 3
        self.frames = np.zeros(OBS_SHAPE, dtype=np.uint8)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        frame, info = self.env.reset(seed=seed, options=options)
        if self.needs_fire:
            frame, _, terminated, truncated, _ = self.env.step(_FIRE)
            if terminated or truncated:  # never seen in practice; a fresh game rather than a dead one
                frame, info = self.env.reset()
        self.frames[:] = frame
        return self.frames.copy(), info

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        frame, reward, terminated, truncated, info = self.env.step(action)
        self.frames[:-1] = self.frames[1:]
        self.frames[-1] = frame
        return self.frames.copy(), float(reward), bool(terminated), bool(truncated), info

    def restart_stack(self) -> tuple[np.ndarray, float, bool]:
        """(new stack, reward of the FIRE press, whether that press ended the game): a stack of the
        current frame only, after FIRE where needed, so no frame from before a lost life enters the
        learner's next episode."""
        reward, ended, frame = 0.0, False, self.frames[-1]
        if self.needs_fire:
            frame, reward, terminated, truncated, _ = self.env.step(_FIRE)
            ended = bool(terminated or truncated)
        self.frames[:] = frame
        return self.frames.copy(), float(reward), ended


def make_atari_env(game: str, full_action_space: bool, max_episode_steps: int | None = None) -> AtariFrames:
    """A fresh, unseeded game (a Task's `make`; module-level so tasks pickle). The episode cap in agent
    steps is applied by the per-seed env (envs/atari_vector.py), on top of the 108k-frame cap."""
    return AtariFrames(game, full_action_space)
