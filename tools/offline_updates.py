"""Gradient updates per second of the offline learners at several seed counts, on a synthetic dataset.

    python -m tools.offline_updates learners=bcq,iql seeds=1,8 updates=200 [method=ft1|dapd] [device=cpu]

prints one line per (learner, S): updates/s and seed-updates/s (S x updates/s), with the published
defaults (BCQ 400-300 + VAE 750-750, batch 100; IQL 256-256, batch 256) and Hopper's sizes (11, 3).
The data are random rows (speed does not depend on them). Not part of the leaderboard.
"""
from __future__ import annotations

import sys
import time
from typing import Sequence

import torch

from plasticbench.benchmark import registry
from plasticbench.benchmark.cli import UsageError, split_options

OBS, ACT, ROWS = 11, 3, 100_000


def updates_per_s(learner: str, seeds: int, updates: int, method: str, device: str) -> float:
    cls = registry.get_learner(learner)
    agent = cls(cls.Config(buffer_size=1), OBS, ACT, list(range(seeds)), registry.get_method(method)(), device=device)
    g = torch.Generator().manual_seed(0)
    agent.load_dataset({"obs": torch.randn(ROWS, OBS, generator=g), "action": torch.rand(ROWS, ACT, generator=g) * 2 - 1,
                        "reward": torch.rand(ROWS, 1, generator=g), "next_obs": torch.randn(ROWS, OBS, generator=g),
                        "done": torch.zeros(ROWS, 1), "episode_end": torch.zeros(ROWS, dtype=torch.bool)}, updates)
    agent.method.on_task_start(agent, None)
    agent.update()  # warm-up: allocations, lazy optimizer state
    start = time.perf_counter()
    for _ in range(updates):
        agent.update()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return updates / (time.perf_counter() - start)


def main(argv: Sequence[str]) -> None:
    options = split_options(argv, {"learners", "seeds", "updates", "method", "device"})
    updates, method, device = int(options.get("updates", "200")), options.get("method", "ft1"), options.get("device", "cpu")
    for learner in options.get("learners", "bcq,iql").split(","):
        for seeds in (int(s) for s in options.get("seeds", "1,8").split(",")):
            rate = updates_per_s(learner, seeds, updates, method, device)
            print(f"{learner} {method} S={seeds}: {rate:.1f} updates/s, {rate * seeds:.1f} seed-updates/s", flush=True)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except (UsageError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
