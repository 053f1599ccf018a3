"""SeedVectorEnv with each seed's environment in a worker process of its own: S seeds step in parallel.

Why: a Meta-World step is mostly Meta-World's own Python (contact scans, rotations, the reward
function), about 0.3-2 ms per step, with the GIL held, so no batching inside one process can step S of
them at once; S processes on S cores can. The parent's per-step work is one pipe message per seed out
and one back; the simulation runs concurrently in the workers.

Each worker holds exactly the SeedEnv the in-process vector env would hold, built from (task, seed,
seed_offset) alone and driven by the same `run_command`, so trajectories, returns and checkpoints are
bit-identical to envs/vector.py's (a test checks it): seeds stay independent, whichever runs where.
Workers are forked (cheap: no re-import), daemonic, and stopped by `close`.
"""
from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from typing import Any

import torch

from plasticbench.envs.task import Task
from plasticbench.envs.vector import SeedEnv, SeedVectorEnv, run_command


def _serve(conn: Any, task: Task, seed: int, max_episode_steps: int | None, seed_offset: int) -> None:
    """Worker loop: build the seed's env, then answer (command, argument) messages until "close"."""
    try:
        env = SeedEnv(task, seed, max_episode_steps, seed_offset)
        conn.send(("ok", (int(env.env.observation_space.shape[0]), int(env.env.action_space.shape[0]))))
    except Exception as error:  # reported to the parent, which raises it
        conn.send(("error", repr(error)))
        return
    while True:
        command, arg = conn.recv()
        try:
            conn.send(("ok", run_command(env, command, arg)))
        except Exception as error:
            conn.send(("error", repr(error)))
        if command == "close":
            return


def parallel_envs_useful(num_seeds: int) -> bool:
    """Workers pay off with more than one seed and more than one core to run them on."""
    return num_seeds > 1 and (os.cpu_count() or 1) > 1


class ProcessSeedVectorEnv(SeedVectorEnv):
    """SeedVectorEnv's interface; `_rows` sends each seed's command to its worker and gathers the answers."""

    def __init__(self, task: Task, seeds: Sequence[int], max_episode_steps: int | None,
                 device: torch.device | str = "cpu", seed_offset: int = 0):
        if len(seeds) == 0:
            raise ValueError("ProcessSeedVectorEnv needs at least one seed")
        self.task, self.seeds, self.seed_offset = task, [int(s) for s in seeds], seed_offset
        self.device, self.num_seeds = torch.device(device), len(self.seeds)
        context = multiprocessing.get_context("fork")
        self._conns, self._workers = [], []
        for seed in self.seeds:
            parent, child = context.Pipe()
            worker = context.Process(target=_serve, args=(child, task, seed, max_episode_steps, seed_offset), daemon=True)
            worker.start()
            child.close()
            self._conns.append(parent)
            self._workers.append(worker)
        spaces = self._gather()
        self.obs_dim, self.act_dim = spaces[0]

    def _gather(self) -> list[Any]:
        answers = [conn.recv() for conn in self._conns]
        errors = [value for status, value in answers if status == "error"]
        if errors:
            self._stop()
            raise RuntimeError(f"an environment worker of task {self.task.name!r} failed: {errors[0]}")
        return [value for _, value in answers]

    def _rows(self, command: str, args: Sequence[Any]) -> list[Any]:
        for conn, arg in zip(self._conns, args):
            conn.send((command, arg))
        return self._gather()

    def _stop(self) -> None:
        for worker in self._workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.terminate()
        for conn in self._conns:
            conn.close()
        self._workers, self._conns = [], []

    def close(self) -> None:
        if self._workers:
            self._rows("close", [None] * self.num_seeds)
            self._stop()
