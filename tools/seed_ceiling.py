"""The best seed-steps/s ratio against SB3 that cutting overhead can reach: `python -m tools.seed_ceiling LEARNER [S] [REPS]`.

Dev-only (issue #20). Our update at S seeds cannot cost less than its matrix products: they carry the
algorithm's FLOPs, and every cut of noise, bookkeeping, optimizer or dispatch leaves them alone. SB3's
update at one seed is the other side of the comparison. So

    ceiling = SB3 update CPU ms (S = 1) / (our matmul CPU ms per update at S, divided by S)

bounds the update seed-steps/s ratio of any non-matmul cut; env stepping and acting only lower the
end-to-end ratio further. Each repetition measures ours (tools.profile_update's matmul share at paper
sizes) and SB3 (`benchmark.perf.measure_sb3`, the same hyperparameters) in fresh processes, one thread
each, interleaved; the medians and ranges are printed with the load average before and after.
"""
from __future__ import annotations

import statistics
import sys

from plasticbench.benchmark.perf import in_fresh_process, load_average, measure_sb3
from tools.profile_update import breakdown

SB3_STEPS, OUR_UPDATES = 200, 30


def sb3_update_ms(learner: str) -> float:
    row = measure_sb3(learner, SB3_STEPS, threads=1)
    return 1e3 * row["update_cpu_s"] / row["steps"]


def ours(learner: str, seeds: int) -> dict[str, float]:
    return breakdown(learner, seeds, "ft1", OUR_UPDATES)


def _summary(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} [{min(values):.2f}-{max(values):.2f}]"


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit(__doc__.splitlines()[0])
    learner = argv[0]
    seeds = int(argv[1]) if len(argv) > 1 else 8
    reps = int(argv[2]) if len(argv) > 2 else 3
    print(f"{learner} S={seeds}, {reps} interleaved repetitions, 1 thread per process; {load_average()}", flush=True)
    sb3, matmul, update, ceiling, now = [], [], [], [], []
    for rep in range(reps):
        parts = in_fresh_process(ours, learner, seeds)
        sb3.append(in_fresh_process(sb3_update_ms, learner))
        matmul.append(parts["matmul"] / seeds)
        update.append(parts["total (unprofiled cpu)"] / seeds)
        ceiling.append(sb3[-1] / matmul[-1])
        now.append(sb3[-1] / update[-1])
        print(f"rep {rep}: SB3 update {sb3[-1]:.2f} ms; ours per seed: matmul {matmul[-1]:.2f} ms, "
              f"update {update[-1]:.2f} ms", flush=True)
    print(f"SB3 update CPU ms (S=1):              {_summary(sb3)}")
    print(f"our update CPU ms per seed (S={seeds}):    {_summary(update)}")
    print(f"our matmul CPU ms per seed (S={seeds}):    {_summary(matmul)}")
    print(f"update seed-steps/s vs SB3 now:       {_summary(now)}x")
    print(f"ceiling without fewer FLOPs:          {_summary(ceiling)}x")
    print(load_average())


if __name__ == "__main__":
    main(sys.argv[1:])
