"""Atari environment throughput at S seeds: agent steps/s and emulator frames/s (dev tool).

    python -m tools.atari_env_speed [game=pong] [seeds=1,4] [steps=2000]

One AtariVectorEnv in training mode (sticky actions, frame skip 4 with pooling, 84x84, stack, episodic
life, clipping), uniform legal actions from a fixed generator, no policy: the simulator, the preprocessing
and the uint8 [S, 4, 84, 84] tensors are timed. Frames/s = 4 x agent steps/s (no-op and FIRE frames of
resets are not counted, so it slightly understates the emulator's rate).
"""
from __future__ import annotations

import sys
import time

import torch

from plasticbench.envs.atari_preprocessing import FRAME_SKIP
from plasticbench.envs.atari_vector import AtariVectorEnv
from plasticbench.envs.catalog import get_scenario


def rate(game: str, seeds: int, steps: int) -> float:
    """Agent steps per second summed over the S games."""
    env = AtariVectorEnv(get_scenario(f"atari_{game}").tasks[0], list(range(seeds)), None)
    env.reset()
    generator = torch.Generator().manual_seed(0)
    actions = [torch.randint(0, env.num_actions, (seeds,), generator=generator) for _ in range(steps)]
    start = time.perf_counter()
    for action in actions:
        env.step(action)
    elapsed = time.perf_counter() - start
    env.close()
    return steps * seeds / elapsed


def main(argv: list[str]) -> None:
    options = dict(arg.split("=", 1) for arg in argv)
    game, steps = options.get("game", "pong"), int(options.get("steps", 2000))
    for seeds in (int(s) for s in options.get("seeds", "1,4").split(",")):
        steps_per_s = rate(game, seeds, steps)
        print(f"atari_{game} S={seeds}: {steps_per_s:,.0f} agent steps/s, {FRAME_SKIP * steps_per_s:,.0f} frames/s "
              f"({steps_per_s / seeds:,.0f} agent steps/s per seed)")


if __name__ == "__main__":
    main(sys.argv[1:])
