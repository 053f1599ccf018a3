"""Env steps per second of a multitask suite's step (benchmark/multitask_loop.py) at S seeds (dev tool).

    python -m tools.mt_speed [suite=mt10] [seeds=1,2] [steps=200] [learner=sac]

One multitask step acts and steps every task's S environments once, so it makes T x S env steps. Two
phases, each `steps` multitask steps, through the run loop's own step source (the envs and vector env a
run uses): the uniform-random warm-up (the policy does not act), then collection with the policy acting
(no gradient step: learning_starts is beyond the phase), so the number is the collection cost alone.
Prints one line per S: env steps/s counted over all tasks and seeds.
"""
from __future__ import annotations

import sys
import time

from plasticbench.benchmark.config import load_run_config
from plasticbench.benchmark.runner import Run


def rate(suite: str, learner: str, seeds: int, steps: int, random_steps: int) -> float:
    """Env steps/s over `steps` multitask steps, the first `random_steps` of them (per task) uniform-random."""
    config = load_run_config([f"suite={suite}", "method=ft1", f"learner={learner}", "scale=short", f"seeds={seeds}",
                              f"scale.learning_starts={10 * steps}", f"scale.random_steps={random_steps}"])
    run = Run(config, progress=False)
    source = run._source(config.scenario.tasks[0], None)  # the run loop's step source of a multitask run
    source.step()  # first step outside the timing (lazy imports, first policy call)
    start = time.perf_counter()
    for _ in range(steps):
        source.step()
    elapsed = time.perf_counter() - start
    source.close()
    return steps * len(config.scenario.tasks) * seeds / elapsed


def main(args: list[str]) -> None:
    options = dict(a.split("=", 1) for a in args)
    suite, learner = options.get("suite", "mt10"), options.get("learner", "sac")
    steps = int(options.get("steps", "200"))
    for S in (int(s) for s in options.get("seeds", "1,2").split(",")):
        uniform, acting = rate(suite, learner, S, steps, 10 * steps), rate(suite, learner, S, steps, 0)
        print(f"{suite} S={S}: {uniform:7.0f} env steps/s uniform-random warm-up, {acting:7.0f} with the policy acting "
              f"(no gradient steps)", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
