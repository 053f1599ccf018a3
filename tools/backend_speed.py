"""Environment steps per second of each backend on one task, for S seeds x N envs per seed (dev tool).

    python -m tools.backend_speed [suite=halfcheetah_forgetting] [seeds=1,4] [envs=1,64] [steps=200]

Brax: one BraxVectorEnv of S seeds x N envs, one jitted step per call (compile excluded: one untimed
step first). MuJoCo: what the run loop builds for `scale.envs_per_seed=N` (envs/wide_vector.py: N
one-per-seed vector envs, each env stepped in Python), at least 20 timed steps. Actions are fixed random tensors: only the simulator and the JAX/torch crossing
are timed, no policy. Prints one line per (backend, S, N): env steps/s counted over all S x N envs.
"""
from __future__ import annotations

import sys
import time

import torch

from plasticbench.envs.backends import make_vector_env
from plasticbench.envs.brax import BraxVectorEnv
from plasticbench.envs.catalog import get_scenario


def _rate(env, shape: tuple[int, ...], steps: int) -> float:
    env.reset()
    actions = torch.rand(*shape) * 2 - 1
    env.step(actions)  # compile (brax) / warm caches
    start = time.perf_counter()
    for _ in range(steps):
        env.step(actions)
    return steps * shape[0] * (shape[1] if len(shape) == 3 else 1) / (time.perf_counter() - start)


def main(args: list[str]) -> None:
    options = dict(a.split("=", 1) for a in args)
    suite = options.get("suite", "halfcheetah_forgetting")
    seeds = [int(s) for s in options.get("seeds", "1,4").split(",")]
    envs = [int(n) for n in options.get("envs", "1,64").split(",")]
    steps = int(options.get("steps", "200"))
    brax_task, mujoco_task = get_scenario(suite + "_brax").tasks[0], get_scenario(suite).tasks[0]
    act = get_scenario(suite).act_dim
    for S in seeds:
        for N in envs:
            brax = BraxVectorEnv(brax_task, range(S), None, envs_per_seed=N)
            shape = (S, act) if N == 1 else (S, N, act)
            print(f"brax   S={S} N={N}: {_rate(brax, shape, steps):9.0f} env steps/s", flush=True)
            mujoco = make_vector_env(mujoco_task, range(S), None, envs_per_seed=N)
            print(f"mujoco S={S} N={N}: {_rate(mujoco, shape, max(20, steps // N)):9.0f} env steps/s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
