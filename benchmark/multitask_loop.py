"""Multitask training: every task's S environments stepped once per step, into one replay, one learner.

The layout of DAPD's multitask code ([C-MT] `sac_venv.py`: one environment per task stepped together,
dapd.md §3): a step acts and stores on task 0, 1, ..., T-1 in this order (each seed its own environment
per task, seeded from its seed and the task index, so seeds stay independent), then makes the gradient
steps due, one update per step of all T tasks as [C-MT] makes one per vectorized step. Decisions:
- The budget is per task: a multitask step is one env step of each task, so `budget` steps give every
  task its budget (T x budget env steps in all).
- The warm-up and the uniform-random steps count buffer rows across tasks, so they are scaled by T:
  every task gets the scale's warm-up.
- The replay's rows cycle through the tasks (row r holds task r mod T; its capacity is a multiple of T,
  `memory_plan.replay_capacity`), so baselines/multitask_replay.py reads one task's rows without a second
  buffer (DAPD's per-task batches and windows). Consecutive rows are different tasks, so every row's next
  observation lands in the replay's side table: about twice the observation memory of a single-task
  replay of the same size, which the memory plan's side-table estimate does not count.
- While task t is stepped the learner's `task_index` is t (a method's episode-end hook knows whose
  episode ended); it is 0 while learning, since a batch mixes tasks: multi-head learners are refused.
"""
from __future__ import annotations

from plasticbench.baselines.learner import Learner
from plasticbench.envs.task import Task


class MultitaskSteps:
    """The step source of a multitask run (the runner's EnvSteps, one per task, and a shared update)."""

    def __init__(self, learner: Learner, tasks: tuple[Task, ...], episode_length: int | None, learning_starts: float,
                 env_state: dict | None = None, random_steps: float | None = None, first_step: int = 0) -> None:
        from plasticbench.benchmark.runner import EnvSteps, updates_due

        if learner.num_heads > 1:
            raise ValueError("a multitask scenario trains one network on batches that mix tasks, so multi-head "
                             "learners are not supported: set learner.multi_head=false")
        T = len(tasks)
        self.learner, self.index, self.updates_due = learner, first_step, updates_due
        self.learning_starts = learning_starts * T
        states = env_state["tasks"] if env_state is not None else [None] * T
        self.tasks = [EnvSteps(learner, task, episode_length, self.learning_starts, state, random_warmup=True,
                               random_steps=None if random_steps is None else random_steps * T, first_step=first_step)
                      for task, state in zip(tasks, states)]

    def step(self) -> None:
        learner = self.learner
        warming_up = learner.buffer.size < self.learning_starts
        for index, source in enumerate(self.tasks):
            learner.task_index = index
            source.collect()
        learner.task_index = 0
        if not warming_up:
            for _ in range(self.updates_due(self.index, learner.config.updates_per_step)):
                learner.update()
        self.index += 1

    def state_dict(self) -> dict:
        return {"tasks": [source.state_dict() for source in self.tasks]}

    def close(self) -> None:
        for source in self.tasks:
            source.close()

