"""The best env-steps/s ratio against SB3 that any overhead cut can reach: `python -m tools.seed_ceiling LEARNER [S] [REPS]`.

Dev-only (issue #20). A training step of ours at S seeds cannot cost less than the kernels that carry
its arithmetic, whatever is cut around them:
  matmul       the forward and backward products (aten bmm/baddbmm/mm/addmm), the algorithm's FLOPs;
  activations  the activation functions and their gradients (one pass each over every hidden layer);
  adam         the optimizer's elementwise kernels (the ops inside `Optimizer.step`, not its Python);
  env          the simulator step of each environment, as it runs in the training loop (after an
               update, whose products push MuJoCo's code and data out of the caches: a HalfCheetah
               step costs ~35 us alone and ~300 us right after an update on this CPU).
SB3 runs the same kernels for the same arithmetic (its products carry slightly more FLOPs: its
actor loss also forms the critic's weight gradients), so

    ceiling = SB3's CPU ms per env step (acting, env, update: `model.learn`)
              / ((matmul + activations + adam) / S + env per environment)

bounds the seed-steps/s ratio of ours against SB3 for every change that keeps eager PyTorch's
kernels: dropping all dispatch, noise, bookkeeping, acting and Python would reach it and no more.
Only fewer FLOPs, faster products or fused kernels (a compiler, a different GEMM) lift it, and each
of those changes results' bits. A target above the ceiling is out of reach on this CPU.

What the kernels leave over is the dispatch of the update's op sequence (Python, autograd, one
launch per op), which the same update at toy sizes (8 units, batch 8: the arithmetic vanishes)
measures, for ours (at S seeds) and for SB3. Whatever a target leaves for non-kernel work per
seed-step, SB3's / target - floor, must hold that dispatch (ours / S) plus acting and storing: when
even SB3's own dispatch does not fit, no eager op sequence of the same update does.

Each repetition measures ours (profiled kernels at paper sizes, the env step inside a training
loop, the toy-size update) and SB3 (`benchmark.perf.measure_sb3`, its toy-size update) in fresh
processes, one thread each, interleaved; medians and ranges are printed with the load average
before and after. Kernel times are profiler self times, which carry ~1 us of profiler overhead per
op (~0.1 ms per update).
"""
from __future__ import annotations

import dataclasses
import statistics
import sys
import time

import torch
from torch.profiler import ProfilerActivity, profile

from plasticbench.benchmark.perf import in_fresh_process, load_average, measure_sb3, sb3_model, training_loop
from tools.profile_update import MATMULS, build

SB3_STEPS, OUR_UPDATES, ENV_STEPS = 200, 30, 200
TOY, TOY_CALLS = 8, 500
ENV = "HalfCheetah-v5"
ACTIVATIONS = {"aten::clamp_min", "aten::relu", "aten::threshold_backward", "aten::leaky_relu",
               "aten::leaky_relu_backward", "aten::tanh", "aten::tanh_backward"}
PARTS = ("matmul", "activations", "adam", "env")


def kernel_ms(learner: str, seeds: int) -> dict[str, float]:
    """ms per update spent in the products, the activations and Adam's kernels (module docstring)."""
    torch.set_num_threads(1)
    agent, _ = build(learner, seeds, "ft1")
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(OUR_UPDATES):
            agent.update()
    events = prof.key_averages()
    ms = lambda us: us / 1e3 / OUR_UPDATES
    return {"matmul": ms(sum(e.self_cpu_time_total for e in events if e.key in MATMULS)),
            "activations": ms(sum(e.self_cpu_time_total for e in events if e.key in ACTIVATIONS)),
            "adam": ms(sum(e.cpu_time_total - e.self_cpu_time_total for e in events
                           if e.key.startswith("Optimizer.step")))}


