"""Dev tool (not installed): DQN gradient steps per second and frame-replay memory (issue #15 part 2).

    OMP_NUM_THREADS=1 python -m tools.dqn_speed [seeds=1,4] [nets=smoke,paper] [updates=30] [device=cpu]

For each network and seed count: a learner on 84x84x4 uint8 frame stacks (synthetic, frame-stacked
episodes of 200 steps), a replay of 2,000 transitions per seed, then `updates` timed gradient steps
after 3 untimed ones, and the same count of acting steps (one forward at B = 1 per seed). Prints
one line per cell: updates/s (all seeds together) and seed-updates/s (x S), wall and process CPU
time, and the replay's bytes per transition and per million transitions per seed. `smoke` is the
network the smoke scale gives DQN (Nature convolutions, the scale's hidden [64, 64] and batch 64),
`paper` the ReDo/Dopamine one (Nature CNN, 512, batch 32). On a shared machine wall times are
noisy: say so when quoting them.
"""
from __future__ import annotations

import sys
import time

import torch

from plasticbench.baselines.dqn import DQN, DQNConfig
from plasticbench.baselines.frame_replay import bytes_per_transition
from plasticbench.methods.ft1 import FT1

NETS = {"smoke": dict(hidden=(64, 64), batch_size=64), "paper": dict(hidden=(512,), batch_size=32)}
EPISODE = 200


def synthetic_stack(seeds: int, t: int) -> torch.Tensor:
    """[S, 4, 84, 84] uint8: frame u of every episode is a pseudo-random image keyed by (seed, u)."""
    frames = [torch.Generator().manual_seed(31 * s + max(u, 0)) for s in range(seeds) for u in range(t - 3, t + 1)]
    stack = torch.stack([torch.randint(0, 256, (84, 84), generator=g, dtype=torch.uint8) for g in frames])
    return stack.view(seeds, 4, 84, 84)


def measure(net: str, seeds: int, updates: int, device: str) -> dict:
    config = DQNConfig(buffer_size=2_000, **NETS[net])
    learner = DQN(config, 4 * 84 * 84, 6, list(range(seeds)), FT1(), device=device, task_budgets=[1_000_000])
    obs, no = synthetic_stack(seeds, 0).to(device), torch.zeros(seeds, dtype=torch.bool, device=device)
    for t in range(4 * config.batch_size):
        nxt = synthetic_stack(seeds, t % EPISODE + 1).to(device)
        learner.observe(obs, learner.random_action(), torch.zeros(seeds, device=device), nxt, no, no)
        obs = synthetic_stack(seeds, 0).to(device) if (t + 1) % EPISODE == 0 else nxt  # a reset after EPISODE steps
    for _ in range(3):
        learner.update()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(updates):
        learner.update()
    update_wall, update_cpu = time.perf_counter() - wall, time.process_time() - cpu
    wall = time.perf_counter()
    for _ in range(updates):
        learner.act(obs, explore=False)
    act_wall = time.perf_counter() - wall
    return {"net": net, "seeds": seeds, "updates_per_s": round(updates / update_wall, 2),
            "seed_updates_per_s": round(seeds * updates / update_wall, 2), "cpu_s_per_update": round(update_cpu / updates, 4),
            "acts_per_s": round(updates / act_wall, 1), "threads": torch.get_num_threads()}


def main(argv: list[str]) -> None:
    args = dict(a.split("=", 1) for a in argv)
    seeds = [int(s) for s in args.get("seeds", "1,4").split(",")]
    nets = args.get("nets", "smoke,paper").split(",")
    updates, device = int(args.get("updates", 30)), args.get("device", "cpu")
    per = bytes_per_transition((4, 84, 84), 1_000_000)
    print(f"frame replay: {per:,.1f} bytes per transition per seed, {per * 1e6 / 2 ** 30:.2f} GiB per million "
          f"transitions per seed (two uint8 stacks per transition would take {2 * 4 * 84 * 84:,} bytes)")
    for net in nets:
        for s in seeds:
            print(measure(net, s, updates, device), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
