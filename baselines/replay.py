"""A replay buffer per seed, preallocated on the device as [S, capacity, ...] tensors, each
observation stored once.

All seeds add one transition per step (they run in lockstep), so one write pointer serves all;
sampling draws independent indices per seed from that seed's own stream.

Observations once (issue #19): transition i's next observation is the observation of slot i + 1,
which is what the following transition started from, except where the stream is cut: an
episode that ended (terminated or truncated: its true final observation, not the reset one),
a task switch, or any caller whose next `obs` differs from the previous `next_obs`. The buffer
does not trust flags for this: when a transition is added it compares its `obs` with the
previous transition's `next_obs` (held in `pending`) per seed, and where they differ it keeps
that `next_obs` in a small side table. Sampling therefore returns exactly the values the
two-array layout returned, for every caller, at about half the memory (compared as values: a
-0.0 following a +0.0 counts as the same observation, the one difference no arithmetic but a
sign test can see). The side table is a
per-seed FIFO (cut transitions are added and evicted in time order), sized for episodes of
`SIDE_EPISODE_STEPS` steps on average and doubled when a run cuts more often.

`obs_dtype` ("float32" by default, exact) may store observations in bfloat16 or float16: half
the observation bytes, values rounded to 8 (bf16) or 11 (fp16) significant bits when stored.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from plasticbench.baselines.seed_rng import SeedRNG

OBS_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
SIDE_EPISODE_STEPS = 16
"""Side-table rows preallocated per seed: capacity / 16, room for one cut every 16 steps (MuJoCo
episodes end by truncation every 1,000 steps and by early termination after tens of steps)."""


@dataclass
class Batch:
    obs: torch.Tensor  # [S, B, obs]
    action: torch.Tensor  # [S, B, act]
    reward: torch.Tensor  # [S, B, 1]
    next_obs: torch.Tensor  # [S, B, obs]
    done: torch.Tensor  # [S, B, 1]; 1.0 where the target must not bootstrap


def obs_dtype(name: str) -> torch.dtype:
    if name not in OBS_DTYPES:
        raise ValueError(f"replay_dtype={name!r}; allowed: {', '.join(OBS_DTYPES)}")
    return OBS_DTYPES[name]


def buffer_tensors(num_seeds: int, capacity: int, obs_dim: int, act_dim: int,
                   dtype: str = "float32") -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
    """name -> (shape, dtype) of every tensor the buffer allocates: the memory plan reads it too."""
    o, f = obs_dtype(dtype), torch.float32
    side_rows = max(1, math.ceil(capacity / SIDE_EPISODE_STEPS))
    return {"obs": ((num_seeds, capacity, obs_dim), o), "action": ((num_seeds, capacity, act_dim), f),
            "reward": ((num_seeds, capacity, 1), f), "done": ((num_seeds, capacity, 1), f),
            "split": ((num_seeds, capacity), torch.int32), "side": ((num_seeds, side_rows, obs_dim), o),
            "pending": ((num_seeds, obs_dim), o)}


def buffer_bytes(num_seeds: int, capacity: int, obs_dim: int, act_dim: int, dtype: str = "float32") -> int:
    return sum(math.prod(shape) * dt.itemsize for shape, dt in buffer_tensors(num_seeds, capacity, obs_dim, act_dim, dtype).values())


class ReplayBuffer:
    """FIFO ring buffer; `size` counts the transitions held (the same for every seed).

    `added` counts transitions since the last `clear` (the global index of the next one) and
    `epoch` counts clears: together they name a transition for incremental checkpoints
    (`chunk_since`, `restore`), which write only what was added since the last one.
    """

    FIELDS = ("obs", "action", "reward", "next_obs", "done")
    STORED = ("obs", "action", "reward", "done")

    def __init__(self, num_seeds: int, capacity: int, obs_dim: int, act_dim: int, device: torch.device | str,
                 obs_dtype: str = "float32") -> None:
        self.num_seeds, self.capacity, self.obs_dim, self.act_dim = num_seeds, capacity, obs_dim, act_dim
        self.device, self.obs_dtype = torch.device(device), obs_dtype
        tensors = {k: torch.zeros(shape, dtype=dt, device=device)
                   for k, (shape, dt) in buffer_tensors(num_seeds, capacity, obs_dim, act_dim, obs_dtype).items()}
        self.storage = {k: tensors.pop(k) for k in self.STORED}
        self.split = tensors["split"].fill_(-1)  # [S, C] side row of each slot's next obs; -1: the following slot's obs
        self.side, self.pending = tensors["side"], tensors["pending"]  # [S, K, obs], [S, obs] (newest's next obs)
        self.side_head = torch.zeros(num_seeds, dtype=torch.long, device=device)  # next side row to write
        self.side_live = torch.zeros(num_seeds, dtype=torch.long, device=device)  # side rows in use
        self.size, self.pointer, self.added, self.epoch, self.saved_upto = 0, 0, 0, 0, 0

    # ----- writing ----------------------------------------------------------------------
    def add(self, obs: torch.Tensor, action: torch.Tensor, reward: torch.Tensor, next_obs: torch.Tensor, done: torch.Tensor) -> None:
        """Append one transition per seed: obs/next_obs [S, obs], action [S, act], reward/done [S]."""
        obs = obs.to(self.side.dtype)
        if self.size > 0:
            self._settle_previous(obs)
        slot = self.pointer
        if self.size == self.capacity:
            self.side_live -= (self.split[:, slot] >= 0).long()  # evicts the oldest side row (FIFO)
        row = {"obs": obs, "action": action, "reward": reward[:, None], "done": done[:, None]}
        for key, value in row.items():
            self.storage[key][:, slot] = value
        self.split[:, slot] = -1
        self.pending.copy_(next_obs)
        self.pointer = (self.pointer + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)
        self.added += 1

    def _settle_previous(self, obs: torch.Tensor) -> None:
        """Keep the previous transition's next obs in the side table for the seeds where it is not `obs`."""
        if torch.equal(obs, self.pending):  # the common case: no seed's episode ended
            return
        cut = (obs != self.pending).any(dim=1).nonzero()[:, 0]  # [n] seeds
        if bool((self.side_live[cut] >= self.side.shape[1]).any()):
            self._grow_side()
        rows = self.side_head[cut]
        self.side[cut, rows] = self.pending[cut]
        self.split[cut, (self.pointer - 1) % self.capacity] = rows.int()
        self.side_head[cut] = (rows + 1) % self.side.shape[1]
        self.side_live[cut] += 1

    def _grow_side(self) -> None:
        """Double the side table, each seed's live rows moved to its start in age order."""
        rows = self.side.shape[1]
        oldest = (self.side_head - self.side_live) % rows  # [S]
        order = (oldest[:, None] + torch.arange(rows, device=self.device)) % rows  # [S, K]
        grown = self.side.new_zeros(self.num_seeds, 2 * rows, self.obs_dim)
        grown[:, :rows] = self.side.gather(1, order[..., None].expand(-1, -1, self.obs_dim))
        self.split = torch.where(self.split >= 0, (self.split - oldest[:, None].int()) % rows, self.split)
        self.side, self.side_head = grown, self.side_live.clone()

    def clear(self) -> None:
        self.size, self.pointer, self.added, self.saved_upto = 0, 0, 0, 0
        self.epoch += 1
        self.side_head.zero_()
        self.side_live.zero_()

    # ----- reading ----------------------------------------------------------------------
    def sample(self, batch_size: int, rng: SeedRNG) -> Batch:
        """Uniform sample with replacement, independent indices per seed."""
        return self.gather(rng.integers(self.size, batch_size))

    def gather(self, index: torch.Tensor) -> Batch:
        """Transitions at per-seed indices [S, B] (methods use this to replay a chosen region)."""
        seed_index = torch.arange(index.shape[0], device=index.device)[:, None]
        s = self.storage
        following = s["obs"][seed_index, (index + 1) % self.capacity]
        newest = (index == (self.pointer - 1) % self.capacity)[..., None]
        following = torch.where(newest, self.pending[:, None], following)
        row = self.split[seed_index, index]
        next_obs = torch.where((row >= 0)[..., None], self.side[seed_index, row.clamp(min=0)], following)
        return Batch(obs=s["obs"][seed_index, index].float(), action=s["action"][seed_index, index],
                     reward=s["reward"][seed_index, index], next_obs=next_obs.float(), done=s["done"][seed_index, index])

    def allocated_bytes(self) -> int:
        tensors = [*self.storage.values(), self.split, self.side, self.pending]
        return sum(t.numel() * t.element_size() for t in tensors)

    # ----- checkpoints: chunks of what was added since the last one ------------------------
    def pointer_state(self) -> dict:
        """The small part of a checkpoint: where the ring stands, and the newest next obs."""
        return {"epoch": self.epoch, "added": self.added, "capacity": self.capacity,
                "obs_dtype": self.obs_dtype, "pending": self.pending.cpu().clone()}

    def chunk_since(self, start: int) -> dict:
        """Transitions [start, added) still held, plus the side rows decided since `start`
        (transition start - 1's is decided when `start` is added): a copy of these only."""
        first_live = self.added - self.size
        lo = max(start, first_live)
        slots = torch.arange(lo, self.added, device=self.device) % self.capacity
        chunk = {"epoch": self.epoch, "start": lo, "end": self.added,
                 **{k: v[:, slots].cpu() for k, v in self.storage.items()}}
        cut_lo = max(lo - 1, first_live)
        cut_index = torch.arange(cut_lo, max(cut_lo, self.added - 1), device=self.device)  # empty buffer: none
        rows = self.split[:, cut_index % self.capacity]  # [S, n]
        seed, j = (rows >= 0).nonzero(as_tuple=True)
        chunk.update(cut_seed=seed.cpu(), cut_index=cut_index[j].cpu(), cut_next_obs=self.side[seed, rows[seed, j]].cpu())
        return chunk

    def unsaved_chunk(self) -> dict | None:
        return self.chunk_since(self.saved_upto) if self.added > self.saved_upto else None

    def mark_saved(self) -> None:
        self.saved_upto = self.added

    def restore(self, pointer: dict, chunks: list[dict]) -> None:
        """Refill from a pointer state and its chunks (in order; stale rows in them are skipped)."""
        first_live = self.restore_counters(pointer)
        self.split.fill_(-1)
        chunks = [c for c in chunks if c["epoch"] == self.epoch and c["end"] > first_live]
        for chunk in chunks:
            keep = torch.arange(max(chunk["start"], first_live), chunk["end"])
            for key in self.STORED:
                self.storage[key][:, keep.to(self.device) % self.capacity] = chunk[key][:, keep - chunk["start"]].to(self.device)
        self._restore_side(chunks, first_live)
        self.pending.copy_(pointer["pending"])
        self.saved_upto = self.added

    def restore_counters(self, pointer: dict) -> int:
        """Empty the buffer and take a checkpoint's counters (checked against this buffer); returns the
        index of the oldest transition still held."""
        if pointer["capacity"] != self.capacity or pointer["obs_dtype"] != self.obs_dtype:
            raise ValueError(f"replay checkpoint of capacity {pointer['capacity']} ({pointer['obs_dtype']}) loaded into "
                             f"a buffer of capacity {self.capacity} ({self.obs_dtype})")
        self.clear()
        self.epoch, self.added = int(pointer["epoch"]), int(pointer["added"])
        self.size, self.pointer = min(self.added, self.capacity), self.added % self.capacity
        return self.added - self.size

    def _restore_side(self, chunks: list[dict], first_live: int) -> None:
        seed = torch.cat([c["cut_seed"] for c in chunks]) if chunks else torch.zeros(0, dtype=torch.long)
        index = torch.cat([c["cut_index"] for c in chunks]) if chunks else torch.zeros(0, dtype=torch.long)
        values = torch.cat([c["cut_next_obs"] for c in chunks]) if chunks else self.side.new_zeros(0, self.obs_dim).cpu()
        live = (index >= first_live) & (index < self.added - 1)
        seed, index, values = seed[live], index[live], values[live]
        order = torch.argsort(seed * (self.added + 1) + index)  # per seed, in time order (the FIFO's)
        seed, index, values = seed[order], index[order], values[order]
        counts = torch.bincount(seed, minlength=self.num_seeds)
        rank = torch.arange(len(seed)) - (torch.cumsum(counts, 0) - counts)[seed]
        while self.side.shape[1] < int(counts.max()):
            self._grow_side()
        seed, rank, slot = seed.to(self.device), rank.to(self.device), (index % self.capacity).to(self.device)
        self.side[seed, rank] = values.to(self.device, self.side.dtype)
        self.split[seed, slot] = rank.int()
        self.side_live = counts.to(self.device)
        self.side_head = self.side_live % self.side.shape[1]

    def state_dict(self) -> dict:
        """The whole buffer in the checkpoint chunk format (one chunk): for in-memory snapshots."""
        return {"pointer": self.pointer_state(), "chunks": [self.chunk_since(0)]}

    def load_state_dict(self, state: dict) -> None:
        self.restore(state["pointer"], state["chunks"])


