"""S Atari games, one per seed, in lockstep: training mode (episodic life, clipped rewards) or evaluation.

The seed-batched face of envs/atari_preprocessing.py, with SeedVectorEnv's interface (reset, obs, step
-> StepResult, state_dict, close), so the run loop steps Atari like MuJoCo. Observations are uint8
[S, 4, 84, 84] (newest frame last), actions int64 [S] indices into the task's action set.

Training only (Mnih et al. 2015; the Plasticine C51 wrappers [PL]): the reward handed to the learner
is clipped to its sign, and losing a life is `terminated` for the learner (episodic life) while the game
goes on: the next observation is a fresh stack started after the loss (FIRE pressed where the game
needs it), so the replay sees an ordinary episode boundary. The episode returns reported
(`finished_returns`) are raw, unclipped, whole-game returns. Evaluation (`play_atari_episodes`) plays
whole games with raw rewards and no life handling, the protocol of the human and random references.
`truncated` is the 108k-frame cap or the scale's cap in agent steps (`max_episode_steps`).

Seed independence as in envs/vector.py: game s is seeded from (seeds[s], seed_offset) only (its first
reset seeds ALE's sticky-action RNG and the no-op RNG; later resets continue them). A checkpoint holds
ALE's full state with its RNG, so a resumed run plays the same frames.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from plasticbench.envs.evaluation import play_episodes
from plasticbench.envs.task import Task
from plasticbench.envs.vector import SeedVectorEnv, env_seed


class AtariGame:
    """One seed's game: the preprocessed env plus seeding, episodic life, clipping, caps and exact state."""

    def __init__(self, task: Task, seed: int, max_episode_steps: int | None, seed_offset: int, training: bool):
        self.env = task.make(None)
        self.seed, self.training, self.cap = seed, training, max_episode_steps
        self.reset_seed, self._seeded = env_seed(seed, seed_offset), False
        self.legal_mask = self.env.legal_mask  # [A] bool
        self.obs: np.ndarray | None = None  # [4, 84, 84] uint8 to act on
        self.episode_return, self.episode_steps, self.lives = 0.0, 0, 0
        self.game_over = False  # whether the last step ended the game (not only a life)

    def reset(self) -> np.ndarray:
        """A new game; only the first reset passes the seed, later ones continue its RNG streams."""
        self.obs, _ = self.env.reset(seed=None if self._seeded else self.reset_seed)
        self._seeded = True
        self.episode_return, self.episode_steps, self.lives = 0.0, 0, self.env.ale.lives()
        return self.obs

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool]:
        """(next stack, reward for the learner, terminated, truncated), SeedEnv's shape. In training a lost
        life is `terminated` with `game_over` False; the caller then calls `restart_life`."""
        action = int(action)
        if not 0 <= action < self.legal_mask.size or not self.legal_mask[action]:
            legal = np.flatnonzero(self.legal_mask).tolist()
            raise ValueError(f"action {action} is not legal in {self.env.game!r}; legal: {legal}")
        next_obs, reward, self.game_over, truncated, _ = self.env.step(action)
        self.obs, self.episode_return, self.episode_steps = next_obs, self.episode_return + reward, self.episode_steps + 1
        truncated = truncated or (self.cap is not None and self.episode_steps >= self.cap)
        lives, life_lost = self.env.ale.lives(), False
        if self.training:
            life_lost, self.lives, reward = lives < self.lives, lives, float(np.sign(reward))
        return next_obs, reward, self.game_over or life_lost, truncated

    def episode_over(self, terminated: bool, truncated: bool) -> bool:
        """A finished game is over; a lost life (training) only restarts the stack, unless the FIRE press
        that follows it ends the game (the vector env's reset rule, envs/vector.py `run_command`)."""
        return self.game_over or truncated or (terminated and self.restart_life())

    def restart_life(self) -> bool:
        """After a lost life in training: a fresh stack (FIRE pressed where needed); True if that ended the game."""
        self.obs, reward, ended = self.env.restart_stack()
        self.episode_return += reward
        self.lives = self.env.ale.lives()
        return ended

    def state_dict(self) -> dict[str, Any]:
        """Tensors, ints, floats and dicts only (`torch.load(weights_only=True)`); ALE's state with its RNG as bytes."""
        if self.obs is None:
            return {"seed": self.seed, "obs": None}
        ale_state = self.env.ale.cloneState(include_rng=True).serialize()  # emulator, RAM, sticky-action RNG
        return {"seed": self.seed, "seeded": self._seeded, "obs": torch.from_numpy(self.obs.copy()),
                "ale": torch.frombuffer(bytearray(ale_state), dtype=torch.uint8),
                "np_random": self.env.unwrapped.np_random.bit_generator.state,
                "episode_return": self.episode_return, "episode_steps": self.episode_steps, "lives": self.lives}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state["seed"] != self.seed:
            raise ValueError(f"state of seed {state['seed']} loaded into the game of seed {self.seed}")
        if state["obs"] is None:
            return  # saved before the first reset
        self.env.reset(seed=self.reset_seed)  # gymnasium refuses step() before a reset
        import ale_py

        self.env.ale.restoreState(ale_py.ALEState(state["ale"].numpy().tobytes()))
        self.env.unwrapped.np_random.bit_generator.state = state["np_random"]
        self.obs = state["obs"].numpy().copy()
        self.env.frames[:] = self.obs
        self._seeded = state["seeded"]
        self.episode_return, self.episode_steps, self.lives = state["episode_return"], state["episode_steps"], state["lives"]

    def close(self) -> None:
        self.env.close()


