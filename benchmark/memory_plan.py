"""What a run will hold in memory and write per checkpoint, known before it starts (issue #19).

At `scale=paper` a task holds up to 1M transitions per seed: Humanoid at 10 seeds is ~14 GB of
replay even with each observation stored once. `plan_run` computes, from the configuration
alone, the bytes the replay buffer allocates (the same shape table `ReplayBuffer` allocates
from, `buffer_tensors`), the learner's tensors (networks, targets, Adam moments, counted on a
one-transition learner of the same configuration), the largest checkpoint (one replay chunk of
`checkpoint_every` transitions plus the learner state) and its write time, and the peak.
`require_fit` refuses a run whose replay and learner exceed the device's free memory before
anything is allocated. Not counted: a method's own state beyond its networks (EWC's Fisher,
PackNet's masks: parameter-sized, small next to the replay), networks a method grows later
(PNN columns, NE growth), and the process's fixed overhead (Python, torch, simulators:
~0.5 GB RSS measured, tools/replay_memory.py).

Offline runs (an offline suite's dataset, benchmark/offline_loop.py) allocate no replay: the
dataset's transitions are held once and shared by every seed (`DatasetBuffer`), so the plan counts
their bytes once, whatever the number of seeds, and a checkpoint writes no replay chunk (a resumed
run re-reads the file): the learner state alone.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch

from plasticbench.baselines.replay import SIDE_EPISODE_STEPS, buffer_bytes, obs_dtype
from plasticbench.benchmark import registry
from plasticbench.benchmark.config import RunConfig

WRITE_BYTES_PER_S = 50e6
"""Checkpoint write rate assumed by the estimate: torch.save + fsync measured 22-110 MB/s on the
shared 2-core development machine with seven other jobs running (tools/replay_memory.py); a
dedicated node's local disk is faster, so the estimate errs long."""

GB = 1e9


class MemoryPlanError(ValueError):
    """A run that cannot fit; a ValueError so the CLI reports it in one line with exit status 2."""


