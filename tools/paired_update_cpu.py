"""Update CPU time of two checkouts, measured in alternating bursts: `python -m tools.paired_update_cpu BASE LEARNER S [BURSTS] [METHOD]`.

Dev-only (issue #20). BASE is another checkout unpacked as a package, as tools/record_identity.py
makes one (`git archive <commit> | tar -x -C /tmp/base/plasticbench`; BASE = /tmp/base). Two
worker processes, one per checkout, build the same learner (with METHOD plugged in, default ft1) at paper sizes (tools.profile_update's
`build`), then take turns running a burst of updates, one thread each; the order alternates every
burst. Why bursts: on a machine shared with other jobs the load drifts over minutes, and two
separate runs compare two different loads; bursts seconds apart see nearly the same one, so the
per-burst ratio this checkout / BASE, and its median, carry far less of the neighbours' noise.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent  # this checkout (the package's root)
BURST_UPDATES = {1: 20}  # updates per burst by seed count; 4 otherwise


def serve(learner: str, seeds: int, method: str) -> None:
    """Worker: build, then answer each line `n` with the CPU ms per update of n updates."""
    import torch

    import plasticbench
    from tools.profile_update import build

    torch.set_num_threads(1)
    agent, _ = build(learner, seeds, method)
    print("ready", plasticbench.__file__, flush=True)
    for line in sys.stdin:
        n, cpu = int(line), time.process_time()
        for _ in range(n):
            agent.update()
        print(1e3 * (time.process_time() - cpu) / n, flush=True)


def start(root: Path, package_parent: Path | None, learner: str, seeds: int, method: str) -> tuple[subprocess.Popen, str]:
    """A worker importing `plasticbench` from package_parent (None: this venv's install) and
    tools.profile_update from root; this file runs by path, since BASE may predate it."""
    path = [str(p) for p in (package_parent, root) if p is not None]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(path)}
    worker = subprocess.Popen([sys.executable, __file__, "--serve", learner, str(seeds), method],
                              cwd=root, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    for line in worker.stdout:
        if line.startswith("ready "):
            return worker, line.split()[1]  # the package it imported, so a mixed-up path shows
    raise SystemExit(f"the worker for {root} exited before it was ready (exit code {worker.wait()})")


def burst(worker: subprocess.Popen, updates: int) -> float:
    worker.stdin.write(f"{updates}\n")
    worker.stdin.flush()
    return float(worker.stdout.readline())


def main(argv: list[str]) -> None:
    if argv[:1] == ["--serve"]:
        return serve(argv[1], int(argv[2]), argv[3])
    if len(argv) < 3:
        raise SystemExit(__doc__.splitlines()[0])
    base_dir, learner, seeds = Path(argv[0]), argv[1], int(argv[2])
    bursts = int(argv[3]) if len(argv) > 3 else 12
    method = argv[4] if len(argv) > 4 else "ft1"
    updates = BURST_UPDATES.get(seeds, 4)
    (base, base_file), (ours, our_file) = start(base_dir / "plasticbench", base_dir, learner, seeds, method), start(HERE, None, learner, seeds, method)
    print(f"base: {base_file}; this checkout: {our_file}", flush=True)
    times: dict[str, list[float]] = {"base": [], "ours": []}
    for i in range(bursts):
        order = [("base", base), ("ours", ours)][:: 1 if i % 2 == 0 else -1]
        for name, worker in order:
            times[name].append(burst(worker, updates))
    ratios = [o / b for o, b in zip(times["ours"], times["base"])]
    q1, _, q3 = statistics.quantiles(ratios, n=4)
    print(f"{learner} {method} S={seeds}: base {statistics.median(times['base']):.2f} ms, this checkout "
          f"{statistics.median(times['ours']):.2f} ms CPU per update (medians of {bursts} bursts of {updates}); "
          f"ratio per burst {statistics.median(ratios):.3f} [quartiles {q1:.3f}-{q3:.3f}]")
    for worker in (base, ours):
        worker.stdin.close()
        worker.wait()


if __name__ == "__main__":
    main(sys.argv[1:])