class AtariVectorEnv(SeedVectorEnv):
    """S games, one per seed, stepped in lockstep with auto-reset: SeedVectorEnv with games for envs,
    uint8 frames [S, 4, 84, 84] for observations, action indices int64 [S] for actions. `step`'s
    `terminated` is the learner's (a lost life too, in training); `finished_returns` are whole games'."""

    def __init__(self, task: Task, seeds: Sequence[int], max_episode_steps: int | None,
                 device: torch.device | str = "cpu", seed_offset: int = 0, training: bool = True):
        if len(seeds) == 0:
            raise ValueError("AtariVectorEnv needs at least one seed")
        self.task, self.seeds, self.seed_offset = task, [int(s) for s in seeds], seed_offset
        self.device = torch.device(device)
        self._envs = [AtariGame(task, s, max_episode_steps, seed_offset, training) for s in self.seeds]
        self.num_seeds = len(self._envs)
        self.num_actions = int(self._envs[0].legal_mask.size)

    @property
    def legal_mask(self) -> torch.Tensor:
        """[S, A] bool: the actions each seed's game accepts (all of them outside the continual scenario)."""
        return torch.from_numpy(np.stack([g.legal_mask for g in self._envs])).to(self.device)

    def _tensor(self, rows: Sequence[np.ndarray]) -> torch.Tensor:
        return torch.from_numpy(np.stack(rows)).to(self.device)  # uint8 [S, 4, 84, 84]

    def _host_actions(self, actions: torch.Tensor) -> np.ndarray:
        """int64 [S], one action index per seed."""
        if tuple(actions.shape) != (self.num_seeds,):
            raise ValueError(f"actions must have shape {(self.num_seeds,)} (one action index per seed), got {tuple(actions.shape)}")
        return actions.detach().to("cpu", torch.int64).numpy()


def make_evaluation_game(task: Task, seed: int, max_episode_steps: int | None, seed_offset: int) -> AtariGame:
    """One seed's game for evaluation: whole games, raw rewards (envs/evaluation.py's `make_env`)."""
    return AtariGame(task, seed, max_episode_steps, seed_offset, training=False)


def play_atari_episodes(policy: Callable[[torch.Tensor], torch.Tensor], task: Task, seeds: Sequence[int], episodes: int,
                        max_episode_steps: int | None, seed_offset: int,
                        device: torch.device | str = "cpu") -> tuple[torch.Tensor, list[int]]:
    """([S] mean raw return of `episodes` whole games per seed, [S] agent steps each seed took); `policy`
    maps uint8 [S, 4, 84, 84] to int64 [S]. envs/evaluation.py's protocol: a seed that is done waits."""
    return play_episodes(policy, task, seeds, episodes, max_episode_steps, seed_offset, device, make_env=make_evaluation_game)
