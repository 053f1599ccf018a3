"""A replay of stacked uint8 frames that stores each frame once per seed (issue #15 part 2).

Observations are frame stacks [S, K, H, W] (newest last). Within an episode consecutive stacks
share K - 1 frames, so a transition stores only its observation's newest frame; a stack is rebuilt
from the K - 1 transitions before it. At an episode start there are no earlier transitions of the
same episode: the reset observation's K - 1 older frames (whatever the environment put there: a
repeated reset frame, zeros) go to a small per-episode table, and so does the newest frame of the
episode's final next observation (its true final frame, not the reset one). So every stack returned
is bit-identical to the one the environment gave, and none mixes frames of two episodes.

Where an episode starts is not read from flags: as in `baselines/replay.py`, an observation that
differs from the previous transition's next observation starts one, per seed (a terminal life
loss under episodic life keeps the stream going; a reset cuts it). `add` refuses observations that
are not frame stacks (next_obs[:-1] must equal obs[1:]), the one property the layout relies on.

Layout per seed: frames [R, H, W] with R = capacity + K - 1 (the K - 1 frames before the oldest
held transition are kept), action int16, reward float32, terminal bool and episode id int32 per
transition, and the episode table (start frames [K - 1, H, W], start index, final frame) as a ring
of E rows, sized for episodes of EPISODE_STEPS steps on average and doubled when episodes are
shorter. Per transition that is H*W + 11 bytes plus the table's share: 7,067 bytes at 84x84
(`bytes_per_transition`), about 7.1 GB per seed per million transitions, where two full stacks per
transition would take 56,448 bytes.

Sampling returns n-step transitions (Sutton & Barto 2018 §7.1): reward = sum_{m<k} gamma^m r_{t+m},
next_obs the observation after step t + k - 1, done its terminal flag and discount gamma^k, where
k <= n stops at the first terminal, episode end or the newest transition (a truncated n-step
return, as Dopamine's replay computes it). n = 1 is the one-step transition with discount gamma.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import torch

from plasticbench.baselines.replay import Batch, ReplayBuffer

EPISODE_STEPS = 256
"""Episode-table rows preallocated per seed: capacity / 256 + 2 (an Atari episode lasts hundreds to
thousands of agent steps; the table doubles when episodes are shorter, e.g. at smoke scale)."""


@dataclass
class FrameBatch(Batch):
    discount: torch.Tensor  # [S, B, 1]: gamma^k, the bootstrap's discount after k summed rewards


def frame_tensors(num_seeds: int, capacity: int, obs_shape: Sequence[int]) -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
    """name -> (shape, dtype) of every tensor the replay allocates (the memory plan can read it)."""
    stack, height, width = obs_shape
    rows = math.ceil(capacity / EPISODE_STEPS) + 2
    S = num_seeds
    return {"frames": ((S, capacity + stack - 1, height, width), torch.uint8),
            "action": ((S, capacity), torch.int16), "reward": ((S, capacity), torch.float32),
            "terminal": ((S, capacity), torch.bool), "episode": ((S, capacity), torch.int32),
            "start_frames": ((S, rows, stack - 1, height, width), torch.uint8), "start_index": ((S, rows), torch.int64),
            "final_frame": ((S, rows, height, width), torch.uint8), "pending": ((S, stack, height, width), torch.uint8)}


def frame_replay_bytes(num_seeds: int, capacity: int, obs_shape: Sequence[int]) -> int:
    return sum(math.prod(shape) * dtype.itemsize for shape, dtype in frame_tensors(num_seeds, capacity, obs_shape).values())


def bytes_per_transition(obs_shape: Sequence[int] = (4, 84, 84), capacity: int = 1_000_000) -> float:
    """Bytes one seed's replay allocates per transition it can hold (frames, fields, episode table)."""
    return frame_replay_bytes(1, capacity, obs_shape) / capacity


