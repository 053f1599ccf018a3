"""Success-rate evaluation of Continual World runs: the two protocols of scenarios.md §2.2.

`success_mode`:
* "last": an episode succeeds if `info["success"]` is set at its final step, under the deterministic
  policy: the Rewire/CSP evaluation ([RN] frameworks/rewire.py `_evaluate_single_task` reads
  `env/success[ep_len-1]`), which reproduces Rewire Table 2. The default.
* "any": an episode succeeds if the flag was set at any step (CW's `SuccessCounter`), under the
  stochastic policy, as CW's `test_agent` logs for all its metrics ("test/stochastic/*/success").

The success rate of a seed is the fraction of its evaluation episodes that succeeded (the scale's
`eval_episodes`: CW plays 10). Returns are measured in the same episodes and stored as for every
suite. The stochastic policy draws its noise from a stream of its own keyed by the evaluation's
index and the task, so evaluating never moves the learner's RNG and a resumed run draws the same.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import torch

from plasticbench.baselines.seed_rng import SeedRNG
from plasticbench.envs.evaluation import play_episodes
from plasticbench.envs.task import Task
from plasticbench.envs.vector import SeedEnv

if TYPE_CHECKING:
    from plasticbench.baselines.learner import Learner
    from plasticbench.benchmark.config import RunConfig
    from plasticbench.methods.base import Method

SUCCESS_MODES: tuple[str, ...] = ("last", "any")
SUCCESS_FAMILIES: frozenset[str] = frozenset({"continual_world"})  # families whose envs report info["success"]
EVAL_NOISE_STREAM = 3_000_000  # stochastic evaluation noise; apart from the learner's and the probes' streams


def check_success_mode(value: str | None, family: str) -> str | None:
    """The run's success mode: None outside SUCCESS_FAMILIES, "last" by default inside; a bad value
    (or one given for a suite without success) is a one-line error naming the allowed ones."""
    if family not in SUCCESS_FAMILIES:
        if value is not None:
            raise ValueError(f"success_mode={value!r} applies to Continual World suites only "
                             f"(family {family!r} has no success flag); leave it unset")
        return None
    if value is None:
        return SUCCESS_MODES[0]
    if value not in SUCCESS_MODES:
        raise ValueError(f"unknown success_mode {value!r}; allowed: {', '.join(SUCCESS_MODES)}")
    return value


def episode_success(flags: Sequence[bool], mode: str) -> bool:
    """Whether one episode with per-step success `flags` succeeded under `mode`."""
    if mode not in SUCCESS_MODES:
        raise ValueError(f"unknown success_mode {mode!r}; allowed: {', '.join(SUCCESS_MODES)}")
    if not flags:
        return False
    return bool(flags[-1]) if mode == "last" else any(flags)


class SuccessCounter:
    """An `observer` of envs/evaluation.py `play_episodes`: each seed's per-episode successes."""

    def __init__(self, num_seeds: int, mode: str) -> None:
        self.mode = mode
        self.flags: list[list[bool]] = [[] for _ in range(num_seeds)]  # the running episode's steps
        self.episodes: list[list[bool]] = [[] for _ in range(num_seeds)]

    def __call__(self, s: int, env: SeedEnv, ended: bool) -> None:
        self.flags[s].append(bool(env.env.success))
        if ended:
            self.episodes[s].append(episode_success(self.flags[s], self.mode))
            self.flags[s] = []

    def rates(self) -> list[float]:
        """[S] fraction of each seed's finished episodes that succeeded."""
        return [sum(e) / len(e) if e else 0.0 for e in self.episodes]


def play_success(policy: Callable[[torch.Tensor], torch.Tensor], task: Task, seeds: Sequence[int], episodes: int,
                 max_episode_steps: int | None, seed_offset: int, mode: str,
                 device: torch.device | str = "cpu") -> tuple[list[float], list[float]]:
    """([S] mean return, [S] success rate) of `policy` over `episodes` fresh, seeded episodes per seed."""
    counter = SuccessCounter(len(seeds), mode)
    returns, _ = play_episodes(policy, task, seeds, episodes, max_episode_steps, seed_offset, device, observer=counter)
    return returns.tolist(), counter.rates()


def evaluation_policy(learner: "Learner", head: int, mode: str, rng: SeedRNG) -> Callable[[torch.Tensor], torch.Tensor]:
    """The policy each mode evaluates (module docstring); the stochastic one samples from `rng`."""
    if mode == "last":
        return lambda obs: learner.policy_action(obs, False, head)

    def stochastic(obs: torch.Tensor) -> torch.Tensor:
        own, learner.rng = learner.rng, rng  # the learner samples from its `rng`: lend it the evaluation's
        try:
            return learner.policy_action(obs, True, head)
        finally:
            learner.rng = own
    return stochastic


def evaluate_success_tasks(config: "RunConfig", learner: "Learner", method: "Method", upto: int, draw: int,
                           seed_offset: int) -> tuple[list[list[float] | None], list[list[float] | None]]:
    """(returns, success rates): [N] -> [S] on tasks 0..upto (the others None), each task with the
    weights that answer for it; `draw` numbers the evaluation (its noise stream's position)."""
    tasks = config.scenario.tasks
    returns: list[list[float] | None] = [None] * len(tasks)
    success: list[list[float] | None] = [None] * len(tasks)
    for task in tasks[: upto + 1]:
        head = task.index if learner.num_heads > 1 else 0
        rng = SeedRNG(learner.seeds, learner.device, stream=EVAL_NOISE_STREAM + task.index)
        rng.counter = draw << 32  # each evaluation its own block of the stream
        with method.evaluating(learner, task.index):
            returns[task.index], success[task.index] = play_success(
                evaluation_policy(learner, head, config.success_mode, rng), task, config.seeds,
                config.scale.eval_episodes, config.scale.episode_length, seed_offset + task.index,
                config.success_mode, learner.device)
    return returns, success