def env_ms(learner: str, seeds: int) -> float:
    """CPU ms of one environment's step inside our training loop (act, step, observe, update) at S seeds."""
    torch.set_num_threads(1)
    loop = training_loop(learner, seeds, ENV_STEPS, torch.device("cpu"), ENV)
    step, spent = loop.vec.step, [0.0]

    def timed_step(action: torch.Tensor):
        start = time.process_time()
        out = step(action)
        spent[0] += time.process_time() - start
        return out

    loop.vec.step = timed_step
    for _ in range(ENV_STEPS):
        loop.train_step()
    loop.close()
    return 1e3 * spent[0] / ENV_STEPS / seeds


def toy_config(learner: str):
    """The learner's config at toy sizes (TOY hidden units, batch TOY), for ours and SB3's alike."""
    from plasticbench.benchmark.registry import get_learner

    return dataclasses.replace(get_learner(learner).Config(), hidden=(TOY, TOY), batch_size=TOY)


def toy_update_ms(learner: str, seeds: int) -> float:
    """CPU ms of our update at toy sizes: the dispatch of its op sequence."""
    torch.set_num_threads(1)
    agent, _ = build(learner, seeds, "ft1", toy_config(learner))
    return _per_call_ms(agent.update)


def _per_call_ms(fn) -> float:
    for _ in range(TOY_CALLS // 10):
        fn()
    start = time.process_time()
    for _ in range(TOY_CALLS):
        fn()
    return 1e3 * (time.process_time() - start) / TOY_CALLS


def ours(learner: str, seeds: int) -> dict[str, float]:
    return {**kernel_ms(learner, seeds), "env": env_ms(learner, seeds), "dispatch": toy_update_ms(learner, seeds)}


def sb3(learner: str) -> dict[str, float]:
    """SB3's CPU ms per env step of `model.learn` (acting, env step, one update), and its toy-size update."""
    row = measure_sb3(learner, SB3_STEPS, env=ENV, threads=1)
    model, gym_env = sb3_model(learner, 0, ENV, toy_config(learner))
    toy = _per_call_ms(lambda: model.train(gradient_steps=1, batch_size=TOY))
    gym_env.close()
    return {"sb3": 1e3 * row["train_cpu_s"] / row["steps"], "sb3 dispatch": toy}


def floor_per_seed_step(parts: dict[str, float], seeds: int) -> float:
    """Our least CPU ms per seed-step: the update's kernels shared by S seeds plus one environment step."""
    return (parts["matmul"] + parts["activations"] + parts["adam"]) / seeds + parts["env"]


def _summary(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} [{min(values):.2f}-{max(values):.2f}]"


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit(__doc__.splitlines()[0])
    learner = argv[0]
    seeds = int(argv[1]) if len(argv) > 1 else 8
    reps = int(argv[2]) if len(argv) > 2 else 3
    print(f"{learner} S={seeds} on {ENV}, {reps} interleaved repetitions, 1 thread per process; "
          f"before: {load_average()}", flush=True)
    rows: list[dict[str, float]] = []
    for rep in range(reps):
        parts = {**in_fresh_process(ours, learner, seeds), **in_fresh_process(sb3, learner)}
        floor = floor_per_seed_step(parts, seeds)
        rows.append({**parts, "floor": floor, "ceiling": parts["sb3"] / floor})
        print(f"rep {rep}: " + ", ".join(f"{k} {v:.2f}" for k, v in rows[-1].items()), flush=True)
    column = lambda key: [row[key] for row in rows]
    print(f"per update, ours at S={seeds} (ms): " + "; ".join(f"{k} {_summary(column(k))}" for k in PARTS[:3]))
    print(f"env step per environment in our loop (ms): {_summary(column('env'))}")
    print(f"our floor per seed-step (ms):              {_summary(column('floor'))}")
    print(f"SB3 per env step, learn (ms):              {_summary(column('sb3'))}")
    print(f"ceiling, seed-steps/s vs SB3:              {_summary(column('ceiling'))}x")
    print(f"update at toy sizes (dispatch, ms): ours at S={seeds} {_summary(column('dispatch'))}, "
          f"SB3 {_summary(column('sb3 dispatch'))}")
    print(f"after: {load_average()}")


if __name__ == "__main__":
    main(sys.argv[1:])
