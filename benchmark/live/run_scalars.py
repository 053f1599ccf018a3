"""What the run loop shows live, and when: training scalars every `every` env steps, evaluation
returns and plasticity metrics at each evaluation, a flush at each evaluation and checkpoint.

Training scalars need a host read of the learner's per-seed losses, so they are taken every
`every` steps (a tenth of the evaluation interval by default), not at every update.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Sequence

from plasticbench.benchmark.live.run_logger import RunLogger

if TYPE_CHECKING:
    from plasticbench.baselines.learner import Learner
    from plasticbench.benchmark.config import RunConfig
    from plasticbench.envs.task import Task


class LiveRun:
    def __init__(self, config: "RunConfig", run_dir, every: int) -> None:
        self.tasks, self.every = config.scenario.tasks, max(1, every)
        self.log = RunLogger(config.loggers, run_dir, config.run_id, config.seeds, config.identity())
        self.clock: tuple[float, int] | None = None

    def on_step(self, step: int, learner: "Learner", taken: int = 1) -> None:
        """Called after every loop step with the run's global step count and the env steps it took
        (several environments per seed take several); logs when the step passes a multiple of `every`."""
        if step // self.every == (step - taken) // self.every:
            return
        now = time.perf_counter()
        scalars = {f"train/{k}": v.tolist() for k, v in learner.diagnostics().items()}
        if self.clock is not None and step > self.clock[1]:
            rate = (step - self.clock[1]) / max(now - self.clock[0], 1e-9)
            scalars["perf/env_steps_per_s"] = [rate] * len(self.log.seeds)
        self.clock = (now, step)
        self.log.scalars(step, scalars)

    def on_evaluation(self, step: int, returns: Sequence[Sequence[float] | None], plasticity: dict[str, list[float]],
                      current: "Task", events: dict[str, list[float]] | None = None) -> None:
        scalars = {f"eval/{task.name}": r for task, r in zip(self.tasks, returns) if r is not None}
        if returns[current.index] is not None:
            scalars["eval/current_task"] = returns[current.index]
        scalars.update({f"plasticity/{name}": values for name, values in plasticity.items()})
        scalars.update({f"events/{name}": values for name, values in (events or {}).items()})
        self.log.scalars(step, scalars)
        self.log.flush()

    def on_checkpoint(self) -> None:
        self.log.flush()

    def close(self) -> None:
        self.log.close()
