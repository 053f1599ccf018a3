"""Env steps per second of each Continual World task at S seeds, through the run loop's vector env (dev tool).

    python -m tools.cw_speed [suite=cw10] [seeds=1,4] [steps=1000]

For every task of the suite and every S: (1) `SeedVectorEnv.step` (the S envs in this process), with
random actions in [-1, 1] drawn before timing (auto-resets at the 200-step horizon included); (2) the
same S Meta-World envs stepped bare (`env.step` in a plain loop, resets included), the simulator's and
Meta-World's own Python cost; the gap is what the harness adds per seed (tensor conversion,
bookkeeping); (3) for S > 1, `ProcessSeedVectorEnv.step` (one worker process per seed, what the run
loop uses for Meta-World), whose gain needs S free cores. Prints one line per (task, S): env steps/s
counted over all S envs.
"""
from __future__ import annotations

import sys
import time

import numpy as np
import torch

from plasticbench.envs.catalog import get_scenario
from plasticbench.envs.process_vector import ProcessSeedVectorEnv
from plasticbench.envs.vector import SeedVectorEnv


def harness_rate(task, seeds: int, steps: int, vector=SeedVectorEnv) -> float:
    env = vector(task, range(seeds), None)
    env.reset()
    actions = torch.rand(steps, seeds, 4) * 2 - 1
    start = time.perf_counter()
    for a in actions:
        env.step(a)
    rate = steps * seeds / (time.perf_counter() - start)
    env.close()
    return rate


def bare_rate(task, seeds: int, steps: int) -> float:
    envs = [task.make(None) for _ in range(seeds)]
    for s, env in enumerate(envs):
        env.reset(seed=s)
    actions = np.random.default_rng(0).uniform(-1, 1, (steps, seeds, 4))
    start = time.perf_counter()
    for a in actions:
        for env, row in zip(envs, a):
            if env.step(row)[3]:
                env.reset()
    rate = steps * seeds / (time.perf_counter() - start)
    for env in envs:
        env.close()
    return rate


def main(args: list[str]) -> None:
    options = dict(a.split("=", 1) for a in args)
    scenario = get_scenario(options.get("suite", "cw10"))
    seeds = [int(s) for s in options.get("seeds", "1,4").split(",")]
    steps = int(options.get("steps", "1000"))
    for task in scenario.tasks:
        for S in seeds:
            harness, bare = harness_rate(task, S, steps), bare_rate(task, S, steps)
            workers = f"; worker processes {harness_rate(task, S, steps, ProcessSeedVectorEnv):7.0f}" if S > 1 else ""
            print(f"{task.name:22s} S={S}: {harness:7.0f} env steps/s (bare Meta-World {bare:7.0f}; "
                  f"harness share of the time {1 - harness / bare:5.1%}{workers})", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