def replay_capacity(config: RunConfig) -> int:
    """Transitions per seed the buffer preallocates. Buffers are emptied at every task start
    (continual-baselines.md §1), so no task can use more room than its own budget: capped there.
    Offline: a one-row placeholder, replaced by the dataset before the first update."""
    if config.scenario.offline_data is not None:
        return 1
    if config.scenario.multitask:  # every task's rows, a multiple of T (benchmark/multitask_loop.py `task_rows`)
        T = len(config.scenario.tasks)
        return max(min(config.learner_config.buffer_size, T * config.budget(config.scenario.tasks[0])) // T, 1) * T
    return min(config.learner_config.buffer_size, max(config.budget(t) for t in config.scenario.tasks))


def dataset_size(config: RunConfig) -> tuple[int, int]:
    """(rows, bytes) an offline run holds, once for all seeds: obs, action, reward, next_obs, done in
    float32 for each of the file's rows (an upper bound: timeout rows are dropped when loaded)."""
    from plasticbench.envs.offline import read_dataset

    scenario = config.scenario
    raw, _ = read_dataset(scenario.offline_data.path, scenario.obs_dim, scenario.act_dim)
    rows = int(raw["rewards"].shape[0])
    return rows, rows * (2 * scenario.obs_dim + scenario.act_dim + 2) * 4


def learner_bytes(config: RunConfig) -> int:
    """Networks (targets included) plus Adam's two moments and step per optimized tensor, as a
    learner of this configuration allocates them (built here with a one-transition buffer)."""
    learner_cls = registry.get_learner(config.learner)
    small = dataclasses.replace(config.learner_config, buffer_size=1)
    method = registry.get_method(config.method)(config.method_config)
    learner = learner_cls(small, config.scenario.obs_dim, config.scenario.act_dim, config.seeds, method,
                          num_tasks=len(config.scenario.tasks), device="cpu")
    tensors = {id(t): t for net in learner.networks.values() for t in [*net.parameters(), *net.buffers()]}
    optimized = {id(p): p for opt in learner.optimizers.values() for g in opt.param_groups for p in g["params"]}
    return (sum(t.numel() * t.element_size() for t in tensors.values())
            + sum(2 * p.numel() * p.element_size() + 4 for p in optimized.values()))


@dataclass(frozen=True)
class MemoryPlan:
    run_id: str
    label: str  # method/learner/suite
    device: str
    seeds: int
    capacity: int  # transitions per seed
    replay_dtype: str
    replay_bytes: int  # what ReplayBuffer allocates on `device`
    learner_bytes: int  # networks, targets, optimizer state on `device`
    checkpoint_bytes: int  # the largest checkpoint: one replay chunk + the learner state
    checkpoint_seconds: float
    free_bytes: int | None  # free memory on `device` now (None: unknown)
    shared: bool = False  # offline: `capacity` transitions held once for all seeds (the dataset)

    @property
    def device_bytes(self) -> int:
        """What lives on the device for the whole run."""
        return self.replay_bytes + self.learner_bytes

    @property
    def peak_bytes(self) -> int:
        """Device bytes plus the host copies a checkpoint makes (its chunk and, off the CPU, the
        learner state), all at once when the device is the CPU."""
        return self.device_bytes + self.checkpoint_bytes

    @property
    def fits(self) -> bool:
        return self.free_bytes is None or self.device_bytes <= self.free_bytes

    def line(self) -> str:
        free = "unknown" if self.free_bytes is None else size(self.free_bytes)
        held = (f"dataset {size(self.replay_bytes)} ({self.capacity:,} transitions, one copy for all seeds)" if self.shared
                else f"replay {size(self.replay_bytes)} ({self.capacity:,} transitions/seed, {self.replay_dtype})")
        return (f"{self.label} seeds={self.seeds} device={self.device}: {held}, learner {size(self.learner_bytes)}, "
                f"checkpoint {size(self.checkpoint_bytes)} in ~{self.checkpoint_seconds:.2f} s, "
                f"peak {size(self.peak_bytes)}; free {free}" + ("" if self.fits else "  DOES NOT FIT"))


def size(n: int) -> str:
    return f"{n / GB:.2f} GB" if n >= GB / 10 else f"{n / 1e6:.2f} MB"


def chunk_bytes(seeds: int, rows: int, obs_dim: int, act_dim: int, dtype: str) -> int:
    """One checkpoint's replay chunk: `rows` transitions per seed plus the side-table rows for
    episodes of SIDE_EPISODE_STEPS steps (the buffer's own sizing assumption)."""
    obs_item = obs_dtype(dtype).itemsize
    per_row = obs_dim * obs_item + (act_dim + 2) * 4
    cuts = math.ceil(rows / SIDE_EPISODE_STEPS)
    return seeds * (rows * per_row + cuts * (obs_dim * obs_item + 16)) + obs_dim * obs_item * seeds


def free_bytes(device: str) -> int | None:
    """Free memory on `device`: MemAvailable for the CPU, the driver's free bytes for CUDA."""
    if device == "cpu":
        try:
            with open("/proc/meminfo") as meminfo:
                fields = dict(line.split(":", 1) for line in meminfo)
            return int(fields["MemAvailable"].split()[0]) * 1024
        except (OSError, KeyError, ValueError):
            return None
    if not torch.cuda.is_available():
        return None
    return int(torch.cuda.mem_get_info(torch.device(device))[0])


def plan_run(config: RunConfig) -> MemoryPlan:
    scenario, cfg = config.scenario, config.learner_config
    capacity, seeds, learner = replay_capacity(config), len(config.seeds), learner_bytes(config)
    shared = scenario.offline_data is not None
    if shared:
        capacity, replay = dataset_size(config)
        checkpoint = learner
    else:
        replay = registry.get_learner(config.learner).replay_bytes(seeds, capacity, scenario.obs_dim, scenario.act_dim,
                                                                   cfg.replay_dtype)
        if config.scale.envs_per_seed > 1:  # interleaved environments: nearly every next obs lives in the side table
            replay += seeds * capacity * scenario.obs_dim * obs_dtype(cfg.replay_dtype).itemsize
        rows = min(config.scale.checkpoint_every, capacity)
        # a learner with a replay of its own (DQN's frames, each stored once) writes chunks smaller in proportion
        compact = replay / buffer_bytes(seeds, capacity, scenario.obs_dim, scenario.act_dim, cfg.replay_dtype)
        checkpoint = round(chunk_bytes(seeds, rows, scenario.obs_dim, scenario.act_dim, cfg.replay_dtype) * compact) + learner
    return MemoryPlan(shared=shared, run_id=config.run_id, label=f"{config.method}/{config.learner}/{config.suite}",
                      device=config.device, seeds=seeds, capacity=capacity, replay_dtype=cfg.replay_dtype,
                      replay_bytes=replay, learner_bytes=learner, checkpoint_bytes=checkpoint,
                      checkpoint_seconds=checkpoint / WRITE_BYTES_PER_S, free_bytes=free_bytes(config.device))


def require_fit(plan: MemoryPlan, config: RunConfig) -> None:
    """Refuse, before anything is allocated, a run whose replay and learner exceed free memory."""
    if plan.fits:
        return
    if plan.shared:
        raise MemoryPlanError(
            f"run {plan.label} ({plan.run_id}) needs {plan.device_bytes / GB:.2f} GB on {plan.device} "
            f"(dataset {plan.replay_bytes / GB:.2f} GB, learner {plan.learner_bytes / GB:.2f} GB) but "
            f"{plan.free_bytes / GB:.2f} GB is free; ways out: fewer seeds per process (the learner grows with them), "
            f"a smaller dataset (dataset=PATH) or another device")
    per_seed = plan.replay_bytes / plan.seeds
    room = plan.free_bytes - plan.learner_bytes
    seeds_fit = max(0, int(room // per_seed))
    scenario = config.scenario
    transitions_fit = int(plan.capacity * room / plan.replay_bytes) if room > 0 else 0
    half = buffer_bytes(plan.seeds, plan.capacity, scenario.obs_dim, scenario.act_dim, "bfloat16")
    raise MemoryPlanError(
        f"run {plan.label} ({plan.run_id}) needs {plan.device_bytes / GB:.2f} GB on {plan.device} "
        f"(replay {plan.replay_bytes / GB:.2f} GB = {plan.seeds} seeds x {plan.capacity:,} transitions, "
        f"learner {plan.learner_bytes / GB:.2f} GB) but {plan.free_bytes / GB:.2f} GB is free; ways out: "
        f"fewer seeds per process (at most {seeds_fit} fit: seeds=[...] split over several runs), "
        f"a smaller learner.buffer_size (at most ~{transitions_fit:,} fit)"
        + (f", or learner.replay_dtype=bfloat16 (replay {half / GB:.2f} GB)" if plan.replay_dtype == "float32" else ""))
