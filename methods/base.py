"""The method contract (ARCHITECTURE.md, "The method contract"): lifecycle hooks with no-op defaults.

A method overrides only the hooks it needs; the learner calls every hook at a fixed point and never
special-cases a method by name. `ctx` is the learner's public face (`plasticbench.baselines.learner.Learner`):
networks by role, optimizers, replay buffer, counters, seed count, device and per-seed RNG, and one way
to try a policy in an environment from inside a hook:

    ctx.rollout(task, policy, steps=None, charged=False) -> [S] returns

`policy` maps [S, obs] to [S, act] in [-1, 1]; every seed plays its own fresh environment seeded from
its own seed and the call's number, so seeds stay independent. steps=None plays the run's evaluation
protocol (mean episodic return), an int plays exactly that many steps (total reward). The steps are
counted per task in the record (`rollout_steps`). Whether they count against the task's budget is the
method's spec's rule: charged=True spends steps the method reserved with `reserved_steps` (the run
trains that many fewer steps, so training plus charged rollouts equals the budget; spending more is
an error); charged=False is spent outside the budget.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Iterator

import torch
from torch import nn

if TYPE_CHECKING:
    from plasticbench.baselines.learner import Learner, NetworkSpec
    from plasticbench.baselines.replay import Batch, ReplayBuffer
    from plasticbench.envs.task import Task


class Method:
    """Base class of every method; the defaults make it plain fine-tuning (FT-1)."""

    name: ClassVar[str] = ""
    settings: ClassVar[frozenset[str]] = frozenset()
    learners: ClassVar[frozenset[str]] = frozenset()
    event_kinds: ClassVar[tuple[str, ...]] = ()
    """The structural events the method makes (wrapped in `ctx.structural_event(kind)`). A method that
    declares some gets an `events` field in its record and, when none fired in a run, is shown as
    "no event fired" on the leaderboard instead of being ranked (ARCHITECTURE.md, "The method contract")."""

    @dataclass(frozen=True)
    class Config:
        pass

    def __init__(self, config: Any = None) -> None:
        self.config = config if config is not None else self.Config()

    def build(self, ctx: "Learner", role: str, spec: "NetworkSpec") -> nn.Module | None:
        """Return a module to use for `role` instead of the learner's default, or None."""
        return None

    def reserved_steps(self, ctx: "Learner", task: "Task", budget: int) -> int:
        """Env steps of `task`'s `budget` kept back from training for charged `ctx.rollout` calls (0 <= n < budget)."""
        return 0

    def on_task_start(self, ctx: "Learner", task: "Task") -> None:
        """Called after the learner has reset its buffer and optimizers for the new task."""

    def loss(self, ctx: "Learner", role: str, batch: "Batch") -> torch.Tensor | None:
        """Extra loss for `role` ("actor" or "critic"): the SUM over seeds of each seed's term."""
        return None

    def before_optimizer_step(self, ctx: "Learner", role: str) -> None:
        """Gradient surgery between backward() and the optimizer step of `role`."""

    def after_update(self, ctx: "Learner") -> None:
        """Structural change after a gradient step (ctx.updates already counts it)."""

    def sample(self, ctx: "Learner", buffer: "ReplayBuffer", batch_size: int) -> "Batch | None":
        """Replay override; None samples uniformly."""
        return None

    def act(self, ctx: "Learner", obs: torch.Tensor, explore: bool) -> torch.Tensor | None:
        """Acting override; None uses the learner's policy."""
        return None

    def on_episode_end(self, ctx: "Learner", ended: torch.Tensor) -> None:
        """Training episodes ended for the seeds where the bool mask ended [S] is set (online only)."""

    def on_evaluation(self, ctx: "Learner", task_index: int, returns: list[float]) -> None:
        """The periodic evaluation of the task in training gave these per-seed returns [S]."""

    def summary(self, ctx: "Learner") -> dict:
        """Method-specific numbers for the run's record (`method_summary`), per seed where they vary."""
        return {}

    def on_task_end(self, ctx: "Learner", task: "Task") -> None:
        """Consolidation at the end of a task, while its buffer is still filled (ctx.buffer)."""

    @contextlib.contextmanager
    def evaluating(self, ctx: "Learner", task_index: int) -> Iterator[None]:
        """Install the weights that answer for task `task_index` while the block runs."""
        yield

    def model_size(self, ctx: "Learner") -> int:
        """Policy parameters held per seed (metrics-continual.md, "Model size")."""
        return ctx.policy_params()

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass
