"""One task's rows in the replay of a multitask run, without a second buffer.

A multitask step stores one transition of task 0, 1, ..., T-1 in this order (benchmark/multitask_loop.py)
into a buffer whose capacity is a multiple of T (benchmark/memory_plan.py `replay_capacity`), so row r
always holds task r mod T, before and after the ring wraps. Task n's newest row is the newest row of
residue n, and its k-th before that lies T k rows earlier.
"""
from __future__ import annotations

import torch

from plasticbench.baselines.replay import ReplayBuffer


def task_rows(buffer: ReplayBuffer, num_tasks: int, task: int, back: torch.Tensor) -> torch.Tensor:
    """Buffer indices [S, B] of task `task`'s rows `back` [S, B] steps before its newest (0 = newest);
    `back` must stay below `task_size`."""
    newest = buffer.pointer - 1
    newest_of_task = newest - (newest - task) % num_tasks
    return (newest_of_task - num_tasks * back) % buffer.capacity


def task_size(buffer: ReplayBuffer, num_tasks: int) -> int:
    """Rows every task holds (the task being stepped may hold one more until the step ends)."""
    return buffer.size // num_tasks