class FrameReplay(ReplayBuffer):
    """FIFO ring of frame-stack transitions for S seeds (one write pointer; per-seed episode tables).

    A ReplayBuffer in its public face (sampling, the checkpoint chunk protocol) with storage of its
    own; its constructor does not build the float buffer's tensors."""

    def __init__(self, num_seeds: int, capacity: int, obs_shape: Sequence[int], device: torch.device | str,
                 gamma: float = 0.99, n_step: int = 1) -> None:
        if n_step < 1:
            raise ValueError(f"n_step={n_step}; it must be >= 1")
        self.num_seeds, self.capacity, self.obs_shape = num_seeds, capacity, tuple(obs_shape)
        self.stack, self.device, self.gamma, self.n_step = self.obs_shape[0], torch.device(device), gamma, n_step
        self.obs_dtype = "uint8"
        tensors = {k: torch.zeros(shape, dtype=dt, device=self.device)
                   for k, (shape, dt) in frame_tensors(num_seeds, capacity, obs_shape).items()}
        self.frames, self.pending = tensors.pop("frames"), tensors.pop("pending")
        self.fields = {k: tensors.pop(k) for k in ("action", "reward", "terminal", "episode")}
        self.table = tensors  # start_frames, start_index, final_frame: [S, E, ...]
        self.episode_now = torch.zeros(num_seeds, dtype=torch.int64, device=self.device)
        self.seed_index = torch.arange(num_seeds, device=self.device)
        self.size, self.pointer, self.added, self.epoch, self.saved_upto = 0, 0, 0, 0, 0

    @property
    def rows(self) -> int:
        return self.table["start_index"].shape[1]

    @property
    def ring(self) -> int:
        return self.frames.shape[1]

    # ----- writing ----------------------------------------------------------------------
    def add(self, obs: torch.Tensor, action: torch.Tensor, reward: torch.Tensor, next_obs: torch.Tensor,
            done: torch.Tensor) -> None:
        """Append one transition per seed: obs/next_obs uint8 [S, K, H, W], action int [S], reward/done [S]."""
        self._check(obs, next_obs)
        starts = self._episode_starts(obs)
        if starts is not None:
            self._start_episodes(starts, obs)
        g = self.added
        self.frames[:, g % self.ring] = obs[:, -1]
        slot = g % self.capacity
        row = {"action": action, "reward": reward, "terminal": done.bool(), "episode": self.episode_now}
        for key, value in row.items():
            self.fields[key][:, slot] = value.to(self.fields[key].dtype)
        self.pending.copy_(next_obs)
        self.added, self.pointer = g + 1, (g + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def _check(self, obs: torch.Tensor, next_obs: torch.Tensor) -> None:
        expected = (self.num_seeds, *self.obs_shape)
        if obs.dtype != torch.uint8 or tuple(obs.shape) != expected or tuple(next_obs.shape) != expected:
            raise ValueError(f"frame replay takes uint8 observations of shape {list(expected)}; got {obs.dtype} "
                             f"{list(obs.shape)} and next {list(next_obs.shape)}")
        if not torch.equal(next_obs[:, :-1], obs[:, 1:]):
            raise ValueError("frame replay needs frame-stacked observations (next_obs[:-1] == obs[1:], newest frame "
                             "last); these are not")

    def _episode_starts(self, obs: torch.Tensor) -> torch.Tensor | None:
        """[S] bool of the seeds whose `obs` starts an episode (None: no seed's does)."""
        if self.size == 0:
            return torch.ones(self.num_seeds, dtype=torch.bool, device=self.device)
        if torch.equal(obs, self.pending):
            return None
        return (obs != self.pending).flatten(1).any(dim=1)

    def _start_episodes(self, starts: torch.Tensor, obs: torch.Tensor) -> None:
        """Close the seeds' current episode (its final frame) and open a new one at transition `added`."""
        if self.size > 0:
            self.table["final_frame"][starts, self.episode_now[starts] % self.rows] = self.pending[starts, -1]
            self.episode_now += starts.long()
        oldest = self.fields["episode"][:, (self.added - self.size) % self.capacity].long()
        live = self.episode_now - oldest + 1 if self.size > 0 else torch.ones_like(self.episode_now)
        while int(live.max()) > self.rows:
            self._grow(oldest)
        rows = self.episode_now[starts] % self.rows
        self.table["start_frames"][starts, rows] = obs[starts, :-1]
        self.table["start_index"][starts, rows] = self.added

    def _grow(self, oldest: torch.Tensor) -> None:
        """Double the episode table, each live episode id moved to its row in the larger ring."""
        old_rows = self.rows
        ids = oldest[:, None] + torch.arange(old_rows, device=self.device)  # [S, E]
        keep = ids <= self.episode_now[:, None]
        seed = self.seed_index[:, None].expand_as(ids)[keep]
        for key, value in self.table.items():
            grown = value.new_zeros(value.shape[0], 2 * old_rows, *value.shape[2:])
            grown[seed, ids[keep] % (2 * old_rows)] = value[seed, ids[keep] % old_rows]
            self.table[key] = grown

    def clear(self) -> None:
        self.size, self.pointer, self.added, self.saved_upto = 0, 0, 0, 0
        self.epoch += 1

    # ----- reading ----------------------------------------------------------------------
    def gather(self, index: torch.Tensor) -> FrameBatch:
        """n-step transitions starting at the ring slots index [S, B] (module docstring)."""
        first = self.added - self.size
        g = first + (index - first) % self.capacity  # [S, B] global transition numbers
        seed = self.seed_index[:, None].expand_as(g)
        episode = self.fields["episode"][seed, g % self.capacity].long()
        steps, reward, terminal = self._n_step(seed, g, episode)
        last = g + steps - 1
        obs = self._stack(seed, g, episode)
        after = obs if self.n_step == 1 else self._stack(seed, last, episode)
        next_obs = torch.cat([after[:, :, 1:], self._next_frame(seed, last, episode)[:, :, None]], dim=2)
        discount = torch.pow(torch.full_like(reward, self.gamma), steps.to(reward.dtype))
        return FrameBatch(obs=obs, action=self.fields["action"][seed, g % self.capacity].long()[..., None],
                          reward=reward[..., None], next_obs=next_obs, done=terminal.float()[..., None],
                          discount=discount[..., None])

    def _n_step(self, seed: torch.Tensor, g: torch.Tensor, episode: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(k [S, B] steps summed, discounted reward sum, terminal flag of step t + k - 1)."""
        f = self.fields
        slot = g % self.capacity
        reward, terminal = f["reward"][seed, slot].clone(), f["terminal"][seed, slot]
        steps, going = torch.ones_like(g), ~terminal
        for m in range(1, self.n_step):
            slot = (g + m) % self.capacity
            ok = going & (g + m < self.added) & (f["episode"][seed, slot].long() == episode)
            reward += torch.where(ok, self.gamma ** m * f["reward"][seed, slot], torch.zeros_like(reward))
            steps += ok.long()
            terminal = torch.where(ok, f["terminal"][seed, slot], terminal)
            going = ok & ~f["terminal"][seed, slot]
        return steps, reward, terminal

    def _stack(self, seed: torch.Tensor, g: torch.Tensor, episode: torch.Tensor) -> torch.Tensor:
        """The observation [S, B, K, H, W] transition g acted on: its own and K - 1 earlier frames,
        those from before its episode's first transition read from the episode's start frames."""
        k = self.stack
        q = g[..., None] + torch.arange(1 - k, 1, device=self.device)  # [S, B, K] frame numbers
        row = (episode % self.rows)[..., None].expand_as(q)
        start = self.table["start_index"][seed, episode % self.rows][..., None]  # [S, B, 1]
        seeds = seed[..., None].expand_as(q)
        own = self.frames[seeds, q % self.ring]
        before = self.table["start_frames"][seeds, row, (q - start + k - 1).clamp(0, k - 2)]
        return torch.where((q >= start)[..., None, None], own, before)

    def _next_frame(self, seed: torch.Tensor, g: torch.Tensor, episode: torch.Tensor) -> torch.Tensor:
        """The newest frame [S, B, H, W] of transition g's next observation."""
        following = (g + 1) % self.capacity
        continues = (g + 1 < self.added) & (self.fields["episode"][seed, following].long() == episode)
        frame = torch.where(continues[..., None, None], self.frames[seed, (g + 1) % self.ring],
                            self.table["final_frame"][seed, episode % self.rows])
        newest = (g == self.added - 1)[..., None, None]
        return torch.where(newest, self.pending[seed, -1], frame)

    def allocated_bytes(self) -> int:
        tensors = [self.frames, self.pending, *self.fields.values(), *self.table.values()]
        return sum(t.numel() * t.element_size() for t in tensors)

    # ----- checkpoints: chunks of what was added since the last one (the ReplayBuffer format) -----
    def pointer_state(self) -> dict:
        return {"epoch": self.epoch, "added": self.added, "capacity": self.capacity, "obs_dtype": self.obs_dtype,
                "pending": self.pending.cpu().clone(), "episode_now": self.episode_now.cpu().clone()}

    def chunk_since(self, start: int) -> dict:
        """Transitions [start, added) still held, the K - 1 frames before them, and the episode-table
        rows of every episode they (or the transition before them, whose final frame may have been
        decided since) belong to."""
        first = self.added - self.size
        lo = max(start, first)
        frame_lo = max(lo - (self.stack - 1), 0)
        g = torch.arange(lo, self.added, device=self.device)
        chunk = {"epoch": self.epoch, "start": lo, "end": self.added, "frame_start": frame_lo,
                 "frames": self.frames[:, torch.arange(frame_lo, self.added, device=self.device) % self.ring].cpu(),
                 **{k: v[:, g % self.capacity].cpu() for k, v in self.fields.items()}}
        since = max(lo - 1, first)
        if since < self.added:
            earliest = self.fields["episode"][:, since % self.capacity].long()
        else:
            earliest = self.episode_now.clone()
        ids = earliest[:, None] + torch.arange(self.rows, device=self.device)
        keep = ids <= self.episode_now[:, None]
        seed = self.seed_index[:, None].expand_as(ids)[keep]
        chunk.update(table_seed=seed.cpu(), table_id=ids[keep].cpu(),
                     **{f"table_{k}": v[seed, ids[keep] % self.rows].cpu() for k, v in self.table.items()})
        return chunk

    def restore(self, pointer: dict, chunks: list[dict]) -> None:
        """Refill from a pointer state and its chunks (in order; stale rows in them are skipped)."""
        first = self.restore_counters(pointer)
        self.episode_now.copy_(pointer["episode_now"])
        self.pending.copy_(pointer["pending"])
        chunks = [c for c in chunks if c["epoch"] == self.epoch and c["end"] > first]
        for chunk in chunks:
            frames = torch.arange(max(chunk["frame_start"], first - (self.stack - 1)), chunk["end"])
            self.frames[:, (frames % self.ring).to(self.device)] = chunk["frames"][:, frames - chunk["frame_start"]].to(self.device)
            keep = torch.arange(max(chunk["start"], first), chunk["end"])
            for key, value in self.fields.items():
                value[:, (keep % self.capacity).to(self.device)] = chunk[key][:, keep - chunk["start"]].to(self.device)
        self._restore_table(chunks, first)
        self.saved_upto = self.added

    def _restore_table(self, chunks: list[dict], first: int) -> None:
        if self.size == 0 or not chunks:
            return
        oldest = self.fields["episode"][:, first % self.capacity].long()
        while int((self.episode_now - oldest + 1).max()) > self.rows:
            self.table = {k: v.new_zeros(v.shape[0], 2 * v.shape[1], *v.shape[2:]) for k, v in self.table.items()}
        for chunk in chunks:  # in order: a later chunk's row (a decided final frame) overwrites an earlier one
            seed, ids = chunk["table_seed"].to(self.device), chunk["table_id"].to(self.device)
            live = ids >= oldest[seed]
            for key, value in self.table.items():
                value[seed[live], ids[live] % self.rows] = chunk[f"table_{key}"].to(self.device)[live]
