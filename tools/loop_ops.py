"""Ours against SB3, op for op, inside the training loop: `python -m tools.loop_ops LEARNER [S] [STEPS]`.

Dev-only (issue #20). The update-only tools (profile_update, paired_update_cpu) miss what the loop
adds: acting, the env step, storing, and the caches an update leaves behind. This profiles the loop
`plasticbench perf` times (`benchmark.perf.training_loop`, ft1, S seeds) and SB3's `model.learn` on the
same task, each in a fresh one-thread process after the same warm-up, and prints per env step:
every op's self time and call count side by side, the products pooled (ours run bmm/baddbmm, SB3
mm/addmm), and the totals: op time, op events (each one dispatch) and the unprofiled step's CPU time.
Where ours and SB3 spend the same op time per step, no cut that keeps eager kernels separates them
by more than the dispatch the events column counts.
"""
from __future__ import annotations

import collections
import sys
import time

import torch
from torch.profiler import ProfilerActivity, profile

from plasticbench.benchmark.perf import in_fresh_process, load_average, sb3_model, training_loop
from tools.profile_update import MATMULS

ROWS = 25
PRODUCTS = "products (bmm, baddbmm, mm, addmm)"


def _op_table(prof, steps: int) -> dict[str, tuple[float, float]]:
    """{op: (self us per step, calls per step)} with the products pooled."""
    table: dict[str, list[float]] = collections.defaultdict(lambda: [0.0, 0.0])
    for event in prof.key_averages():
        row = table[PRODUCTS if event.key in MATMULS else event.key]
        row[0] += event.self_cpu_time_total / steps
        row[1] += event.count / steps
    return {key: (us, calls) for key, (us, calls) in table.items()}


def ours(learner: str, seeds: int, steps: int) -> tuple[dict, float]:
    """(op table, unprofiled CPU ms per loop step) of our loop."""
    torch.set_num_threads(1)
    loop = training_loop(learner, seeds, 2 * steps, torch.device("cpu"))
    cpu = time.process_time()
    for _ in range(steps):
        loop.train_step()
    step_ms = 1e3 * (time.process_time() - cpu) / steps
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            loop.train_step()
    loop.close()
    return _op_table(prof, steps), step_ms


def sb3(learner: str, steps: int) -> tuple[dict, float]:
    """(op table, unprofiled CPU ms per env step) of SB3's `model.learn`."""
    torch.set_num_threads(1)
    model, env = sb3_model(learner, 2 * steps)
    cpu = time.process_time()
    model.learn(steps, reset_num_timesteps=False)
    step_ms = 1e3 * (time.process_time() - cpu) / steps
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        model.learn(steps, reset_num_timesteps=False)
    env.close()
    return _op_table(prof, steps), step_ms


def main(learner: str, seeds: int = 1, steps: int = 200) -> None:
    print(f"load average before: {load_average()}")
    (mine, my_ms), (theirs, their_ms) = in_fresh_process(ours, learner, seeds, steps), in_fresh_process(sb3, learner, steps)
    print(f"load average after: {load_average()}")
    print(f"{learner}, ours at S={seeds} (per loop step) | SB3 (per env step); self us and calls")
    keys = sorted(set(mine) | set(theirs), key=lambda k: -max(mine.get(k, (0, 0))[0], theirs.get(k, (0, 0))[0]))
    for key in keys[:ROWS]:
        (a, na), (b, nb) = mine.get(key, (0.0, 0.0)), theirs.get(key, (0.0, 0.0))
        print(f"  {key[:44]:44s} {a:9.1f} {na:7.1f} | {b:9.1f} {nb:7.1f}")
    total = lambda t, i: sum(row[i] for row in t.values())
    print(f"  {'op self time, ms':44s} {total(mine, 0) / 1e3:9.2f}         | {total(theirs, 0) / 1e3:9.2f}")
    print(f"  {'op events (dispatches)':44s} {total(mine, 1):9.0f}         | {total(theirs, 1):9.0f}")
    print(f"  {'unprofiled CPU ms per step':44s} {my_ms:9.2f}         | {their_ms:9.2f}")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(args[0], *(int(a) for a in args[1:]))
