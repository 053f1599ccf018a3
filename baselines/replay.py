"""A replay buffer per seed, preallocated on the device as [S, capacity, ...] tensors.

All seeds add one transition per step (they run in lockstep), so one write pointer serves all;
sampling draws independent indices per seed from that seed's own stream.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from plasticbench.baselines.seed_rng import SeedRNG


@dataclass
class Batch:
    obs: torch.Tensor  # [S, B, obs]
    action: torch.Tensor  # [S, B, act]
    reward: torch.Tensor  # [S, B, 1]
    next_obs: torch.Tensor  # [S, B, obs]
    done: torch.Tensor  # [S, B, 1]; 1.0 where the target must not bootstrap


class ReplayBuffer:
    """FIFO ring buffer; `size` counts the transitions held (the same for every seed)."""

    FIELDS = ("obs", "action", "reward", "next_obs", "done")

    def __init__(self, num_seeds: int, capacity: int, obs_dim: int, act_dim: int, device: torch.device | str) -> None:
        self.capacity, self.size, self.pointer = capacity, 0, 0
        shapes = {"obs": obs_dim, "action": act_dim, "reward": 1, "next_obs": obs_dim, "done": 1}
        self.storage = {k: torch.zeros(num_seeds, capacity, d, device=device) for k, d in shapes.items()}

    def add(self, obs: torch.Tensor, action: torch.Tensor, reward: torch.Tensor, next_obs: torch.Tensor, done: torch.Tensor) -> None:
        """Append one transition per seed: obs/next_obs [S, obs], action [S, act], reward/done [S]."""
        row = {"obs": obs, "action": action, "reward": reward[:, None], "next_obs": next_obs, "done": done[:, None]}
        for key, value in row.items():
            self.storage[key][:, self.pointer] = value
        self.pointer = (self.pointer + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, rng: SeedRNG) -> Batch:
        """Uniform sample with replacement, independent indices per seed."""
        return self.gather(rng.integers(self.size, batch_size))

    def gather(self, index: torch.Tensor) -> Batch:
        """Transitions at per-seed indices [S, B] (methods use this to replay a chosen region)."""
        seed_index = torch.arange(index.shape[0], device=index.device)[:, None]
        return Batch(**{k: self.storage[k][seed_index, index] for k in self.FIELDS})

    def clear(self) -> None:
        self.size, self.pointer = 0, 0

    def state_dict(self) -> dict:
        return {"size": self.size, "pointer": self.pointer, **{k: v[:, : self.size].clone() for k, v in self.storage.items()}}

    def load_state_dict(self, state: dict) -> None:
        self.size, self.pointer = int(state["size"]), int(state["pointer"])
        for key in self.FIELDS:
            self.storage[key][:, : self.size] = state[key].to(self.storage[key].device)


class DatasetBuffer(ReplayBuffer):
    """A fixed offline dataset, one copy shared by every seed: rows [N, ...], per-seed indices [S, B].

    Seeds still draw their own indices from their own streams, so they see different minibatches of
    the same data and stay independent. Nothing is ever added or cleared, and the rows are not
    checkpointed: a resumed run re-reads (and re-validates) the same file.
    """

    def __init__(self, data: dict[str, torch.Tensor]) -> None:
        self.storage = {k: data[k] for k in self.FIELDS}
        self.capacity = self.size = int(self.storage["obs"].shape[0])
        self.pointer = 0

    def add(self, *args: torch.Tensor) -> None:
        raise RuntimeError("offline training adds no transitions: the dataset is fixed")

    def gather(self, index: torch.Tensor) -> Batch:
        return Batch(**{k: v[index] for k, v in self.storage.items()})

    def clear(self) -> None:
        """A task start keeps the dataset (the online buffer's reset does not apply offline)."""

    def state_dict(self) -> dict:
        return {"size": self.size}

    def load_state_dict(self, state: dict) -> None:
        if int(state["size"]) != self.size:
            raise ValueError(f"checkpoint was trained on a dataset of {state['size']} transitions, this one has {self.size}")