class DatasetBuffer(ReplayBuffer):
    """A fixed offline dataset, one copy shared by every seed: rows [N, ...], per-seed indices [S, B].

    Seeds still draw their own indices from their own streams, so they see different minibatches of
    the same data and stay independent. Nothing is ever added or cleared, and the rows are not
    checkpointed: a resumed run re-reads (and re-validates) the same file. So the incremental
    checkpoint interface (`pointer_state`, `unsaved_chunk`, `restore`) writes no chunk: the pointer
    state is an empty fill of epoch 0 that names the dataset's size, which `restore` checks.
    Next observations are kept as a full array (a dataset's episodes need not be contiguous, so the
    online buffer's one-copy layout would not hold).
    """

    def __init__(self, data: dict[str, torch.Tensor]) -> None:
        self.storage = {k: data[k] for k in self.FIELDS}
        self.capacity = self.size = int(self.storage["obs"].shape[0])
        self.pointer, self.added, self.epoch, self.saved_upto = 0, 0, 0, 0
        self.device = self.storage["obs"].device

    def add(self, *args: torch.Tensor) -> None:
        raise RuntimeError("offline training adds no transitions: the dataset is fixed")

    def gather(self, index: torch.Tensor) -> Batch:
        return Batch(**{k: v[index] for k, v in self.storage.items()})

    def clear(self) -> None:
        """A task start keeps the dataset (the online buffer's reset does not apply offline)."""

    def allocated_bytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in self.storage.values())

    def pointer_state(self) -> dict:
        return {"epoch": 0, "added": 0, "capacity": self.capacity, "dataset_size": self.size}

    def unsaved_chunk(self) -> None:
        return None

    def restore(self, pointer: dict, chunks: list[dict]) -> None:
        size = pointer.get("dataset_size")
        if size is None or int(size) != self.size:
            raise ValueError(f"checkpoint was trained on a dataset of {size} transitions, this one has {self.size}")

    def state_dict(self) -> dict:
        return {"pointer": self.pointer_state(), "chunks": []}
