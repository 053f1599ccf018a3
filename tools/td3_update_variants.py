"""Our TD3 update against the same math written bare, eager and compiled: `python -m tools.td3_update_variants [S] [REPS]`.

Dev-only (issue #20). Two questions about the one-seed TD3 gap, answered in one process with the
rows interleaved (separate processes differ by up to +-20% on this VM):
  ours      `Learner.update()`: the replay draw, the method hooks, per-seed gradient norms, the
            divergence guard, the losses kept for logging;
  bare      the same arithmetic on the same networks, buffer and RNG with none of that: the least
            an eager update of this algorithm dispatches;
  compiled  `bare` with its two losses and both Adam steps through `torch.compile` (inductor, the
            CPU backend that fuses elementwise work): what the issue's compile route buys here.
If `ours` is no slower than `bare`, the harness adds nothing left to cut; if `compiled` is no
faster than `bare`, fusion does not pay on this CPU at these sizes. The compiled row's numbers
differ from eager in the last bits (fused kernels round differently).
"""
from __future__ import annotations

import statistics
import sys
import time
from typing import Callable

import torch

from tools.profile_update import build

UPDATES = 100


def td3_parts(agent) -> tuple[Callable, ...]:
    """(critic loss, actor loss, critic Adam step, actor Adam step) of TD3 at its defaults, bare."""
    nets, cfg, opts = agent.networks, agent.config, agent.optimizers

    def critic_loss(obs, action, reward, next_obs, done, noise):
        with torch.no_grad():
            next_action = (torch.tanh(nets["actor_target"](next_obs)) + noise).clamp(-1.0, 1.0)
            next_q = torch.min(*nets["critic_target"](next_obs, next_action))
            target = reward + cfg.gamma * (1 - done) * next_q
        q1, q2 = nets["critic"](obs, action)
        return (((q1 - target) ** 2).flatten(1).mean(1) + ((q2 - target) ** 2).flatten(1).mean(1)).sum()

    def actor_loss(obs):
        return -nets["critic"].first(obs, torch.tanh(nets["actor"](obs))).flatten(1).mean(1).sum()

    return critic_loss, actor_loss, opts["critic"].step, opts["actor"].step


def bare_update(agent, parts: tuple[Callable, ...]) -> Callable[[int], None]:
    critic_loss, actor_loss, critic_step, actor_step = parts
    nets, cfg = agent.networks, agent.config

    def update(i: int) -> None:
        batch = agent.buffer.sample(cfg.batch_size, agent.rng)
        noise = (cfg.policy_noise * agent.rng.normal(cfg.batch_size, agent.act_dim)).clamp(-cfg.noise_clip, cfg.noise_clip)
        loss = critic_loss(batch.obs, batch.action, batch.reward, batch.next_obs, batch.done, noise)
        for p in nets["critic"].parameters():
            p.grad = None
        loss.backward()
        critic_step()
        if i % cfg.policy_delay == 0:
            with agent.frozen("critic"):
                loss = actor_loss(batch.obs)
            for p in nets["actor"].parameters():
                p.grad = None
            loss.backward()
            actor_step()
            agent.polyak("critic")
            agent.polyak("actor")
    return update


def main(seeds: int = 1, reps: int = 5) -> None:
    torch.set_num_threads(1)
    agent, _ = build("td3", seeds, "ft1")
    eager = td3_parts(agent)
    rows = {"ours": lambda i: agent.update(), "bare": bare_update(agent, eager),
            "compiled": bare_update(agent, tuple(torch.compile(f) for f in eager))}
    start = time.perf_counter()
    for i in range(4):
        rows["compiled"](i)
    print(f"TD3 S={seeds}: compiling took {time.perf_counter() - start:.0f} s (inductor's cache may hold earlier builds)")
    ms: dict[str, list[float]] = {name: [] for name in rows}
    for _ in range(reps):
        for name, update in rows.items():
            cpu = time.thread_time()
            for i in range(UPDATES):
                update(i)
            ms[name].append(1e3 * (time.thread_time() - cpu) / UPDATES)
    for name, values in ms.items():
        print(f"  {name:9s} {statistics.median(values):7.2f} ms/update [{min(values):.2f}-{max(values):.2f}]")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
