"""Dev tool (not installed): replay memory and checkpoint cost before and after issue #19.

    python tools/replay_memory.py fill ENV SEEDS before|after   # one measurement, in its own process
    python tools/replay_memory.py table                         # the measurements of the note
    python tools/replay_memory.py grid                          # peak-memory plan of the paper grid per suite

`fill` puts 1M synthetic transitions per seed in a buffer (episodes of 1,000 steps, ending by
truncation, as MuJoCo's time limit does), then takes the checkpoint a run takes at the end of a
1M-step task: "before", the two-array layout (obs and next_obs, float32) cloned whole and saved
(what `ReplayBuffer.state_dict` did); "after", the one-observation buffer's incremental chunk
of the last `checkpoint_every` = 50,000 transitions through `RunStore.save_checkpoint`. It
prints one JSON line: bytes per transition, RSS after the fill, peak RSS (ru_maxrss, so the
checkpoint's copies included), checkpoint bytes on disk and seconds. Each runs in a fresh
process so that peak RSS is its own. Timings on a shared machine are noisy: say so.
"""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

SPACES = {"halfcheetah": (17, 6), "humanoid": (348, 17)}  # HalfCheetah-v5 and Humanoid-v5 (obs, act)
TRANSITIONS, EPISODE, CHECKPOINT_EVERY = 1_000_000, 1_000, 50_000


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def fill_after(seeds: int, obs_dim: int, act_dim: int):
    from plasticbench.baselines.replay import ReplayBuffer

    buffer = ReplayBuffer(seeds, TRANSITIONS, obs_dim, act_dim, "cpu")
    g = torch.Generator().manual_seed(0)
    pool = torch.randn(EPISODE + 1, seeds, obs_dim, generator=g)  # one episode's observations, reused
    action, reward, done = torch.randn(seeds, act_dim, generator=g), torch.randn(seeds, generator=g), torch.zeros(seeds)
    for t in range(TRANSITIONS):
        if t == TRANSITIONS - CHECKPOINT_EVERY:
            buffer.mark_saved()  # the previous checkpoint, 50,000 steps ago
        k = t % EPISODE
        last = k == EPISODE - 1  # truncated: the final obs is not the next episode's first
        buffer.add(pool[k], action, reward, pool[EPISODE] if last else pool[k + 1], done)
    return buffer, buffer.allocated_bytes()


def checkpoint_after(buffer, folder: Path) -> int:
    from plasticbench.benchmark.store import RunStore

    store = RunStore(folder, "run")
    store.save_checkpoint({"run_id": "run"}, replay=buffer)
    return sum(p.stat().st_size for p in store.dir.rglob("*") if p.is_file())


def fill_before(seeds: int, obs_dim: int, act_dim: int):
    dims = {"obs": obs_dim, "action": act_dim, "reward": 1, "next_obs": obs_dim, "done": 1}
    storage = {k: torch.zeros(seeds, TRANSITIONS, d) for k, d in dims.items()}
    for value in storage.values():
        value.normal_()  # touch every page, as a full buffer has
    return storage, sum(v.numel() * v.element_size() for v in storage.values())


def checkpoint_before(storage: dict, folder: Path) -> int:
    from plasticbench.benchmark.store import atomic_write

    state = {"size": TRANSITIONS, "pointer": 0, **{k: v[:, :TRANSITIONS].clone() for k, v in storage.items()}}
    path = folder / "checkpoint.pt"
    atomic_write(path, lambda f: torch.save(state, f), binary=True)
    return path.stat().st_size


def measure(env: str, seeds: int, layout: str) -> dict:
    obs_dim, act_dim = SPACES[env]
    fill, checkpoint = (fill_before, checkpoint_before) if layout == "before" else (fill_after, checkpoint_after)
    buffer, allocated = fill(seeds, obs_dim, act_dim)
    rss_filled = rss_bytes()
    with tempfile.TemporaryDirectory(dir="/tmp") as folder:
        started = time.perf_counter()
        written = checkpoint(buffer, Path(folder))
        seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"env": env, "seeds": seeds, "layout": layout, "bytes_per_transition": allocated / (seeds * TRANSITIONS),
            "replay_gb": allocated / 1e9, "rss_filled_gb": rss_filled / 1e9, "peak_rss_gb": peak / 1e9,
            "checkpoint_gb": written / 1e9, "checkpoint_s": seconds}


def fits(env: str, seeds: int, layout: str) -> bool:
    """Peak (replay, and its full copy before) within the memory free now, with 1 GB to spare."""
    from plasticbench.benchmark.memory_plan import free_bytes

    obs_dim, act_dim = SPACES[env]
    per = (2 * obs_dim + act_dim + 2) * 4 * 2 if layout == "before" else (obs_dim + act_dim + 2) * 4 + obs_dim * 4 / 16 + 4
    return per * seeds * TRANSITIONS + 1e9 < free_bytes("cpu")


def table() -> None:
    for env, seeds in (("halfcheetah", 4), ("halfcheetah", 10), ("humanoid", 2), ("humanoid", 4)):
        for layout in ("before", "after"):
            if not fits(env, seeds, layout):
                print(json.dumps({"env": env, "seeds": seeds, "layout": layout, "skipped": "does not fit in free memory"}))
                continue
            out = subprocess.run([sys.executable, __file__, "fill", env, str(seeds), layout], capture_output=True, text=True)
            print(out.stdout.strip() or out.stderr.strip().splitlines()[-1], flush=True)


def grid() -> None:
    """Per suite at scale=paper (10 seeds, cpu): the largest planned peak over the grid's runs,
    and the same run's peak with the two-array layout and full-copy checkpoints."""
    from plasticbench.benchmark.memory_plan import plan_run
    from plasticbench.benchmark.suite import grid as suite_grid, plan

    worst: dict[str, tuple] = {}
    for config in plan(suite_grid("paper", extra=["results_dir=/nonexistent"])).todo:
        p = plan_run(config)
        s = config.scenario
        before_replay = p.seeds * p.capacity * (2 * s.obs_dim + s.act_dim + 2) * 4
        row = (p.peak_bytes, p.replay_bytes, p.checkpoint_bytes, p.checkpoint_seconds, 2 * before_replay + 2 * p.learner_bytes, p.label)
        worst[config.suite] = max(worst.get(config.suite, row), row)
    print("| suite | run with the largest peak | replay (GB) | checkpoint (GB) | checkpoint (s, est.) | peak after (GB) | peak before (GB) |")
    print("|---|---|---|---|---|---|---|")
    for suite, (peak, replay, ckpt, secs, before, label) in sorted(worst.items()):
        print(f"| {suite} | {label} | {replay / 1e9:.2f} | {ckpt / 1e9:.2f} | {secs:.1f} | {peak / 1e9:.2f} | {before / 1e9:.2f} |")


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "fill":
        print(json.dumps(measure(sys.argv[2], int(sys.argv[3]), sys.argv[4])))
    elif command == "table":
        table()
    elif command == "grid":
        grid()
    else:
        sys.exit(__doc__)
