"""Where one learner update spends its CPU time: `python -m tools.profile_update LEARNER S [METHOD] [UPDATES]`.

Dev-only (issue #20). Builds the learner at paper sizes (256x256, batch 256) on HalfCheetah's
dimensions, fills the replay with random transitions, and profiles `UPDATES` updates with
torch.profiler at one thread. The categories:
  matmul       self time of aten::bmm / baddbmm / mm / addmm (forward and backward products)
  optimizer    Adam's step (its elementwise ops included)
  noise        the counter-based draws (SeedRNG: replay indices, reparameterization, target noise)
  bookkeeping  per-seed gradient norms and the divergence guard (copies before the step, finite checks)
  hooks        the method's hooks (loss, gradient edits, replay override, after_update)
  other ops    every other aten op's self time (activations, losses, Polyak, concatenations, ...)
  python       the profiled update's wall time not spent inside any op: interpreter and dispatch
               overhead (inflated by the profiler's own)
Each category is its share of the profiled wall time, printed in ms as that share of the unprofiled
update's CPU time, so that a busy machine, which stretches every profiled op alike, moves the shares
far less than the milliseconds. Categories measured as ranges (noise, bookkeeping, hooks) include the
ops inside them, which "other ops" then excludes; noise drawn inside a hook counts as a hook.
"""
from __future__ import annotations

import contextlib
import dataclasses
import sys
import time

import torch
from torch.profiler import ProfilerActivity, profile, record_function

from plasticbench.baselines import divergence, learner as learner_module
from plasticbench.baselines.seed_rng import SeedRNG
from plasticbench.benchmark.registry import get_learner, get_method

OBS_DIM, ACT_DIM, FILL = 17, 6, 1000  # HalfCheetah-v5's sizes
MATMULS = {"aten::bmm", "aten::baddbmm", "aten::mm", "aten::addmm"}
HOOKS = ("loss", "before_optimizer_step", "after_update", "sample")


def labelled(fn, label: str):
    def wrapper(*args, **kwargs):
        with record_function(label):
            return fn(*args, **kwargs)
    return wrapper


def instrument(method) -> None:
    """Label the categories that are Python functions rather than op names."""
    for name in ("uniform", "normal", "integers"):
        setattr(SeedRNG, name, labelled(getattr(SeedRNG, name), "#noise"))
    learner_module.grad_norm = labelled(learner_module.grad_norm, "#bookkeeping")
    divergence.finite_per_seed = labelled(divergence.finite_per_seed, "#bookkeeping")
    divergence.SeedHealth._state_copy = staticmethod(labelled(divergence.SeedHealth._state_copy, "#bookkeeping"))
    for hook in HOOKS:
        setattr(method, hook, labelled(getattr(method, hook), "#hooks"))


def build(learner: str, seeds: int, method_name: str, config=None):
    """The learner at paper sizes (or `config`, a learner config) with FILL random transitions, warmed up."""
    cls, method_cls = get_learner(learner), get_method(method_name)
    method = method_cls(method_cls.Config())
    config = cls.Config() if config is None else config
    agent = cls(dataclasses.replace(config, buffer_size=FILL), OBS_DIM, ACT_DIM, seeds=list(range(seeds)),
                method=method, num_tasks=1, task_budgets=[1_000_000])
    g = torch.Generator().manual_seed(0)
    for _ in range(FILL):
        agent.observe(torch.randn(seeds, OBS_DIM, generator=g), agent.random_action(), torch.randn(seeds, generator=g),
                      torch.randn(seeds, OBS_DIM, generator=g), torch.zeros(seeds, dtype=torch.bool),
                      torch.zeros(seeds, dtype=torch.bool))
    for _ in range(20):
        agent.update()
    return agent, method


def breakdown(learner: str, seeds: int, method_name: str = "ft1", updates: int = 100) -> dict[str, float]:
    """ms per update in each category (module docstring)."""
    torch.set_num_threads(1)
    agent, method = build(learner, seeds, method_name)
    cpu = time.process_time()
    for _ in range(updates):
        agent.update()
    total = 1e3 * (time.process_time() - cpu) / updates
    instrument(method)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        start = time.perf_counter()
        for _ in range(updates):
            agent.update()
        wall = time.perf_counter() - start
    events = prof.key_averages()
    share = lambda us: us / 1e6 / wall  # fraction of the profiled wall time
    ranges = {e.key: share(e.cpu_time_total) for e in events if e.key.startswith("#")}
    ops = [e for e in events if e.key.startswith("aten::")]
    parts = {"matmul": share(sum(e.self_cpu_time_total for e in ops if e.key in MATMULS)),
             "optimizer": share(sum(e.cpu_time_total for e in events if e.key.startswith("Optimizer.step"))),
             "noise": ranges.get("#noise", 0.0),
             "bookkeeping": ranges.get("#bookkeeping", 0.0), "hooks": ranges.get("#hooks", 0.0)}
    op_share = share(sum(e.self_cpu_time_total for e in ops))
    parts["other ops"] = max(0.0, op_share - sum(parts.values()))
    parts["python"] = max(0.0, 1.0 - op_share)
    return {"total (unprofiled cpu)": total, **{name: total * value for name, value in parts.items()}}


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        raise SystemExit(__doc__.splitlines()[0])
    learner, seeds = argv[0], int(argv[1])
    method = argv[2] if len(argv) > 2 else "ft1"
    updates = int(argv[3]) if len(argv) > 3 else 100
    for name, value in breakdown(learner, seeds, method, updates).items():
        print(f"{learner} S={seeds} {method:10s} {name:20s} {value:8.2f} ms/update")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main(sys.argv[1:])
